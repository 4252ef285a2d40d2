import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleCache } from '../../../src/host/prepare/bundle-cache.js';

test('a cached bundle comes back while its inputs are unchanged, and not after an edit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-bc-'));
  try {
    const cache = bundleCache(join(dir, 'cache'));
    const a = join(dir, 'a.ts');
    const b = join(dir, 'b.ts');
    writeFileSync(a, 'export const a = 1;');
    writeFileSync(b, 'export const b = 2;');
    const out = join(dir, 'out.mjs');
    assert.equal(cache.get('k', out), false, 'empty cache');
    cache.put('k', [a, b], Buffer.from('bundle one'), Date.now() + 1000);
    assert.equal(cache.get('k', out), true);
    assert.equal(readFileSync(out, 'utf8'), 'bundle one');
    assert.equal(cache.get('other key', out), false);
    // Same content written again (a checkout, a touch): still a hit.
    writeFileSync(b, 'export const b = 2;');
    assert.equal(cache.get('k', out), true);
    writeFileSync(b, 'export const b = 3;');
    assert.equal(cache.get('k', out), false, 'an input changed');
    rmSync(b);
    assert.equal(cache.get('k', out), false, 'an input is gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bundle whose input changed while it was built is not cached', () => {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-bc-'));
  try {
    const cache = bundleCache(join(dir, 'cache'));
    const a = join(dir, 'a.ts');
    writeFileSync(a, 'v2');
    const started = Date.now() - 10_000;
    utimesSync(a, new Date(), new Date()); // written after the build started
    cache.put('k', [a], Buffer.from('built from v1'), started);
    assert.equal(cache.get('k', join(dir, 'out.mjs')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
