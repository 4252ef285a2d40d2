// The pid lock file shared by kernel builds, rootfs builds and a run's --out, and the run
// temp directories whose owner is judged the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownerAlive, startTime, takePidLock } from '../../../src/host/pid-lock.js';
import { createRunTemp, sweepDeadRuns } from '../../../src/host/run-dirs.js';

const me = `${process.pid} ${startTime(process.pid)}\n`;

test('taken, held against a live process, taken over from a dead one, released', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nt-lock-'));
  try {
    const path = join(dir, 'x.lock');
    const mine = takePidLock(path);
    assert.ok('release' in mine);
    assert.equal(readFileSync(path, 'utf8'), me);
    // Held by a live process (ourselves, as another build would be): its pid, lock untouched.
    assert.deepEqual(takePidLock(path), { holder: process.pid });
    mine.release();
    assert.equal(existsSync(path), false);
    // A pid that has exited: the lock is taken over.
    const dead = spawnSync('true').pid!;
    writeFileSync(path, `${dead}\n`);
    const again = takePidLock(path);
    assert.ok('release' in again);
    assert.equal(readFileSync(path, 'utf8'), me);
    again.release();
    // A live pid with another start time is a recycled pid: its owner is gone.
    writeFileSync(path, `${process.pid} 1\n`);
    assert.ok('release' in takePidLock(path));
    // Garbage in the file counts as no holder.
    writeFileSync(path, 'junk');
    assert.ok('release' in takePidLock(path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ownerAlive: pid alone, pid and start time, garbage', () => {
  assert.equal(ownerAlive(`${process.pid}`), true);
  assert.equal(ownerAlive(me), true);
  assert.equal(ownerAlive(`${process.pid} ${Number(startTime(process.pid)) + 1}`), false);
  assert.equal(ownerAlive(`${spawnSync('true').pid}`), false);
  assert.equal(ownerAlive(''), false);
  assert.equal(ownerAlive('-3'), false);
});

test("a dead run's temp directory is swept, a live one's and foreign names are kept", () => {
  const parent = mkdtempSync(join(tmpdir(), 'nt-sweep-'));
  try {
    const live = createRunTemp(parent);
    assert.match(live, new RegExp(`net-test-run-${process.pid}-\\w{6}$`));
    assert.equal(readFileSync(join(live, 'owner'), 'utf8'), me);
    const dead = spawnSync('true').pid!;
    // Killed before it wrote its owner file: judged by the pid in its name.
    mkdirSync(join(parent, `net-test-run-${dead}-abcdef`, 'uml-1'), { recursive: true });
    // Our pid in the name, but a start time that is not ours: a recycled pid.
    const recycled = join(parent, `net-test-run-${process.pid}-ghijkl`);
    mkdirSync(recycled);
    writeFileSync(join(recycled, 'owner'), `${process.pid} 1\n`);
    mkdirSync(join(parent, 'net-test-itest-xyz123'));
    mkdirSync(join(parent, 'net-test-run-notapid-abcdef'));
    const removed = sweepDeadRuns(parent).sort();
    assert.deepEqual(removed, [join(parent, `net-test-run-${dead}-abcdef`), recycled].sort());
    assert.deepEqual(readdirSync(parent).sort(), [live.slice(parent.length + 1), 'net-test-itest-xyz123', 'net-test-run-notapid-abcdef'].sort());
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
