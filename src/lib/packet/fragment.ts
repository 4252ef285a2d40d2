/**
 * IP fragmentation and reassembly as a sender and a receiver do them: fragment4() splits an IPv4
 * datagram (RFC 791 3.2), fragment6() an IPv6 packet (RFC 8200 4.5), and defragment() puts the
 * fragments of one datagram of either version back together, refusing gaps and overlaps. Tests
 * use them to write the fragments a kernel must send, and to check what it sent as one datagram.
 */
import { build } from './build.js';
import { inetChecksum } from './checksum.js';
import { IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ROUTING } from '../include/uapi/linux/in6.js';
import { parse } from './parse.js';
import type { Layer } from './types.js';

/** IPv4 option types with the "copied" flag set are repeated in every fragment (RFC 791 3.1). */
const IPOPT_COPY = 0x80;

function ipBytes(p: readonly Layer[] | Uint8Array): Buffer {
  if (p instanceof Uint8Array) return Buffer.from(p);
  return build(p[0]?.type === 'ether' ? p.slice(1) : p);
}

/** The IPv4 options of a header that later fragments repeat, padded to 32 bits. */
function copiedOptions(opts: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < opts.length;) {
    const t = opts[i]!;
    if (t === 0) break;
    if (t === 1) { i++; continue; }
    const len = opts[i + 1] ?? 0;
    if (len < 2) break;
    if (t & IPOPT_COPY) out.push(...opts.subarray(i, i + len));
    i += len;
  }
  while (out.length % 4) out.push(0);
  return Buffer.from(out);
}

/**
 * Splits an IPv4 packet (layers from the IP header, or bytes) into fragments of at most `mtu`
 * bytes, each carrying a multiple of 8 payload bytes except the last, as Linux's ip_fragment()
 * does: the first fragment keeps every option, later ones only the copied ones. A packet that
 * fits is returned whole. Fragments come back parsed, in order of offset.
 */
export function fragment4(packet: readonly Layer[] | Uint8Array, mtu: number): Layer[][] {
  const b = ipBytes(packet);
  if (b.length < 20 || b[0]! >> 4 !== 4) throw new Error('fragment4: not an IPv4 packet');
  const hlen = (b[0]! & 0xf) * 4;
  const total = b.readUInt16BE(2);
  if (total <= mtu) return [parse(b.subarray(0, total), 'ip')];
  const frag = b.readUInt16BE(6);
  const baseOff = (frag & 0x1fff) * 8;
  const lastMf = (frag & 0x2000) !== 0;
  const payload = b.subarray(hlen, total);
  const laterHdr = Buffer.concat([b.subarray(0, 20), copiedOptions(b.subarray(20, hlen))]);
  laterHdr[0] = 0x40 | (laterHdr.length / 4);
  const out: Layer[][] = [];
  for (let off = 0; off < payload.length;) {
    const hdr = Buffer.from(off === 0 ? b.subarray(0, hlen) : laterHdr);
    const room = Math.floor((mtu - hdr.length) / 8) * 8;
    if (room <= 0) throw new Error(`fragment4: an MTU of ${mtu} leaves no room for data after a ${hdr.length}-byte header`);
    const n = Math.min(room, payload.length - off);
    const mf = off + n < payload.length || lastMf;
    hdr.writeUInt16BE(hdr.length + n, 2);
    hdr.writeUInt16BE((frag & 0xc000) | (mf ? 0x2000 : 0) | ((baseOff + off) / 8), 6);
    hdr.writeUInt16BE(0, 10);
    hdr.writeUInt16BE(inetChecksum(hdr, 0, hdr.length), 10);
    out.push(parse(Buffer.concat([hdr, payload.subarray(off, off + n)]), 'ip'));
    off += n;
  }
  return out;
}

/** Walks an IPv6 extension header chain: where each header starts, its type, and its length. */
function extChain(b: Buffer, stopAt: number): { proto: number; off: number; len: number }[] {
  const out: { proto: number; off: number; len: number }[] = [];
  let nh = b[6]!;
  let off = 40;
  while ((nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_DSTOPTS || nh === IPPROTO_FRAGMENT) && off + 8 <= b.length) {
    const len = nh === IPPROTO_FRAGMENT ? 8 : (b[off + 1]! + 1) * 8;
    out.push({ proto: nh, off, len });
    if (nh === stopAt) break;
    nh = b[off]!;
    off += len;
  }
  return out;
}

/**
 * Splits an IPv6 packet into fragments of at most `mtu` bytes with fragment identification `id`.
 * The per-fragment part (IPv6 header, hop-by-hop, routing and destination options before a
 * routing header) is repeated; the rest is cut in multiples of 8 bytes (RFC 8200 4.5). A packet
 * that fits is returned whole, without a fragment header.
 */
