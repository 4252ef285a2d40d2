// AH (RFC 4302) in transport mode on the wire: seal a layer stack the way a peer would send it,
// and open what the kernel sent. The ICV is the SA's MAC over the whole IP packet with the
// fields that may change in transit zeroed and the ICV field zeroed; which fields are mutable,
// and how the header is padded, follow net/ipv4/ah4.c and net/ipv6/ah6.c (Linux 6.1):
//   IPv4: tos, frag_off (flags and offset), ttl and the header checksum;
//   IPv6: traffic class, flow label and hop limit;
//   the header is 12 bytes + the truncated ICV, padded to 8 bytes, or to 4 with the SA flag
//   XFRM_STATE_ALIGN4 (IPv4 only: ah6 always pads to 8).
// Neither IPv4 options nor IPv6 extension headers before AH are supported (their mutable parts
// would need RFC 4302 appendix A's per-option rules).
//
//   const t = ahTransform(sa);
//   inject(net, [ether(...), raw(sealAh([ipv4({ src, dst }), udp({ sport, dport }), raw('hi')], t, { seq: 1 }))]);
//   const o = openAh(frame.subarray(14), t); // o.verified, o.spi, o.seq, o.payload...
import { timingSafeEqual } from 'node:crypto';
import type { SaSpec } from '../netlink/xfrm.js';
import { build, inetChecksum, ipProtoOf, parse, parseProto, raw, type Layer } from '../packet/index.js';
import { findAlgorithm } from './algorithms.js';

/** include/uapi/linux/in.h */
export const IPPROTO_AH = 51;
const IPPROTO_NONE = 59;
/** struct ip_auth_hdr without auth_data (include/linux/ip.h). */
const AH_FIXED = 12;

