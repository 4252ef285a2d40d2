// `net-test rootfs build` through the real CLI: builds (or reuses) the CI image, checks its
// contents without mounting it (debugfs reads ext4 images read-only), the up-to-date fast
// path, and that a failing build names its step and leaves nothing behind.
// The first build takes minutes (debootstrap); .debs are cached in /var/cache/net-test/debs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { netTest, ROOTFS_IMAGE, type CliResult } from '../helpers/cli.js';
import { BASE_PACKAGES, readStamp } from '../../src/host/rootfs/recipe.js';
import { findTool } from '../../src/host/rootfs/tools.js';

const env = { NET_TEST_DEB_CACHE: process.env.NET_TEST_DEB_CACHE ?? '/var/cache/net-test/debs' };
const skip =
  process.getuid?.() !== 0
    ? 'rootfs build needs root'
    : !findTool('debootstrap')
      ? 'debootstrap is not installed (apt-get install debootstrap)'
      : !findTool('debugfs')
        ? 'debugfs is not installed (apt-get install e2fsprogs)'
        : false;

/** The build arguments the image was made with (CI may have built it), so the test reuses it. */
function argsOf(image: string): string[] {
  const s = readStamp(image);
  if (!s) return [];
  const extra = s.packages.filter((p) => !BASE_PACKAGES.includes(p));
  return ['--suite', s.suite, '--size', s.size, ...(extra.length ? ['--packages', extra.join(',')] : [])];
}

