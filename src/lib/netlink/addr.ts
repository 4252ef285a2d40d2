// Address text <-> bytes for netlink payloads: IPv4/IPv6 (canonical RFC 5952 text, as iproute2
// prints it), prefixes and MAC addresses. Pure; no sockets.
import { isIPv4, isIPv6 } from 'node:net';
import { AF_INET, AF_INET6 } from '../include/linux/socket.js';

export type Family = typeof AF_INET | typeof AF_INET6;

export function familyOf(addr: string): Family {
  const a = addr.split('/')[0] ?? '';
  if (isIPv4(a)) return AF_INET;
  if (isIPv6(a)) return AF_INET6;
  throw new RangeError(`not an IP address: '${addr}'`);
}

export function ipToBytes(addr: string): Buffer {
  if (isIPv4(addr)) return Buffer.from(addr.split('.').map(Number));
  if (!isIPv6(addr)) throw new RangeError(`not an IP address: '${addr}'`);
  let text = addr;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const tailV4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  const v4 = tailV4?.[1];
  if (v4 !== undefined) {
    const b = ipToBytes(v4);
    text = text.slice(0, -v4.length) + `${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function bytesToIp(b: Buffer, family?: number): string {
  const fam = family ?? (b.length === 4 ? AF_INET : AF_INET6);
  if (fam === AF_INET) return [...b.subarray(0, 4)].join('.');
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i));
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  // IPv4-mapped addresses print with a dotted tail, as iproute2 and glibc do.
  if (best === 0 && bestLen === 5 && g[5] === 0xffff) return `::ffff:${[...b.subarray(12, 16)].join('.')}`;
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** '2001:db8::/64' -> address bytes and prefix length (default: full length). */
export function parsePrefix(text: string): { family: Family; bytes: Buffer; len: number; addr: string } {
  const [a = '', l] = text.split('/');
  const family = familyOf(a);
  const bytes = ipToBytes(a);
  const len = l === undefined ? bytes.length * 8 : Number(l);
  if (!Number.isInteger(len) || len < 0 || len > bytes.length * 8) throw new RangeError(`bad prefix length in '${text}'`);
  return { family, bytes, len, addr: a };
}

export function macToBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length < 1 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new RangeError(`bad link-layer address '${mac}'`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function bytesToMac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
