// One run: plan -> kernel -> tests -> run directory -> network + UML -> watch -> results -> cleanup.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pc from 'picocolors';
import { crashDetector, type CrashReport } from './console/crash.js';
import { lineSplitter } from './console/lines.js';
import { Exit, UsageError, type ExitCode } from './errors.js';
import { locateKernel, type Kernel } from './kernel/locate.js';
import { MAX_TAPS, planTaps } from './net/taps.js';
import { crashText, resultLine, type TestResult } from './report.js';
import { parseTap } from './results/tap.js';
import { bundleName, bundleTest, guestPath, resolveTests, type TestFile } from './tests/prepare.js';
import { launchUml, TAP_SETUP_FAILED, type NetMode } from './vm/launch.js';
import { renderPlan } from './vm/plan.js';
import { umlArgs } from './vm/uml.js';

export interface RunOptions {
  tests: string[];
  args: string[];
  kernel?: string | undefined;
  /** A kernel already resolved by the caller (e.g. just built). */
  resolvedKernel?: Kernel | undefined;
  mem: string;
  /** Seconds per test. */
  timeout: number;
  taps: number;
  hostNet: boolean;
  out?: string | undefined;
  verbose: boolean;
  quiet: boolean;
  failOnWarn: boolean;
  cmdline: string[];
  /** Open an interactive root shell after the tests (or instead of them when there are none). */
  shell: boolean;
  cwd: string;
}

/** Time the guest gets from start to init's "ready". */
const BOOT_TIMEOUT_MS = 60_000;
/** Time UML gets to power off after the last test. */
const POWEROFF_TIMEOUT_MS = 10_000;
const TAP_HEADER = /^\s*(K?TAP version \d+|1\.\.\d+)\s*$/m;
const INIT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/guest/init.sh');

export interface Timing {
  /** Epoch ms: UML started, the kernel ran init, init finished setting up, ... */
  spawn: number;
  init?: number;
  ready?: number;
  tests: { start?: number; end?: number }[];
  done?: number;
  exit?: number;
}

