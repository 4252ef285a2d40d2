/** UDP header (RFC 768). */
import { checkFields } from './check-fields.js';

/** A UDP header (RFC 768). */
export interface Udp {
  type: 'udp';
  sport: number;
  dport: number;
  /** Computed when absent. */
  len?: number;
  /** Computed when absent (0 is sent as 0xffff, RFC 768). Set 0 explicitly for "no checksum" over IPv4. */
  checksum?: number;
}

export function udp(f: Partial<Omit<Udp, 'type'>> = {}): Udp {
  checkFields('udp', f);
  const l: Udp = { type: 'udp', sport: f.sport ?? 53, dport: f.dport ?? 53 };
  if (f.len !== undefined) l.len = f.len;
  if (f.checksum !== undefined) l.checksum = f.checksum;
  return l;
}

export function writeUdpHeader(l: Udp, buf: Buffer, off: number, payloadLen: number): void {
  buf.writeUInt16BE(l.sport, off);
  buf.writeUInt16BE(l.dport, off + 2);
  buf.writeUInt16BE((l.len ?? 8 + payloadLen) & 0xffff, off + 4);
  buf.writeUInt16BE(l.checksum ?? 0, off + 6);
}

export function readUdpHeader(buf: Buffer, off: number, end: number): Udp | undefined {
  if (end - off < 8) return undefined;
  return { type: 'udp', sport: buf.readUInt16BE(off), dport: buf.readUInt16BE(off + 2), len: buf.readUInt16BE(off + 4), checksum: buf.readUInt16BE(off + 6) };
}