/** debugfs -R REQUEST on the image: read-only, no mount. */
function debugfs(image: string, request: string): string {
  const r = spawnSync('debugfs', ['-R', request, image], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const mountsUnder = (dir: string): string[] =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(`${dir}/`));

const oneLine = (r: CliResult): string => {
  const lines = r.stderr.trim().split('\n');
  return lines[lines.length - 1] ?? '';
};

describe('net-test rootfs build', { skip, timeout: 40 * 60_000, concurrency: 1 }, () => {
  const image = ROOTFS_IMAGE;
  let args: string[];
  let first: CliResult;
  const scratch: string[] = [];
  after(() => {
    for (const d of scratch) {
      for (const l of mountsUnder(d)) spawnSync('umount', ['-l', l.split(' ')[4] ?? '']);
      rmSync(d, { recursive: true, force: true });
    }
  });

  before(async () => {
    mkdirSync(dirname(image), { recursive: true });
    args = argsOf(image);
    first = await netTest(['rootfs', 'build', ...args, image], { env });
  });

  it('builds the image, or reuses it when it is up to date', () => {
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout.trim().split('\n').at(-1), image);
    assert.match(first.stderr, /rootfs built |is up to date/);
    assert.ok(statSync(image).size >= 512 * 2 ** 20);
    assert.ok(existsSync(`${image}.log`) || /is up to date/.test(first.stderr));
    assert.ok(!existsSync(`${image}.lock`));
    assert.deepEqual(readdirSync(dirname(image)).filter((n) => n.includes('.build-')), []);
  });

  it('a second call with the same arguments says up to date and leaves the image alone', async () => {
    const before = statSync(image).mtimeMs;
    const r = await netTest(['rootfs', 'build', ...args, image], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`rootfs ${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is up to date \\(built \\d{4}-`));
    assert.equal(statSync(image).mtimeMs, before);
  });

  it('keeps an image changed since its build (a --rw boot) when the arguments are the same', async () => {
    const dir = mkdtempSync('/var/tmp/net-test-rootfs-kept-');
    scratch.push(dir);
    const changed = join(dir, 'x.img');
    writeFileSync(changed, 'changed on purpose');
    copyFileSync(`${image}.stamp`, `${changed}.stamp`);
    const r = await netTest(['rootfs', 'build', ...args, changed], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /is up to date/);
    assert.equal(readFileSync(changed, 'utf8'), 'changed on purpose');
  });

  it('the image holds the guest configuration, Node and a regular resolv.conf', () => {
    assert.equal(debugfs(image, 'cat /etc/hostname'), 'net-test\n');
    assert.match(debugfs(image, 'stat /usr/bin/node'), /Type: regular/);
    assert.match(debugfs(image, 'stat /usr/bin/python3'), /Type: (regular|symlink)/);
    assert.match(debugfs(image, 'stat /etc/resolv.conf'), /Type: regular/);
    assert.match(debugfs(image, 'cat /etc/sysctl.d/60-net-test.conf'), /net\.ipv6\.conf\.default\.use_tempaddr = 0/);
    assert.match(debugfs(image, 'cat /etc/network/interfaces'), /iface eth0 inet dhcp/);
    const info = JSON.parse(debugfs(image, 'cat /etc/net-test/image.json')) as { suite: string; packages: string[] };
    assert.equal(info.suite, readStamp(image)?.suite);
    assert.ok(info.packages.includes('nodejs'));
    assert.doesNotMatch(debugfs(image, 'ls -l /var/cache/apt/archives'), /\.deb/);
  });

  it('a bogus package fails at step "debootstrap" naming it; a concurrent build is refused; nothing is left', async () => {
    const dir = mkdtempSync('/var/tmp/net-test-rootfs-bad-');
    scratch.push(dir);
    const out = join(dir, 'x.img');
    const bad = ['rootfs', 'build', '--size', '512M', '--packages', 'no-such-package-nt', out];
    // What a build killed with SIGKILL leaves: its temp dir with debootstrap's proc mount. The next build of OUT removes it.
    const stale = join(dir, '.x.img.build-stale', 'root', 'proc');
    mkdirSync(stale, { recursive: true });
    assert.equal(spawnSync('mount', ['-t', 'proc', 'proc', stale]).status, 0);
    const running = netTest(bad, { env });
    // While the first holds OUT.lock (debootstrap fetches the package lists first), a second is refused.
    for (let i = 0; i < 600 && !existsSync(`${out}.lock`); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(`${out}.lock`), 'the first build took the lock');
    const second = await netTest(bad, { env });
    assert.equal(second.status, 2, second.stderr);
    assert.match(oneLine(second), /^net-test: another rootfs build of .*x\.img is running \(pid \d+/);

    const r = await running;
    assert.equal(r.status, 2, r.stderr);
    assert.match(oneLine(r), /^net-test: rootfs build failed at step "debootstrap" \(exit 1\): .*no-such-package-nt.*; full log: .*x\.img\.log$/);
    assert.deepEqual(readdirSync(dir), ['x.img.log'], 'only the log stays');
    assert.match(readFileSync(`${out}.log`, 'utf8'), /no-such-package-nt/);
    assert.deepEqual(mountsUnder(dir), []);
  });

  it('bad arguments and a missing output directory: exit 2, one line', async () => {
    const cases: [string[], RegExp][] = [
      [['--size', '100M', '/var/tmp/x.img'], /--size 100M is too small/],
      [['--size', 'big', '/var/tmp/x.img'], /bad --size "big"/],
      [['--suite', 'Book-worm', '/var/tmp/x.img'], /bad --suite "Book-worm"/],
      [['--suite', 'nosuchsuite', '/var/tmp/x.img'], /no apt source of this machine serves Debian suite "nosuchsuite"/],
      [['--packages', 'ok,Bad_Name', '/var/tmp/x.img'], /bad package name "Bad_Name"/],
      [['/nonexistent-dir-nt/x.img'], /cannot write the image into \/nonexistent-dir-nt/],
      [['/var/tmp'], /\/var\/tmp is a directory/],
    ];
    for (const [a, re] of cases) {
      const r = await netTest(['rootfs', 'build', ...a], { env });
      assert.equal(r.status, 2, `${a.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.ok(!existsSync('/var/tmp/x.img.lock') && !existsSync('/var/tmp/x.img.log'));
    }
    const unknown = await netTest(['rootfs', 'build', '--no-such-option', '/var/tmp/x.img'], { env });
    assert.equal(unknown.status, 2, unknown.stderr);
  });

  it('not root: exit 2, says to use sudo', async () => {
    const dir = mkdtempSync('/var/tmp/net-test-rootfs-user-');
    scratch.push(dir);
    spawnSync('chown', ['nobody', dir]);
    const r = await netTest(['rootfs', 'build', join(dir, 'x.img')], { env, user: 'nobody' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^net-test: rootfs build needs root \(debootstrap creates device nodes and chroots\): run it with sudo\n$/);
    assert.deepEqual(readdirSync(dir), []);
  });
});
