import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepFailedRun, keptRunsDir, KEPT_RUNS } from '../../../src/host/kept-runs.js';

test('a failed run\'s directory moves to the cache, and only the newest few stay', () => {
  const root = mkdtempSync(join(tmpdir(), 'net-test-kept-'));
  try {
    const env = { XDG_CACHE_HOME: join(root, 'cache') };
    const base = keptRunsDir(env);
    mkdirSync(base, { recursive: true });
    // Older runs, named as keepFailedRun names them, plus something that is not one of ours.
    const old = Array.from({ length: KEPT_RUNS + 2 }, (_, i) => `2020-01-0${i + 1}T00-00-00-000Z-${100 + i}`);
    for (const n of old) mkdirSync(join(base, n));
    writeFileSync(join(base, 'README'), 'mine');
    const run = join(root, 'run');
    mkdirSync(run);
    writeFileSync(join(run, 'console.log'), 'Linux version x\n');
    const kept = keepFailedRun(run, env);
    assert.ok('path' in kept);
    assert.equal(readFileSync(join(kept.path, 'console.log'), 'utf8'), 'Linux version x\n');
    assert.equal(existsSync(run), false, 'moved, not copied');
    const left = readdirSync(base).sort();
    assert.deepEqual(left, [...old.slice(-(KEPT_RUNS - 1)), kept.path.split('/').pop()!, 'README'].sort());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a run directory that cannot be kept says why and leaves nothing half-copied', () => {
  const root = mkdtempSync(join(tmpdir(), 'net-test-kept-'));
  try {
    const r = keepFailedRun(join(root, 'missing'), { XDG_CACHE_HOME: join(root, 'cache') });
    assert.ok('error' in r && /ENOENT/.test(r.error));
    assert.deepEqual(readdirSync(keptRunsDir({ XDG_CACHE_HOME: join(root, 'cache') })), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
