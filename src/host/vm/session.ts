// One VM from boot to power-off: spawn UML with its network, stream its channels, enforce the
// boot and per-test timeouts, and say what happened. Verdicts are made by the caller.
import { createWriteStream, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { crashDetector, type CrashReport } from '../console/crash.js';
import { lineSplitter } from '../console/lines.js';
import type { Kernel } from '../kernel/locate.js';
import type { Tap } from '../net/taps.js';
import { launchUml, TAP_SETUP_FAILED, type NetMode } from './launch.js';
import { renderPlan, type PlanStep } from './plan.js';
import { LOCK_FAILED, ROOTFS_DEVICE, ubdArg, type Rootfs } from './rootfs.js';
import { cmdlineScript, commandLine, umlArgs } from './uml.js';
import { UsageError } from '../errors.js';
import { XSTATE_MISMATCH } from './xstate-shim.js';

export interface VmRequest {
  kernel: Kernel;
  /** Number of tests; test indexes run from 1 to count. */
  count: number;
  steps: PlanStep[];
  taps: Tap[];
  net: NetMode;
  mem: string;
  /** Seconds each test may run. */
  timeout: number;
  /** Per test (index - 1), seconds instead of `timeout` (a kselftest directory's settings). */
  timeouts?: (number | undefined)[] | undefined;
  cmdline: string[];
  runDir: string;
  /** Host temp dir of this VM (UML's pid file and socket; a root image's COW file). */
  umlDir: string;
  /** Where UML puts the guest's memory (its TMPDIR). */
  memoryDir: string;
  /** A shared object to preload into UML (the FPU shim, xstate-shim.ts). */
  preload?: string | undefined;
  /** Boot this image as the guest root instead of the host's. */
  rootfs?: Rootfs | undefined;
  umid: string;
  init: string;
  shell: boolean;
  /** Serve mode (net-test watch): after the steps, warm spares started with this argv (plan.ts). */
  serve?: string[] | undefined;
  failOnWarn: boolean;
  /** Guest working directory and PATH. */
  cwd: string;
  path: string;
  env: Record<string, string>;
  /** The tests' environment (--env, kselftest variables). */
  testEnv?: Record<string, string> | undefined;
  /** Host directory prepared by src/host/vm/guest-files.ts. */
  guestFiles?: string | undefined;
  /** Called with each test's output as it arrives (index is 1-based). */
  onOutput?: (index: number, chunk: string) => void;
  onConsoleLine?: (line: string) => void;
  onTestEnd?: (index: number) => void;
  /** The guest started test `index`. */
  onTestStart?: (index: number) => void;
  /**
   * Test `index` ended with `status` and its output is complete (the next test's marker came
   * on the output line). The last test of a VM is only known complete when the VM is gone.
   */
  onTestDone?: (index: number, status: number, output: string) => void;
  /** Every control line, after the session's own handling (e.g. `net-test watch`'s events). */
  onControl?: (event: string, rest: string) => void;
  /** The UML command line (environment, kernel, arguments) as one shell line, before the spawn (-v). */
  onCommand?: (line: string) => void;
  /** Once UML runs: `send` writes a line to the guest's control line (its /dev/ttyS1 input). */
  onSpawn?: (send: (line: string) => void) => void;
}

export interface Timing {
  /** Epoch ms: UML started, the kernel ran init, init finished setting up, ... */
  spawn: number;
  init?: number;
  ready?: number;
  tests: { start?: number; end?: number }[];
  done?: number;
  exit?: number;
}

export interface VmOutcome {
  timing: Timing;
  /** Exit status per test index (1-based), from status files, else the control channel. */
  statuses: Map<number, number>;
  /** The case each node test file started last (the agent's `nt:case i name`): where a hang or crash happened. */
  lastCase: Map<number, string>;
  /** Output per test index. */
  output: Map<number, string>;
  /** Test running when the VM stopped abnormally. */
  running?: number;
  crash?: CrashReport;
  warnings: string[];
  timedOut?: { phase: 'boot' | 'test' | 'poweroff'; test?: number };
  guestError?: string;
  /** The namespace/tap setup failed before UML started. */
  setupError?: string;
  /** UML could not take its lock on the root image: another run holds it. */
  rootfsLocked?: string;
  /** The kernel could not mount its hostfs root (no CONFIG_HOSTFS). */
  rootMountFailed?: boolean;
  /** The kernel's FPU buffer does not fit this CPU: it cannot run a process here (xstate-shim.ts). */
  xstateMismatch?: boolean;
  /** Writing the run directory failed (e.g. ENOSPC): what and where. */
  runDirError?: string;
  interrupted: boolean;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  consoleTail: string[];
}

/** Time the guest gets from start to init's "ready". */
export const BOOT_TIMEOUT_MS = 60_000;
/** Time UML gets to power off after the last test. */
const POWEROFF_TIMEOUT_MS = 10_000;
/** init writes "\x1ent:test <i>\n" on the output line before test i: an exact split point. */
const MARK = '\x1e';

export async function runVm(req: VmRequest, abort: AbortSignal): Promise<VmOutcome> {
  try {
    writeFileSync(
      join(req.runDir, 'plan.sh'),
      renderPlan({
        mode: req.serve ? 'serve' : req.shell ? 'shell' : 'test',
        serve: req.serve,
        hostname: 'net-test',
        cwd: req.cwd,
        path: req.path,
        moduleDir: req.kernel.moduleDir,
        rootfs: req.rootfs ? ROOTFS_DEVICE : undefined,
        rootfsRw: req.rootfs?.rw,
        rootless: req.net === 'private' && process.getuid?.() !== 0,
        steps: req.steps,
        env: req.env,
        testEnv: req.testEnv,
        guestFiles: req.guestFiles,
      }),
    );
  } catch (e) {
    throw new UsageError(`cannot write the run directory ${req.runDir}: ${(e as Error).message}: free space there or choose another --out`);
  }
  const ubd = req.rootfs ? ubdArg(req.rootfs, join(req.umlDir, 'root.cow')) : undefined;
  const args = umlArgs({ mem: req.mem, init: req.init, runDir: req.runDir, umid: req.umid, umlDir: req.umlDir, taps: req.taps, ubd, extra: req.cmdline });
  const umlEnv = { TMPDIR: req.memoryDir, LD_PRELOAD: req.preload ?? '' };
  // Kept in the run directory so the kernel can be booted by hand as net-test booted it.
  try {
    writeFileSync(join(req.runDir, 'cmdline'), cmdlineScript({ kernel: req.kernel.path, args, env: umlEnv, umlDir: req.umlDir, taps: req.taps, net: req.net }), { mode: 0o755 });
  } catch (e) {
    throw new UsageError(`cannot write the run directory ${req.runDir}: ${(e as Error).message}: free space there or choose another --out`);
  }
  req.onCommand?.(commandLine(req.kernel.path, args, umlEnv));
  const launch = launchUml({
    kernel: req.kernel.path,
    args,
    taps: req.taps,
    net: req.net,
    stdio: [req.shell ? 'inherit' : 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: { TMPDIR: req.memoryDir },
    preload: req.preload,
  });
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    launch.kill();
  };
  abort.addEventListener('abort', onAbort);
  if (abort.aborted) onAbort();

  const timing: Timing = { spawn: Date.now(), tests: Array.from({ length: req.count }, () => ({})) };
  // A full or vanished run directory must not take the runner down: say so at the end.
  let runDirError: string | undefined;
  const onWriteError = (e: Error) => {
    runDirError ??= `${(e as NodeJS.ErrnoException).code ?? e.message} writing ${(e as NodeJS.ErrnoException).path ?? req.runDir}`;
  };
  const consoleLog = createWriteStream(join(req.runDir, 'console.log')).on('error', onWriteError);
  const outputLog = createWriteStream(join(req.runDir, 'output.log')).on('error', onWriteError);
  // Each test's output on its own too, written as it comes (tail -f while it runs).
  const perTest = new Map<number, WriteStream>();
  const crash = crashDetector({ failOnWarn: req.failOnWarn });
  const statuses = new Map<number, number>();
  const lastCase = new Map<number, string>();
  const output = new Map<number, string>();
  const consoleTail: string[] = [];
  let timedOut: VmOutcome['timedOut'];
  let guestError: string | undefined;
  let rootfsLocked: string | undefined;
  let xstateMismatch = false;
  let rootMountFailed = false;
  let running: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, what: NonNullable<VmOutcome['timedOut']>) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = what;
      launch.kill();
    }, ms);
  };
  arm(BOOT_TIMEOUT_MS, { phase: 'boot' });

  const setupErr: string[] = [];
  const consoleLines = lineSplitter((line) => {
    consoleLog.write(line + '\n');
    crash.feed(line);
    const lock = LOCK_FAILED.exec(line);
    if (lock) rootfsLocked = lock[2] ? `locked by pid ${lock[2]}` : (rootfsLocked ?? 'locked');
    if (XSTATE_MISMATCH.test(line)) xstateMismatch = true;
    if (/VFS: Unable to mount root fs/.test(line)) rootMountFailed = true;
    consoleTail.push(line);
    if (consoleTail.length > 30) consoleTail.shift();
    req.onConsoleLine?.(line);
  });
  // 'close' (all pipes drained) may come in the same tick as 'exit': listen from the start.
  const closed = new Promise((r) => launch.child.once('close', r));
  const [, stdout, stderr, out, control] = launch.child.stdio;
  stdout?.on('data', (b: Buffer) => {
    consoleLines.push(b);
    if (req.shell) process.stdout.write(b);
  });
  stderr?.on('data', (b: Buffer) => {
    consoleLines.push(b);
    if (setupErr.length < 20) setupErr.push(b.toString('utf8'));
  });

  // Output: split exactly at init's markers; a marker may straddle chunks.
  let current = 0;
  let pending = '';
  const emit = (text: string) => {
    if (!text) return;
    outputLog.write(text);
    output.set(current, (output.get(current) ?? '') + text);
    if (current > 0) {
      let f = perTest.get(current);
      if (!f) perTest.set(current, (f = createWriteStream(join(req.runDir, `output-${current}.log`)).on('error', onWriteError)));
      f.write(text);
    }
    req.onOutput?.(current, text);
  };
  const outputDone = new Set<number>();
  const reported = new Set<number>();
  const maybeDone = (i: number) => {
    const st = statuses.get(i);
    if (st === undefined || !outputDone.has(i) || reported.has(i)) return;
    reported.add(i);
    req.onTestDone?.(i, st, output.get(i) ?? '');
  };
  out?.on('data', (b: Buffer) => {
    let text = pending + b.toString('utf8');
    pending = '';
    for (;;) {
      const at = text.indexOf(MARK);
      if (at < 0) break;
      emit(text.slice(0, at));
      const nl = text.indexOf('\n', at);
      if (nl < 0) {
        pending = text.slice(at);
        text = '';
        break;
      }
      const m = /^nt:test (\d+)$/.exec(text.slice(at + 1, nl).trim());
      if (m) {
        const prev = current;
        current = Number(m[1]);
        if (prev > 0) {
          outputDone.add(prev);
          maybeDone(prev);
        }
      }
      text = text.slice(nl + 1);
    }
    emit(text);
  });

  const controlLines = lineSplitter((line) => {
    const m = /^nt:(\w+)\s*(.*)$/.exec(line.trim());
    if (!m) return;
    const [, ev, rest = ''] = m;
    const now = Date.now();
    if (ev === 'init') {
      timing.init = now;
    } else if (ev === 'ready') {
      timing.ready = now;
      clearTimeout(timer);
    } else if (ev === 'start') {
      running = Number(rest);
      // A serving guest (net-test watch) numbers its tests on and on: the record grows.
      const t = running >= 1 ? (timing.tests[running - 1] ??= {}) : undefined;
      if (t) t.start = now;
      arm((req.timeouts?.[running - 1] ?? req.timeout) * 1000, { phase: 'test', test: running });
      req.onTestStart?.(running);
    } else if (ev === 'end') {
      const [i, st] = rest.split(' ').map(Number);
      if (i !== undefined && st !== undefined && Number.isFinite(st)) statuses.set(i, st);
      const t = timing.tests[(i ?? 0) - 1];
      if (t) t.end = now;
      running = undefined;
      clearTimeout(timer);
      if (i !== undefined) {
        req.onTestEnd?.(i);
        maybeDone(i);
      }
    } else if (ev === 'case') {
      const sp = rest.indexOf(' ');
      if (sp > 0) lastCase.set(Number(rest.slice(0, sp)), rest.slice(sp + 1));
    } else if (ev === 'done') {
      timing.done = now;
      arm(POWEROFF_TIMEOUT_MS, { phase: 'poweroff' });
    } else if (ev === 'error') {
      guestError = rest;
    }
    req.onControl?.(ev!, rest);
  });
  control?.on('data', (b: Buffer) => controlLines.push(b));
  // fd 4 is a socketpair: what the host writes there is the guest's ttyS1 input.
  req.onSpawn?.((line) => void (control as Duplex | null)?.write(`${line}\n`));

  let exit: VmOutcome['exit'];
  try {
    exit = await new Promise((res, rej) => {
      launch.child.once('error', rej);
      launch.child.once('exit', (code, signal) => res({ code, signal }));
    });
  } finally {
    timing.exit = Date.now();
    clearTimeout(timer);
    abort.removeEventListener('abort', onAbort);
    // UML is gone; its helpers may still hold the pipes. End the group, then drain the pipes.
    launch.kill();
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((r) => (grace = setTimeout(r, 2000)))]);
    clearTimeout(grace);
    consoleLines.end();
    controlLines.end();
    launch.cleanup();
    await Promise.all([consoleLog, outputLog, ...perTest.values()].map(endStream));
    try {
      writeFileSync(join(req.runDir, 'timing.json'), JSON.stringify(timing, null, 2) + '\n');
    } catch (e) {
      onWriteError(e as Error);
    }
  }

  // The status files are the record; the control line is the fallback.
  for (let i = 1; i <= req.count; i++) {
    try {
      const t = readFileSync(join(req.runDir, `status-${i}`), 'utf8').trim();
      if (/^\d+$/.test(t)) statuses.set(i, Number(t));
    } catch {
      // not run, or no file: keep the control channel's word
    }
  }
  const setupFailed = timing.ready === undefined && (exit.code === TAP_SETUP_FAILED || /unshare: /.test(setupErr.join('')));
  const report = crash.report();
  return {
    timing,
    statuses,
    lastCase,
    output,
    ...(running !== undefined ? { running } : {}),
    ...(report ? { crash: report } : {}),
    warnings: crash.warnings(),
    ...(timedOut ? { timedOut } : {}),
    ...(guestError ? { guestError } : {}),
    ...(rootfsLocked ? { rootfsLocked } : {}),
    ...(xstateMismatch ? { xstateMismatch } : {}),
    ...(rootMountFailed ? { rootMountFailed } : {}),
    ...(runDirError ? { runDirError } : {}),
    ...(setupFailed ? { setupError: setupErr.join('').trim() || `exit ${exit.code}` } : {}),
    interrupted,
    exit,
    consoleTail,
  };
}

/** Ends a write stream; resolves even when it failed (the error was recorded by its listener). */
const endStream = (w: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> =>
  new Promise((r) => {
    if (w.destroyed) return r();
    w.once('error', () => r());
    w.end(() => r());
  });

export const describeSetupError = (e: string): string =>
  /unshare: /.test(e)
    ? `cannot create the run's namespaces: ${e} (user namespaces disabled? see \`net-test doctor\`)`
    : `cannot create tap devices in the run's network namespace: ${e}`;

