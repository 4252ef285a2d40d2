/** IPv6 (RFC 8200) and its extension headers: hop-by-hop, destination options, routing, fragment. */
import { IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS, IPV6_TLV_JUMBO, IPV6_TLV_PAD1, IPV6_TLV_PADN, IPV6_TLV_ROUTERALERT } from '../include/uapi/linux/in6.js';
import { IPV6_SRCRT_TYPE_0, IPV6_SRCRT_TYPE_2, IPV6_SRCRT_TYPE_4 } from '../include/uapi/linux/ipv6.js';
import { canonicalIpv6, readIpv6, writeIpv6 } from '../addr.js';
import { checkFields } from './check-fields.js';

/** An IPv6 header (RFC 8200). */
export interface Ipv6 {
  type: 'ipv6';
  /** Traffic class (8 bits). */
  tc: number;
  /** Flow label (20 bits). */
  fl: number;
  /** Payload length; computed when absent. */
  plen?: number;
  /** Next header; filled from the next layer when absent. */
  nh?: number;
  /** Hop limit. */
  hlim: number;
  src: string;
  dst: string;
}

export type Ipv6Option =
  /** One byte of padding. */
  | { kind: 'pad1' }
  /** PadN with n zero bytes of data (total length n + 2). */
  | { kind: 'padN'; n: number }
  /** Router alert (RFC 2711): 0 MLD, 1 RSVP, 2 active networks. */
  | { kind: 'routerAlert'; value: number }
  /** Jumbo payload length (RFC 2675). */
  | { kind: 'jumbo'; length: number }
  /** Any other option: its type and data. */
  | { kind: 'option'; code: number; data: Uint8Array }
  /** Undecodable bytes (bad length), written back as they are. */
  | { kind: 'raw'; data: Uint8Array };

interface OptionsHeader {
  /** Filled from the next layer when absent. */
  nh?: number;
  /** Length in 8-byte units minus one; computed when absent. */
  len?: number;
  /** Padded to a multiple of 8 bytes with Pad1/PadN at the end. */
  options: Ipv6Option[];
}

/** A hop-by-hop options header. */
export interface HopByHop extends OptionsHeader { type: 'hopByHop' }
/** A destination options header. */
export interface DestOpts extends OptionsHeader { type: 'destOpts' }

/** A routing header: type 0, 2 (mobility) or 4 (segment routing, RFC 8754; see srh()). */
export interface Routing {
  type: 'routing';
  /** Next header; filled from the next layer when absent. */
  nh?: number;
  /** Length in 8-byte units minus one; computed when absent. */
  len?: number;
  /** IPV6_SRCRT_TYPE_*. */
  routingType: number;
  segmentsLeft: number;
  /** The 32 bits after segments left (for a segment routing header: last entry, flags, tag). */
  reserved: number;
  /** The route (for segment routing: the segments, the final one first). */
  addresses: string[];
  /** Bytes after the addresses (e.g. segment routing TLVs), written as they are. */
  data?: Uint8Array;
}

/** A fragment header. */
export interface Fragment {
  type: 'fragment';
  /** Next header; filled from the next layer when absent. */
  nh?: number;
  /** The 8 bits after next header. */
  reserved: number;
  /** Fragment offset in 8-byte units (13 bits). */
  offset: number;
  /** The 2 reserved bits after the offset. */
  res2: number;
  /** More fragments. */
  m: boolean;
  /** Identification. */
  id: number;
}

export type Ipv6Ext = HopByHop | DestOpts | Routing | Fragment;

export function ipv6(f: Partial<Omit<Ipv6, 'type'>> = {}): Ipv6 {
  checkFields('ipv6', f);
  const l: Ipv6 = {
    type: 'ipv6', tc: f.tc ?? 0, fl: f.fl ?? 0, hlim: f.hlim ?? 64,
    src: canonicalIpv6(f.src ?? '::1'), dst: canonicalIpv6(f.dst ?? '::1'),
  };
  if (f.plen !== undefined) l.plen = f.plen;
  if (f.nh !== undefined) l.nh = f.nh;
  return l;
}

