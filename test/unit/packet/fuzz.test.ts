/** Garbage in never throws, and whatever was parsed builds back to the same bytes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build, decodeEspNull, diff, parse, show, summary } from '../../../src/lib/packet/index.js';
import { CASES } from './cases.js';

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function lossless(bytes: Buffer, link: 'ether' | 'ip'): void {
  const layers = parse(bytes, link);
  const again = build(layers);
  assert.equal(again.toString('hex'), bytes.toString('hex'), `not lossless for ${bytes.toString('hex')}\n${show(layers)}`);
  summary(layers);
  show(layers);
  decodeEspNull(layers);
}

describe('parser robustness', () => {
  it('every truncation of every case', () => {
    for (const c of CASES) {
      const b = build(c.layers);
      for (let n = 0; n <= b.length; n++) lossless(b.subarray(0, n), c.link);
    }
  });

  it('random bit flips in every case (20000 packets)', () => {
    const r = rng(1);
    for (let k = 0; k < 20000; k++) {
      const c = CASES[k % CASES.length]!;
      const b = Buffer.from(build(c.layers));
      const flips = 1 + Math.floor(r() * 4);
      for (let f = 0; f < flips; f++) {
        const i = Math.floor(r() * b.length);
        b[i] = b[i]! ^ (1 << Math.floor(r() * 8));
      }
      lossless(b, c.link);
    }
  });

  it('random bytes (20000 packets, both link types)', () => {
    const r = rng(2);
    for (let k = 0; k < 20000; k++) {
      const b = Buffer.alloc(Math.floor(r() * 200));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
      // Bias toward plausible starts so deeper decoders are reached.
      if (b.length > 0 && k % 3 === 0) b[0] = 0x60;
      if (b.length > 0 && k % 3 === 1) b[0] = 0x45;
      lossless(b, k % 2 === 0 ? 'ip' : 'ether');
    }
  });

  it('appended trailing bytes become padding after a length field', () => {
    const c = CASES.find((x) => x.name === 'ipv4/tcp syn')!;
    const b = Buffer.concat([build(c.layers), Buffer.alloc(6)]);
    const p = parse(b);
    assert.equal(p[p.length - 1]!.type, 'padding');
    assert.deepEqual(diff(p.slice(0, -1), c.layers), []);
    lossless(b, 'ether');
  });
});
