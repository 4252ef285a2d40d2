// Netlink attributes (struct nlattr, include/uapi/linux/netlink.h): 4-byte header
// {len u16, type u16} + payload, each padded to 4 bytes; nla_len excludes the trailing pad.
// Encoders return complete padded attributes, so a message body is just their concatenation.
import { bytesToIp, ipToBytes } from '../addr.js';

import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HDRLEN } from '../include/uapi/linux/netlink.js';

export { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HDRLEN };
const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const align4 = (n: number): number => (n + 3) & ~3;

/** One encoded attribute, or nothing (optional attributes are passed as undefined/false). */
export type AttrBuf = Buffer | undefined | false | null;

export function encodeAttr(type: number, data: Buffer): Buffer {
  const len = NLA_HDRLEN + data.length;
  if (len > 0xffff) throw new RangeError(`attribute ${type} too long (${len} bytes)`);
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  data.copy(out, NLA_HDRLEN);
  return out;
}

/** Concatenate encoded attributes, skipping the absent ones. */
export function attrs(list: readonly AttrBuf[]): Buffer {
  return Buffer.concat(list.filter((b): b is Buffer => Buffer.isBuffer(b)));
}

const num = (size: number, write: (b: Buffer) => void): Buffer => {
  const b = Buffer.alloc(size);
  write(b);
  return b;
};

/** Typed attribute encoders. */
export const nla = {
  bytes: (type: number, data: Buffer): Buffer => encodeAttr(type, data),
  flag: (type: number): Buffer => encodeAttr(type, Buffer.alloc(0)),
  u8: (type: number, v: number): Buffer => encodeAttr(type, num(1, (b) => b.writeUInt8(v))),
  u16: (type: number, v: number): Buffer => encodeAttr(type, num(2, (b) => b.writeUInt16LE(v))),
  u32: (type: number, v: number): Buffer => encodeAttr(type, num(4, (b) => b.writeUInt32LE(v >>> 0))),
  s32: (type: number, v: number): Buffer => encodeAttr(type, num(4, (b) => b.writeInt32LE(v))),
  u64: (type: number, v: bigint | number): Buffer => encodeAttr(type, num(8, (b) => b.writeBigUInt64LE(BigInt(v)))),
  be16: (type: number, v: number): Buffer => encodeAttr(type, num(2, (b) => b.writeUInt16BE(v))),
  be32: (type: number, v: number): Buffer => encodeAttr(type, num(4, (b) => b.writeUInt32BE(v >>> 0))),
  /** NUL-terminated string (NLA_STRING/NLA_NUL_STRING both accept it). */
  str: (type: number, s: string): Buffer => encodeAttr(type, Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)])),
  /** String without the NUL (NLA_STRING accepts it; iproute2 sends IFLA_INFO_KIND this way). */
  strRaw: (type: number, s: string): Buffer => encodeAttr(type, Buffer.from(s, 'utf8')),
  ip: (type: number, addr: string): Buffer => encodeAttr(type, ipToBytes(addr)),
  /** Nested attribute; `flagged` sets NLA_F_NESTED, which newer strictly validated policies require. */
  nest: (type: number, children: readonly AttrBuf[], flagged = false): Buffer =>
    encodeAttr(flagged ? type | NLA_F_NESTED : type, attrs(children)),
};

export interface Attr {
  /** Type with NLA_F_NESTED / NLA_F_NET_BYTEORDER masked off. */
  readonly type: number;
  readonly nested: boolean;
  readonly netByteOrder: boolean;
  readonly data: Buffer;
}

/** Split a run of attributes. Truncated or malformed tails throw: the kernel never sends them. */
export function parseAttrs(buf: Buffer, offset = 0, end = buf.length): Attr[] {
  const out: Attr[] = [];
  let off = offset;
  while (off + NLA_HDRLEN <= end) {
    const len = buf.readUInt16LE(off);
    const rawType = buf.readUInt16LE(off + 2);
    if (len < NLA_HDRLEN || off + len > end) throw new RangeError(`malformed attribute at ${off}: len ${len}, ${end - off} left`);
    out.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      data: buf.subarray(off + NLA_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Read access to a parsed attribute list by type; getters return undefined when absent. */
export interface AttrSet {
  readonly list: readonly Attr[];
  has(type: number): boolean;
  get(type: number): Buffer | undefined;
  all(type: number): Buffer[];
  u8(type: number): number | undefined;
  u16(type: number): number | undefined;
  u32(type: number): number | undefined;
  s32(type: number): number | undefined;
  u64(type: number): bigint | undefined;
  be16(type: number): number | undefined;
  be32(type: number): number | undefined;
  str(type: number): string | undefined;
  ip(type: number, family?: number): string | undefined;
  nested(type: number): AttrSet | undefined;
}

export function attrSet(buf: Buffer, offset = 0, end = buf.length): AttrSet {
  // Index by type -> header offset (the last occurrence wins, as nla_parse() does) and read
  // values in place: a dump decodes thousands of these, and slicing every attribute dominated.
  const pos = new Map<number, number>();
  for (let off = offset; off + NLA_HDRLEN <= end; ) {
    const len = buf.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > end) throw new RangeError(`malformed attribute at ${off}: len ${len}, ${end - off} left`);
    pos.set(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, off);
    off += align4(len);
  }
  /** Payload offset of attribute `t` if it has at least `size` bytes, else -1. */
  const at = (t: number, size: number): number => {
    const o = pos.get(t);
    return o !== undefined && buf.readUInt16LE(o) - NLA_HDRLEN >= size ? o + NLA_HDRLEN : -1;
  };
  const get = (t: number): Buffer | undefined => {
    const o = pos.get(t);
    return o === undefined ? undefined : buf.subarray(o + NLA_HDRLEN, o + buf.readUInt16LE(o));
  };
  let list: Attr[] | undefined;
  return {
    get list() {
      return (list ??= parseAttrs(buf, offset, end));
    },
    has: (t) => pos.has(t),
    get,
    all: (t) => parseAttrs(buf, offset, end).filter((a) => a.type === t).map((a) => a.data),
    u8: (t) => { const o = at(t, 1); return o < 0 ? undefined : buf.readUInt8(o); },
    u16: (t) => { const o = at(t, 2); return o < 0 ? undefined : buf.readUInt16LE(o); },
    u32: (t) => { const o = at(t, 4); return o < 0 ? undefined : buf.readUInt32LE(o); },
    s32: (t) => { const o = at(t, 4); return o < 0 ? undefined : buf.readInt32LE(o); },
    u64: (t) => { const o = at(t, 8); return o < 0 ? undefined : buf.readBigUInt64LE(o); },
    be16: (t) => { const o = at(t, 2); return o < 0 ? undefined : buf.readUInt16BE(o); },
    be32: (t) => { const o = at(t, 4); return o < 0 ? undefined : buf.readUInt32BE(o); },
    str: (t) => {
      const b = get(t);
      if (b === undefined) return undefined;
      const nul = b.indexOf(0);
      return b.toString('utf8', 0, nul < 0 ? b.length : nul);
    },
    ip: (t, family) => {
      const b = get(t);
      return b !== undefined && b.length >= 4 ? bytesToIp(b, family) : undefined;
    },
    nested: (t) => {
      const o = pos.get(t);
      return o === undefined ? undefined : attrSet(buf, o + NLA_HDRLEN, o + buf.readUInt16LE(o));
    },
  };
}