export function fragment6(packet: readonly Layer[] | Uint8Array, mtu: number, id: number): Layer[][] {
  const b = ipBytes(packet);
  if (b.length < 40 || b[0]! >> 4 !== 6) throw new Error('fragment6: not an IPv6 packet');
  const total = 40 + b.readUInt16BE(4);
  if (total <= mtu) return [parse(b.subarray(0, total), 'ip')];
  const chain = extChain(b, -1);
  let unfragEnd = 40;
  let nhAt = 6;
  for (const h of chain) {
    if (h.proto === IPPROTO_HOPOPTS || h.proto === IPPROTO_ROUTING) { unfragEnd = h.off + h.len; nhAt = h.off; }
  }
  const firstProto = b[nhAt]!;
  const rest = b.subarray(unfragEnd, total);
  const room = Math.floor((mtu - unfragEnd - 8) / 8) * 8;
  if (room <= 0) throw new Error(`fragment6: an MTU of ${mtu} leaves no room for data after ${unfragEnd + 8} bytes of headers`);
  const out: Layer[][] = [];
  for (let off = 0; off < rest.length; off += room) {
    const n = Math.min(room, rest.length - off);
    const f = Buffer.alloc(unfragEnd + 8 + n);
    b.copy(f, 0, 0, unfragEnd);
    f[nhAt] = IPPROTO_FRAGMENT;
    f.writeUInt16BE(f.length - 40, 4);
    f[unfragEnd] = firstProto;
    f.writeUInt16BE(off | (off + n < rest.length ? 1 : 0), unfragEnd + 2);
    f.writeUInt32BE(id >>> 0, unfragEnd + 4);
    rest.copy(f, unfragEnd + 8, off, off + n);
    out.push(parse(f, 'ip'));
  }
  return out;
}

interface Piece { key: string; offset: number; more: boolean; data: Buffer; head: Buffer; nhAt: number; nh: number }

function piece4(b: Buffer): Piece {
  const hlen = (b[0]! & 0xf) * 4;
  const frag = b.readUInt16BE(6);
  const total = b.readUInt16BE(2);
  return {
    key: `${b.subarray(12, 20).toString('hex')}/${b.readUInt16BE(4)}/${b[9]!}`,
    offset: (frag & 0x1fff) * 8, more: (frag & 0x2000) !== 0,
    data: b.subarray(hlen, total), head: b.subarray(0, hlen), nhAt: 9, nh: b[9]!,
  };
}

function piece6(b: Buffer): Piece {
  const chain = extChain(b, IPPROTO_FRAGMENT);
  const fi = chain.findIndex((h) => h.proto === IPPROTO_FRAGMENT);
  if (fi < 0) throw new Error('defragment: an IPv6 packet without a fragment header');
  const fh = chain[fi]!;
  const fo = b.readUInt16BE(fh.off + 2);
  return {
    key: `${b.subarray(8, 40).toString('hex')}/${b.readUInt32BE(fh.off + 4)}`,
    offset: fo & 0xfff8, more: (fo & 1) !== 0,
    data: b.subarray(fh.off + 8, 40 + b.readUInt16BE(4)), head: b.subarray(0, fh.off),
    nhAt: fi === 0 ? 6 : chain[fi - 1]!.off, nh: b[fh.off]!,
  };
}

/**
 * Reassembles the fragments of one IPv4 or IPv6 datagram, in any order (layers from IP or
 * Ethernet, or IP bytes). Throws, saying what is wrong, when they belong to different datagrams,
 * overlap, leave a gap, or lack a first or a last fragment. The result is parsed: its headers
 * are the first fragment's, with the fragment fields (IPv4) or header (IPv6) removed.
 */
export function defragment(fragments: readonly (readonly Layer[] | Uint8Array)[]): Layer[] {
  if (fragments.length === 0) throw new Error('defragment: no fragments');
  const bytes = fragments.map(ipBytes);
  const v = bytes[0]![0]! >> 4;
  const pieces = bytes.map((b, i) => {
    if (b[0]! >> 4 !== v) throw new Error(`defragment: fragment ${i} is IPv${b[0]! >> 4}, fragment 0 IPv${v}`);
    return v === 4 ? piece4(b) : piece6(b);
  });
  for (const [i, p] of pieces.entries()) {
    if (p.key !== pieces[0]!.key) throw new Error(`defragment: fragment ${i} belongs to another datagram (addresses, id or protocol differ)`);
  }
  const sorted = [...pieces].sort((a, b) => a.offset - b.offset);
  let end = 0;
  for (const p of sorted) {
    if (p.offset < end) throw new Error(`defragment: the fragment at offset ${p.offset} overlaps data up to ${end}`);
    if (p.offset > end) throw new Error(`defragment: a gap from ${end} to ${p.offset}`);
    if (p.more && p.data.length % 8 !== 0) throw new Error(`defragment: the fragment at offset ${p.offset} has more fragments after it but ${p.data.length} bytes (not a multiple of 8)`);
    end += p.data.length;
  }
  const last = sorted[sorted.length - 1]!;
  if (last.more) throw new Error(`defragment: no last fragment (data ends at ${end} with more fragments to come)`);
  const more = sorted.slice(0, -1).find((p) => !p.more);
  if (more) throw new Error(`defragment: the fragment at offset ${more.offset} says it is the last, but data follows`);
  const first = sorted[0]!;
  const head = Buffer.from(first.head);
  const data = Buffer.concat(sorted.map((p) => p.data));
  if (v === 4) {
    head.writeUInt16BE(head.length + data.length, 2);
    head.writeUInt16BE(head.readUInt16BE(6) & 0xc000, 6);
    head.writeUInt16BE(0, 10);
    head.writeUInt16BE(inetChecksum(head, 0, head.length), 10);
  } else {
    head[first.nhAt] = first.nh;
    head.writeUInt16BE(head.length - 40 + data.length, 4);
  }
  return parse(Buffer.concat([head, data]), 'ip');
}
