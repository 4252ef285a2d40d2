// The pid lock file shared by kernel builds and rootfs builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takePidLock } from '../../../src/host/pid-lock.js';

test('taken, held against a live process, taken over from a dead one, released', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nt-lock-'));
  try {
    const path = join(dir, 'x.lock');
    const mine = takePidLock(path);
    assert.ok('release' in mine);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    // Held by a live process (ourselves, as another build would be): its pid, lock untouched.
    assert.deepEqual(takePidLock(path), { holder: process.pid });
    mine.release();
    assert.equal(existsSync(path), false);
    // A pid that has exited: the lock is taken over.
    const dead = spawnSync('true').pid!;
    writeFileSync(path, `${dead}\n`);
    const again = takePidLock(path);
    assert.ok('release' in again);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    again.release();
    // Garbage in the file counts as no holder.
    writeFileSync(path, 'junk');
    assert.ok('release' in takePidLock(path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
