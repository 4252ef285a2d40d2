// Declare a C struct once; get pack/unpack, size, offsets, equality and a readable form.
//
// Layout follows the C rules gcc uses on Linux: each field is aligned to its natural alignment,
// the struct to its largest member's, and the size is padded to a multiple of that (unless
// `packed`). Integer fields carry an endianness: 'host' (the CPU's, for kernel structs),
// 'be' (network order, for wire formats and port/address fields) or 'le'.
//
//   const in_pktinfo = struct('in_pktinfo', { ifindex: i32, specDst: bytes(4), addr: bytes(4) });
//   in_pktinfo.size            // 12
//   in_pktinfo.unpack(buf).ifindex
import { endianness } from 'node:os';

export type IntKind = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64';
export type Endian = 'host' | 'le' | 'be';

export interface IntField<K extends IntKind = IntKind> {
  readonly kind: 'int';
  readonly int: K;
  readonly endian: Endian;
  readonly size: number;
  readonly align: number;
}
export interface BytesField {
  readonly kind: 'bytes';
  readonly size: number;
  readonly align: 1;
}
/** A NUL-padded char array holding text (e.g. ifr_name). */
export interface CStringField {
  readonly kind: 'cstr';
  readonly size: number;
  readonly align: 1;
}
export interface ArrayField<E extends Field = Field> {
  readonly kind: 'array';
  readonly elem: E;
  readonly count: number;
  readonly size: number;
  readonly align: number;
}
export type Field = IntField | BytesField | CStringField | ArrayField<Field> | StructType<Fields>;
export type Fields = { readonly [name: string]: Field };

/** The JS value a field unpacks to: 64-bit integers are bigint, the rest number. */
export type ValueOf<F> = F extends IntField<'u64' | 'i64'>
  ? bigint
  : F extends IntField
    ? number
    : F extends BytesField
      ? Buffer
      : F extends CStringField
        ? string
        : F extends ArrayField<infer E>
          ? ValueOf<E>[]
          : F extends StructType<infer D>
            ? StructValue<D>
            : never;

/** What pack() accepts for a field: anything omitted is zero. */
export type InitOf<F> = F extends IntField<'u64' | 'i64'>
  ? bigint | number
  : F extends IntField
    ? number
    : F extends BytesField
      ? Uint8Array
      : F extends CStringField
        ? string
        : F extends ArrayField<infer E>
          ? readonly InitOf<E>[]
          : F extends StructType<infer D>
            ? StructInit<D>
            : never;

export type StructValue<D extends Fields> = { -readonly [K in keyof D]: ValueOf<D[K]> };
export type StructInit<D extends Fields> = { [K in keyof D]?: InitOf<D[K]> };

export interface StructType<D extends Fields> {
  readonly kind: 'struct';
  readonly name: string;
  readonly fields: D;
  readonly size: number;
  readonly align: number;
  offsetOf(field: keyof D & string): number;
  pack(init?: StructInit<D>): Buffer;
  packInto(buf: Uint8Array, offset: number, init?: StructInit<D>): void;
  unpack(buf: Uint8Array, offset?: number): StructValue<D>;
  /** Byte-wise equality of the packed forms (padding is always zero). */
  equals(a: StructInit<D>, b: StructInit<D>): boolean;
  /** e.g. `sockaddr_in { family: 2, port: 53, addr: <c0000201> }` */
  format(value: StructInit<D>): string;
}

export interface StructOptions {
  /** No alignment padding anywhere (like __attribute__((packed))). */
  packed?: boolean;
  /** Total size when the C type is larger than its declared fields (e.g. a union tail). */
  size?: number;
  /** Override the struct's alignment (e.g. __attribute__((aligned(8)))). */
  align?: number;
}

function int<K extends IntKind>(k: K, endian: Endian): IntField<K> {
  const size = Number(k.slice(1)) / 8;
  return { kind: 'int', int: k, endian, size, align: size };
}

export const u8 = int('u8', 'host');
export const i8 = int('i8', 'host');
export const u16 = int('u16', 'host');
export const i16 = int('i16', 'host');
export const u32 = int('u32', 'host');
export const i32 = int('i32', 'host');
export const u64 = int('u64', 'host');
export const i64 = int('i64', 'host');
export const be16 = int('u16', 'be');
export const be32 = int('u32', 'be');
export const be64 = int('u64', 'be');
export const le16 = int('u16', 'le');
export const le32 = int('u32', 'le');
export const le64 = int('u64', 'le');

export function bytes(size: number): BytesField {
  return { kind: 'bytes', size, align: 1 };
}

export function cstr(size: number): CStringField {
  return { kind: 'cstr', size, align: 1 };
}

export function array<E extends Field>(elem: E, count: number): ArrayField<E> {
  return { kind: 'array', elem, count, size: elem.size * count, align: elem.align };
}

const HOST_LE = endianness() === 'LE';

function isLE(e: Endian): boolean {
  return e === 'le' || (e === 'host' && HOST_LE);
}

