// Address text <-> bytes: IPv4, IPv6 (RFC 5952 text out), MAC and other link-layer addresses,
// prefixes, and what IPv6 derives from a MAC or an address (EUI-64 interface identifiers,
// solicited-node groups, multicast MACs). The one codec the packet builder, sockets and netlink
// all use. Pure: no sockets, no FFI. Bad input throws AddressError, whoever asked.
import { AF_INET, AF_INET6 } from './include/linux/socket.js';

/** Text that is not an address of the kind asked for. A RangeError, as for any value out of its set. */
export class AddressError extends RangeError {
  override readonly name = 'AddressError';
  constructor(
    /** 'IPv4 address', 'IPv6 address', 'IP address', 'MAC address', 'link-layer address', 'prefix', 'port'. */
    readonly kind: string,
    /** The text as given. */
    readonly input: string,
    why?: string,
  ) {
    super(`not a valid ${kind}: '${input}'${why ? ` (${why})` : ''}`);
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// ---- IPv4 ----

/** Parses dotted-quad text into buf at off; false if it is not one (no leading zeros, as inet_pton). */
function parseIpv4(text: string, buf: Uint8Array, off: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a final '.'
    if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || part > 3) return false;
      buf[off + part++] = value;
      value = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return part === 4;
}

const scratch4 = new Uint8Array(4);

export function isIp4(text: string): boolean {
  return parseIpv4(text, scratch4, 0);
}

/** Writes the 4 bytes of '192.0.2.1' into buf at off. */
export function writeIpv4(text: string, buf: Uint8Array, off: number): void {
  if (!parseIpv4(text, buf, off)) throw new AddressError('IPv4 address', text);
}

export function readIpv4(buf: Uint8Array, off = 0): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

export function ip4ToBytes(text: string): Buffer {
  const b = Buffer.alloc(4);
  writeIpv4(text, b, 0);
  return b;
}

export function bytesToIp4(b: Uint8Array): string {
  if (b.length !== 4) throw new RangeError(`an IPv4 address is 4 bytes, not ${b.length}`);
  return readIpv4(b, 0);
}

// ---- IPv6 ----

function parseIpv6(text: string): Uint8Array {
  const bad = (why: string): never => {
    throw new AddressError('IPv6 address', text, why);
  };
  let s = text;
  // A dotted IPv4 tail (::ffff:192.0.2.1, 64:ff9b::198.51.100.7) is the last two words.
  const lastColon = s.lastIndexOf(':');
  const q = new Uint8Array(4);
  if (s.indexOf('.', lastColon) >= 0) {
    if (!parseIpv4(s.slice(lastColon + 1), q, 0)) bad('bad IPv4 tail');
    s = `${s.slice(0, lastColon + 1)}${((q[0]! << 8) | q[1]!).toString(16)}:${((q[2]! << 8) | q[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) bad("more than one '::'");
  const words = (h: string): number[] =>
    h === ''
      ? []
      : h.split(':').map((w) => (/^[0-9a-fA-F]{1,4}$/.test(w) ? parseInt(w, 16) : bad(`bad group '${w}'`)));
  const head = words(halves[0] ?? '');
  const tail = halves.length === 2 ? words(halves[1] ?? '') : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 && fill !== 0) bad(`${head.length} groups, not 8`);
  if (halves.length === 2 && fill < 1) bad("'::' stands for no group");
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

// Tests write the same few addresses over and over (every packet they build): parse each once.
const v6cache = new Map<string, Uint8Array>();

function ipv6Bytes(text: string): Uint8Array {
  let b = v6cache.get(text);
  if (b === undefined) {
    b = parseIpv6(text);
    if (v6cache.size > 4096) v6cache.clear();
    v6cache.set(text, b);
  }
  return b;
}

export function isIp6(text: string): boolean {
  try {
    ipv6Bytes(text);
    return true;
  } catch {
    return false;
  }
}

/** Writes the 16 bytes of an IPv6 address (any RFC 4291 text form) into buf at off. */
export function writeIpv6(text: string, buf: Uint8Array, off: number): void {
  buf.set(ipv6Bytes(text), off);
}

/**
 * RFC 5952 text: lower case, no leading zeros, the longest run (two or more, the first on ties)
 * of zero groups as '::', an IPv4-mapped address as ::ffff:a.b.c.d (as inet_ntop and iproute2).
 */
export function readIpv6(buf: Uint8Array, off = 0): string {
  const g = (i: number): number => (buf[off + 2 * i]! << 8) | buf[off + 2 * i + 1]!;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g(i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g(j) === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best === 0 && bestLen === 5 && g(5) === 0xffff) return `::ffff:${readIpv4(buf, off + 12)}`;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += g(i).toString(16);
  }
  return s;
}

export function ip6ToBytes(text: string): Buffer {
  return Buffer.from(ipv6Bytes(text));
}

export function bytesToIp6(b: Uint8Array): string {
  if (b.length !== 16) throw new RangeError(`an IPv6 address is 16 bytes, not ${b.length}`);
  return readIpv6(b, 0);
}

const canonCache = new Map<string, string>();

/** The RFC 5952 text of an IPv6 address ('2001:DB8:0::1' -> '2001:db8::1'). */
export function canonicalIpv6(text: string): string {
  let c = canonCache.get(text);
  if (c === undefined) {
    c = readIpv6(ipv6Bytes(text), 0);
    if (canonCache.size > 4096) canonCache.clear();
    canonCache.set(text, c);
  }
  return c;
}

/** '192.0.2.1' -> '::ffff:192.0.2.1' */
export function mapIp4ToIp6(text: string): string {
  if (!isIp4(text)) throw new AddressError('IPv4 address', text);
  return `::ffff:${text}`;
}

// ---- either family ----

/** 4 or 6, from the text; throws for anything else. */
export function ipVersion(text: string): 4 | 6 {
  if (isIp4(text)) return 4;
  if (isIp6(text)) return 6;
  throw new AddressError('IP address', text);
}

/** AF_INET or AF_INET6 (include/linux/socket.h) of an address or a prefix ('2001:db8::/64'). */
export function ipFamily(text: string): typeof AF_INET | typeof AF_INET6 {
  const slash = text.indexOf('/');
  return ipVersion(slash < 0 ? text : text.slice(0, slash)) === 4 ? AF_INET : AF_INET6;
}

/** 4 bytes for IPv4 text, 16 for IPv6. */
export function ipToBytes(text: string): Buffer {
  return ipVersion(text) === 4 ? ip4ToBytes(text) : ip6ToBytes(text);
}

/**
 * Text of an address in `b`: by `family` (AF_INET reads the first 4 bytes, as netlink and xfrm
 * store IPv4 in 16-byte fields), else by length (4 or 16).
 */
export function bytesToIp(b: Uint8Array, family?: number): string {
  const fam = family ?? (b.length === 4 ? AF_INET : AF_INET6);
  if (fam === AF_INET) {
    if (b.length < 4) throw new RangeError(`an IPv4 address is 4 bytes, not ${b.length}`);
    return readIpv4(b, 0);
  }
  return bytesToIp6(b.subarray(0, 16));
}

/** Canonical text of any IPv4 or IPv6 address. */
export function canonicalIp(text: string): string {
  return ipVersion(text) === 4 ? text : canonicalIpv6(text);
}

export interface Prefix {
  family: typeof AF_INET | typeof AF_INET6;
  /** The address part as written. */
  addr: string;
  bytes: Buffer;
  /** Prefix length; the full length when the text has none. */
  len: number;
}

/** '2001:db8::/64' or '192.0.2.0/24' (or a bare address: a host prefix). */
export function parsePrefix(text: string): Prefix {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = ipToBytes(addr);
  const lenText = slash < 0 ? undefined : text.slice(slash + 1);
  const len = lenText === undefined ? bytes.length * 8 : /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN;
  if (!(len >= 0 && len <= bytes.length * 8)) throw new AddressError('prefix', text, `length must be 0..${bytes.length * 8}`);
  return { family: bytes.length === 4 ? AF_INET : AF_INET6, addr, bytes, len };
}

// ---- link layer ----

/** Parses 'aa:bb:cc:dd:ee:ff' (or '-' separated, 1 or 2 digits a byte) into buf at off. */
function parseMacInto(text: string, buf: Uint8Array, off: number, n: number): boolean {
  let byte = 0;
  let digits = 0;
  let i = 0;
  for (let p = 0; p <= text.length; p++) {
    const c = p < text.length ? text.charCodeAt(p) : 58;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d >= 0) {
      if (++digits > 2) return false;
      byte = byte * 16 + d;
    } else if (c === 58 || c === 45) {
      if (digits === 0 || i >= n) return false;
      buf[off + i++] = byte;
      byte = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return i === n;
}

export function writeMac(text: string, buf: Uint8Array, off: number): void {
  if (!parseMacInto(text, buf, off, 6)) throw new AddressError('MAC address', text);
}

export function readMac(buf: Uint8Array, off = 0): string {
  return `${HEX[buf[off]!]}:${HEX[buf[off + 1]!]}:${HEX[buf[off + 2]!]}:${HEX[buf[off + 3]!]}:${HEX[buf[off + 4]!]}:${HEX[buf[off + 5]!]}`;
}

/** The 6 bytes of a MAC address. */
export function parseMac(text: string): Buffer {
  const b = Buffer.alloc(6);
  writeMac(text, b, 0);
  return b;
}

/** Link-layer address bytes of any length ('aa:bb' ... ), as `ip link` writes them. */
export function parseLinkAddress(text: string): Buffer {
  const n = text.split(/[:-]/).length;
  const b = Buffer.alloc(n);
  if (n > 32 || !parseMacInto(text, b, 0, n)) throw new AddressError('link-layer address', text);
  return b;
}

/** 'aa:bb:...' for link-layer address bytes of any length. */
export function formatMac(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i ? ':' : '') + HEX[b[i]!];
  return s;
}

/** Lower case, two digits a byte, ':' between. */
export function canonicalMac(text: string): string {
  const b = new Uint8Array(6);
  writeMac(text, b, 0);
  return readMac(b, 0);
}

// ---- derived addresses ----

/** The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A): 8 bytes. */
export function eui64(mac: string): Buffer {
  const m = parseMac(mac);
  return Buffer.from([m[0]! ^ 0x02, m[1]!, m[2]!, 0xff, 0xfe, m[3]!, m[4]!, m[5]!]);
}

/** The address SLAAC forms from a /64 prefix and a MAC: '2001:db8:1::/64' + MAC -> '2001:db8:1:0:...'. */
export function eui64Address(prefix: string, mac: string): string {
  const p = parsePrefix(prefix);
  if (p.family !== AF_INET6 || p.len > 64) throw new AddressError('prefix', prefix, 'an IPv6 prefix of at most 64 bits');
  const b = Buffer.from(p.bytes);
  eui64(mac).copy(b, 8);
  return readIpv6(b, 0);
}

/** The link-local address the kernel gives an interface with this MAC (addr_gen_mode eui64). */
export function linkLocalAddress(mac: string): string {
  return eui64Address('fe80::/64', mac);
}

/** The solicited-node multicast group of an IPv6 address (RFC 4291 2.7.1): ff02::1:ffXX:XXXX. */
export function solicitedNode(address: string): string {
  const b = Buffer.from(ipv6Bytes(address));
  const g = Buffer.from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, b[13]!, b[14]!, b[15]!]);
  return readIpv6(g, 0);
}

/**
 * The Ethernet destination of a multicast group: 33:33 and the low 32 bits for IPv6 (RFC 2464),
 * 01:00:5e and the low 23 bits for IPv4 (RFC 1112).
 */
export function multicastMac(group: string): string {
  if (isIp4(group)) {
    const b = ip4ToBytes(group);
    return formatMac(Uint8Array.from([0x01, 0x00, 0x5e, b[1]! & 0x7f, b[2]!, b[3]!]));
  }
  const b = ipv6Bytes(group);
  return formatMac(Uint8Array.from([0x33, 0x33, b[12]!, b[13]!, b[14]!, b[15]!]));
}
