// Runs the real `net-test` CLI as a child process and checks that it left nothing behind.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = join(ROOT, 'test/fixtures');
export const CLI = join(ROOT, 'bin/net-test.js');

/** The kernel src/host/kernel/ci-kernel.sh builds from linux-source-6.1 (CI exports its path). */
export const BUILT_KERNEL = process.env.NET_TEST_KERNEL ?? '/var/cache/net-test/build-6.1/linux';

/** [name, path, skip reason or false]: the two kernels the library and the suite must pass on. */
export const KERNELS: [string, string, string | false][] = [
  ['distribution UML kernel', '/usr/bin/linux.uml', existsSync('/usr/bin/linux.uml') ? false : 'user-mode-linux is not installed'],
  ['kernel built from linux-source-6.1', BUILT_KERNEL, existsSync(BUILT_KERNEL) ? false : `no built kernel at ${BUILT_KERNEL}`],
];

/** The root filesystem image CI builds with `net-test rootfs build` (CI exports its path). */
export const ROOTFS_IMAGE = process.env.NET_TEST_ROOTFS ?? '/var/cache/net-test/rootfs/ci.img';

/** [name, run arguments, skip reason or false]: the guest roots the runner must work on. */
export const ROOTS: [string, string[], string | false][] = [
  ['host root', [], false],
  ['image root', ['--rootfs', ROOTFS_IMAGE], existsSync(ROOTFS_IMAGE) ? false : `no image at ${ROOTFS_IMAGE} (net-test rootfs build ${ROOTFS_IMAGE} builds it)`],
];

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  pid: number;
  /** The TMPDIR the run used; empty afterwards unless something leaked. */
  tmp: string;
}

export interface CliOptions {
  cwd?: string;
  /** A command the CLI runs under (e.g. unshare to change its mounts): argv before `node CLI`. */
  wrap?: string[];
  /** Use this TMPDIR instead of a fresh one (e.g. to see a run clean up after a dead one). */
  tmp?: string;
  /** Run as this user (via runuser) instead of the current one. */
  user?: string;
  env?: Record<string, string>;
  /** Called once the process started, with its pid. */
  onSpawn?: (pid: number) => void;
  /** The net-test script to run (default: this checkout's bin/net-test.js). */
  cli?: string;
}

// A failed assertion skips assertNothingLeft's removal: remove every run's TMPDIR at exit too.
const tmpDirs = new Set<string>();
process.on('exit', () => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

export async function netTest(args: string[], o: CliOptions = {}): Promise<CliResult> {
  const tmp = o.tmp ?? mkdtempSync('/var/tmp/net-test-itest-');
  tmpDirs.add(tmp);
  if (o.user) spawnSync('chown', [o.user, tmp]);
  // The project's own failing runs are not kept: they would push a user's out of the cache.
  const env = { ...process.env, TMPDIR: tmp, NO_COLOR: '1', NET_TEST_KEEP_FAILED: '0', ...o.env };
  const line = [
    ...(o.wrap ?? []),
    ...(o.user ? ['runuser', '-u', o.user, '--', 'env', `TMPDIR=${tmp}`, 'NO_COLOR=1'] : []),
    process.execPath,
    o.cli ?? CLI,
    ...args,
  ];
  const child = spawn(line[0]!, line.slice(1), { cwd: o.cwd ?? join(FIXTURES, 'runner'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  o.onSpawn?.(child.pid!);
  const status = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return { status, stdout, stderr, pid: child.pid!, tmp };
}

/**
 * Runs `net-test ARGS` on a pseudo-terminal (script(1)), as an interactive `shell` needs, and
 * types `input` once the guest's root shell announces itself. Checks afterwards that no UML
 * process of the run is left and that its TMPDIR is empty.
 */
export async function netTestOnPty(args: string[], input: string, cwd: string): Promise<{ status: number | null; out: string }> {
  const tmp = mkdtempSync('/var/tmp/net-test-itest-');
  tmpDirs.add(tmp);
  const cmd = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd, env: { ...process.env, TMPDIR: tmp, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let typed = false;
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (!typed && out.includes('root shell in the guest')) {
      typed = true;
      child.stdin.write(input);
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const status = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(killer);
  // UML's uml_dir is under the run's TMPDIR: a process naming it is a leftover.
  assert.equal(spawnSync('pgrep', ['-f', `uml_dir=${tmp}`]).status, 1, 'UML processes left running');
  assert.deepEqual(readdirSync(tmp), [], `temp files left in ${tmp}`);
  rmSync(tmp, { recursive: true, force: true });
  return { status, out };
}

/** UML processes of one run: their command line names the run's umid (net-test-<pid>-<vm>). */
export function umlProcesses(runPid: number): number[] {
  const r = spawnSync('pgrep', ['-f', `umid=net-test-${runPid}-[0-9]+( |$)`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/** Asserts the run left no process, temp directory or host-side tap behind, then removes its TMPDIR. */
export function assertNothingLeft(r: CliResult, tapPrefix = 'rootTAP'): void {
  assert.deepEqual(umlProcesses(r.pid), [], 'UML processes left running');
  assert.deepEqual(readdirSync(r.tmp), [], `temp files left in ${r.tmp}`);
  const taps = spawnSync('ip', ['-o', 'link', 'show', 'type', 'tun'], { encoding: 'utf8' }).stdout;
  assert.ok(!taps.includes(tapPrefix), `tap devices left in the host namespace:\n${taps}`);
  rmSync(r.tmp, { recursive: true, force: true });
}

/** Polls `cond` every 20 ms until it holds (true) or `ms` pass (false). */
export async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The network namespace of a process, as `net:[inode]`; undefined when it is gone. */
export function netnsOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** Processes still in network namespace `ns` (a namespace lives while one does). */
export function netnsMembers(ns: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => netnsOf(pid) === ns);
}
