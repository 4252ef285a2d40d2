// Tap devices of a run: host-side names <user>TAP<n>, guest-side eth<n>, fixed MACs.
import { userInfo } from 'node:os';

export interface Tap {
  /** Host-side device name, e.g. "rootTAP0". */
  name: string;
  /** Guest interface name. */
  guest: string;
  guestMac: string;
  hostMac: string;
}

/** At most 10 characters of the user name + "TAP" + index fits IFNAMSIZ (16 with the NUL). */
export const MAX_TAPS = 100;

export function tapPrefix(user = userInfo().username): string {
  return `${user.slice(0, 10)}TAP`;
}

// Locally administered (0x02) unicast MACs; 4e:54 is "NT". Guest eth<n> is 02:4e:54:00:00:<n>,
// the host side of the same tap is 02:4e:54:ff:00:<n>: predictable, so tests can hard-code them.
function mac(side: number, i: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `02:4e:54:${hex(side)}:${hex(i >> 8)}:${hex(i & 0xff)}`;
}

export function planTaps(count: number, prefix = tapPrefix()): Tap[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${prefix}${i}`,
    guest: `eth${i}`,
    guestMac: mac(0, i),
    hostMac: mac(0xff, i),
  }));
}

/** `ip -batch` lines creating the taps, up, with their host-side MAC. */
export function tapCreateBatch(taps: Tap[]): string {
  return taps
    .map((t) => `tuntap add dev ${t.name} mode tap\nlink set dev ${t.name} address ${t.hostMac} up\n`)
    .join('');
}

export function tapDeleteBatch(taps: Tap[]): string {
  return taps.map((t) => `tuntap del dev ${t.name} mode tap\n`).join('');
}
