// Balancing test files over parallel VMs by their past durations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { balance, loadDurations, saveDurations } from '../../../src/host/tests/durations.js';

test('with nothing known, files are dealt round-robin in order', () => {
  assert.deepEqual(balance(['a', 'b', 'c', 'd', 'e'], 2, () => undefined), [
    ['a', 'c', 'e'],
    ['b', 'd'],
  ]);
});

test('longest first to the least loaded share; each share keeps the input order', () => {
  // The suite's shape: one long file and many short ones.
  const t: Record<string, number> = { anycast: 3, forward: 4, neigh: 11, ping: 5, pmtu: 2, ra: 3, routing: 4, srcaddr: 7, tcp: 5 };
  const shares = balance(Object.keys(t), 2, (f) => t[f]);
  const totals = shares.map((s) => s.reduce((n, f) => n + t[f]!, 0));
  assert.deepEqual(totals, [22, 22]);
  for (const s of shares) assert.deepEqual(s, [...s].sort());
  // Round-robin would give 27 and 17.
  assert.deepEqual(shares.flat().sort(), Object.keys(t).sort());
});

test('an unknown file counts as the median of the known ones', () => {
  const t: Record<string, number> = { a: 10, b: 1, c: 1 };
  // d unknown = 1: 10 | 1+1+1.
  assert.deepEqual(balance(['a', 'b', 'c', 'd'], 2, (f) => t[f]), [['a'], ['b', 'c', 'd']]);
  assert.deepEqual(balance(['a'], 4, (f) => t[f]), [['a']]);
});

test('the record merges runs and survives garbage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nt-dur-'));
  try {
    const f = join(dir, 'sub', 'durations.json');
    assert.equal(loadDurations(f).size, 0);
    saveDurations(new Map([['/t/a', 1200.4]]), f);
    saveDurations(new Map([['/t/b', 30]]), f);
    assert.deepEqual([...loadDurations(f)].sort(), [['/t/a', 1200], ['/t/b', 30]]);
    writeFileSync(f, '{not json');
    assert.equal(loadDurations(f).size, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
