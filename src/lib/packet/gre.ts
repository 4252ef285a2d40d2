/** GRE (RFC 2784, key and sequence number from RFC 2890). */
import { checkFields } from './check-fields.js';

/** A GRE header (RFC 2784, key and sequence number from RFC 2890). */
export interface Gre {
  type: 'gre';
  /** Checksum present; the checksum is computed when absent. */
  c: boolean;
  /** Key present. */
  k: boolean;
  /** Sequence number present. */
  s: boolean;
  /** The other flag/reserved bits (R, s, recur, flags) in place: the first word masked with 0x4ff8. */
  reserved0: number;
  version: number;
  /** Protocol type (an ethertype); filled from the next layer when absent. */
  proto?: number;
  checksum?: number;
  reserved1: number;
  key?: number;
  seq?: number;
}

export function gre(f: Partial<Omit<Gre, 'type'>> = {}): Gre {
  checkFields('gre', f);
  const l: Gre = {
    type: 'gre', c: f.c ?? f.checksum !== undefined, k: f.k ?? f.key !== undefined, s: f.s ?? f.seq !== undefined,
    reserved0: f.reserved0 ?? 0, version: f.version ?? 0, reserved1: f.reserved1 ?? 0,
  };
  if (f.proto !== undefined) l.proto = f.proto;
  if (f.checksum !== undefined) l.checksum = f.checksum;
  if (f.key !== undefined) l.key = f.key;
  if (f.seq !== undefined) l.seq = f.seq;
  return l;
}

export function greHeaderLen(l: Gre): number {
  return 4 + (l.c ? 4 : 0) + (l.k ? 4 : 0) + (l.s ? 4 : 0);
}

export function writeGreHeader(l: Gre, buf: Buffer, off: number, proto: number): void {
  buf.writeUInt16BE((l.c ? 0x8000 : 0) | (l.k ? 0x2000 : 0) | (l.s ? 0x1000 : 0) | (l.reserved0 & 0x4ff8) | (l.version & 7), off);
  buf.writeUInt16BE(l.proto ?? proto, off + 2);
  let p = off + 4;
  if (l.c) { buf.writeUInt16BE(l.checksum ?? 0, p); buf.writeUInt16BE(l.reserved1, p + 2); p += 4; }
  if (l.k) { buf.writeUInt32BE((l.key ?? 0) >>> 0, p); p += 4; }
  if (l.s) buf.writeUInt32BE((l.seq ?? 0) >>> 0, p);
}

export function readGreHeader(buf: Buffer, off: number, end: number): { layer: Gre; hlen: number } | undefined {
  if (end - off < 4) return undefined;
  const w = buf.readUInt16BE(off);
  const l: Gre = {
    type: 'gre', c: (w & 0x8000) !== 0, k: (w & 0x2000) !== 0, s: (w & 0x1000) !== 0,
    reserved0: w & 0x4ff8, version: w & 7, proto: buf.readUInt16BE(off + 2), reserved1: 0,
  };
  const hlen = greHeaderLen(l);
  if (end - off < hlen) return undefined;
  let p = off + 4;
  if (l.c) { l.checksum = buf.readUInt16BE(p); l.reserved1 = buf.readUInt16BE(p + 2); p += 4; }
  if (l.k) { l.key = buf.readUInt32BE(p); p += 4; }
  if (l.s) l.seq = buf.readUInt32BE(p);
  return { layer: l, hlen };
}
