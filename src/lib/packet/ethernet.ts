/** Ethernet II and IEEE 802.1Q/802.1ad VLAN tags. */
import { readMac, writeMac, canonicalMac } from '../addr.js';
import { checkFields } from './check-fields.js';

/** An Ethernet II header. */
export interface Ether {
  type: 'ether';
  /** Destination MAC. */
  dst: string;
  /** Source MAC. */
  src: string;
  /** Filled from the next layer when absent. */
  etherType?: number;
}

/** An 802.1Q (or 802.1ad) VLAN tag, between Ethernet and what it carries. */
export interface Vlan {
  type: 'vlan';
  /** Priority code point (3 bits). */
  pcp: number;
  /** Drop eligible indicator (1 bit). */
  dei: number;
  /** VLAN id (12 bits). */
  vid: number;
  /** Ethertype of the encapsulated frame; filled from the next layer when absent. */
  etherType?: number;
}

export function ether(f: Partial<Omit<Ether, 'type'>> = {}): Ether {
  checkFields('ether', f);
  const l: Ether = {
    type: 'ether',
    dst: canonicalMac(f.dst ?? 'ff:ff:ff:ff:ff:ff'),
    src: canonicalMac(f.src ?? '00:00:00:00:00:00'),
  };
  if (f.etherType !== undefined) l.etherType = f.etherType;
  return l;
}

export function vlan(f: Partial<Omit<Vlan, 'type'>> = {}): Vlan {
  checkFields('vlan', f);
  const l: Vlan = { type: 'vlan', pcp: f.pcp ?? 0, dei: f.dei ?? 0, vid: f.vid ?? 1 };
  if (f.etherType !== undefined) l.etherType = f.etherType;
  return l;
}

export function writeEther(l: Ether, buf: Buffer, off: number, etherType: number): void {
  writeMac(l.dst, buf, off);
  writeMac(l.src, buf, off + 6);
  buf.writeUInt16BE(l.etherType ?? etherType, off + 12);
}

export function readEther(buf: Buffer, off: number): Ether {
  return { type: 'ether', dst: readMac(buf, off), src: readMac(buf, off + 6), etherType: buf.readUInt16BE(off + 12) };
}

export function writeVlan(l: Vlan, buf: Buffer, off: number, etherType: number): void {
  buf.writeUInt16BE(((l.pcp & 7) << 13) | ((l.dei & 1) << 12) | (l.vid & 0xfff), off);
  buf.writeUInt16BE(l.etherType ?? etherType, off + 2);
}

export function readVlan(buf: Buffer, off: number): Vlan {
  const tci = buf.readUInt16BE(off);
  return { type: 'vlan', pcp: tci >> 13, dei: (tci >> 12) & 1, vid: tci & 0xfff, etherType: buf.readUInt16BE(off + 2) };
}
