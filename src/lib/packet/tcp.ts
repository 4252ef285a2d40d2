/** TCP header (RFC 9293) with options. */
import { TCPOPT_EOL, TCPOPT_FASTOPEN, TCPOPT_MD5SIG, TCPOPT_MSS, TCPOPT_NOP, TCPOPT_SACK, TCPOPT_SACK_PERM, TCPOPT_TIMESTAMP, TCPOPT_WINDOW } from '../include/net/tcp.js';
import { checkFields } from './check-fields.js';

/** Flag letters, lowest bit first (FIN=0x001 ... NS/AE=0x100), as scapy and tcpdump spell them. */
const FLAG_LETTERS = 'FSRPAUECN';

export type TcpOption =
  /** End of options. */
  | { kind: 'eol' }
  /** Padding. */
  | { kind: 'nop' }
  /** Maximum segment size (SYN only). */
  | { kind: 'mss'; value: number }
  /** Window scale shift count (RFC 7323). */
  | { kind: 'wscale'; shift: number }
  /** SACK permitted (RFC 2018). */
  | { kind: 'sackOk' }
  /** SACK blocks: [left, right) edges. */
  | { kind: 'sack'; blocks: Array<[number, number]> }
  /** Timestamps (RFC 7323). */
  | { kind: 'timestamp'; tsval: number; tsecr: number }
  /** Placeholder: 16 digest bytes, zero unless given; computing the MD5 is up to the test. */
  | { kind: 'md5'; digest: Uint8Array }
  /** Empty cookie = cookie request. */
  | { kind: 'fastOpen'; cookie: Uint8Array }
  /** Any other kind: the bytes after kind and length. */
  | { kind: 'option'; code: number; data: Uint8Array }
  /** Undecodable bytes (bad length): written back as they are. */
  | { kind: 'raw'; data: Uint8Array };

/** A TCP header with its options (RFC 9293). */
export interface Tcp {
  type: 'tcp';
  sport: number;
  dport: number;
  /** Sequence number. */
  seq: number;
  /** Acknowledgement number (meaningful with the A flag). */
  ack: number;
  /** Header length in 32-bit words; computed when absent. */
  dataOffset?: number;
  /** The 3 reserved bits. */
  reserved: number;
  /** Flag letters from "FSRPAUECN", e.g. "S", "SA", "PA" (canonical order). */
  flags: string;
  window: number;
  /** Computed when absent: set it to send a wrong one. */
  checksum?: number;
  /** Urgent pointer. */
  urgent: number;
  /** Options, padded with zeros to a multiple of 4 bytes. */
  options: TcpOption[];
}

export function tcpFlagsToNumber(flags: string): number {
  let v = 0;
  for (const c of flags) {
    const i = FLAG_LETTERS.indexOf(c);
    if (i < 0) throw new RangeError(`bad TCP flag letter "${c}" in "${flags}"`);
    v |= 1 << i;
  }
  return v;
}

export function tcpFlagsToString(v: number): string {
  let s = '';
  for (let i = 0; i < FLAG_LETTERS.length; i++) if (v & (1 << i)) s += FLAG_LETTERS[i];
  return s;
}

export function tcp(f: Partial<Omit<Tcp, 'type'>> = {}): Tcp {
  checkFields('tcp', f);
  const l: Tcp = {
    type: 'tcp', sport: f.sport ?? 20, dport: f.dport ?? 80, seq: f.seq ?? 0, ack: f.ack ?? 0,
    reserved: f.reserved ?? 0, flags: tcpFlagsToString(tcpFlagsToNumber(f.flags ?? 'S')),
    window: f.window ?? 8192, urgent: f.urgent ?? 0, options: f.options ?? [],
  };
  if (f.dataOffset !== undefined) l.dataOffset = f.dataOffset;
  if (f.checksum !== undefined) l.checksum = f.checksum;
  return l;
}

function optLen(o: TcpOption): number {
  switch (o.kind) {
    case 'eol': case 'nop': return 1;
    case 'mss': return 4;
    case 'wscale': return 3;
    case 'sackOk': return 2;
    case 'sack': return 2 + 8 * o.blocks.length;
    case 'timestamp': return 10;
    case 'md5': return 18;
    case 'fastOpen': return 2 + o.cookie.length;
    case 'option': return 2 + o.data.length;
    case 'raw': return o.data.length;
  }
}

export function tcpHeaderLen(l: Tcp): number {
  let n = 0;
  for (const o of l.options) n += optLen(o);
  return 20 + ((n + 3) & ~3);
}

