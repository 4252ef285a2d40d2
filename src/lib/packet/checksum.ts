/** Internet checksum (RFC 1071) and the pseudo-header sums of RFC 768/793 (IPv4) and RFC 8200 §8.1 (IPv6). */

/** Adds the 16-bit big-endian words of buf[start, end) to sum (unfolded). */
export function sum16(buf: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/** Folds a sum to 16 bits and returns its ones' complement. */
export function finish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Checksum of buf[start, end) plus an initial (pseudo-header) sum. */
export function inetChecksum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  return finish(sum16(buf, start, end, initial));
}

/** Sum of the pseudo header; src/dst are the 4- or 16-byte raw addresses. */
export function pseudoSum(src: Uint8Array, dst: Uint8Array, proto: number, length: number): number {
  let s = sum16(src, 0, src.length) + sum16(dst, 0, dst.length) + proto;
  s += (length >>> 16) + (length & 0xffff);
  return s;
}
