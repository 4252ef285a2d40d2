/** IPv4 header with options (RFC 791). */
import { IPOPT_END, IPOPT_NOOP, IPOPT_RA } from '../include/uapi/linux/ip.js';
import { readIpv4, writeIpv4 } from '../addr.js';
import { inetChecksum } from './checksum.js';
import { checkFields } from './check-fields.js';

export type Ipv4Option =
  /** End of options. */
  | { kind: 'eol' }
  /** No operation (padding). */
  | { kind: 'nop' }
  /** Router alert (RFC 2113), value normally 0. */
  | { kind: 'routerAlert'; value: number }
  /** Any other type-length-value option; len defaults to data.length + 2. */
  | { kind: 'option'; code: number; data: Uint8Array; len?: number }
  /** Undecodable bytes (bad length): written back as they are. */
  | { kind: 'raw'; data: Uint8Array };

/** An IPv4 header with its options (RFC 791). */
export interface Ipv4 {
  type: 'ipv4';
  /** Header length in 32-bit words; computed when absent. */
  ihl?: number;
  /** Type of service: DSCP in the high 6 bits, ECN in the low 2. */
  tos: number;
  /** Total length; computed when absent. */
  len?: number;
  /** Identification (fragments of one datagram share it). */
  id: number;
  /** The reserved ("evil", RFC 3514) flag bit. */
  rf: boolean;
  /** Don't fragment. */
  df: boolean;
  /** More fragments. */
  mf: boolean;
  /** Fragment offset in 8-byte units. */
  fragOffset: number;
  /** Time to live. */
  ttl: number;
  /** IPPROTO_* of the next layer; filled from it when absent. */
  protocol?: number;
  /** Computed when absent: set it to send a wrong one. */
  checksum?: number;
  src: string;
  dst: string;
  /** Options, padded with zeros to a multiple of 4 bytes. */
  options: Ipv4Option[];
}

export function ipv4(f: Partial<Omit<Ipv4, 'type'>> = {}): Ipv4 {
  checkFields('ipv4', f);
  const l: Ipv4 = {
    type: 'ipv4',
    tos: f.tos ?? 0,
    id: f.id ?? 1,
    rf: f.rf ?? false,
    df: f.df ?? false,
    mf: f.mf ?? false,
    fragOffset: f.fragOffset ?? 0,
    ttl: f.ttl ?? 64,
    src: f.src ?? '127.0.0.1',
    dst: f.dst ?? '127.0.0.1',
    options: f.options ?? [],
  };
  if (f.ihl !== undefined) l.ihl = f.ihl;
  if (f.len !== undefined) l.len = f.len;
  if (f.protocol !== undefined) l.protocol = f.protocol;
  if (f.checksum !== undefined) l.checksum = f.checksum;
  return l;
}

function optionLen(o: Ipv4Option): number {
  switch (o.kind) {
    case 'eol': case 'nop': return 1;
    case 'routerAlert': return 4;
    case 'option': return 2 + o.data.length;
    case 'raw': return o.data.length;
  }
}

export function ipv4HeaderLen(l: Ipv4): number {
  let n = 0;
  for (const o of l.options) n += optionLen(o);
  return 20 + ((n + 3) & ~3);
}

export function writeIpv4Header(l: Ipv4, buf: Buffer, off: number, hlen: number, payloadLen: number, proto: number): void {
  buf[off] = 0x40 | ((l.ihl ?? hlen / 4) & 0xf);
  buf[off + 1] = l.tos;
  buf.writeUInt16BE((l.len ?? hlen + payloadLen) & 0xffff, off + 2);
  buf.writeUInt16BE(l.id & 0xffff, off + 4);
  buf.writeUInt16BE((l.rf ? 0x8000 : 0) | (l.df ? 0x4000 : 0) | (l.mf ? 0x2000 : 0) | (l.fragOffset & 0x1fff), off + 6);
  buf[off + 8] = l.ttl;
  buf[off + 9] = l.protocol ?? proto;
  writeIpv4(l.src, buf, off + 12);
  writeIpv4(l.dst, buf, off + 16);
  let p = off + 20;
  for (const o of l.options) {
    switch (o.kind) {
      case 'eol': buf[p++] = IPOPT_END; break;
      case 'nop': buf[p++] = IPOPT_NOOP; break;
      case 'routerAlert': buf[p] = IPOPT_RA; buf[p + 1] = 4; buf.writeUInt16BE(o.value, p + 2); p += 4; break;
      case 'option': buf[p] = o.code; buf[p + 1] = o.len ?? o.data.length + 2; buf.set(o.data, p + 2); p += 2 + o.data.length; break;
      case 'raw': buf.set(o.data, p); p += o.data.length; break;
    }
  }
  buf.fill(0, p, off + hlen);
  buf.writeUInt16BE(l.checksum ?? 0, off + 10);
  if (l.checksum === undefined) buf.writeUInt16BE(inetChecksum(buf, off, off + hlen), off + 10);
}

function readOptions(buf: Buffer, p: number, end: number): Ipv4Option[] {
  const out: Ipv4Option[] = [];
  while (p < end) {
    const code = buf[p]!;
    if (code === IPOPT_END) { out.push({ kind: 'eol' }); p++; continue; }
    if (code === IPOPT_NOOP) { out.push({ kind: 'nop' }); p++; continue; }
    const len = p + 1 < end ? buf[p + 1]! : 0;
    if (len < 2 || p + len > end) { out.push({ kind: 'raw', data: buf.subarray(p, end) }); break; }
    if (code === IPOPT_RA && len === 4) out.push({ kind: 'routerAlert', value: buf.readUInt16BE(p + 2) });
    else out.push({ kind: 'option', code, data: buf.subarray(p + 2, p + len) });
    p += len;
  }
  return out;
}

/** Returns the header and its length, or undefined if the bytes cannot hold one. */
export function readIpv4Header(buf: Buffer, off: number, end: number): { layer: Ipv4; hlen: number } | undefined {
  if (end - off < 20 || buf[off]! >> 4 !== 4) return undefined;
  const ihl = buf[off]! & 0xf;
  const hlen = ihl * 4;
  if (hlen < 20 || off + hlen > end) return undefined;
  const frag = buf.readUInt16BE(off + 6);
  return {
    hlen,
    layer: {
      type: 'ipv4',
      ihl,
      tos: buf[off + 1]!,
      len: buf.readUInt16BE(off + 2),
      id: buf.readUInt16BE(off + 4),
      rf: (frag & 0x8000) !== 0,
      df: (frag & 0x4000) !== 0,
      mf: (frag & 0x2000) !== 0,
      fragOffset: frag & 0x1fff,
      ttl: buf[off + 8]!,
      protocol: buf[off + 9]!,
      checksum: buf.readUInt16BE(off + 10),
      src: readIpv4(buf, off + 12),
      dst: readIpv4(buf, off + 16),
      options: readOptions(buf, off + 20, off + hlen),
    },
  };
}
