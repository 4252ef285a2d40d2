// Host-side checks of a --rootfs image: superblock sanity and the locks UML holds on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageProblem, locksOn, ubdArg } from '../../../src/host/vm/rootfs.js';
import { umlArgs } from '../../../src/host/vm/uml.js';

/** The superblock of a real ext4 image made by mkfs.ext4 (the oracle), as the check reads it. */
function superblock(size: string, extra: string[] = []): { sb: Buffer; bytes: number } {
  const dir = mkdtempSync(join(tmpdir(), 'nt-sb-'));
  try {
    const img = join(dir, 'x.img');
    const r = spawnSync('mkfs.ext4', ['-q', '-F', ...extra, img, size], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const all = readFileSync(img);
    return { sb: all.subarray(1024, 2048), bytes: all.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const haveMkfs = spawnSync('mkfs.ext4', ['-V']).status === 0;

test('a whole ext4 image passes; truncated or foreign ones are named', { skip: haveMkfs ? false : 'mkfs.ext4 missing' }, () => {
  const { sb, bytes } = superblock('8M');
  assert.equal(imageProblem(sb, bytes), undefined);
  assert.match(imageProblem(sb, bytes - 4096)!, /is truncated: the filesystem has 8388608 bytes, the file 8384512/);
  assert.match(imageProblem(Buffer.alloc(1024), bytes)!, /no superblock magic/);
  const bad = Buffer.from(sb);
  bad.writeUInt32LE(40, 0x18);
  assert.match(imageProblem(bad, bytes)!, /corrupt superblock/);
  // 64bit images count blocks in two words.
  const big = superblock('8M', ['-O', '64bit']);
  assert.equal(imageProblem(big.sb, big.bytes), undefined);
});

test('locks on an image are found by device and inode in /proc/locks', () => {
  const procLocks = [
    '1: POSIX  ADVISORY  WRITE 4242 fe:00:15343747 0 EOF',
    '2: FLOCK  ADVISORY  WRITE 77 fe:00:15343747 0 EOF',
    '3: POSIX  ADVISORY  READ 5151 fe:00:15343747 0 EOF',
    '3: -> POSIX  ADVISORY  WRITE 6000 fe:00:15343747 0 EOF',
    '4: POSIX  ADVISORY  READ 9 fe:00:15343748 0 EOF',
    '5: POSIX  ADVISORY  READ 10 08:11:15343747 0 EOF',
  ].join('\n');
  assert.deepEqual(locksOn(procLocks, { major: 0xfe, minor: 0 }, 15343747n), [
    { kind: 'WRITE', pid: 4242 },
    { kind: 'READ', pid: 5151 },
  ]);
  assert.deepEqual(locksOn(procLocks, { major: 8, minor: 0x11 }, 15343747n), [{ kind: 'READ', pid: 10 }]);
});

test('a read-only run puts a COW file in front of the image; --rw attaches it as is', () => {
  assert.equal(ubdArg({ image: '/i/b.img', rw: false }, '/t/root.cow'), 'ubd0=/t/root.cow,/i/b.img');
  assert.equal(ubdArg({ image: '/i/b.img', rw: true }, '/t/root.cow'), 'ubd0=/i/b.img');
  const args = umlArgs({ mem: '256M', init: '/p/init.sh', runDir: '/r', umid: 'u', umlDir: '/d', taps: [], ubd: 'ubd0=/c,/i', extra: [] });
  assert.ok(args.includes('ubd0=/c,/i'));
  // The kernel's root stays the host: init comes from there and mounts the image itself.
  assert.ok(args.includes('rootfstype=hostfs'));
});