function writeField(f: Field, view: DataView, buf: Uint8Array, off: number, v: unknown): void {
  if (v === undefined) return;
  switch (f.kind) {
    case 'int': {
      const le = isLE(f.endian);
      if (f.size === 8) {
        const b = typeof v === 'bigint' ? v : BigInt(v as number);
        if (f.int === 'u64') view.setBigUint64(off, BigInt.asUintN(64, b), le);
        else view.setBigInt64(off, BigInt.asIntN(64, b), le);
        return;
      }
      const n = Number(v);
      if (!Number.isInteger(n)) throw new TypeError(`struct: ${String(v)} is not an integer`);
      // Accept either signedness for the bit pattern; C would truncate the same way.
      if (f.size === 1) view.setUint8(off, n & 0xff);
      else if (f.size === 2) view.setUint16(off, n & 0xffff, le);
      else view.setUint32(off, n >>> 0, le);
      return;
    }
    case 'bytes': {
      const src = v as Uint8Array;
      if (src.length > f.size) throw new RangeError(`struct: ${src.length} bytes do not fit a ${f.size}-byte field`);
      buf.set(src, off);
      return;
    }
    case 'cstr': {
      const src = Buffer.from(v as string, 'utf8');
      if (src.length >= f.size) throw new RangeError(`struct: "${String(v)}" does not fit char[${f.size}] with its NUL`);
      buf.set(src, off);
      return;
    }
    case 'array': {
      const items = v as readonly unknown[];
      if (items.length > f.count) throw new RangeError(`struct: ${items.length} items do not fit [${f.count}]`);
      items.forEach((item, i) => writeField(f.elem, view, buf, off + i * f.elem.size, item));
      return;
    }
    case 'struct':
      f.packInto(buf, off, v as StructInit<Fields>);
      return;
  }
}

function readField(f: Field, view: DataView, buf: Uint8Array, off: number): unknown {
  switch (f.kind) {
    case 'int': {
      const le = isLE(f.endian);
      switch (f.int) {
        case 'u8':
          return view.getUint8(off);
        case 'i8':
          return view.getInt8(off);
        case 'u16':
          return view.getUint16(off, le);
        case 'i16':
          return view.getInt16(off, le);
        case 'u32':
          return view.getUint32(off, le);
        case 'i32':
          return view.getInt32(off, le);
        case 'u64':
          return view.getBigUint64(off, le);
        case 'i64':
          return view.getBigInt64(off, le);
      }
      break;
    }
    case 'bytes':
      return Buffer.from(buf.subarray(off, off + f.size));
    case 'cstr': {
      const raw = buf.subarray(off, off + f.size);
      const nul = raw.indexOf(0);
      return Buffer.from(raw.subarray(0, nul < 0 ? raw.length : nul)).toString('utf8');
    }
    case 'array':
      return Array.from({ length: f.count }, (_x, i) => readField(f.elem, view, buf, off + i * f.elem.size));
    case 'struct':
      return f.unpack(buf, off);
  }
  throw new Error('unreachable');
}

function formatValue(v: unknown): string {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `<${Buffer.from(v).toString('hex')}>`;
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'object' && v !== null) {
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${k}: ${formatValue(x)}`)
      .join(', ')} }`;
  }
  return String(v);
}

export function struct<D extends Fields>(name: string, fields: D, opts: StructOptions = {}): StructType<D> {
  const offsets = new Map<string, number>();
  let off = 0;
  let align = 1;
  for (const [k, f] of Object.entries(fields)) {
    const a = opts.packed ? 1 : f.align;
    off = Math.ceil(off / a) * a;
    offsets.set(k, off);
    off += f.size;
    align = Math.max(align, a);
  }
  if (opts.align !== undefined) align = opts.align;
  let size = Math.ceil(off / align) * align;
  if (opts.size !== undefined) {
    if (opts.size < off) throw new RangeError(`struct ${name}: size ${opts.size} < fields' ${off}`);
    size = opts.size;
  }
  const entries = [...offsets.entries()].map(([k, o]) => [k, o, fields[k] as Field] as const);

  const t: StructType<D> = {
    kind: 'struct',
    name,
    fields,
    size,
    align,
    offsetOf(field) {
      const o = offsets.get(field);
      if (o === undefined) throw new RangeError(`struct ${name} has no field ${field}`);
      return o;
    },
    packInto(buf, offset, init = {}) {
      if (offset + size > buf.length) throw new RangeError(`struct ${name}: ${size} bytes do not fit at ${offset}`);
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      const values = init as Record<string, unknown>;
      for (const [k, o, f] of entries) writeField(f, view, buf, offset + o, values[k]);
    },
    pack(init = {}) {
      const buf = Buffer.alloc(size);
      t.packInto(buf, 0, init);
      return buf;
    },
    unpack(buf, offset = 0) {
      if (offset + size > buf.length) {
        throw new RangeError(`struct ${name}: need ${size} bytes at ${offset}, have ${buf.length - offset}`);
      }
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      const out: Record<string, unknown> = {};
      for (const [k, o, f] of entries) out[k] = readField(f, view, buf, offset + o);
      return out as StructValue<D>;
    },
    equals(a, b) {
      return t.pack(a).equals(t.pack(b));
    },
    format(value) {
      return `${name} ${formatValue(t.unpack(t.pack(value)))}`;
    },
  };
  return t;
}
