/** ARP for Ethernet/IPv4 (RFC 826). */
import { ARPHRD_ETHER, ARPOP_REQUEST } from '../include/uapi/linux/if_arp.js';
import { readIpv4, readMac, writeIpv4, writeMac, canonicalMac } from '../addr.js';
import { checkFields } from './check-fields.js';

export const ARP_LEN = 28;

/** An ARP message for Ethernet and IPv4 (RFC 826). */
export interface Arp {
  type: 'arp';
  /** Hardware type (ARPHRD_ETHER). */
  hwType: number;
  /** Protocol type (ETH_P_IP). */
  protoType: number;
  hwLen: number;
  protoLen: number;
  /** ARPOP_REQUEST (1) or ARPOP_REPLY (2). */
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export function arp(f: Partial<Omit<Arp, 'type'>> = {}): Arp {
  checkFields('arp', f);
  return {
    type: 'arp',
    hwType: f.hwType ?? ARPHRD_ETHER,
    protoType: f.protoType ?? 0x0800,
    hwLen: f.hwLen ?? 6,
    protoLen: f.protoLen ?? 4,
    op: f.op ?? ARPOP_REQUEST,
    senderMac: canonicalMac(f.senderMac ?? '00:00:00:00:00:00'),
    senderIp: f.senderIp ?? '0.0.0.0',
    targetMac: canonicalMac(f.targetMac ?? '00:00:00:00:00:00'),
    targetIp: f.targetIp ?? '0.0.0.0',
  };
}

export function writeArp(l: Arp, buf: Buffer, off: number): void {
  buf.writeUInt16BE(l.hwType, off);
  buf.writeUInt16BE(l.protoType, off + 2);
  buf[off + 4] = l.hwLen;
  buf[off + 5] = l.protoLen;
  buf.writeUInt16BE(l.op, off + 6);
  writeMac(l.senderMac, buf, off + 8);
  writeIpv4(l.senderIp, buf, off + 14);
  writeMac(l.targetMac, buf, off + 18);
  writeIpv4(l.targetIp, buf, off + 24);
}

/** Only the Ethernet/IPv4 shape is decoded; anything else is left to the caller as raw. */
export function readArp(buf: Buffer, off: number, end: number): Arp | undefined {
  if (end - off < ARP_LEN || buf[off + 4] !== 6 || buf[off + 5] !== 4) return undefined;
  return {
    type: 'arp',
    hwType: buf.readUInt16BE(off),
    protoType: buf.readUInt16BE(off + 2),
    hwLen: 6,
    protoLen: 4,
    op: buf.readUInt16BE(off + 6),
    senderMac: readMac(buf, off + 8),
    senderIp: readIpv4(buf, off + 14),
    targetMac: readMac(buf, off + 18),
    targetIp: readIpv4(buf, off + 24),
  };
}
