import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configureTree, type ImageInfo } from '../../../src/host/rootfs/configure.js';

const scratch = mkdtempSync(join(tmpdir(), 'net-test-configure-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const info: ImageInfo = {
  suite: 'bookworm',
  size: '2G',
  packages: ['nodejs', 'strace'],
  extraPackages: ['strace'],
  mirror: 'http://deb.debian.org/debian',
  recipe: 1,
  netTestVersion: '0.1.0',
  builtAt: '2026-01-01T00:00:00.000Z',
};

/** The bits of a debootstrap tree configure touches, as debootstrap leaves them. */
function fakeTree(): string {
  const root = mkdtempSync(join(scratch, 'root-'));
  for (const d of ['etc/dhcp', 'etc/apt', 'var/cache/apt/archives/partial', 'run/systemd/resolve']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'etc/hostname'), 'buildhost\n', { mode: 0o755 });
  writeFileSync(join(root, 'etc/dhcp/dhclient.conf'), 'send host-name = gethostname();\ntimeout 60;\n#retry 60;\n');
  writeFileSync(join(root, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
  writeFileSync(join(root, 'var/cache/apt/archives/apt_2.6.1_amd64.deb'), 'deb');
  writeFileSync(join(root, 'var/cache/apt/archives/partial/x.deb'), 'deb');
  writeFileSync(join(root, 'var/cache/apt/archives/lock'), '');
  return root;
}

describe('rootfs configure step', () => {
  it('writes the guest configuration as regular files', () => {
    const root = fakeTree();
    configureTree(root, info);
    const read = (p: string) => readFileSync(join(root, p), 'utf8');
    assert.equal(read('etc/hostname'), 'net-test\n');
    assert.equal(lstatSync(join(root, 'etc/hostname')).mode & 0o777, 0o644);
    assert.match(read('etc/hosts'), /^127\.0\.0\.1\tlocalhost$/m);
    assert.match(read('etc/hosts'), /^::1\s+localhost/m);
    assert.ok(lstatSync(join(root, 'etc/resolv.conf')).isFile());
    assert.match(read('etc/resolv.conf'), /^#/);
    const sysctl = read('etc/sysctl.d/60-net-test.conf');
    for (const l of ['net.ipv6.conf.all.use_tempaddr = 0', 'net.ipv6.conf.default.use_tempaddr = 0', 'net.ipv6.conf.default.accept_ra = 1']) assert.ok(sysctl.includes(l), l);
    const ifaces = read('etc/network/interfaces');
    for (const l of ['iface lo inet loopback', 'allow-hotplug eth0', 'iface eth0 inet dhcp', 'iface eth0 inet6 auto', 'privext 0']) assert.ok(ifaces.includes(l), l);
    const dhclient = read('etc/dhcp/dhclient.conf');
    assert.match(dhclient, /^send host-name/m, 'the package defaults stay');
    assert.deepEqual(dhclient.match(/^timeout .*/gm), ['timeout 10;'], 'one active timeout, ours');
    assert.equal(read('etc/apt/sources.list'), 'deb http://deb.debian.org/debian bookworm main\n');
    assert.deepEqual(JSON.parse(read('etc/net-test/image.json')), info);
    assert.equal(read('etc/machine-id'), '');
    assert.ok(!existsSync(join(root, 'var/cache/apt/archives/apt_2.6.1_amd64.deb')));
    assert.ok(!existsSync(join(root, 'var/cache/apt/archives/partial/x.deb')));
    assert.ok(existsSync(join(root, 'var/cache/apt/archives/lock')), 'apt-get clean keeps the lock file');
  });

  it('replaces a symlinked resolv.conf instead of writing through it', () => {
    const root = fakeTree();
    const outside = join(scratch, 'host-resolv.conf');
    writeFileSync(outside, 'nameserver 192.0.2.53\n');
    symlinkSync(outside, join(root, 'etc/resolv.conf'));
    configureTree(root, info);
    assert.equal(readFileSync(outside, 'utf8'), 'nameserver 192.0.2.53\n', 'the link target is untouched');
    assert.ok(lstatSync(join(root, 'etc/resolv.conf')).isFile());
  });

  it('refuses to write through a directory that leads out of the tree', () => {
    const root = fakeTree();
    const outside = mkdtempSync(join(scratch, 'outside-'));
    symlinkSync(outside, join(root, 'etc/sysctl.d'));
    assert.throws(() => configureTree(root, info), /leads outside it/);
    assert.ok(!existsSync(join(outside, '60-net-test.conf')));
  });
});
