// The FPU-state shim for UML (xstate-shim.c): needed on x86_64 CPUs with AMX, whose XSAVE area
// (11008 bytes) outgrows the fixed buffer of UML kernels before run-time sizing (6.1: 2696), so
// that such a kernel, Debian's included, kills init at its first process. The shim is compiled
// once into net-test's cache and preloaded into the UML process only (never into the guest).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../cache.js';

/** The console line of a UML kernel whose FPU buffer does not fit this CPU. */
export const XSTATE_MISMATCH = /ptrace set fp regs failed, errno = 14/;
/** Why, and what to do, after the kernel's path and release. */
export const XSTATE_MISMATCH_HELP =
  "cannot run processes on this CPU: its UML saves a fixed-size FPU state smaller than this CPU's XSAVE area (CPUs with AMX), " +
  "so init dies at its first instruction, and net-test's shim for that (src/host/vm/xstate-shim.c) could not be preloaded: " +
  'is the kernel statically linked (CONFIG_STATIC_LINK)? Build it without, or use a kernel that sizes the buffer at run time (host_fp_size)';

const SOURCE = fileURLToPath(new URL('../../../../src/host/vm/xstate-shim.c', import.meta.url));

/** True on CPUs whose XSAVE area is bigger than 6.1 UML's buffer: x86_64 with AMX. */
export function shimNeeded(cpuinfo?: string): boolean {
  if (process.arch !== 'x64') return false;
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return false;
    }
  }
  return /^flags\s*:.*\bamx_tile\b/m.test(text);
}

export type Shim = { path: string } | { error: string };

/**
 * The compiled shim, built on first use into the first writable directory of `dirs` (the
 * cache, then the run's temp directory). Named by the source's hash: a new source is a new file.
 */
export function buildShim(dirs: string[]): Shim {
  const source = readFileSync(SOURCE);
  const name = `xstate-shim-${createHash('sha256').update(source).digest('hex').slice(0, 12)}.so`;
  let why = 'no writable directory';
  for (const dir of dirs) {
    const path = join(dir, name);
    if (existsSync(path)) return { path };
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch {
      continue;
    }
    // Compiled beside and renamed: a concurrent run never preloads a half-written file.
    const tmp = `${path}.${process.pid}`;
    const cc = spawnSync(process.env.CC ?? 'gcc', ['-shared', '-fPIC', '-O2', '-o', tmp, SOURCE], { encoding: 'utf8' });
    if (cc.status === 0) {
      renameSync(tmp, path);
      return { path };
    }
    rmSync(tmp, { force: true });
    why = cc.error ? `${process.env.CC ?? 'gcc'} is not installed` : `${process.env.CC ?? 'gcc'} failed: ${(cc.stderr ?? '').trim().split('\n')[0]}`;
    if (cc.error) break;
  }
  return { error: why };
}

/**
 * Environment for starting UML by hand (benchmarks): LD_PRELOAD of the shim when this CPU needs
 * it and it can be built. A run sets it through launch.ts instead.
 */
export function shimEnv(dirs = [join(cacheDir(), 'shim')]): NodeJS.ProcessEnv {
  if (!shimNeeded()) return process.env;
  const shim = buildShim(dirs);
  return 'path' in shim ? { ...process.env, LD_PRELOAD: shim.path } : process.env;
}
