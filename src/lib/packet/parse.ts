/** Bytes to layers. Never throws: whatever cannot be decoded is kept as a raw layer, so build(parse(b)) equals b. */
import { ETH_HLEN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ETH_P_TEB } from '../include/uapi/linux/if_ether.js';
import { IPPROTO_ESP, IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_IGMP, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP } from '../include/uapi/linux/in.js';
import { IPPROTO_FRAGMENT, IPPROTO_ICMPV6 } from '../include/uapi/linux/in6.js';
import { readArp } from './arp.js';
import { readEspHeader } from './esp.js';
import { readEther, readVlan } from './ethernet.js';
import { readGreHeader } from './gre.js';
import { icmpCarriesIp, readIcmpHeader } from './icmpv4.js';
import { icmpv6CarriesIp, readIcmpv6Header } from './icmpv6.js';
import { readIgmpHeader } from './igmp.js';
import { readIpv4Header } from './ipv4.js';
import { IPV6_EXT_PROTOS, readIpv6Ext, readIpv6Header } from './ipv6.js';
import { readTcpHeader } from './tcp.js';
import type { Esp } from './esp.js';
import type { Layer, LinkType } from './types.js';
import { readUdpHeader } from './udp.js';

/** What comes next: a decoder and its selector value. */
type Next = 'ether' | 'ip' | 'ipv4' | 'ipv6' | 'raw' | { etype: number } | { proto: number };

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function byEtherType(v: number): Next {
  switch (v) {
    case ETH_P_IP: return 'ipv4';
    case ETH_P_IPV6: return 'ipv6';
    case ETH_P_ARP: return { etype: v };
    case ETH_P_8021Q: case ETH_P_8021AD: return { etype: v };
    case ETH_P_TEB: return 'ether';
    default: return 'raw';
  }
}

/** Decodes bytes captured at a link of the given type ('ether' frames, or 'ip' packets of either version). */
export function parse(bytes: Uint8Array, link: LinkType = 'ether'): Layer[] {
  return parseFrom(toBuffer(bytes), 0, bytes.length, link);
}

/** Decodes bytes that follow an IP header announcing protocol `proto` (e.g. a decrypted ESP payload). */
export function parseProto(bytes: Uint8Array, proto: number): Layer[] {
  return parseFrom(toBuffer(bytes), 0, bytes.length, { proto });
}

function parseFrom(buf: Buffer, off: number, end: number, first: Next): Layer[] {
  const out: Layer[] = [];
  const paddings: Layer[] = [];
  let next: Next = first;
  /** Shrinks the current end to a length field's, remembering the bytes beyond as padding. */
  const limit = (newEnd: number): void => {
    if (newEnd < end) { paddings.push({ type: 'padding', data: buf.subarray(newEnd, end) }); end = newEnd; }
  };
  while (off < end) {
    let step: { layer: Layer; hlen: number; next: Next } | undefined;
    try {
      step = decode(buf, off, end, next, limit);
    } catch {
      step = undefined; // a decoder bug must not escape: keep the rest as raw
    }
    if (!step) break;
    out.push(step.layer);
    off += step.hlen;
    next = step.next;
  }
  if (off < end) out.push({ type: 'raw', data: buf.subarray(off, end) });
  for (let i = paddings.length - 1; i >= 0; i--) out.push(paddings[i]!);
  return out;
}

