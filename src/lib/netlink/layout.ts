// Fixed C struct layouts (natural alignment, little-endian host as on x86-64 and UML) for the
// headers netlink families put in front of their attributes. Declared as ordered records so the
// decoded value's type follows from the declaration.

type Scalar = 'u8' | 'u16' | 'u32' | 's32' | 'u64' | 'be16' | 'be32';
/** `align` for byte arrays that are unions with wider members in C (xfrm_address_t: 4). */
export type FieldSpec = Scalar | { bytes: number; align?: number } | Layout<object>;

type ValueOf<F> = F extends 'u64'
  ? bigint
  : F extends Scalar
    ? number
    : F extends Layout<infer T>
      ? T
      : Buffer;

export type Decoded<S> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Encoder input: any field may be left out (zero), at every nesting level. */
export type Input<T> = { [K in keyof T]?: T[K] extends Buffer | bigint | number ? T[K] | number : Input<T[K]> };

export interface Layout<T> {
  readonly size: number;
  readonly align: number;
  /** Field name -> byte offset, for tests and for extack offsets. */
  readonly offsets: Readonly<Record<string, number>>;
  encode(value: Input<T>): Buffer;
  write(buf: Buffer, offset: number, value: Input<T>): void;
  decode(buf: Buffer, offset?: number): T;
}

const SCALAR_SIZE: Record<Scalar, number> = { u8: 1, u16: 2, u32: 4, s32: 4, u64: 8, be16: 2, be32: 4 };

function sizeAlign(f: FieldSpec): [number, number] {
  if (typeof f === 'string') return [SCALAR_SIZE[f], SCALAR_SIZE[f]];
  if ('bytes' in f) return [f.bytes, f.align ?? 1];
  return [f.size, f.align];
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

export function struct<const S extends Record<string, FieldSpec>>(spec: S): Layout<Decoded<S>> {
  const fields: [string, FieldSpec, number][] = [];
  let off = 0;
  let maxAlign = 1;
  for (const [name, f] of Object.entries(spec)) {
    const [size, align] = sizeAlign(f);
    off = alignUp(off, align);
    fields.push([name, f, off]);
    off += size;
    maxAlign = Math.max(maxAlign, align);
  }
  const size = alignUp(off, maxAlign);
  const offsets = Object.fromEntries(fields.map(([n, , o]) => [n, o]));

  function write(buf: Buffer, base: number, value: Input<Decoded<S>>): void {
    const rec = value as Record<string, unknown>;
    for (const [name, f, o] of fields) {
      const v = rec[name];
      if (v === undefined) continue;
      const at = base + o;
      if (typeof f === 'string') {
        switch (f) {
          case 'u8': buf.writeUInt8(Number(v) & 0xff, at); break;
          case 'u16': buf.writeUInt16LE(Number(v) & 0xffff, at); break;
          case 'u32': buf.writeUInt32LE(Number(v) >>> 0, at); break;
          case 's32': buf.writeInt32LE(Number(v) | 0, at); break;
          case 'u64': buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v as bigint | number)), at); break;
          case 'be16': buf.writeUInt16BE(Number(v) & 0xffff, at); break;
          case 'be32': buf.writeUInt32BE(Number(v) >>> 0, at); break;
        }
      } else if ('bytes' in f) {
        const b = v as Buffer;
        if (b.length > f.bytes) throw new RangeError(`field ${name}: ${b.length} bytes > ${f.bytes}`);
        b.copy(buf, at);
      } else {
        f.write(buf, at, v as object);
      }
    }
  }

  function decode(buf: Buffer, base = 0): Decoded<S> {
    if (buf.length < base + size) throw new RangeError(`struct needs ${size} bytes at ${base}, have ${buf.length - base}`);
    const out: Record<string, unknown> = {};
    for (const [name, f, o] of fields) {
      const at = base + o;
      if (typeof f === 'string') {
        switch (f) {
          case 'u8': out[name] = buf.readUInt8(at); break;
          case 'u16': out[name] = buf.readUInt16LE(at); break;
          case 'u32': out[name] = buf.readUInt32LE(at); break;
          case 's32': out[name] = buf.readInt32LE(at); break;
          case 'u64': out[name] = buf.readBigUInt64LE(at); break;
          case 'be16': out[name] = buf.readUInt16BE(at); break;
          case 'be32': out[name] = buf.readUInt32BE(at); break;
        }
      } else if ('bytes' in f) {
        out[name] = Buffer.from(buf.subarray(at, at + f.bytes));
      } else {
        out[name] = f.decode(buf, at);
      }
    }
    return out as Decoded<S>;
  }

  return {
    size,
    align: maxAlign,
    offsets,
    write,
    decode,
    encode(value) {
      const buf = Buffer.alloc(size);
      write(buf, 0, value);
      return buf;
    },
  };
}
