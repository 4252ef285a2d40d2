/** Serialises a layer stack, filling lengths, next-protocol fields and checksums left undefined. */
import { VLAN_HLEN } from '../include/linux/if_vlan.js';
import { ETH_HLEN, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ETH_P_TEB } from '../include/uapi/linux/if_ether.js';
import { IPPROTO_ESP, IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_IGMP, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP } from '../include/uapi/linux/in.js';
import { IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMPV6, IPPROTO_NONE, IPPROTO_ROUTING } from '../include/uapi/linux/in6.js';
import { writeIpv4, writeIpv6 } from '../addr.js';
import { writeArp, ARP_LEN } from './arp.js';
import { inetChecksum, pseudoSum } from './checksum.js';
import { espTrailerLen, writeEspHeader, writeEspTrailer } from './esp.js';
import { writeEther, writeVlan } from './ethernet.js';
import { greHeaderLen, writeGreHeader } from './gre.js';
import { writeIcmpHeader } from './icmpv4.js';
import { icmpv6HeaderLen, writeIcmpv6Header } from './icmpv6.js';
import { igmpHeaderLen, writeIgmpHeader } from './igmp.js';
import { ipv4HeaderLen, writeIpv4Header } from './ipv4.js';
import { finalDestination, ipv6ExtLen, writeIpv6ExtHeader, writeIpv6Header, type Ipv6Ext } from './ipv6.js';
import { tcpHeaderLen, writeTcpHeader } from './tcp.js';
import type { Layer } from './types.js';
import { writeUdpHeader } from './udp.js';

/** Ethertype that announces a layer (0x9000, "loopback", for anything else, as scapy does). */
export function etherTypeOf(next: Layer | undefined): number {
  switch (next?.type) {
    case 'ipv4': return ETH_P_IP;
    case 'ipv6': return ETH_P_IPV6;
    case 'arp': return ETH_P_ARP;
    case 'vlan': return ETH_P_8021Q;
    case 'ether': return ETH_P_TEB;
    default: return 0x9000;
  }
}

/** IP protocol / IPv6 next header that announces a layer; `none` for raw or nothing. */
export function ipProtoOf(next: Layer | undefined, none: number): number {
  switch (next?.type) {
    case 'tcp': return IPPROTO_TCP;
    case 'udp': return IPPROTO_UDP;
    case 'icmp': return IPPROTO_ICMP;
    case 'icmpv6': return IPPROTO_ICMPV6;
    case 'igmp': return IPPROTO_IGMP;
    case 'gre': return IPPROTO_GRE;
    case 'esp': return IPPROTO_ESP;
    case 'ipv4': return IPPROTO_IPIP;
    case 'ipv6': return IPPROTO_IPV6;
    case 'hopByHop': return IPPROTO_HOPOPTS;
    case 'routing': return IPPROTO_ROUTING;
    case 'fragment': return IPPROTO_FRAGMENT;
    case 'destOpts': return IPPROTO_DSTOPTS;
    default: return none;
  }
}

function headerLen(l: Layer): number {
  switch (l.type) {
    case 'ether': return ETH_HLEN;
    case 'vlan': return VLAN_HLEN;
    case 'arp': return ARP_LEN;
    case 'ipv4': return ipv4HeaderLen(l);
    case 'ipv6': return 40;
    case 'hopByHop': case 'destOpts': case 'routing': case 'fragment': return ipv6ExtLen(l);
    case 'tcp': return tcpHeaderLen(l);
    case 'udp': return 8;
    case 'icmp': return 8;
    case 'icmpv6': return icmpv6HeaderLen(l);
    case 'igmp': return igmpHeaderLen(l);
    case 'gre': return greHeaderLen(l);
    case 'esp': return 8;
    case 'raw': case 'padding': return l.data.length;
  }
}