function validate(o: RunOptions): void {
  if (!Number.isInteger(o.taps) || o.taps < 0 || o.taps > MAX_TAPS) throw new UsageError(`--taps must be an integer from 0 to ${MAX_TAPS}, got ${o.taps}`);
  if (!Number.isFinite(o.timeout) || o.timeout <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got ${o.timeout}`);
  if (!/^\d+[KMG]?$/i.test(o.mem)) throw new UsageError(`--mem must look like 512M or 2G, got ${o.mem}`);
  if (o.shell && !process.stdin.isTTY) throw new UsageError('a shell needs a terminal on stdin (run it from an interactive terminal)');
  if (o.taps > 0 && !o.hostNet && process.getuid?.() !== 0) {
    try {
      accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    } catch {
      throw new UsageError('/dev/net/tun is not readable and writable for you: run `sudo chmod 0666 /dev/net/tun`, run as root, or use --taps 0');
    }
  }
  if (o.out && existsSync(o.out) && !statSync(o.out).isDirectory()) throw new UsageError(`--out ${o.out} exists and is not a directory`);
}

export async function run(o: RunOptions): Promise<ExitCode | 130> {
  validate(o);
  const tests: TestFile[] = o.shell && o.tests.length === 0 ? [] : resolveTests(o.tests, o.cwd);
  const kernel = o.resolvedKernel ?? locateKernel({ kernel: o.kernel, cwd: o.cwd });
  const taps = planTaps(o.taps);
  const net: NetMode = o.hostNet ? 'host' : 'private';

  const tmp = mkdtempSync(join(tmpdir(), 'net-test-'));
  const runDir = o.out ? resolve(o.cwd, o.out) : join(tmp, 'run');
  const umlDir = join(tmp, 'uml');
  mkdirSync(runDir, { recursive: true });
  mkdirSync(umlDir);
  const stopSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let interrupted: NodeJS.Signals | undefined;
  let onSignal: ((s: NodeJS.Signals) => void) | undefined;
  const ttyState = o.shell ? spawnSync('stty', ['-g'], { stdio: ['inherit', 'pipe', 'ignore'], encoding: 'utf8' }).stdout?.trim() : undefined;
  try {
    // --- Tests and plan into the run directory.
    const argvs: string[][] = [];
    for (const [i, t] of tests.entries()) {
      if (t.kind === 'exec') {
        argvs.push([guestPath(t.path), ...o.args]);
        continue;
      }
      const bundle = bundleName(i + 1, t);
      await bundleTest(t, join(runDir, bundle));
      argvs.push([
        guestPath(process.execPath),
        '--enable-source-maps',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=/run/net-test/results-${i + 1}.tap`,
        `/run/net-test/${bundle}`,
        ...o.args,
      ]);
    }
    const color = process.stdout.isTTY && !o.quiet;
    writeFileSync(
      join(runDir, 'plan.sh'),
      renderPlan({
        mode: o.shell ? 'shell' : 'test',
        hostname: 'net-test',
        cwd: guestPath(o.cwd),
        path: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        moduleDir: kernel.moduleDir,
        rootless: net === 'private' && process.getuid?.() !== 0,
        tests: argvs,
        env: { TERM: color || o.shell ? (process.env.TERM ?? 'linux') : 'dumb', ...(color ? { FORCE_COLOR: '1' } : {}) },
      }),
    );
    writeFileSync(join(runDir, 'seed'), randomBytes(512));
    if (o.verbose) {
      process.stderr.write(
        pc.dim(`net-test: kernel ${kernel.path} (${kernel.release}, ${kernel.source}); run dir ${runDir}; taps ${taps.map((t) => t.name).join(' ') || 'none'} (${net === 'host' ? 'host namespace' : 'private namespace'})\n`),
      );
    }

    // --- Boot.
    const args = umlArgs({ mem: o.mem, init: INIT, runDir, umid: `net-test-${process.pid}`, umlDir, taps, extra: o.cmdline });
    const launch = launchUml({ kernel: kernel.path, args, taps, net, stdio: [o.shell ? 'inherit' : 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
    onSignal = (s) => {
      interrupted = s;
      launch.kill();
    };
    for (const s of stopSignals) process.on(s, onSignal);

    const timing: Timing = { spawn: Date.now(), tests: tests.map(() => ({})) };
    const consoleLog = createWriteStream(join(runDir, 'console.log'));
    const outputLog = createWriteStream(join(runDir, 'output.log'));
    const crash = crashDetector({ failOnWarn: o.failOnWarn });
    const ends = new Map<number, number>();
    let timedOut: { test?: number; phase: 'boot' | 'test' | 'poweroff' } | undefined;
    let guestError: string | undefined;
    let running: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number, what: NonNullable<typeof timedOut>) => {
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
      if (timing.init === undefined && /^Run \S+ as init process/.test(line)) timing.init = Date.now();
      if (o.verbose && !o.shell) process.stderr.write(pc.dim(line) + '\n');
    });
    const [, stdout, stderr, output, control] = launch.child.stdio;
    stdout?.on('data', (b: Buffer) => {
      consoleLines.push(b);
      if (o.shell) process.stdout.write(b);
    });
    stderr?.on('data', (b: Buffer) => {
      consoleLines.push(b);
      if (setupErr.length < 20) setupErr.push(b.toString('utf8'));
    });
    output?.on('data', (b: Buffer) => {
      outputLog.write(b);
      if (!o.quiet) process.stdout.write(b);
    });
    const controlLines = lineSplitter((line) => {
      const m = /^nt:(\w+)\s*(.*)$/.exec(line.trim());
      if (!m) return;
      const [, ev, rest = ''] = m;
      const now = Date.now();
      if (ev === 'ready') {
        timing.ready = now;
        clearTimeout(timer);
      } else if (ev === 'start') {
        running = Number(rest);
        const t = timing.tests[running - 1];
        if (t) t.start = now;
        arm(o.timeout * 1000, { phase: 'test', test: running });
      } else if (ev === 'end') {
        const [i, st] = rest.split(' ').map(Number);
        if (i !== undefined && st !== undefined) ends.set(i, st);
        const t = timing.tests[(i ?? 0) - 1];
        if (t) t.end = now;
        running = undefined;
        clearTimeout(timer);
      } else if (ev === 'done') {
        timing.done = now;
        arm(POWEROFF_TIMEOUT_MS, { phase: 'poweroff' });
      } else if (ev === 'error') {
        guestError = rest;
      }
    });
    control?.on('data', (b: Buffer) => controlLines.push(b));

    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res, rej) => {
      launch.child.once('error', (e) => rej(new UsageError(`cannot start ${kernel.path}: ${e.message}`)));
      launch.child.once('exit', (code, signal) => res({ code, signal }));
    });
    timing.exit = Date.now();
    clearTimeout(timer);
    // UML is gone; its helpers may still hold the pipes. End the group, then drain the pipes.
    launch.kill();
    await Promise.race([
      new Promise((r) => launch.child.once('close', r)),
      new Promise((r) => setTimeout(r, 2000)),
    ]);
    consoleLines.end();
    controlLines.end();
    launch.cleanup();
    await Promise.all([new Promise((r) => consoleLog.end(r)), new Promise((r) => outputLog.end(r))]);
    writeFileSync(join(runDir, 'timing.json'), JSON.stringify(timing, null, 2) + '\n');

    if (interrupted) {
      process.stderr.write(`net-test: interrupted (${interrupted}); VM stopped\n`);
      return 130;
    }
    if (exit.code === TAP_SETUP_FAILED && timing.ready === undefined) {
      throw new UsageError(`cannot create tap devices in the run's network namespace: ${setupErr.join('').trim()}`);
    }
    if (timing.ready === undefined && /unshare: /.test(setupErr.join(''))) {
      throw new UsageError(`cannot create the run's namespaces: ${setupErr.join('').trim()} (user namespaces disabled? see \`net-test doctor\`)`);
    }

    // --- Verdicts.
    const report = crash.report();
    const results: TestResult[] = tests.map((t, idx) => {
      const i = idx + 1;
      const st = readStatus(runDir, i) ?? ends.get(i);
      const tt = timing.tests[idx]!;
      const durationMs = tt.start !== undefined && tt.end !== undefined ? tt.end - tt.start : undefined;
      // Executables count as TAP producers only when they say so (a plan or a version line).
      const tap = t.kind === 'node' ? readText(join(runDir, `results-${i}.tap`)) : readText(join(runDir, 'output.log'), tests.length === 1);
      const cases = tap && (t.kind === 'node' || TAP_HEADER.test(tap)) ? parseTap(tap) : [];
      const base = { display: t.display, cases, ...(durationMs !== undefined ? { durationMs } : {}) };
      if (st !== undefined) return { ...base, verdict: st === 0 ? 'pass' : 'fail', exitStatus: st };
      if (report && (running === i || tt.start !== undefined)) return { ...base, verdict: 'crash' };
      if (timedOut?.test === i) return { ...base, verdict: 'timeout', durationMs: o.timeout * 1000 };
      return { ...base, verdict: 'notrun' };
    });

    let code: ExitCode = Exit.pass;
    if (results.some((r) => r.verdict === 'fail')) code = Exit.fail;
    const lines: string[] = [];
    for (const r of results) lines.push(resultLine(r));
    for (const w of crash.warnings().slice(0, 3)) lines.push(pc.yellow(`kernel warning (not fatal without --fail-on-warn): ${w}`));
    const keep = o.out ? ` (full log: ${join(runDir, 'console.log')})` : ' (keep the full console log with --out DIR)';
    if (report) {
      code = Exit.crash;
      lines.push(crashText(report as CrashReport) + '\n' + pc.dim(`console log${keep}`));
    } else if (timedOut) {
      // A slow power-off after the last test is not the tests' fault: their verdicts stand.
      if (timedOut.phase === 'boot') {
        code = Exit.infra;
        lines.push(pc.red(`the guest did not come up within ${BOOT_TIMEOUT_MS / 1000} s; VM killed`) + pc.dim(keep));
      } else if (timedOut.phase === 'test') {
        code = Exit.timeout;
        lines.push(pc.red(`timeout: ${tests[timedOut.test! - 1]?.display} ran longer than ${o.timeout} s; VM killed`));
      }
    } else if (guestError) {
      code = Exit.infra;
      lines.push(pc.red(`guest init failed: ${guestError}`) + pc.dim(keep));
    } else if (results.some((r) => r.verdict === 'notrun') || (timing.ready === undefined && !o.shell)) {
      code = Exit.infra;
      const tail = readText(join(runDir, 'console.log'))?.trimEnd().split('\n').slice(-15).join('\n  ') ?? '';
      lines.push(pc.red(`the guest stopped before reporting (UML exit ${exit.code ?? exit.signal}); last console lines:\n  ${tail}`) + pc.dim(`\n${keep}`));
    }
    if (!o.shell || tests.length > 0) process.stdout.write(lines.join('\n') + '\n');
    return code;
  } finally {
    if (onSignal) for (const s of stopSignals) process.off(s, onSignal);
    if (ttyState) spawnSync('stty', [ttyState], { stdio: ['inherit', 'ignore', 'ignore'] });
    rmSync(tmp, { recursive: true, force: true });
  }
}

function readText(path: string, cond = true): string | undefined {
  if (!cond) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readStatus(runDir: string, i: number): number | undefined {
  const t = readText(join(runDir, `status-${i}`))?.trim();
  return t && /^\d+$/.test(t) ? Number(t) : undefined;
}

