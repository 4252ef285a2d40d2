/** Byte-exact agreement with scapy for every case, and lossless parse of each. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build, diff, formatDiff, parse, show } from '../../../src/lib/packet/index.js';
import { CASES } from './cases.js';
import { scapyAvailable, scapyBytes } from './scapy-oracle.js';

const haveScapy = scapyAvailable();

describe('packets built like scapy builds them', { skip: haveScapy ? false : 'python3-scapy not installed' }, () => {
  const ours = CASES.map((c) => build(c.layers).toString('hex'));
  const theirs = haveScapy ? scapyBytes(CASES.map((c) => c.scapy)) : [];
  CASES.forEach((c, i) => {
    it(c.name, () => {
      assert.equal(ours[i], theirs[i], `\nours:\n${show(c.layers)}`);
    });
  });
});

describe('parse(build(x)) round-trips', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const bytes = build(c.layers);
      const parsed = parse(bytes, c.link);
      assert.equal(build(parsed).toString('hex'), bytes.toString('hex'));
      // Null-cipher ESP payloads are opaque after parsing; everything else must read back as built.
      if (!c.layers.some((l) => l.type === 'esp')) {
        const d = diff(parsed, c.layers);
        assert.equal(d.length, 0, formatDiff(d));
        assert.deepEqual(parsed.map((l) => l.type), c.layers.map((l) => l.type));
      }
    });
  }
});
