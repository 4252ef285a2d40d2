/** Address text <-> bytes for MAC, IPv4 and IPv6 (RFC 5952 canonical text on output). */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function writeMac(mac: string, buf: Uint8Array, off: number): void {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6) throw new RangeError(`bad MAC address: ${mac}`);
  for (let i = 0; i < 6; i++) {
    const v = parseInt(parts[i] ?? '', 16);
    if (!(v >= 0 && v <= 255)) throw new RangeError(`bad MAC address: ${mac}`);
    buf[off + i] = v;
  }
}

export function readMac(buf: Uint8Array, off: number): string {
  return `${HEX[buf[off]!]}:${HEX[buf[off + 1]!]}:${HEX[buf[off + 2]!]}:${HEX[buf[off + 3]!]}:${HEX[buf[off + 4]!]}:${HEX[buf[off + 5]!]}`;
}

export function writeIpv4(addr: string, buf: Uint8Array, off: number): void {
  const parts = addr.split('.');
  if (parts.length !== 4) throw new RangeError(`bad IPv4 address: ${addr}`);
  for (let i = 0; i < 4; i++) {
    const s = parts[i] ?? '';
    const v = Number(s);
    if (s === '' || !Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`bad IPv4 address: ${addr}`);
    buf[off + i] = v;
  }
}

export function readIpv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

const v6cache = new Map<string, Uint8Array>();

function parseIpv6(addr: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = addr;
  // An embedded dotted quad (::ffff:192.0.2.1) is the last two words.
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    const q = new Uint8Array(4);
    writeIpv4(text.slice(lastColon + 1), q, 0);
    text = `${text.slice(0, lastColon + 1)}${((q[0]! << 8) | q[1]!).toString(16)}:${((q[2]! << 8) | q[3]!).toString(16)}`;
  }
  const bad = (): never => { throw new RangeError(`bad IPv6 address: ${addr}`); };
  const halves = text.split('::');
  if (halves.length > 2) bad();
  const words = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) bad();
    return parseInt(w, 16);
  }));
  const head = words(halves[0] ?? '');
  const tail = halves.length === 2 ? words(halves[1] ?? '') : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || (halves.length === 2 && fill < 1)) bad();
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

export function writeIpv6(addr: string, buf: Uint8Array, off: number): void {
  let b = v6cache.get(addr);
  if (b === undefined) {
    b = parseIpv6(addr);
    if (v6cache.size > 4096) v6cache.clear();
    v6cache.set(addr, b);
  }
  buf.set(b, off);
}

/** RFC 5952 text: lower case, no leading zeros, longest run (>1) of zero words as "::". */
export function readIpv6(buf: Uint8Array, off: number): string {
  let bestStart = -1, bestLen = 1, curStart = -1;
  for (let i = 0; i < 8; i++) {
    if (buf[off + 2 * i] === 0 && buf[off + 2 * i + 1] === 0) {
      if (curStart < 0) curStart = i;
      if (i - curStart + 1 > bestLen) { bestStart = curStart; bestLen = i - curStart + 1; }
    } else curStart = -1;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) { s += '::'; i += bestLen - 1; continue; }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += ((buf[off + 2 * i]! << 8) | buf[off + 2 * i + 1]!).toString(16);
  }
  return s;
}

const canonCache = new Map<string, string>();

/** Canonical text of an IPv6 address (throws on bad input). */
export function canonicalIpv6(addr: string): string {
  let c = canonCache.get(addr);
  if (c === undefined) {
    const b = new Uint8Array(16);
    writeIpv6(addr, b, 0);
    c = readIpv6(b, 0);
    if (canonCache.size > 4096) canonCache.clear();
    canonCache.set(addr, c);
  }
  return c;
}

export function canonicalMac(mac: string): string {
  const b = new Uint8Array(6);
  writeMac(mac, b, 0);
  return readMac(b, 0);
}

export function hex(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += HEX[data[i]!];
  return s;
}