function optsHeader<T extends 'hopByHop' | 'destOpts'>(type: T, f: Partial<OptionsHeader>): OptionsHeader & { type: T } {
  checkFields(type, f);
  const l: OptionsHeader & { type: T } = { type, options: f.options ?? [] };
  if (f.nh !== undefined) l.nh = f.nh;
  if (f.len !== undefined) l.len = f.len;
  return l;
}

export function hopByHop(f: Partial<Omit<HopByHop, 'type'>> = {}): HopByHop { return optsHeader('hopByHop', f); }
export function destOpts(f: Partial<Omit<DestOpts, 'type'>> = {}): DestOpts { return optsHeader('destOpts', f); }

export function routing(f: Partial<Omit<Routing, 'type'>> = {}): Routing {
  checkFields('routing', f);
  const l: Routing = {
    type: 'routing', routingType: f.routingType ?? 0, segmentsLeft: f.segmentsLeft ?? (f.addresses?.length ?? 0),
    reserved: f.reserved ?? 0, addresses: (f.addresses ?? []).map(canonicalIpv6),
  };
  if (f.nh !== undefined) l.nh = f.nh;
  if (f.len !== undefined) l.len = f.len;
  if (f.data !== undefined) l.data = f.data;
  return l;
}

/** A segment routing header (RFC 8754); segments[0] is the final segment. */
const SRH_FIELDS: ReadonlySet<string> = new Set(['segments', 'segmentsLeft', 'lastEntry', 'flags', 'tag', 'nh']);

export function srh(f: { segments: string[]; segmentsLeft?: number; lastEntry?: number; flags?: number; tag?: number; nh?: number }): Routing {
  // Not a layer of its own (it builds a 'routing' layer), so checkFields() does not know its keys.
  const unknown = Object.keys(f).filter((k) => !SRH_FIELDS.has(k));
  if (unknown.length) throw new TypeError(`srh(): no field ${unknown.map((k) => `'${k}'`).join(', ')}; its fields are ${[...SRH_FIELDS].join(', ')}`);
  const reserved = (((f.lastEntry ?? f.segments.length - 1) & 0xff) << 24 | (f.flags ?? 0) << 16 | (f.tag ?? 0)) >>> 0;
  const r: Partial<Omit<Routing, 'type'>> = { routingType: IPV6_SRCRT_TYPE_4, segmentsLeft: f.segmentsLeft ?? f.segments.length - 1, reserved, addresses: f.segments };
  if (f.nh !== undefined) r.nh = f.nh;
  return routing(r);
}

export function fragment(f: Partial<Omit<Fragment, 'type'>> = {}): Fragment {
  checkFields('fragment', f);
  const l: Fragment = { type: 'fragment', reserved: f.reserved ?? 0, offset: f.offset ?? 0, res2: f.res2 ?? 0, m: f.m ?? false, id: f.id ?? 0 };
  if (f.nh !== undefined) l.nh = f.nh;
  return l;
}

export function writeIpv6Header(l: Ipv6, buf: Buffer, off: number, payloadLen: number, nh: number): void {
  buf.writeUInt32BE(((6 << 28) | ((l.tc & 0xff) << 20) | (l.fl & 0xfffff)) >>> 0, off);
  buf.writeUInt16BE((l.plen ?? payloadLen) & 0xffff, off + 4);
  buf[off + 6] = l.nh ?? nh;
  buf[off + 7] = l.hlim;
  writeIpv6(l.src, buf, off + 8);
  writeIpv6(l.dst, buf, off + 24);
}

