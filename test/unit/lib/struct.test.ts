import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  array,
  be16,
  be32,
  be64,
  bytes,
  cstr,
  i16,
  i32,
  i64,
  le16,
  struct,
  u16,
  u32,
  u64,
  u8,
} from '../../../src/lib/struct.js';

describe('struct layout', () => {
  it('aligns fields and pads the tail like C', () => {
    const t = struct('t', { a: u8, b: u32, c: u16 });
    assert.equal(t.offsetOf('a'), 0);
    assert.equal(t.offsetOf('b'), 4);
    assert.equal(t.offsetOf('c'), 8);
    assert.equal(t.size, 12);
    assert.equal(t.align, 4);
  });

  it('aligns 64-bit fields to 8', () => {
    const t = struct('t', { a: u8, b: u64 });
    assert.equal(t.offsetOf('b'), 8);
    assert.equal(t.size, 16);
  });

  it('packed removes all padding', () => {
    const t = struct('t', { a: u8, b: u32, c: u16 }, { packed: true });
    assert.deepEqual([t.offsetOf('b'), t.offsetOf('c'), t.size], [1, 5, 7]);
  });

  it('size option extends a struct (union tails)', () => {
    const t = struct('t', { name: cstr(16), flags: i16 }, { size: 40, align: 8 });
    assert.equal(t.size, 40);
    assert.throws(() => struct('t', { a: bytes(8) }, { size: 4 }), RangeError);
  });

  it('nested structs use the inner alignment', () => {
    const inner = struct('inner', { x: u16, y: u32 });
    const outer = struct('outer', { tag: u8, inner, tail: u8 });
    assert.deepEqual([outer.offsetOf('inner'), outer.offsetOf('tail'), outer.size], [4, 12, 16]);
  });

  it('arrays take the element alignment', () => {
    const t = struct('t', { a: u8, v: array(u32, 3) });
    assert.deepEqual([t.offsetOf('v'), t.size], [4, 16]);
  });

  it('offsetOf rejects unknown fields at run time too', () => {
    const t = struct('t', { a: u8 });
    assert.throws(() => (t.offsetOf as (k: string) => number)('b'), RangeError);
  });
});

describe('struct pack/unpack', () => {
  it('writes each endianness as asked', () => {
    const t = struct('t', { h: u16, n: be16, l: le16, n32: be32, s: i32 });
    const b = t.pack({ h: 0x0102, n: 0x0102, l: 0x0102, n32: 0xc0000201, s: -2 });
    assert.equal(b.toString('hex'), '0201' + '0102' + '0201' + '0000' + 'c0000201' + 'feffffff');
    assert.deepEqual(t.unpack(b), { h: 0x0102, n: 0x0102, l: 0x0102, n32: 0xc0000201, s: -2 });
  });

  it('64-bit fields are bigint, and accept numbers', () => {
    const t = struct('t', { a: u64, b: i64, c: be64 });
    const v = t.unpack(t.pack({ a: 5, b: -1n, c: 0x0102030405060708n }));
    assert.deepEqual(v, { a: 5n, b: -1n, c: 0x0102030405060708n });
    assert.equal(t.pack({ c: 1n }).subarray(16).toString('hex'), '0000000000000001');
  });

  it('omitted fields are zero; bytes are zero-padded; too long is an error', () => {
    const t = struct('t', { a: u32, mac: bytes(6) });
    const b = t.pack({ mac: Buffer.from([1, 2]) });
    assert.equal(b.toString('hex'), '00000000' + '010200000000' + '0000');
    assert.throws(() => t.pack({ mac: Buffer.alloc(7) }), RangeError);
  });

  it('cstr round-trips text and keeps room for the NUL', () => {
    const t = struct('t', { name: cstr(16) });
    assert.equal(t.unpack(t.pack({ name: 'eth0' })).name, 'eth0');
    assert.throws(() => t.pack({ name: 'x'.repeat(16) }), RangeError);
  });

  it('arrays and nested structs round-trip', () => {
    const pt = struct('pt', { x: i16, y: i16 });
    const t = struct('t', { n: u8, pts: array(pt, 2), ids: array(be16, 3) });
    const v = { n: 2, pts: [{ x: -1, y: 2 }, { x: 3, y: -4 }], ids: [1, 2, 3] };
    assert.deepEqual(t.unpack(t.pack(v)), v);
    assert.throws(() => t.pack({ ids: [1, 2, 3, 4] }), RangeError);
  });

  it('unpack at an offset, and refuses short buffers', () => {
    const t = struct('t', { a: be16 });
    assert.equal(t.unpack(Buffer.from([9, 0, 7]), 1).a, 7);
    assert.throws(() => t.unpack(Buffer.from([1]), 0), RangeError);
  });

  it('packInto writes in place', () => {
    const t = struct('t', { a: u8, b: u8 });
    const buf = Buffer.alloc(4, 0xee);
    t.packInto(buf, 1, { a: 1, b: 2 });
    assert.equal(buf.toString('hex'), 'ee0102ee');
  });

  it('rejects non-integers', () => {
    const t = struct('t', { a: u32 });
    assert.throws(() => t.pack({ a: 1.5 }), TypeError);
  });

  it('equals compares packed bytes, format is readable', () => {
    const t = struct('sockaddr_x', { family: u16, port: be16, addr: bytes(4) });
    assert.ok(t.equals({ family: 2 }, { family: 2, port: 0 }));
    assert.ok(!t.equals({ family: 2 }, { family: 10 }));
    assert.equal(
      t.format({ family: 2, port: 53, addr: Buffer.from([192, 0, 2, 1]) }),
      'sockaddr_x { family: 2, port: 53, addr: <c0000201> }',
    );
  });

  it('misuse fails to compile (checked by tsc; the body never runs)', () => {
    const t = struct('t', { a: u32, w: u64, name: cstr(4) });
    const typeChecks = (): void => {
      // @ts-expect-error unknown field
      t.pack({ nope: 1 });
      // @ts-expect-error string for an integer field
      t.pack({ a: '1' });
      // @ts-expect-error number for a string field
      t.pack({ name: 3 });
      // @ts-expect-error unknown field name for offsetOf
      t.offsetOf('b');
      const v = t.unpack(t.pack());
      const w: bigint = v.w; // 64-bit fields are bigint
      // @ts-expect-error a u32 unpacks to number
      const a: bigint = v.a;
      void [w, a];
    };
    assert.equal(typeof typeChecks, 'function');
    assert.equal(typeof t.unpack(t.pack({ w: 1 })).w, 'bigint');
  });
});
