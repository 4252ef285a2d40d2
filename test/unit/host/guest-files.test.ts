import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsLegacyIptables, prepareGuestFiles } from '../../../src/host/vm/guest-files.js';

test('/dev links: fd and std{in,out,err} point into /proc/self/fd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nt-guest-'));
  try {
    const kdir = mkdtempSync(join(tmpdir(), 'nt-kernel-'));
    writeFileSync(join(kdir, 'linux'), '');
    prepareGuestFiles(join(dir, 'g'), { path: join(kdir, 'linux'), release: '6.1.0-x', source: 'option' });
    assert.equal(readlinkSync(join(dir, 'g/dev/fd')), '/proc/self/fd');
    assert.equal(readlinkSync(join(dir, 'g/dev/stdin')), '/proc/self/fd/0');
    assert.equal(readlinkSync(join(dir, 'g/dev/stderr')), '/proc/self/fd/2');
    // No modules.builtin beside the kernel, no module directory: nothing to bind on /lib/modules.
    assert.equal(existsSync(join(dir, 'g/lib/modules')), false);
    rmSync(kdir, { recursive: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a built kernel's modules.builtin is indexed by depmod, so modprobe knows its built-ins", { skip: existsSync('/usr/sbin/depmod') || existsSync('/sbin/depmod') ? false : 'depmod (kmod) is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nt-guest-'));
  try {
    writeFileSync(join(dir, 'linux'), '');
    writeFileSync(join(dir, 'modules.builtin'), 'kernel/drivers/net/veth.ko\nkernel/net/ipv6/ipv6.ko\n');
    const g = prepareGuestFiles(join(dir, 'g'), { path: join(dir, 'linux'), release: '6.1.0-x', source: 'built' });
    const rel = join(g.dir, 'lib/modules/6.1.0-x');
    assert.ok(existsSync(join(rel, 'modules.builtin')));
    assert.ok(existsSync(join(rel, 'modules.builtin.bin')), 'depmod wrote the index modprobe reads');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a distribution kernel's module directory is linked through /host (it resolves on an image root too)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'nt-guest-'));
  try {
    prepareGuestFiles(dir, { path: '/nonexistent/linux', release: '6.1.76-1', moduleDir: '/usr/lib/uml/modules/6.1.76-1', source: 'distribution' });
    assert.equal(readlinkSync(join(dir, 'lib/modules/6.1.76-1')), '/host/usr/lib/uml/modules/6.1.76-1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("iptables-legacy when nf_tables lacks its IPv4/IPv6 tables (Debian's UML kernel), not otherwise", () => {
  const debianUml = 'CONFIG_NF_TABLES=m\n# CONFIG_NF_TABLES_IPV4 is not set\nCONFIG_IP_NF_IPTABLES=m\n';
  assert.equal(needsLegacyIptables(debianUml), true);
  assert.equal(needsLegacyIptables('CONFIG_NF_TABLES=y\nCONFIG_NF_TABLES_IPV4=y\nCONFIG_NF_TABLES_IPV6=y\nCONFIG_IP_NF_IPTABLES=y\n'), false);
  assert.equal(needsLegacyIptables('CONFIG_NF_TABLES=y\nCONFIG_NF_TABLES_IPV4=y\n# CONFIG_IP_NF_IPTABLES is not set\n'), false, 'no x_tables: legacy cannot help');
  assert.equal(needsLegacyIptables('# CONFIG_NF_TABLES is not set\nCONFIG_IP_NF_IPTABLES=y\n'), true, 'no nf_tables at all');
});