function decode(buf: Buffer, off: number, end: number, next: Next, limit: (e: number) => void): { layer: Layer; hlen: number; next: Next } | undefined {
  if (next === 'raw') return undefined;
  if (next === 'ether') {
    if (end - off < ETH_HLEN) return undefined;
    const l = readEther(buf, off);
    return { layer: l, hlen: ETH_HLEN, next: byEtherType(l.etherType ?? 0) };
  }
  if (next === 'ip') {
    const v = buf[off]! >> 4;
    return decode(buf, off, end, v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : 'raw', limit);
  }
  if (next === 'ipv4') {
    const r = readIpv4Header(buf, off, end);
    if (!r) return undefined;
    const len = r.layer.len ?? 0;
    if (len >= r.hlen) limit(off + len);
    const frag = r.layer.fragOffset !== 0;
    return { layer: r.layer, hlen: r.hlen, next: frag ? 'raw' : { proto: r.layer.protocol ?? 0 } };
  }
  if (next === 'ipv6') {
    const l = readIpv6Header(buf, off, end);
    if (!l) return undefined;
    // Payload length 0 with a hop-by-hop header is a jumbogram (RFC 2675): no limit from plen.
    if (l.plen !== 0 || l.nh !== 0) limit(off + 40 + (l.plen ?? 0));
    return { layer: l, hlen: 40, next: { proto: l.nh ?? 0 } };
  }
  if ('etype' in next) {
    if (next.etype === ETH_P_ARP) {
      const l = readArp(buf, off, end);
      if (!l) return undefined;
      return { layer: l, hlen: 28, next: 'raw' };
    }
    if (end - off < 4) return undefined;
    const l = readVlan(buf, off);
    return { layer: l, hlen: 4, next: byEtherType(l.etherType ?? 0) };
  }
  const proto = next.proto;
  switch (proto) {
    case IPPROTO_TCP: {
      const r = readTcpHeader(buf, off, end);
      return r && { layer: r.layer, hlen: r.hlen, next: 'raw' };
    }
    case IPPROTO_UDP: {
      const l = readUdpHeader(buf, off, end);
      if (!l) return undefined;
      if ((l.len ?? 0) >= 8) limit(off + (l.len ?? 0));
      return { layer: l, hlen: 8, next: 'raw' };
    }
    case IPPROTO_ICMP: {
      const l = readIcmpHeader(buf, off, end);
      return l && { layer: l, hlen: 8, next: icmpCarriesIp(l.icmpType) ? 'ipv4' : 'raw' };
    }
    case IPPROTO_ICMPV6: {
      const r = readIcmpv6Header(buf, off, end);
      return r && { layer: r.layer, hlen: r.hlen, next: icmpv6CarriesIp(r.layer.icmpType) ? 'ipv6' : 'raw' };
    }
    case IPPROTO_IGMP: {
      const r = readIgmpHeader(buf, off, end);
      return r && { layer: r.layer, hlen: r.hlen, next: 'raw' };
    }
    case IPPROTO_GRE: {
      const r = readGreHeader(buf, off, end);
      return r && { layer: r.layer, hlen: r.hlen, next: byEtherType(r.layer.proto ?? 0) };
    }
    case IPPROTO_ESP: {
      const l = readEspHeader(buf, off, end);
      return l && { layer: l, hlen: 8, next: 'raw' };
    }
    case IPPROTO_IPIP: return decode(buf, off, end, 'ipv4', limit);
    case IPPROTO_IPV6: return decode(buf, off, end, 'ipv6', limit);
    default: {
      if (!IPV6_EXT_PROTOS.has(proto)) return undefined;
      const r = readIpv6Ext(proto, buf, off, end);
      if (!r) return undefined;
      const l = r.layer;
      const nh = l.nh ?? 0;
      // Only the first fragment holds the upper-layer header.
      if (proto === IPPROTO_FRAGMENT && l.type === 'fragment' && l.offset !== 0) return { layer: l, hlen: r.hlen, next: 'raw' };
      return { layer: l, hlen: r.hlen, next: { proto: nh } };
    }
  }
}

/**
 * Opens an ESP payload sent with a null cipher: the raw layer after the ESP header becomes the
 * inner layers and the ESP layer gets its trailer (padding, pad length, next header, ICV).
 * Returns undefined if there is no such ESP or the trailer is inconsistent.
 */
export function decodeEspNull(p: readonly Layer[], icvLen = 0): Layer[] | undefined {
  const i = p.findIndex((l) => l.type === 'esp');
  const body = p[i + 1];
  if (i < 0 || body?.type !== 'raw') return undefined;
  const d = body.data;
  const t = d.length - icvLen - 2;
  if (t < 0) return undefined;
  const padLen = d[t]!, nh = d[t + 1]!;
  if (padLen > t) return undefined;
  const e = p[i] as Esp;
  const espL: Esp = { ...e, nullCipher: { padding: d.subarray(t - padLen, t), padLen, nh, icv: d.subarray(t + 2) } };
  return [...p.slice(0, i), espL, ...parseProto(d.subarray(0, t - padLen), nh), ...p.slice(i + 2)];
}