export function writeTcpHeader(l: Tcp, buf: Buffer, off: number, hlen: number): void {
  buf.writeUInt16BE(l.sport, off);
  buf.writeUInt16BE(l.dport, off + 2);
  buf.writeUInt32BE(l.seq >>> 0, off + 4);
  buf.writeUInt32BE(l.ack >>> 0, off + 8);
  const flags = tcpFlagsToNumber(l.flags);
  buf.writeUInt16BE((((l.dataOffset ?? hlen / 4) & 0xf) << 12) | ((l.reserved & 7) << 9) | flags, off + 12);
  buf.writeUInt16BE(l.window, off + 14);
  buf.writeUInt16BE(l.checksum ?? 0, off + 16);
  buf.writeUInt16BE(l.urgent, off + 18);
  let p = off + 20;
  for (const o of l.options) {
    switch (o.kind) {
      case 'eol': buf[p++] = TCPOPT_EOL; break;
      case 'nop': buf[p++] = TCPOPT_NOP; break;
      case 'mss': buf[p] = TCPOPT_MSS; buf[p + 1] = 4; buf.writeUInt16BE(o.value, p + 2); p += 4; break;
      case 'wscale': buf[p] = TCPOPT_WINDOW; buf[p + 1] = 3; buf[p + 2] = o.shift; p += 3; break;
      case 'sackOk': buf[p] = TCPOPT_SACK_PERM; buf[p + 1] = 2; p += 2; break;
      case 'sack':
        buf[p] = TCPOPT_SACK; buf[p + 1] = 2 + 8 * o.blocks.length; p += 2;
        for (const [a, b] of o.blocks) { buf.writeUInt32BE(a >>> 0, p); buf.writeUInt32BE(b >>> 0, p + 4); p += 8; }
        break;
      case 'timestamp': buf[p] = TCPOPT_TIMESTAMP; buf[p + 1] = 10; buf.writeUInt32BE(o.tsval >>> 0, p + 2); buf.writeUInt32BE(o.tsecr >>> 0, p + 6); p += 10; break;
      case 'md5': buf[p] = TCPOPT_MD5SIG; buf[p + 1] = 18; buf.fill(0, p + 2, p + 18); buf.set(o.digest.subarray(0, 16), p + 2); p += 18; break;
      case 'fastOpen': buf[p] = TCPOPT_FASTOPEN; buf[p + 1] = 2 + o.cookie.length; buf.set(o.cookie, p + 2); p += 2 + o.cookie.length; break;
      case 'option': buf[p] = o.code; buf[p + 1] = 2 + o.data.length; buf.set(o.data, p + 2); p += 2 + o.data.length; break;
      case 'raw': buf.set(o.data, p); p += o.data.length; break;
    }
  }
  buf.fill(0, p, off + hlen);
}

function readOptions(buf: Buffer, p: number, end: number): TcpOption[] {
  const out: TcpOption[] = [];
  while (p < end) {
    const code = buf[p]!;
    if (code === TCPOPT_EOL) { out.push({ kind: 'eol' }); p++; continue; }
    if (code === TCPOPT_NOP) { out.push({ kind: 'nop' }); p++; continue; }
    const len = p + 1 < end ? buf[p + 1]! : 0;
    if (len < 2 || p + len > end) { out.push({ kind: 'raw', data: buf.subarray(p, end) }); break; }
    const d = p + 2;
    if (code === TCPOPT_MSS && len === 4) out.push({ kind: 'mss', value: buf.readUInt16BE(d) });
    else if (code === TCPOPT_WINDOW && len === 3) out.push({ kind: 'wscale', shift: buf[d]! });
    else if (code === TCPOPT_SACK_PERM && len === 2) out.push({ kind: 'sackOk' });
    else if (code === TCPOPT_SACK && (len - 2) % 8 === 0) {
      const blocks: Array<[number, number]> = [];
      for (let q = d; q < p + len; q += 8) blocks.push([buf.readUInt32BE(q), buf.readUInt32BE(q + 4)]);
      out.push({ kind: 'sack', blocks });
    } else if (code === TCPOPT_TIMESTAMP && len === 10) out.push({ kind: 'timestamp', tsval: buf.readUInt32BE(d), tsecr: buf.readUInt32BE(d + 4) });
    else if (code === TCPOPT_MD5SIG && len === 18) out.push({ kind: 'md5', digest: buf.subarray(d, d + 16) });
    else if (code === TCPOPT_FASTOPEN) out.push({ kind: 'fastOpen', cookie: buf.subarray(d, p + len) });
    else out.push({ kind: 'option', code, data: buf.subarray(d, p + len) });
    p += len;
  }
  return out;
}

export function readTcpHeader(buf: Buffer, off: number, end: number): { layer: Tcp; hlen: number } | undefined {
  if (end - off < 20) return undefined;
  const w = buf.readUInt16BE(off + 12);
  const dataOffset = w >> 12;
  const hlen = dataOffset * 4;
  if (hlen < 20 || off + hlen > end) return undefined;
  return {
    hlen,
    layer: {
      type: 'tcp', sport: buf.readUInt16BE(off), dport: buf.readUInt16BE(off + 2),
      seq: buf.readUInt32BE(off + 4), ack: buf.readUInt32BE(off + 8), dataOffset,
      reserved: (w >> 9) & 7, flags: tcpFlagsToString(w & 0x1ff), window: buf.readUInt16BE(off + 14),
      checksum: buf.readUInt16BE(off + 16), urgent: buf.readUInt16BE(off + 18),
      options: readOptions(buf, off + 20, off + hlen),
    },
  };
}