export function readIpv6Header(buf: Buffer, off: number, end: number): Ipv6 | undefined {
  if (end - off < 40 || buf[off]! >> 4 !== 6) return undefined;
  const w = buf.readUInt32BE(off);
  return {
    type: 'ipv6', tc: (w >>> 20) & 0xff, fl: w & 0xfffff, plen: buf.readUInt16BE(off + 4), nh: buf[off + 6]!, hlim: buf[off + 7]!,
    src: readIpv6(buf, off + 8), dst: readIpv6(buf, off + 24),
  };
}

function optLen(o: Ipv6Option): number {
  switch (o.kind) {
    case 'pad1': return 1;
    case 'padN': return o.n + 2;
    case 'routerAlert': return 4;
    case 'jumbo': return 6;
    case 'option': return o.data.length + 2;
    case 'raw': return o.data.length;
  }
}

export function ipv6ExtLen(l: Ipv6Ext): number {
  switch (l.type) {
    case 'fragment': return 8;
    case 'routing': return (8 + 16 * l.addresses.length + (l.data?.length ?? 0) + 7) & ~7;
    default: {
      let n = 2;
      for (const o of l.options) n += optLen(o);
      return (n + 7) & ~7;
    }
  }
}

export function writeIpv6ExtHeader(l: Ipv6Ext, buf: Buffer, off: number, hlen: number, nh: number): void {
  buf[off] = l.nh ?? nh;
  switch (l.type) {
    case 'fragment':
      buf[off + 1] = l.reserved;
      buf.writeUInt16BE(((l.offset & 0x1fff) << 3) | ((l.res2 & 3) << 1) | (l.m ? 1 : 0), off + 2);
      buf.writeUInt32BE(l.id >>> 0, off + 4);
      return;
    case 'routing': {
      buf[off + 1] = l.len ?? hlen / 8 - 1;
      buf[off + 2] = l.routingType;
      buf[off + 3] = l.segmentsLeft;
      buf.writeUInt32BE(l.reserved >>> 0, off + 4);
      let p = off + 8;
      for (const a of l.addresses) { writeIpv6(a, buf, p); p += 16; }
      if (l.data) { buf.set(l.data, p); p += l.data.length; }
      buf.fill(0, p, off + hlen);
      return;
    }
    default: {
      buf[off + 1] = l.len ?? hlen / 8 - 1;
      let p = off + 2;
      for (const o of l.options) {
        switch (o.kind) {
          case 'pad1': buf[p++] = IPV6_TLV_PAD1; break;
          case 'padN': buf[p] = IPV6_TLV_PADN; buf[p + 1] = o.n; buf.fill(0, p + 2, p + 2 + o.n); p += o.n + 2; break;
          case 'routerAlert': buf[p] = IPV6_TLV_ROUTERALERT; buf[p + 1] = 2; buf.writeUInt16BE(o.value, p + 2); p += 4; break;
          case 'jumbo': buf[p] = IPV6_TLV_JUMBO; buf[p + 1] = 4; buf.writeUInt32BE(o.length >>> 0, p + 2); p += 6; break;
          case 'option': buf[p] = o.code; buf[p + 1] = o.data.length; buf.set(o.data, p + 2); p += o.data.length + 2; break;
          case 'raw': buf.set(o.data, p); p += o.data.length; break;
        }
      }
      const pad = off + hlen - p;
      if (pad === 1) buf[p] = IPV6_TLV_PAD1;
      else if (pad > 1) { buf[p] = IPV6_TLV_PADN; buf[p + 1] = pad - 2; buf.fill(0, p + 2, off + hlen); }
    }
  }
}

/**
 * One extension header alone, as IPV6_HOPOPTS / IPV6_DSTOPTS / IPV6_RTHDR(DSTOPTS) take it and
 * as the matching receive control messages carry it (RFC 3542): its next header byte is `nh`
 * when the layer leaves it unset (the kernel overwrites it on send).
 */
export function ipv6ExtBytes(l: Ipv6Ext, nh = 0): Buffer {
  const hlen = ipv6ExtLen(l);
  const b = Buffer.alloc(hlen);
  writeIpv6ExtHeader(l, b, 0, hlen, nh);
  return b;
}

