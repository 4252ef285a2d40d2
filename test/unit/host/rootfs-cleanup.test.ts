import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { killGroup, mountsUnder, removeTree } from '../../../src/host/rootfs/cleanup.js';

const MOUNTINFO = [
  '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '41 22 0:38 / /var/tmp/b/root/proc rw,relatime - proc proc rw',
  '42 22 0:5 / /var/tmp/b/root/dev rw - tmpfs nodev rw',
  '43 42 0:5 /null /var/tmp/b/root/dev/null rw - devtmpfs udev rw',
  '44 22 0:39 / /var/tmp/b/root/sys rw - sysfs sysfs rw',
  '45 22 0:40 / /var/tmp/bb/root/proc rw - proc proc rw',
  '46 22 0:41 / /var/tmp/b/with\\040space rw - tmpfs tmpfs rw',
].join('\n');

describe('rootfs cleanup', () => {
  it('lists the mounts under a directory, deepest first, not those of a sibling with the same prefix', () => {
    assert.deepEqual(mountsUnder('/var/tmp/b', MOUNTINFO), [
      '/var/tmp/b/root/dev/null',
      '/var/tmp/b/root/proc',
      '/var/tmp/b/root/dev',
      '/var/tmp/b/root/sys',
      '/var/tmp/b/with space',
    ]);
    assert.deepEqual(mountsUnder('/var/tmp/b/', MOUNTINFO).length, 5);
    assert.deepEqual(mountsUnder('/var/tmp/c', MOUNTINFO), []);
  });

  const root = process.getuid?.() === 0;
  it('unmounts before removing: a bind-mounted directory outside survives', { skip: root ? false : 'mounting needs root' }, () => {
    const base = mkdtempSync('/var/tmp/net-test-cleanup-');
    const precious = join(base, 'precious');
    mkdirSync(precious);
    writeFileSync(join(precious, 'keep'), 'x');
    const tree = join(base, 'tree');
    mkdirSync(join(tree, 'root/dev'), { recursive: true });
    mkdirSync(join(tree, 'root/proc'), { recursive: true });
    try {
      // The shapes debootstrap leaves: a bind of a host directory (like /dev), a proc, a tmpfs with a bind inside.
      assert.equal(spawnSync('mount', ['--bind', precious, join(tree, 'root/dev')]).status, 0);
      assert.equal(spawnSync('mount', ['-t', 'proc', 'proc', join(tree, 'root/proc')]).status, 0);
      assert.equal(mountsUnder(tree, readFileSync('/proc/self/mountinfo', 'utf8')).length, 2);
      assert.equal(removeTree(tree), undefined);
      assert.ok(!existsSync(tree));
      assert.equal(readFileSync(join(precious, 'keep'), 'utf8'), 'x');
      assert.deepEqual(mountsUnder(base, readFileSync('/proc/self/mountinfo', 'utf8')), []);
    } finally {
      for (const p of mountsUnder(base, readFileSync('/proc/self/mountinfo', 'utf8'))) spawnSync('umount', ['-l', p]);
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('ends a whole process group, children too', async () => {
    // sh ignores TERM so SIGKILL is needed; its child sleep is in the same group.
    const p = spawn('sh', ['-c', 'trap "" TERM; sleep 60 & wait'], { detached: true, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    const pgid = p.pid!;
    const t0 = Date.now();
    await killGroup(pgid, 300);
    assert.throws(() => process.kill(-pgid, 0), /ESRCH/);
    assert.ok(Date.now() - t0 < 5000);
  });
});