/** Serialises the layers; throws RangeError only for values that cannot be encoded (bad address text). */
export function build(layers: readonly Layer[]): Buffer {
  const n = layers.length;
  const hlen = new Array<number>(n);
  const tlen = new Array<number>(n).fill(0);
  const plen = new Array<number>(n);
  const start = new Array<number>(n);
  for (let i = 0; i < n; i++) hlen[i] = headerLen(layers[i]!);
  // Trailers (ESP) depend on the payload length, so walk inside-out.
  let inner = 0;
  for (let i = n - 1; i >= 0; i--) {
    const l = layers[i]!;
    plen[i] = inner;
    if (l.type === 'padding') continue;
    if (l.type === 'esp') tlen[i] = espTrailerLen(l, inner);
    inner += hlen[i]! + tlen[i]!;
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += hlen[i]! + tlen[i]!;
  // Pool-backed allocation is much cheaper for small packets; zero it since not every writer covers every byte.
  const buf = Buffer.allocUnsafe(total).fill(0);
  // Headers in order, then trailers innermost first, then padding.
  let off = 0;
  for (let i = 0; i < n; i++) if (layers[i]!.type !== 'padding') { start[i] = off; off += hlen[i]!; }
  const trailerAt = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) if (tlen[i]! > 0) { trailerAt[i] = off; off += tlen[i]!; }
  for (let i = 0; i < n; i++) if (layers[i]!.type === 'padding') { start[i] = off; off += hlen[i]!; }

  for (let i = 0; i < n; i++) {
    const l = layers[i]!;
    let next: Layer | undefined = layers[i + 1];
    if (next?.type === 'padding') next = undefined;
    const o = start[i]!;
    switch (l.type) {
      case 'ether': writeEther(l, buf, o, etherTypeOf(next)); break;
      case 'vlan': writeVlan(l, buf, o, etherTypeOf(next)); break;
      case 'arp': writeArp(l, buf, o); break;
      case 'ipv4': writeIpv4Header(l, buf, o, hlen[i]!, plen[i]!, ipProtoOf(next, 0)); break;
      case 'ipv6': writeIpv6Header(l, buf, o, plen[i]!, ipProtoOf(next, IPPROTO_NONE)); break;
      case 'hopByHop': case 'destOpts': case 'routing': case 'fragment': writeIpv6ExtHeader(l, buf, o, hlen[i]!, ipProtoOf(next, IPPROTO_NONE)); break;
      case 'tcp': writeTcpHeader(l, buf, o, hlen[i]!); break;
      case 'udp': writeUdpHeader(l, buf, o, plen[i]!); break;
      case 'icmp': writeIcmpHeader(l, buf, o); break;
      case 'icmpv6': writeIcmpv6Header(l, buf, o); break;
      case 'igmp': writeIgmpHeader(l, buf, o); break;
      case 'gre': writeGreHeader(l, buf, o, next?.type === 'raw' ? 0 : etherTypeOf(next)); break;
      case 'esp':
        writeEspHeader(l, buf, o);
        if (tlen[i]! > 0) writeEspTrailer(l, buf, trailerAt[i]!, plen[i]!, ipProtoOf(next, IPPROTO_NONE));
        break;
      case 'raw': case 'padding': buf.set(l.data, o); break;
    }
  }
  // Checksums inside-out, so outer ones cover finished inner bytes.
  for (let i = n - 1; i >= 0; i--) fillChecksum(layers, i, buf, start[i]!, start[i]! + hlen[i]! + plen[i]! + tlen[i]!);
  return buf;
}

const v4a = new Uint8Array(4), v4b = new Uint8Array(4), v6a = new Uint8Array(16), v6b = new Uint8Array(16);

/** Pseudo-header sum from the nearest enclosing IP layer (RFC 8200 §8.1 final destination for IPv6). */
function pseudo(layers: readonly Layer[], i: number, proto: number, length: number): number {
  const exts: Ipv6Ext[] = [];
  for (let j = i - 1; j >= 0; j--) {
    const l = layers[j]!;
    if (l.type === 'hopByHop' || l.type === 'destOpts' || l.type === 'routing' || l.type === 'fragment') exts.unshift(l);
    else if (l.type === 'esp') continue; // transport mode: the pseudo header is the outer IP's
    else if (l.type === 'ipv6') {
      writeIpv6(l.src, v6a, 0);
      writeIpv6(exts.length ? finalDestination(l, exts) : l.dst, v6b, 0);
      return pseudoSum(v6a, v6b, proto, length);
    } else if (l.type === 'ipv4') {
      writeIpv4(l.src, v4a, 0);
      writeIpv4(l.dst, v4b, 0);
      return pseudoSum(v4a, v4b, proto, length);
    } else break;
  }
  return 0;
}

function fillChecksum(layers: readonly Layer[], i: number, buf: Buffer, s: number, e: number): void {
  const l = layers[i]!;
  switch (l.type) {
    case 'tcp':
      if (l.checksum === undefined) buf.writeUInt16BE(inetChecksum(buf, s, e, pseudo(layers, i, IPPROTO_TCP, e - s)), s + 16);
      break;
    case 'udp':
      if (l.checksum === undefined) buf.writeUInt16BE(inetChecksum(buf, s, e, pseudo(layers, i, IPPROTO_UDP, e - s)) || 0xffff, s + 6);
      break;
    case 'icmp':
      if (l.checksum === undefined) buf.writeUInt16BE(inetChecksum(buf, s, e), s + 2);
      break;
    case 'igmp':
      if (l.checksum === undefined) buf.writeUInt16BE(inetChecksum(buf, s, e), s + 2);
      break;
    case 'icmpv6':
      if (l.checksum === undefined) buf.writeUInt16BE(inetChecksum(buf, s, e, pseudo(layers, i, IPPROTO_ICMPV6, e - s)), s + 2);
      break;
    case 'gre':
      if (l.c && l.checksum === undefined) buf.writeUInt16BE(inetChecksum(buf, s, e), s + 4);
      break;
    default:
  }
}