export interface AhTransform {
  spi: number;
  /** The SA's (truncated) ICV length in bytes. */
  icvLen: number;
  /** The algorithm's full digest length in bytes. */
  fullLen: number;
  /** Header alignment: 4 with XFRM_STATE_ALIGN4 on IPv4, else 8. */
  align: 4 | 8;
  /** The header length the kernel sends for this SA: ALIGN(12 + icvLen, align). */
  hdrLen: number;
  mac(data: Buffer): Buffer;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** The AH transform of an SA spec (its auth algorithm, key, truncation, flags and family). */
export function ahTransform(sa: Pick<SaSpec, 'spi' | 'auth' | 'flags' | 'dst'>): AhTransform {
  if (!sa.auth) throw new RangeError('ahTransform: AH needs an auth algorithm (SaSpec.auth)');
  const a = findAlgorithm('auth', sa.auth.name);
  if (!a.mac) throw new RangeError(`ahTransform: ${a.missing ?? `no implementation of ${a.name}`}`);
  const key = typeof sa.auth.key === 'string' ? Buffer.from(sa.auth.key, 'hex') : sa.auth.key;
  const truncBits = sa.auth.truncLen || a.truncBits; // xfrm_user: 0 means the algorithm's default
  if (truncBits > a.fullBits || truncBits % 8) throw new RangeError(`ahTransform: ICV of ${truncBits} bits (multiple of 8, at most ${a.fullBits})`);
  const v6 = sa.dst.includes(':');
  const align4 = !v6 && (sa.flags ?? []).some((f) => f.toLowerCase() === 'align4');
  const align = align4 ? 4 : 8;
  const icvLen = truncBits / 8;
  const mac = a.mac;
  return { spi: sa.spi >>> 0, icvLen, fullLen: a.fullBits / 8, align, hdrLen: alignUp(AH_FIXED + icvLen, align), mac: (d) => mac(key, d) };
}

/** The packet with its mutable IP fields zeroed and `icvLen` bytes of ICV zeroed (the input to the MAC). */
export function ahAuthInput(packet: Uint8Array, icvLen: number): Buffer {
  const b = Buffer.from(packet);
  const { ihl } = ipOf(b);
  if (b[0]! >> 4 === 4) {
    b[1] = 0; // tos
    b.writeUInt16BE(0, 6); // flags and fragment offset
    b[8] = 0; // ttl
    b.writeUInt16BE(0, 10); // header checksum
  } else {
    b[0] = b[0]! & 0xf0; // traffic class (high nibble)
    b[1] = 0; // traffic class (low nibble) and flow label
    b.writeUInt16BE(0, 2); // flow label
    b[7] = 0; // hop limit
  }
  b.fill(0, ihl + AH_FIXED, ihl + AH_FIXED + icvLen);
  return b;
}

function ipOf(b: Uint8Array): { ihl: number; v: 4 | 6 } {
  const v = b[0]! >> 4;
  if (v === 4) {
    const ihl = (b[0]! & 0xf) * 4;
    if (ihl !== 20) throw new RangeError(`AH: IPv4 header of ${ihl} bytes: options are not supported`);
    return { ihl, v };
  }
  if (v === 6) return { ihl: 40, v };
  throw new RangeError(`AH: IP version ${v}`);
}

export interface SealAhOptions {
  seq: number;
  /** AH's next header; default from the first inner layer. */
  nextHeader?: number;
  /** The header's length in bytes (a multiple of 4): default the transform's; the ICV field stays icvLen bytes, the rest is padding. */
  hdrLen?: number;
  /** The reserved field (RFC 4302: must be zero). */
  reserved?: number;
}

/**
 * The IP packet `layers[0]` (ipv4() without options, or ipv6()) carrying AH and then the
 * remaining layers, with the ICV computed by `t`. Inner checksums use the IP addresses, as a
 * transport-mode peer's would. Returns the bytes from the IP header on (no Ethernet header).
 */
export function sealAh(layers: readonly Layer[], t: AhTransform, opts: SealAhOptions): Buffer {
  const ip = layers[0];
  if (ip?.type !== 'ipv4' && ip?.type !== 'ipv6') throw new RangeError('sealAh: the stack must start with ipv4() or ipv6()');
  if (ip.type === 'ipv4' && ip.options.length) throw new RangeError('sealAh: IPv4 options are not supported');
  const inner = layers.slice(1);
  const ihl = build([ip]).length;
  const innerBytes = build(layers).subarray(ihl);
  const hdrLen = opts.hdrLen ?? t.hdrLen;
  if (hdrLen % 4 || hdrLen < AH_FIXED + t.icvLen || hdrLen > 1028) throw new RangeError(`sealAh: header length ${hdrLen} (a multiple of 4 from ${AH_FIXED + t.icvLen} to 1028)`);
  const ah = Buffer.alloc(hdrLen);
  ah[0] = opts.nextHeader ?? ipProtoOf(inner[0], IPPROTO_NONE);
  ah[1] = hdrLen / 4 - 2;
  ah.writeUInt16BE(opts.reserved ?? 0, 2);
  ah.writeUInt32BE(t.spi, 4);
  ah.writeUInt32BE(opts.seq >>> 0, 8);
  const head = ip.type === 'ipv4' ? { ...ip, protocol: IPPROTO_AH, len: undefined, checksum: undefined } : { ...ip, nh: IPPROTO_AH, plen: undefined };
  const wire = build([head, raw(Buffer.concat([ah, innerBytes]))]);
  const icv = t.mac(ahAuthInput(wire, t.icvLen)).subarray(0, t.icvLen);
  icv.copy(wire, ihl + AH_FIXED);
  return wire;
}

export interface AhOpened {
  /** The IP header, parsed. */
  ip: Layer;
  nextHeader: number;
  /** The header length field (32-bit words minus 2). */
  hdrLenField: number;
  reserved: number;
  spi: number;
  seq: number;
  /** The transform's icvLen bytes after the sequence number. */
  icv: Buffer;
  /** What follows the ICV up to the header's end. */
  padding: Buffer;
  /** The protected payload, decoded by the next header. */
  payload: Layer[];
  payloadBytes: Buffer;
  /** Whether the ICV is the transform's MAC over the packet. */
  verified: boolean;
}

/** Parses an IP packet (from the IP header, no Ethernet) whose next header is AH, and checks its ICV. */
export function openAh(packet: Uint8Array, t: AhTransform): AhOpened {
  const b = Buffer.from(packet);
  const { ihl, v } = ipOf(b);
  const proto = v === 4 ? b[9] : b[6];
  if (proto !== IPPROTO_AH) throw new RangeError(`openAh: next protocol ${String(proto)}, not AH (${IPPROTO_AH})`);
  const total = v === 4 ? b.readUInt16BE(2) : 40 + b.readUInt16BE(4);
  if (total !== b.length) throw new RangeError(`openAh: IP length field says ${total} bytes, ${b.length} given`);
  if (b.length < ihl + AH_FIXED) throw new RangeError('openAh: truncated AH header');
  const hdrLenField = b[ihl + 1]!;
  const hdrLen = (hdrLenField + 2) * 4;
  if (hdrLen < AH_FIXED + t.icvLen || ihl + hdrLen > b.length) throw new RangeError(`openAh: AH length ${hdrLen} cannot hold a ${t.icvLen}-byte ICV in ${b.length - ihl} bytes`);
  const icv = Buffer.from(b.subarray(ihl + AH_FIXED, ihl + AH_FIXED + t.icvLen));
  const want = t.mac(ahAuthInput(b, t.icvLen)).subarray(0, t.icvLen);
  const nextHeader = b[ihl]!;
  const payloadBytes = Buffer.from(b.subarray(ihl + hdrLen));
  return {
    ip: parse(b.subarray(0, ihl), 'ip')[0]!,
    nextHeader,
    hdrLenField,
    reserved: b.readUInt16BE(ihl + 2),
    spi: b.readUInt32BE(ihl + 4),
    seq: b.readUInt32BE(ihl + 8),
    icv,
    padding: Buffer.from(b.subarray(ihl + AH_FIXED + t.icvLen, ihl + hdrLen)),
    payload: nextHeader === IPPROTO_NONE ? [] : parseProto(payloadBytes, nextHeader),
    payloadBytes,
    verified: timingSafeEqual(icv, want),
  };
}

/** Rewrites byte `offset` of an IPv4 packet to `value` and recomputes its header checksum (for "changed in transit" tests). */
export function setIpv4Byte(packet: Buffer, offset: number, value: number): Buffer {
  const b = Buffer.from(packet);
  b[offset] = value;
  b.writeUInt16BE(0, 10);
  b.writeUInt16BE(inetChecksum(b, 0, 20), 10);
  return b;
}
