/** ICMP for IPv4 (RFC 792, RFC 1191 for the next-hop MTU of "fragmentation needed"). */
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_PARAMETERPROB, ICMP_REDIRECT, ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED, ICMP_TIMESTAMP, ICMP_TIMESTAMPREPLY, ICMP_INFO_REQUEST, ICMP_INFO_REPLY } from '../include/uapi/linux/icmp.js';
import { readIpv4, writeIpv4 } from '../addr.js';
import { checkFields } from './check-fields.js';

/**
 * An ICMP message (RFC 792). The 32 bits after the checksum mean different things per type; the fields used are:
 * echo/timestamp: id, seq; redirect: gateway; destination unreachable: unused (16 bits) and
 * mtu (16 bits); parameter problem: pointer (8) and unused (24); every other type: unused (32).
 */
export interface Icmp {
  type: 'icmp';
  /** ICMP_* type (ICMP_ECHO, ICMP_DEST_UNREACH, ...). */
  icmpType: number;
  code: number;
  /** Computed when absent. */
  checksum?: number;
  /** Echo, timestamp, information: identifier. */
  id?: number;
  /** Echo, timestamp, information: sequence number. */
  seq?: number;
  /** Redirect: the better gateway. */
  gateway?: string;
  /** Fragmentation needed: the next-hop MTU (RFC 1191). */
  mtu?: number;
  /** Parameter problem: offset of the bad byte. */
  pointer?: number;
  /** The bits no field of this type names. */
  unused?: number;
}

type Shape = 'echo' | 'redirect' | 'unreach' | 'param' | 'other';

function shape(t: number): Shape {
  if (t === ICMP_ECHO || t === ICMP_ECHOREPLY || t === ICMP_TIMESTAMP || t === ICMP_TIMESTAMPREPLY || t === ICMP_INFO_REQUEST || t === ICMP_INFO_REPLY) return 'echo';
  if (t === ICMP_REDIRECT) return 'redirect';
  if (t === ICMP_DEST_UNREACH) return 'unreach';
  if (t === ICMP_PARAMETERPROB) return 'param';
  return 'other';
}

/** Types whose payload is the offending datagram's IP header (parsed as IPv4). */
export function icmpCarriesIp(t: number): boolean {
  return t === ICMP_DEST_UNREACH || t === ICMP_REDIRECT || t === ICMP_TIME_EXCEEDED || t === ICMP_PARAMETERPROB || t === ICMP_SOURCE_QUENCH;
}

export function icmp(f: Partial<Omit<Icmp, 'type'>> = {}): Icmp {
  checkFields('icmp', f);
  const icmpType = f.icmpType ?? ICMP_ECHO;
  const l: Icmp = { type: 'icmp', icmpType, code: f.code ?? 0 };
  if (f.checksum !== undefined) l.checksum = f.checksum;
  switch (shape(icmpType)) {
    case 'echo': l.id = f.id ?? 0; l.seq = f.seq ?? 0; break;
    case 'redirect': l.gateway = f.gateway ?? '0.0.0.0'; break;
    case 'unreach': l.unused = f.unused ?? 0; l.mtu = f.mtu ?? 0; break;
    case 'param': l.pointer = f.pointer ?? 0; l.unused = f.unused ?? 0; break;
    case 'other': l.unused = f.unused ?? 0; break;
  }
  return l;
}

export const echoRequest4 = (f: { id?: number; seq?: number } = {}): Icmp => icmp({ ...f, icmpType: ICMP_ECHO });
export const echoReply4 = (f: { id?: number; seq?: number } = {}): Icmp => icmp({ ...f, icmpType: ICMP_ECHOREPLY });

export function writeIcmpHeader(l: Icmp, buf: Buffer, off: number): void {
  buf[off] = l.icmpType;
  buf[off + 1] = l.code;
  buf.writeUInt16BE(l.checksum ?? 0, off + 2);
  switch (shape(l.icmpType)) {
    case 'echo': buf.writeUInt16BE(l.id ?? 0, off + 4); buf.writeUInt16BE(l.seq ?? 0, off + 6); break;
    case 'redirect': writeIpv4(l.gateway ?? '0.0.0.0', buf, off + 4); break;
    case 'unreach': buf.writeUInt16BE(l.unused ?? 0, off + 4); buf.writeUInt16BE(l.mtu ?? 0, off + 6); break;
    case 'param': buf.writeUInt32BE((((l.pointer ?? 0) << 24) | ((l.unused ?? 0) & 0xffffff)) >>> 0, off + 4); break;
    case 'other': buf.writeUInt32BE((l.unused ?? 0) >>> 0, off + 4); break;
  }
}

export function readIcmpHeader(buf: Buffer, off: number, end: number): Icmp | undefined {
  if (end - off < 8) return undefined;
  const icmpType = buf[off]!;
  const l: Icmp = { type: 'icmp', icmpType, code: buf[off + 1]!, checksum: buf.readUInt16BE(off + 2) };
  switch (shape(icmpType)) {
    case 'echo': l.id = buf.readUInt16BE(off + 4); l.seq = buf.readUInt16BE(off + 6); break;
    case 'redirect': l.gateway = readIpv4(buf, off + 4); break;
    case 'unreach': l.unused = buf.readUInt16BE(off + 4); l.mtu = buf.readUInt16BE(off + 6); break;
    case 'param': l.pointer = buf[off + 4]!; l.unused = buf.readUInt32BE(off + 4) & 0xffffff; break;
    case 'other': l.unused = buf.readUInt32BE(off + 4); break;
  }
  return l;
}