function readOptions(buf: Buffer, p: number, end: number): Ipv6Option[] {
  const out: Ipv6Option[] = [];
  while (p < end) {
    const code = buf[p]!;
    if (code === IPV6_TLV_PAD1) { out.push({ kind: 'pad1' }); p++; continue; }
    if (p + 2 > end || p + 2 + buf[p + 1]! > end) { out.push({ kind: 'raw', data: buf.subarray(p, end) }); break; }
    const len = buf[p + 1]!;
    const d = buf.subarray(p + 2, p + 2 + len);
    if (code === IPV6_TLV_PADN && d.every((b) => b === 0)) out.push({ kind: 'padN', n: len });
    else if (code === IPV6_TLV_ROUTERALERT && len === 2) out.push({ kind: 'routerAlert', value: buf.readUInt16BE(p + 2) });
    else if (code === IPV6_TLV_JUMBO && len === 4) out.push({ kind: 'jumbo', length: buf.readUInt32BE(p + 2) });
    else out.push({ kind: 'option', code, data: d });
    p += 2 + len;
  }
  return out;
}

export const IPV6_EXT_PROTOS: ReadonlySet<number> = new Set([IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_DSTOPTS]);

/** Decodes the extension header for protocol `proto` at off, or undefined if truncated. */
export function readIpv6Ext(proto: number, buf: Buffer, off: number, end: number): { layer: Ipv6Ext; hlen: number } | undefined {
  if (end - off < 8) return undefined;
  const nh = buf[off]!;
  if (proto === IPPROTO_FRAGMENT) {
    const w = buf.readUInt16BE(off + 2);
    return { hlen: 8, layer: { type: 'fragment', nh, reserved: buf[off + 1]!, offset: w >> 3, res2: (w >> 1) & 3, m: (w & 1) === 1, id: buf.readUInt32BE(off + 4) } };
  }
  const len = buf[off + 1]!;
  const hlen = (len + 1) * 8;
  if (off + hlen > end) return undefined;
  if (proto === IPPROTO_ROUTING) {
    const routingType = buf[off + 2]!;
    const addresses: string[] = [];
    let p = off + 8;
    let data: Uint8Array | undefined;
    if (routingType === IPV6_SRCRT_TYPE_0 || routingType === IPV6_SRCRT_TYPE_2 || routingType === IPV6_SRCRT_TYPE_4) {
      // For SRH, last entry says how many segments; the rest is TLVs.
      const count = routingType === IPV6_SRCRT_TYPE_4 ? Math.min(buf[off + 4]! + 1, (hlen - 8) >> 4) : (hlen - 8) >> 4;
      for (let i = 0; i < count; i++, p += 16) addresses.push(readIpv6(buf, p));
    }
    if (p < off + hlen) data = buf.subarray(p, off + hlen);
    const l: Routing = { type: 'routing', nh, len, routingType, segmentsLeft: buf[off + 3]!, reserved: buf.readUInt32BE(off + 4), addresses };
    if (data) l.data = data;
    return { hlen, layer: l };
  }
  const options = readOptions(buf, off + 2, off + hlen);
  return { hlen, layer: { type: proto === IPPROTO_HOPOPTS ? 'hopByHop' : 'destOpts', nh, len, options } };
}

/** The destination the upper-layer checksum covers (RFC 8200 §8.1): the last routing hop if any remain. */
export function finalDestination(ip: Ipv6, exts: readonly Ipv6Ext[]): string {
  for (const e of exts) {
    if (e.type === 'routing' && e.segmentsLeft > 0 && e.addresses.length > 0) {
      return e.routingType === IPV6_SRCRT_TYPE_4 ? e.addresses[0]! : e.addresses[e.addresses.length - 1]!;
    }
  }
  return ip.dst;
}
