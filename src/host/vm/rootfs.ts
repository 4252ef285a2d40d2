// A root filesystem image for the guest (`run --rootfs IMG`): checked on the host before boot,
// attached as UML's first block device (ubd0), mounted by init as the guest's root.
//
// Read-only runs give UML a per-run copy-on-write file in front of the image (`ubd0=COW,IMG`):
// UML opens the image O_RDONLY and writes go to the COW file, which is deleted with the run.
// `--rw` attaches the image itself. UML takes POSIX locks on what it opens (arch/um/drivers/
// ubd_kern.c: a read lock on a backing file, a write lock on a writable one), so a --rw run and
// any other run on the same image exclude each other; we look at /proc/locks first to say so
// in one line instead of a failed boot.
import { closeSync, constants, accessSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';

export interface Rootfs {
  /** Absolute path of the image. */
  image: string;
  /** Write through to the image (no copy-on-write layer). */
  rw: boolean;
}

/** Guest block device of ubd0, which init mounts as the root. */
export const ROOTFS_DEVICE = '/dev/ubda';

// fs/ext4/ext4.h: struct ext4_super_block, at byte 1024 of the device.
const SB_OFFSET = 1024;
const EXT_MAGIC = 0xef53;
const FIX = 'rebuild it with `net-test rootfs build`';

/** What is wrong with the file as an ext2/3/4 image, or undefined when it looks whole. */
export function imageProblem(sb: Buffer, fileSize: number): string | undefined {
  if (sb.length < 0x154 || sb.readUInt16LE(0x38) !== EXT_MAGIC) return 'is not an ext2/3/4 filesystem image (no superblock magic)';
  const logBlock = sb.readUInt32LE(0x18);
  if (logBlock > 6) return `has a corrupt superblock (block size 2^${10 + logBlock})`;
  const blockSize = 1024 << logBlock;
  // s_blocks_count_hi counts only with the 64bit incompat feature (EXT4_FEATURE_INCOMPAT_64BIT).
  const is64 = (sb.readUInt32LE(0x60) & 0x80) !== 0;
  const blocks = sb.readUInt32LE(0x4) + (is64 ? sb.readUInt32LE(0x150) * 2 ** 32 : 0);
  if (blocks === 0) return 'has a corrupt superblock (0 blocks)';
  if (blocks * blockSize > fileSize) return `is truncated: the filesystem has ${blocks * blockSize} bytes, the file ${fileSize}`;
  return undefined;
}

/** POSIX locks held on a file, from /proc/locks ("1: POSIX ADVISORY WRITE 1234 fd:01:5678 0 EOF"). */
export function locksOn(procLocks: string, dev: { major: number; minor: number }, ino: bigint): { kind: 'READ' | 'WRITE'; pid: number }[] {
  const id = `${dev.major.toString(16).padStart(2, '0')}:${dev.minor.toString(16).padStart(2, '0')}:${ino}`;
  const out: { kind: 'READ' | 'WRITE'; pid: number }[] = [];
  for (const line of procLocks.split('\n')) {
    const f = line.trim().split(/\s+/);
    // Waiters are listed as "N: -> POSIX ...": they hold nothing yet.
    if (f[1] === '->' || f[1] !== 'POSIX') continue;
    if (f[5] === id && (f[3] === 'READ' || f[3] === 'WRITE')) out.push({ kind: f[3], pid: Number(f[4]) });
  }
  return out;
}

// glibc's gnu_dev_major/minor on a 64-bit dev_t.
const major = (d: bigint) => Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
const minor = (d: bigint) => Number((d & 0xffn) | ((d >> 12n) & ~0xffn));

/** Checks an image before boot; every problem is a UsageError (exit 2) that says how to fix it. */
export function checkRootfs(path: string, rw: boolean, cwd: string): Rootfs {
  const image = resolve(cwd, path);
  // UML splits ubd0=COW,IMAGE at ',' and ':'.
  if (/[,:]/.test(image)) throw new UsageError(`--rootfs ${path}: UML cannot take a path with ',' or ':' in it: move or link the image`);
  let st;
  try {
    st = statSync(image, { bigint: true });
  } catch {
    throw new UsageError(`--rootfs ${path}: no such file (build one with \`net-test rootfs build ${path}\`)`);
  }
  if (!st.isFile()) throw new UsageError(`--rootfs ${path}: not a regular file (give the image file built by \`net-test rootfs build\`)`);
  try {
    accessSync(image, rw ? constants.R_OK | constants.W_OK : constants.R_OK);
  } catch {
    throw new UsageError(`--rootfs ${path}: not ${rw ? 'readable and writable (--rw writes to the image)' : 'readable'} for you: check its permissions`);
  }
  const sb = Buffer.alloc(0x400);
  const fd = openSync(image, 'r');
  try {
    readSync(fd, sb, 0, sb.length, SB_OFFSET);
  } finally {
    closeSync(fd);
  }
  const problem = imageProblem(sb, Number(st.size));
  if (problem) throw new UsageError(`--rootfs ${path} ${problem}: ${FIX}`);
  let procLocks = '';
  try {
    procLocks = readFileSync('/proc/locks', 'utf8');
  } catch {
    // no /proc/locks: UML's own lock still refuses, reported from the console
  }
  const held = locksOn(procLocks, { major: major(st.dev), minor: minor(st.dev) }, st.ino);
  const writer = held.find((l) => l.kind === 'WRITE');
  if (writer) throw new UsageError(`--rootfs ${path} is in use by a --rw run (pid ${writer.pid}): wait for it to finish`);
  if (rw && held.length > 0) {
    throw new UsageError(`--rootfs ${path} is in use by another run (pid ${held[0]!.pid}): --rw needs the image to itself; wait for that run to finish`);
  }
  return { image, rw };
}

/** UML's ubd0 argument: the image behind a fresh COW file, or the image itself with --rw. */
export function ubdArg(r: Rootfs, cowFile: string): string {
  return r.rw ? `ubd0=${r.image}` : `ubd0=${cowFile},${r.image}`;
}

/** A console line saying UML could not lock the image (another run took it since our check). */
export const LOCK_FAILED = /Failed to lock '([^']*)'|F_SETLK failed, file already locked by pid (\d+)/;
