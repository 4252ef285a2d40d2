/** Builds the answer to a packet, the way a test answers the kernel: addresses and ports swapped, seq/ack derived. */
import { NDISC_NEIGHBOUR_SOLICITATION } from '../include/net/ndisc.js';
import { ICMP_ECHO, ICMP_ECHOREPLY } from '../include/uapi/linux/icmp.js';
import { ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST } from '../include/uapi/linux/icmpv6.js';
import { ARPOP_REPLY, ARPOP_REQUEST } from '../include/uapi/linux/if_arp.js';
import { canonicalMac } from '../addr.js';
import { ndOpt, neighborAdvert } from './icmpv6.js';
import type { TcpOption } from './tcp.js';
import type { Layer } from './types.js';

export interface ReplyOptions {
  /** TCP flags of the reply; default "SA" to a SYN, "A" to anything else. */
  flags?: string;
  /** Our sequence number; default the peer's ack (0 when the peer sent none). */
  seq?: number;
  /** Acknowledgement; default the peer's seq plus the sequence space it used (data, SYN, FIN). */
  ack?: number;
  window?: number;
  options?: TcpOption[];
  /** Payload of the reply; default none (an ICMP echo reply echoes the request's). */
  payload?: Uint8Array | string;
  hlim?: number;
}

/**
 * The reply to `p`: link, IP and transport layers reversed, extension headers and IP options
 * dropped, lengths and checksums left to build(). Echo requests (ICMP, ICMPv6) become echo replies.
 */
export function reply(p: readonly Layer[], o: ReplyOptions = {}): Layer[] {
  const out: Layer[] = [];
  let payloadLen = 0;
  let echo: Uint8Array | undefined;
  let l4done = false;
  for (const l of p) if (l.type === 'raw') payloadLen += l.data.length;
  for (const l of p) {
    if (l4done) { if (l.type === 'raw') echo = l.data; continue; }
    switch (l.type) {
      case 'ether': out.push({ type: 'ether', src: l.dst, dst: l.src }); break;
      case 'vlan': out.push({ type: 'vlan', pcp: l.pcp, dei: l.dei, vid: l.vid }); break;
      case 'ipv4': out.push({ type: 'ipv4', tos: l.tos, id: 0, rf: false, df: l.df, mf: false, fragOffset: 0, ttl: o.hlim ?? 64, src: l.dst, dst: l.src, options: [] }); break;
      case 'ipv6': out.push({ type: 'ipv6', tc: l.tc, fl: 0, hlim: o.hlim ?? 64, src: l.dst, dst: l.src }); break;
      case 'tcp': {
        const syn = l.flags.includes('S'), fin = l.flags.includes('F');
        out.push({
          type: 'tcp', sport: l.dport, dport: l.sport,
          seq: o.seq ?? (l.flags.includes('A') ? l.ack : 0),
          ack: o.ack ?? ((l.seq + payloadLen + (syn ? 1 : 0) + (fin ? 1 : 0)) >>> 0),
          reserved: 0, flags: o.flags ?? (syn && !l.flags.includes('A') ? 'SA' : 'A'),
          window: o.window ?? l.window, urgent: 0, options: o.options ?? [],
        });
        l4done = true;
        break;
      }
      case 'udp': out.push({ type: 'udp', sport: l.dport, dport: l.sport }); l4done = true; break;
      case 'icmp':
        out.push({ type: 'icmp', icmpType: l.icmpType === ICMP_ECHO ? ICMP_ECHOREPLY : l.icmpType, code: 0, id: l.id ?? 0, seq: l.seq ?? 0 });
        l4done = true;
        break;
      case 'icmpv6':
        out.push({ type: 'icmpv6', icmpType: l.icmpType === ICMPV6_ECHO_REQUEST ? ICMPV6_ECHO_REPLY : l.icmpType, code: 0, id: l.id ?? 0, seq: l.seq ?? 0 });
        l4done = true;
        break;
      default: break; // extension headers, padding, tunnels: not mirrored
    }
  }
  const last = out[out.length - 1];
  const isEcho = last !== undefined && ((last.type === 'icmp' && last.icmpType === ICMP_ECHOREPLY) || (last.type === 'icmpv6' && last.icmpType === ICMPV6_ECHO_REPLY));
  const data = o.payload ?? (isEcho ? echo : undefined);
  if (data !== undefined && data.length > 0) out.push({ type: 'raw', data: typeof data === 'string' ? Buffer.from(data) : data });
  return out;
}

/**
 * The answer a neighbour owning the asked-for address would give: an ARP reply to an ARP
 * request, or a solicited neighbour advertisement (flags "SO", target link-layer option) to a
 * neighbour solicitation. `mac` is the answering neighbour's address. Undefined for anything else.
 */
export function answerNeighbor(p: readonly Layer[], mac: string): Layer[] | undefined {
  const eth = p[0]?.type === 'ether' ? p[0] : undefined;
  const a = p.find((l) => l.type === 'arp');
  if (a?.type === 'arp' && a.op === ARPOP_REQUEST) {
    const ans: Layer = { ...a, op: ARPOP_REPLY, senderMac: canonicalMac(mac), senderIp: a.targetIp, targetMac: a.senderMac, targetIp: a.senderIp };
    return eth ? [{ type: 'ether', src: canonicalMac(mac), dst: eth.src }, ans] : [ans];
  }
  const ip = p.find((l) => l.type === 'ipv6');
  const ns = p.find((l) => l.type === 'icmpv6');
  if (ip?.type !== 'ipv6' || ns?.type !== 'icmpv6' || ns.icmpType !== NDISC_NEIGHBOUR_SOLICITATION || !ns.target) return undefined;
  // RFC 4861 §7.2.4: to the soliciting address, or to all-nodes (and not solicited) from the unspecified address.
  const dad = ip.src === '::';
  const out: Layer[] = [
    { type: 'ipv6', tc: 0, fl: 0, hlim: 255, src: ns.target, dst: dad ? 'ff02::1' : ip.src },
    neighborAdvert({ flags: dad ? 'O' : 'SO', target: ns.target, options: [ndOpt.tgtLladdr(mac)] }),
  ];
  return eth ? [{ type: 'ether', src: canonicalMac(mac), dst: dad ? '33:33:00:00:00:01' : eth.src }, ...out] : out;
}
