// `run --rootfs IMG`: the guest boots a root filesystem image. The image must never change on a
// read-only run, must change on purpose with --rw, and must be shareable by parallel runs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, truncateSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { assertNothingLeft, BUILT_KERNEL, FIXTURES, netTest, netTestOnPty, ROOTFS_IMAGE } from '../helpers/cli.js';

const skip = !existsSync(ROOTFS_IMAGE)
  ? `no image at ${ROOTFS_IMAGE} (net-test rootfs build ${ROOTFS_IMAGE} builds it)`
  : !existsSync('/usr/bin/linux.uml') && !existsSync(BUILT_KERNEL)
    ? 'no UML kernel'
    : false;
// The built kernel boots in half a second; the distribution's in a few.
const kernel = existsSync(BUILT_KERNEL) ? ['--kernel', BUILT_KERNEL] : [];
const cwd = join(FIXTURES, 'rootfs');
const run = (image: string, ...args: string[]) => netTest(['run', ...kernel, '--rootfs', image, ...args], { cwd });

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A file in the image, read on the host without mounting it (e2fsprogs' debugfs). */
function debugfsCat(image: string, path: string): string {
  return spawnSync('debugfs', ['-R', `cat ${path}`, image], { encoding: 'utf8' }).stdout;
}

describe('net-test run --rootfs', { skip, concurrency: 1 }, () => {
  let dir = '';
  let copy = '';
  before(() => {
    dir = mkdtempSync('/var/tmp/net-test-rootfs-');
    // --rw and corruption cases work on a copy: the shared image must stay as built.
    copy = join(dir, 'copy.img');
    assert.equal(spawnSync('cp', ['--sparse=always', ROOTFS_IMAGE, copy]).status, 0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a read-only run that writes all over the root leaves the image byte-identical', async () => {
    const before = await sha256(ROOTFS_IMAGE);
    const mtime = statSync(ROOTFS_IMAGE).mtimeMs;
    const r = await run(ROOTFS_IMAGE, 'image.sh', '--', 'write');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(await sha256(ROOTFS_IMAGE), before);
    assert.equal(statSync(ROOTFS_IMAGE).mtimeMs, mtime);
    assertNothingLeft(r);
  });

  test('--rw persists a change: the next run and the host both see it', async () => {
    const token = `token-${process.pid}-${Date.now()}`;
    const w = await run(copy, '--rw', 'image.sh', '--', 'put', token);
    assert.equal(w.status, 0, w.stdout + w.stderr);
    assertNothingLeft(w);
    assert.equal(debugfsCat(copy, '/etc/net-test-token').trim(), token);
    const r = await run(copy, 'image.sh', '--', 'get', token);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assertNothingLeft(r);
    // A read-only run does not persist: the token of the --rw run is still there.
    const ro = await run(copy, 'image.sh', '--', 'put', 'not-kept');
    assert.equal(ro.status, 0, ro.stdout + ro.stderr);
    assert.equal(debugfsCat(copy, '/etc/net-test-token').trim(), token);
    // ext4 left clean: init remounts the root read-only before the power-off.
    assert.match(spawnSync('dumpe2fs', ['-h', copy], { encoding: 'utf8' }).stdout, /Filesystem state:\s+clean/);
  });

  test('two parallel runs on one image do not see each other\'s writes', async () => {
    const before = await sha256(ROOTFS_IMAGE);
    const [a, b] = await Promise.all([run(ROOTFS_IMAGE, 'image.sh', '--', 'claim', 'A'), run(ROOTFS_IMAGE, 'image.sh', '--', 'claim', 'B')]);
    assert.equal(a.status, 0, a.stdout + a.stderr);
    assert.equal(b.status, 0, b.stdout + b.stderr);
    assert.equal(await sha256(ROOTFS_IMAGE), before);
    assertNothingLeft(a);
    assertNothingLeft(b);
  });

  test('--rw is refused while another run uses the image, and a run is refused while --rw does', async () => {
    const waitForLock = async () => {
      const ino = statSync(copy).ino;
      for (let i = 0; i < 600; i++) {
        if (new RegExp(`POSIX .*:${ino} `).test(spawnSync('cat', ['/proc/locks'], { encoding: 'utf8' }).stdout)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail('the first run never locked the image');
    };
    // The holds wait in the guest with sleep(1): in real time, or simulated time would end them at once.
    const holder = run(copy, '--no-time-travel', 'image.sh', '--', 'hold', '6');
    await waitForLock();
    const rw = await run(copy, '--rw', 'image.sh', '--', 'get', 'x');
    assert.equal(rw.status, 2, rw.stdout + rw.stderr);
    assert.match(rw.stderr, /is in use by another run \(pid \d+\): --rw needs the image to itself/);
    assert.equal(rw.stderr.trim().split('\n').length, 1);
    assertNothingLeft(rw);
    const h = await holder;
    assert.equal(h.status, 0, h.stdout + h.stderr);
    assertNothingLeft(h);

    const writer = run(copy, '--rw', '--no-time-travel', 'image.sh', '--', 'hold', '6');
    await waitForLock();
    const ro = await run(copy, 'image.sh', '--', 'get', 'x');
    assert.equal(ro.status, 2, ro.stdout + ro.stderr);
    assert.match(ro.stderr, /is in use by a --rw run \(pid \d+\)/);
    assertNothingLeft(ro);
    const w = await writer;
    assert.equal(w.status, 0, w.stdout + w.stderr);
    assertNothingLeft(w);
  });

  test('net-test shell --rootfs --rw on a terminal: a change made in the shell persists, the VM powers off cleanly', async () => {
    const { status, out } = await netTestOnPty(
      ['shell', ...kernel, '--taps', '1', '--rootfs', copy, '--rw'],
      'echo from-the-shell > /etc/net-test-shell; pgrep dhclient >/dev/null && echo DHCP-CLIENT-RUNNING; exit\n',
      cwd,
    );
    assert.equal(status, 0, out);
    // In shell mode the image's network configuration comes up in the background.
    assert.match(out, /DHCP-CLIENT-RUNNING/);
    assert.doesNotMatch(out, /Kernel panic|Attempted to kill init/);
    // init needs nothing a minimal image lacks (poweroff(8) once raced the power-off and lost).
    assert.doesNotMatch(out, /init\.sh: \d+: .*not found/);
    assert.equal(debugfsCat(copy, '/etc/net-test-shell').trim(), 'from-the-shell');
  });

  test('the image\'s network configuration: ifup eth0 asks DHCPv4 (seen by tcpdump), RAs accepted, no privacy addresses', async () => {
    const r = await run(ROOTFS_IMAGE, 'image.sh', '--', 'net');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assertNothingLeft(r);
  });

  describe('a missing or broken image: exit 2, one clear line', { concurrency: 1 }, () => {
    const bad: [string, () => string, RegExp][] = [
      ['missing', () => join(dir, 'missing.img'), /no such file \(build one with `net-test rootfs build/],
      ['not a filesystem', () => {
        const f = join(dir, 'junk.img');
        const fd = openSync(f, 'w');
        writeSync(fd, Buffer.alloc(1 << 20, 0x5a));
        closeSync(fd);
        return f;
      }, /is not an ext2\/3\/4 filesystem image/],
      ['truncated', () => {
        const f = join(dir, 'truncated.img');
        spawnSync('cp', ['--sparse=always', copy, f]);
        truncateSync(f, 64 << 20);
        return f;
      }, /is truncated: the filesystem has \d+ bytes, the file 67108864/],
      ['corrupt group descriptors (mount fails in the guest)', () => {
        const f = join(dir, 'corrupt.img');
        spawnSync('cp', ['--sparse=always', copy, f]);
        // The group descriptor table follows the superblock's block (4 KiB blocks: block 1).
        const fd = openSync(f, 'r+');
        writeSync(fd, Buffer.alloc(4096), 0, 4096, 4096);
        closeSync(fd);
        return f;
      }, /the guest cannot mount it as ext4 \(EXT4-fs \(ubda\): [^)]*\): the image is corrupt/],
    ];
    for (const [name, make, re] of bad) {
      test(name, async () => {
        const r = await run(make(), 'image.sh', '--', 'get', 'x');
        assert.equal(r.status, 2, r.stdout + r.stderr);
        assert.match(r.stderr, re);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.doesNotMatch(r.stderr, /\n\s+at /);
        assertNothingLeft(r);
      });
    }
    test('--rw without --rootfs', async () => {
      const r = await netTest(['run', '--rw', 'image.sh'], { cwd });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /--rw writes to a --rootfs image/);
      assertNothingLeft(r);
    });
  });
});
