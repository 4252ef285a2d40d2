// Balancing test files over parallel VMs by their past durations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { balance, loadDurations, readDurationsFile, saveDurations, writeDurationsFile } from '../../../src/host/prepare/durations.js';
import { shard } from '../../../src/host/prepare/discover.js';
import { UsageError } from '../../../src/host/errors.js';

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

test('--shard with recorded durations: shards of about equal time, disjoint and covering; unknown ones round-robin', () => {
  const t: Record<string, number> = { 'a.sh': 1, 'b.sh': 9, 'c.sh': 5, 'd.sh': 4, 'e.sh': 3, 'f.sh': 2 };
  const files = Object.keys(t).reverse();
  const cut = [1, 2, 3].map((index) => shard(files, { index, count: 3 }, (f) => t[f]));
  assert.deepEqual(cut.flat().sort(), Object.keys(t).sort());
  // LPT: 9 | 5+2+1 | 4+3, the tie for 1 to the first share (each share in path order).
  assert.deepEqual(cut, [['b.sh'], ['a.sh', 'c.sh', 'f.sh'], ['d.sh', 'e.sh']]);
  // The same input gives the same cut (every CI machine computes it on its own).
  assert.deepEqual(shard(files, { index: 2, count: 3 }, (f) => t[f]), cut[1]);
  // Without durations: every N-th file of the sorted list, as before.
  assert.deepEqual(shard(files, { index: 1, count: 3 }), ['a.sh', 'd.sh']);
  // More shards than files: the extra shards are empty, never an error.
  assert.deepEqual(shard(['a.sh'], { index: 2, count: 3 }), []);
});

test('a --durations file: written sorted and read back; missing or corrupt is a usage error naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-dur-'));
  try {
    const f = join(dir, 'd.json');
    writeDurationsFile(f, new Map([['z.sh', 1.6], ['a.sh', 2]]));
    assert.equal(readFileSync(f, 'utf8'), '{\n "a.sh": 2,\n "z.sh": 2\n}\n');
    assert.deepEqual([...readDurationsFile(f)], [['a.sh', 2], ['z.sh', 2]]);
    writeFileSync(f, '{"a.sh": ');
    assert.throws(() => readDurationsFile(f), (e: Error) => e instanceof UsageError && e.message.startsWith(`--durations ${f}: not JSON`));
    writeFileSync(f, '{"a.sh": "x"}');
    assert.throws(() => readDurationsFile(f), /a\.sh has "x", not a number/);
    assert.throws(() => readDurationsFile(join(dir, 'none.json')), /none\.json: no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
