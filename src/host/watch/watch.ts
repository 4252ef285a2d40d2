// `net-test watch`: boot once, run the tests, then re-run each file when it or anything it
// imports changes, in the running VM. The guest keeps a warm spare Node (src/guest/agent.ts
// --serve) that takes one command and exits, so every re-run starts from a fresh process, a
// fresh network namespace and fresh /tmp, /etc, /var, /root layers; init starts the next spare
// while the user edits. A crash or hang is reported as `net-test run` reports it, and the VM is
// booted again; so it is when the kernel binary changes.
import { randomBytes } from 'node:crypto';
import { fstatSync, mkdirSync, readFileSync, rmSync, statSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pc from 'picocolors';
import { crashDetector, type CrashReport } from '../console/crash.js';
import { cacheDir } from '../cache.js';
import { Exit, UsageError, type ExitCode } from '../errors.js';
import { memoryDir, parseMem, requireRunnable } from '../prereqs.js';
import { createRunTemp, sweepDeadRuns } from '../run-dirs.js';
import { buildShim, shimNeeded, XSTATE_MISMATCH_HELP } from '../vm/xstate-shim.js';
import { locateKernel, probeKernel, type Kernel } from '../kernel/locate.js';
import { chooseTimeTravel } from '../kernel/time-travel.js';
import type { NetMode } from '../vm/launch.js';
import { planTaps, tapPrefix } from '../net/taps.js';
import { validateVm, type ReportOptions, type SelectOptions, type VmOptions } from '../options.js';
import { crashText, outputExcerpt, resultLine } from '../report/terminal.js';
import { exitCode, type FileResult } from '../results/model.js';
import type { TestCase } from '../results/tap.js';
import { discoverTests } from '../prepare/discover.js';
import { AGENT_REPORTER, bundleAgent, guestPath, resolveTests, stopBundler, type TestFile } from '../prepare/bundle.js';
import { SERVE_K } from '../vm/plan.js';
import { checkRootfs } from '../vm/rootfs.js';
import { BOOT_TIMEOUT_MS, describeSetupError, runVm, type VmOutcome } from '../vm/session.js';
import { bundler, watchFiles, type Bundler } from './inputs.js';
import { execCases, fileVerdict, type Evidence } from '../results/verdict.js';

/** A crash's detail line in watch, where the VM is rebooted after it. */
const CRASH_DETAIL = 'the kernel crashed while this test ran; the VM is rebooted';

/** What watch boots and shows: run's VM options, its test selection's basics, its output's. */
export type WatchOptions = VmOptions &
  Pick<SelectOptions, 'tests' | 'args' | 'cwd'> &
  Pick<ReportOptions, 'verbose' | 'quiet'> & {
    /** Keys (Enter, q) come from here; default process.stdin. */
    input?: NodeJS.ReadStream | undefined;
  };

const INIT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../src/guest/init.sh');
/** Quiet time after a change event before re-running: an editor's save is several events. */
const DEBOUNCE_MS = 30;
/** Boots in a row that die before the guest is ready: then it is not going to work. */
const MAX_FAILED_BOOTS = 2;

interface Entry {
  test: TestFile;
  bundler?: Bundler;
  /** The current bundle (node tests), or the last bundling error. */
  bundle?: string;
  error?: string;
  /** Files whose change re-runs this entry (absolute host paths). */
  inputs: Set<string>;
  last?: FileResult;
}

interface InFlight {
  n: number;
  /** Spare that took it. */
  k: number;
  files: { index: number; entry: Entry; done?: boolean }[];
}

interface Vm {
  gen: number;
  runDir: string;
  kernel: Kernel;
  abort: AbortController;
  send?: (line: string) => void;
  /** The spare waiting for a command, if any. */
  idle?: number;
  inflight?: InFlight;
  output: Map<number, string>;
  start: Map<number, number>;
  end: Map<number, number>;
  crash: ReturnType<typeof crashDetector>;
  /** The test running when the console showed a crash report (0: none was running). */
  crashedIn?: number;
  running?: number;
  done: Promise<void>;
  /** Why it is being stopped on purpose, if it is. */
  stopping?: 'quit' | 'reboot';
}

export async function watch(o: WatchOptions): Promise<ExitCode | 130> {
  validateVm(o);
  const memBytes = parseMem(o.mem)!;
  const tests = resolveTests(discoverTests(o.tests, o.cwd), o.cwd);
  let kernel = o.resolvedKernel ?? locateKernel({ kernel: o.kernel, cwd: o.cwd });
  const rootfs = o.rootfs !== undefined ? checkRootfs(o.rootfs, false, o.cwd) : undefined;
  const net: NetMode = o.hostNet ? 'host' : 'private';
  const out = process.stdout;
  const say = (text: string) => out.write(text + '\n');
  const color = out.isTTY === true;

  // The run's temp directory as `run` makes it: dead runs' leftovers go first, and this one
  // goes even when the process ends without reaching `finally`.
  sweepDeadRuns();
  const tmp = createRunTemp();
  const removeTmp = () => rmSync(tmp, { recursive: true, force: true });
  process.once('exit', removeTmp);
  let preload: string | undefined;
  try {
    const shimDirs = [join(cacheDir(), 'shim'), tmp];
    requireRunnable({ kernel, imageRoot: rootfs !== undefined, taps: o.taps, hostNet: o.hostNet === true, memBytes, vms: 1, shimDirs });
    preload = shimNeeded() ? (buildShim(shimDirs) as { path: string }).path : undefined;
  } catch (e) {
    removeTmp();
    process.off('exit', removeTmp);
    throw e;
  }
  const memDir = memoryDir();
  const bundles = join(tmp, 'bundles');
  mkdirSync(bundles);
  const entries: Entry[] = tests.map((test, i) => ({
    test,
    inputs: new Set([test.path]),
    ...(test.kind === 'node' ? { bundler: bundler(test.path, test.display, join(bundles, `test-${i + 1}-${basename(test.path).replace(/\.[^.]+$/, '')}`), o.cwd) } : {}),
  }));
  const watcher = watchFiles((p) => changed(p));
  const stale: string[] = [];

  let vm: Vm | undefined;
  let gen = 0;
  let failedBoots = 0;
  let nextIndex = 1;
  let nextRun = 1;
  const pending = new Set<Entry>();
  const changedPaths = new Set<string>();
  let debounce: NodeJS.Timeout | undefined;
  let rebundling: Promise<void> = Promise.resolve();
  let finish!: (code: ExitCode | 130) => void;
  const finished = new Promise<ExitCode | 130>((r) => (finish = r));
  let stopping = false;
  let fatal: ExitCode | undefined;

  // --- Bundles: every node test once now; later only what a change touched.
  const rebundle = async (list: Entry[]): Promise<void> => {
    for (const e of list) {
      if (!e.bundler) continue;
      const r = await e.bundler.build();
      if ('error' in r) {
        e.error = r.error.message;
        continue;
      }
      if (e.bundle) stale.push(e.bundle);
      e.bundle = r.file;
      delete e.error;
      e.inputs = new Set([e.test.path, ...r.inputs]);
    }
    watcher.set(entries.flatMap((e) => [...e.inputs]));
  };
  const agent = join(bundles, 'agent.mjs');
  try {
    if (entries.some((e) => e.bundler)) await bundleAgent(agent);
    await rebundle(entries);
    for (const e of entries) if (e.error) throw new UsageError(e.error);
  } catch (e) {
    // A test that does not compile: exit 2 before anything boots, and nothing left behind.
    watcher.close();
    for (const x of entries) await x.bundler?.dispose();
    await stopBundler();
    removeTmp();
    process.off('exit', removeTmp);
    throw e;
  }

  // --- The spare's command line; SERVE_K becomes its number (init counts them).
  const node = rootfs ? ['node'] : [guestPath(process.execPath), '--disable-warning=MaxListenersExceededWarning'];
  const serve = [
    // Its own mount, UTS and IPC namespaces: what a run changes there goes with the spare.
    'unshare', '--mount', '--propagation', 'private', '--uts', '--ipc', '--',
    ...node,
    '--enable-source-maps',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    `--test-reporter=${guestPath(AGENT_REPORTER)}`, '--test-reporter-destination=/dev/null',
    guestPath(agent), '--serve', SERVE_K,
  ];

  const cleanStale = () => {
    if (vm?.inflight) return;
    for (const f of stale.splice(0)) rmSync(f, { force: true });
  };

  // --- One VM generation: boot, serve commands, end (on purpose or not).
  const boot = (): void => {
    const g = ++gen;
    const runDir = join(tmp, `vm-${g}`);
    const umlDir = join(tmp, `uml-${g}`);
    mkdirSync(runDir);
    mkdirSync(umlDir);
    writeFileSync(join(runDir, 'seed'), randomBytes(512));
    nextIndex = 1;
    const tt = chooseTimeTravel({ kernel: kernel.path, want: o.timeTravel, cmdline: o.cmdline, interactive: true, hostNet: o.hostNet === true });
    const v: Vm = {
      gen: g,
      runDir,
      kernel,
      abort: new AbortController(),
      output: new Map(),
      start: new Map(),
      end: new Map(),
      crash: crashDetector({ failOnWarn: o.failOnWarn === true }),
      done: Promise.resolve(),
    };
    vm = v;
    if (o.verbose) process.stderr.write(pc.dim(`net-test: VM ${g}: kernel ${kernel.path} (${kernel.release}); time-travel ${tt.on ? 'on' : 'off'} (${tt.why}); run dir ${runDir}\n`));
    v.done = runVm(
      {
        kernel,
        count: 0,
        steps: [],
        serve,
        taps: planTaps(o.taps, tapPrefix()),
        net,
        mem: o.mem,
        timeout: o.timeout,
        cmdline: [...tt.args, ...o.cmdline],
        runDir,
        umlDir,
        memoryDir: memDir,
        preload,
        rootfs,
        umid: `net-test-${process.pid}-${g}`,
        init: INIT,
        shell: false,
        failOnWarn: o.failOnWarn === true,
        cwd: guestPath(o.cwd),
        path: rootfs ? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' : (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'),
        env: { TERM: color ? (process.env.TERM ?? 'linux') : 'dumb', ...(color ? { FORCE_COLOR: '1' } : {}) },
        onSpawn: (send) => (v.send = send),
        ...(o.verbose ? { onCommand: (line: string) => process.stderr.write(pc.dim(`net-test: VM ${g}: ${line}`) + '\n') } : {}),
        onOutput: (i, chunk) => {
          v.output.set(i, (v.output.get(i) ?? '') + chunk);
          if (!o.quiet && i > 0) out.write(chunk);
        },
        onConsoleLine: (line) => {
          v.crash.feed(line);
          if (v.crashedIn === undefined && v.crash.report()) v.crashedIn = v.running ?? 0;
          if (o.verbose) process.stderr.write(pc.dim(`[vm${g}] ${line}`) + '\n');
        },
        onControl: (ev, rest) => {
          const now = Date.now();
          if (ev === 'idle') {
            v.idle = Number(rest);
            failedBoots = 0;
            if (v.idle === 1 && g > 1) say(pc.dim(`a fresh VM is up (VM ${g})`));
            dispatch();
            if (v.idle === 1 && g > 1 && !v.inflight) waiting();
          } else if (ev === 'start') {
            v.start.set(Number(rest), now);
            v.running = Number(rest);
          } else if (ev === 'end') {
            v.end.set(Number(rest.split(' ')[0]), now);
            v.running = undefined;
            ended(v, Number(rest.split(' ')[0]));
          } else if (ev === 'reset' || ev === 'reset-failed') {
            say(pc.dim(ev === 'reset' ? `reset sysctl ${rest} (the last run changed it)` : `cannot reset sysctl ${rest}: it stays as the last run left it`));
          } else if (ev === 'served') {
            served(v, Number(rest.split(' ')[1]));
          }
        },
      },
      v.abort.signal,
    ).then(
      (outcome) => vmEnded(v, outcome),
      (e: unknown) => {
        say(pc.red(`net-test: cannot start the VM: ${e instanceof Error ? e.message : String(e)}`));
        stop(Exit.infra);
      },
    );
  };

  // --- Commands: everything pending goes to the waiting spare, in the order given.
  const dispatch = (): void => {
    const v = vm;
    if (stopping || !v || v.idle === undefined || v.inflight || !v.send || pending.size === 0) return;
    const list = entries.filter((e) => pending.has(e));
    pending.clear();
    const files: InFlight['files'] = [];
    const plan: { index: number; display: string; path?: string; argv?: string[]; args: string[] }[] = [];
    for (const e of list) {
      if (e.error) {
        report({ index: 0, entry: e }, { display: e.test.display, verdict: 'fail', cases: [], output: '', attempts: 1, detail: e.error });
        continue;
      }
      const index = nextIndex++;
      files.push({ index, entry: e });
      plan.push({ index, display: e.test.display, args: o.args, ...(e.test.kind === 'node' ? { path: guestPath(e.bundle!) } : { argv: [guestPath(e.test.path)] }) });
    }
    if (files.length === 0) return;
    const n = nextRun++;
    writeFileSync(join(v.runDir, `watch-${n}.json`), JSON.stringify(plan));
    v.inflight = { n, k: v.idle, files };
    v.idle = undefined;
    say(pc.dim(`── run ${n}: ${files.map((f) => f.entry.test.display).join(', ')}`));
    v.send(`run ${n}`);
  };

  const evidence = (v: Vm, f: InFlight['files'][number]): Evidence => {
    let status: number | undefined;
    let cases: TestCase[] | undefined;
    try {
      const t = readFileSync(join(v.runDir, `status-${f.index}`), 'utf8').trim();
      if (/^\d+$/.test(t)) status = Number(t);
      cases = JSON.parse(readFileSync(join(v.runDir, `cases-${f.index}.json`), 'utf8')) as TestCase[];
    } catch {
      // not finished, or an executable (its cases come from its output)
    }
    const start = v.start.get(f.index);
    const end = v.end.get(f.index);
    const node = f.entry.test.kind === 'node';
    const output = v.output.get(f.index) ?? '';
    return {
      display: f.entry.test.display,
      node,
      status,
      cases: node ? (cases ?? []) : execCases(output),
      output,
      durationMs: start !== undefined ? (end ?? Date.now()) - start : undefined,
    };
  };

  const report = (f: InFlight['files'][number], r: FileResult): void => {
    f.done = true;
    f.entry.last = r;
    if (r.verdict !== 'pass' && r.verdict !== 'skip' && o.quiet && r.output) say(resultLine(r) + '\n' + outputExcerpt(r));
    else say(resultLine(r));
  };

  const waiting = () => {
    if (!stopping && pending.size === 0) say(pc.dim(`watching ${entries.length} file(s) and what they import; Enter: run all, q: quit`));
  };

  /** A file ended (the agent wrote its status and cases first): its verdict, now. */
  const ended = (v: Vm, index: number): void => {
    const f = v.inflight?.files.find((x) => x.index === index);
    if (!f) return;
    const ev = evidence(v, f);
    const crash = v.crash.report();
    // A kernel that oopsed and went on is not to be trusted: the file it happened in is a
    // crash, whatever its status, and the VM starts again.
    if (crash && v.crashedIn === index) {
      ev.status = undefined;
      ev.stopped = { crash, detail: CRASH_DETAIL };
    }
    report(f, fileVerdict(ev));
    if (crash) {
      say(crashText(crash));
      say(pc.yellow('the kernel reported a crash: booting a fresh VM'));
      restart(v);
    }
  };

  /** The spare that took the command exited (with this status): the command is over. */
  const served = (v: Vm, agentStatus: number): void => {
    const run = v.inflight;
    if (!run) return;
    for (const f of run.files) {
      if (f.done) continue;
      if (v.start.has(f.index)) {
        const ev = evidence(v, f);
        ev.stopped = { lost: `the guest's Node exited (status ${agentStatus}) while this test ran: did it call process.exit()?` };
        report(f, fileVerdict(ev));
      } else {
        pending.add(f.entry); // the spare went before it got there: the next one runs it
      }
    }
    v.inflight = undefined;
    cleanStale();
    waiting();
    dispatch();
  };

  /** The VM ended: on purpose (quit, new kernel), or not (crash, hang, lost). */
  const vmEnded = (v: Vm, outcome: VmOutcome): void => {
    // What a reboot cannot fix ends the watch, as `run` would end: setup, CPU, run directory.
    const fatalWhy = outcome.setupError !== undefined
      ? describeSetupError(outcome.setupError)
      : outcome.xstateMismatch && outcome.timing.ready === undefined
        ? `${kernel.path} (${kernel.release}) ${XSTATE_MISMATCH_HELP}`
        : outcome.runDirError
          ? `the run directory failed: ${outcome.runDirError}: free space in ${tmpdir()}`
          : undefined;
    if (fatalWhy) {
      process.stderr.write(`net-test: ${fatalWhy}\n`);
      fatal = outcome.runDirError && outcome.setupError === undefined && !outcome.xstateMismatch ? Exit.infra : Exit.usage;
      stop(fatal);
      return;
    }
    if (v.stopping === 'quit' || stopping) return;
    const run = v.inflight;
    v.inflight = undefined;
    const crash: CrashReport | undefined = outcome.crash ?? v.crash.report();
    if (v.stopping === 'reboot') {
      // Stopped on purpose (a crash report, a new kernel): what it had not finished runs next.
      for (const f of run?.files ?? []) if (!f.done) pending.add(f.entry);
    } else {
      if (outcome.timing.ready === undefined) {
        failedBoots++;
        const why = outcome.timedOut?.phase === 'boot'
          ? `the guest did not come up within ${BOOT_TIMEOUT_MS / 1000} s`
          : outcome.guestError
            ? `guest init failed: ${outcome.guestError}`
            : `the guest stopped before it was ready (UML exit ${outcome.exit.code ?? outcome.exit.signal}); last console lines:\n  ${outcome.consoleTail.slice(-15).join('\n  ')}`;
        if (crash) say(crashText(crash));
        say(pc.red(why));
        if (failedBoots >= MAX_FAILED_BOOTS) {
          stop(crash ? Exit.crash : Exit.infra);
          return;
        }
      } else if (run) {
        for (const f of run.files) {
          if (f.done) continue;
          const ev = evidence(v, f);
          if (ev.status === undefined && v.start.has(f.index)) {
            ev.stopped = crash
              ? { crash, detail: CRASH_DETAIL }
              : outcome.timedOut?.phase === 'test' && outcome.timedOut.test === f.index
                ? { timeoutS: o.timeout, detail: `ran longer than ${o.timeout} s; VM killed and rebooted` }
                : { lost: `the guest stopped while this test ran (UML exit ${outcome.exit.code ?? outcome.exit.signal}); the VM is rebooted` };
            report(f, fileVerdict(ev));
            if (crash) say(crashText(crash));
          } else if (ev.status !== undefined) {
            report(f, fileVerdict(ev));
          } else {
            pending.add(f.entry); // never started: it runs on the next VM
          }
        }
      } else {
        if (crash) say(crashText(crash));
        say(pc.red(`the VM stopped unexpectedly (UML exit ${outcome.exit.code ?? outcome.exit.signal}): booting a fresh one`));
      }
    }
    cleanStale();
    boot();
  };

  const restart = (v: Vm): void => {
    v.stopping = 'reboot';
    v.abort.abort();
  };

  // --- Changes: debounce, rebundle what they touched, queue the affected files.
  function changed(path: string): void {
    changedPaths.add(path);
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      const paths = [...changedPaths];
      changedPaths.clear();
      const hit = entries.filter((e) => paths.some((p) => e.inputs.has(p)));
      if (hit.length === 0) return;
      say(pc.dim(`changed: ${paths.map((p) => relative(o.cwd, p) || p).join(', ')}`));
      rebundling = rebundling.then(async () => {
        await rebundle(hit);
        for (const e of hit) pending.add(e);
        dispatch();
      });
    }, DEBOUNCE_MS);
  }

  // --- The kernel binary: a rebuilt kernel boots once it has stopped changing and answers.
  let kernelStat = statKey(kernel.path);
  let kernelCheck: NodeJS.Timeout | undefined;
  const onKernel = () => {
    clearTimeout(kernelCheck);
    kernelCheck = setTimeout(() => {
      const now = statKey(kernel.path);
      if (now === undefined || now === kernelStat) return;
      let k: Kernel;
      try {
        k = probeKernel(kernel.path, kernel.source);
      } catch {
        return; // not a kernel (yet): the next change tries again
      }
      kernelStat = now;
      kernel = k;
      say(pc.yellow(`kernel changed (${k.release}): booting it and running everything`));
      for (const e of entries) pending.add(e);
      if (vm) restart(vm);
    }, 1000);
  };
  watchFile(kernel.path, { interval: 500, persistent: false }, onKernel);

  // --- Keys: Enter runs everything, q (or Ctrl-C) quits.
  const input = o.input ?? process.stdin;
  const raw = input.isTTY === true && typeof input.setRawMode === 'function';
  const onKey = (b: Buffer) => {
    for (const ch of b.toString('utf8')) {
      if (ch === 'q' || ch === 'Q' || ch === '\x04') {
        stop(undefined);
        return;
      }
      if (ch === '\x03') {
        // Ctrl-C on a raw terminal arrives as a key, not as SIGINT.
        stop(130);
        return;
      }
      if (ch === '\r' || ch === '\n') {
        for (const e of entries) pending.add(e);
        dispatch();
      }
    }
  };
  // A pipe that ends means whoever drove watch is gone: stop. /dev/null or a file: keep going.
  let driven = false;
  try {
    const st = fstatSync((input as NodeJS.ReadStream & { fd?: number }).fd ?? 0);
    driven = st.isFIFO() || st.isSocket();
  } catch {
    // no descriptor to look at
  }
  const onEnd = () => {
    if (driven) stop(undefined);
  };
  if (raw) input.setRawMode(true);
  input.on('data', onKey);
  input.on('end', onEnd);
  input.resume();

  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = () => stop(130);
  for (const s of signals) process.on(s, onSignal);

  /** Stops everything; the exit status is `code`, or the last verdict of every file. */
  function stop(code: ExitCode | 130 | undefined): void {
    if (stopping) return;
    stopping = true;
    const v = vm;
    if (v) {
      v.stopping = 'quit';
      v.abort.abort();
    }
    void (v?.done ?? Promise.resolve()).then(() => {
      const results = entries.map((e) => e.last).filter((r): r is FileResult => r !== undefined);
      finish(code ?? fatal ?? (results.length ? exitCode(results) : Exit.pass));
    });
  }

  say(pc.dim(`net-test watch: ${entries.length} file(s) on ${kernel.path} (${kernel.release}); Enter: run all, q: quit`));
  for (const e of entries) pending.add(e);
  try {
    boot();
    return await finished;
  } finally {
    clearTimeout(debounce);
    clearTimeout(kernelCheck);
    unwatchFile(kernel.path, onKernel);
    watcher.close();
    input.off('data', onKey);
    input.off('end', onEnd);
    if (raw) input.setRawMode(false);
    input.pause();
    for (const s of signals) process.off(s, onSignal);
    await rebundling.catch(() => undefined);
    for (const e of entries) await e.bundler?.dispose();
    await stopBundler();
    removeTmp();
    process.off('exit', removeTmp);
  }
}

function statKey(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}
