// One `net-test run`: plan -> kernel -> tests -> VMs (scheduled, -j in parallel) -> verdicts ->
// reports -> cleanup. A crash or hang loses only the file that caused it: the files after it
// go to a fresh VM.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pc from 'picocolors';
import { Exit, InfraError, UsageError } from './errors.js';
import { memoryDir, parseMem, requireRunnable } from './prereqs.js';
import { claimOutDir, createRunTemp, sweepDeadRuns } from './run-dirs.js';
import { cacheDir } from './cache.js';
import { keepFailedRun, KEPT_RUNS } from './kept-runs.js';
import { buildShim, shimNeeded, XSTATE_MISMATCH_HELP } from './vm/xstate-shim.js';
import { locateKernel, type Kernel } from './kernel/locate.js';
import { chooseTimeTravel } from './kernel/time-travel.js';
import { MAX_TAPS, planTaps, tapPrefix } from './net/taps.js';
import { toJson } from './report/json.js';
import { toJunit } from './report/junit.js';
import { toKtap } from './report/ktap.js';
import { crashText, outputExcerpt, resultLine, summary } from './report/terminal.js';
import { exitCode, type FileResult } from './results/model.js';
import { parseTap, type TestCase } from './results/tap.js';
import { afterRetry, execCases, fileVerdict, isOk, measuredRun, type Stopped } from './results/verdict.js';
import { parseUnittest, type UnittestResults } from './results/unittest.js';
import { discoverTests, parseShard, shard } from './prepare/discover.js';
import { loadDurations, readDurationsFile, saveDurations } from './prepare/durations.js';
import { schedule } from './schedule.js';
import { typecheck } from './prepare/typecheck.js';
import { runAttempt, runId, type RunMeta } from './report/run-meta.js';
import { kernelIdentity, toKcidb } from './report/kcidb.js';
import { collectionMembers, kselftestEnv, kselftestInfo, shebang, splitArgs } from './prepare/kselftest.js';
import { isPythonTest, pythonTestEnv, UNITTEST_HOOK_DIR, unittestResultsName } from './prepare/python.js';
import { AGENT_REPORTER, bundleAgent, bundleName, bundleTest, guestPath, resolveTests, stopBundler, type TestFile } from './prepare/bundle.js';
import type { NetMode } from './vm/launch.js';
import { BOOT_TIMEOUT_MS, describeSetupError, runVm, type VmOutcome } from './vm/session.js';
import { planSteps } from './vm/plan.js';
import { checkRootfs } from './vm/rootfs.js';
import { prepareGuestFiles } from './vm/guest-files.js';

export interface RunOptions {
  tests: string[];
  args: string[];
  kernel?: string | undefined;
  /** A kernel already resolved by the caller (e.g. just built). */
  resolvedKernel?: Kernel | undefined;
  mem: string;
  /** Seconds per test. */
  timeout: number;
  /** --timeout was given: it overrides a kselftest directory's `settings` timeout. */
  timeoutGiven?: boolean | undefined;
  /** --env K=V: the tests' environment (kselftest's own variables also pass from the caller's). */
  env?: [string, string][] | undefined;
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
  /** Parallel VMs (default: the core count). */
  jobs?: number | undefined;
  filter?: string | undefined;
  retries?: number | undefined;
  repeat?: number | undefined;
  shard?: string | undefined;
  ktap?: boolean | undefined;
  junit?: string | undefined;
  json?: string | undefined;
  /** The run id the JSON report carries (shared by the shards of one run; see report/run-meta.ts). */
  runId?: string | undefined;
  /** Write the results as a KCIDB (KernelCI) report to this file. */
  kcidb?: string | undefined;
  /** Recorded durations (net-test merge --durations) that --shard balances by. */
  durations?: string | undefined;
  /** Run each node test in a Node process of its own instead of the shared agent. */
  noAgent?: boolean | undefined;
  /** Boot this root filesystem image instead of the host's root. */
  rootfs?: string | undefined;
  /** Write through to the --rootfs image instead of a throw-away copy-on-write layer. */
  rw?: boolean | undefined;
  /** Type-check the node tests (tsc) before anything boots. */
  typecheck?: boolean | undefined;
  /** Without --out, move a failed run's directory to the cache (default true). */
  keepFailed?: boolean | undefined;
  /** Boot with UML time-travel: true insists, false never, undefined where the kernel has it. */
  timeTravel?: boolean | undefined;
}

const INIT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/guest/init.sh');

function validate(o: RunOptions): void {
  const int = (v: number | undefined, name: string, min: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new UsageError(`${name} must be an integer >= ${min}, got ${v}`);
  };
  if (!Number.isInteger(o.taps) || o.taps < 0 || o.taps > MAX_TAPS) throw new UsageError(`--taps must be an integer from 0 to ${MAX_TAPS}, got ${o.taps}`);
  if (!Number.isFinite(o.timeout) || o.timeout <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got ${o.timeout}`);
  if (!/^\d+[KMG]?$/i.test(o.mem)) throw new UsageError(`--mem must look like 512M or 2G, got ${o.mem}`);
  int(o.jobs, '-j/--jobs', 1);
  int(o.retries, '--retries', 0);
  int(o.repeat, '--repeat', 1);
  if (o.filter !== undefined) {
    try {
      new RegExp(o.filter);
    } catch {
      throw new UsageError(`--filter is not a valid regular expression: ${o.filter}`);
    }
  }
  if (o.shell && !process.stdin.isTTY) throw new UsageError('a shell needs a terminal on stdin (run it from an interactive terminal)');
  if (o.out && existsSync(o.out) && !statSync(o.out).isDirectory()) throw new UsageError(`--out ${o.out} exists and is not a directory`);
  if (o.hostNet && (o.jobs ?? 1) > 1) throw new UsageError('--host-net gives every VM the same tap names: use it with -j 1');
  if (o.rw && !o.rootfs) throw new UsageError('--rw writes to a --rootfs image: give one with --rootfs IMG');
  if (o.rw && (o.jobs ?? 1) > 1) throw new UsageError('--rw gives one VM the image to itself: use it with -j 1');
  for (const [k] of o.env ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new UsageError(`--env wants NAME=VALUE with a shell variable name, got ${JSON.stringify(k)}`);
  }
}

/** An image the guest could not take: in use (UML's lock) or not mountable. Exit 2, one line. */
function rootfsFailure(path: string, outcome: VmOutcome): void {
  if (outcome.rootfsLocked) throw new UsageError(`--rootfs ${path} is in use by another run (${outcome.rootfsLocked}): wait for it to finish`);
  if (outcome.guestError?.startsWith('rootfs:')) {
    // The kernel's own words, e.g. "EXT4-fs (ubda): group descriptors corrupted!".
    const why = outcome.consoleTail.filter((l) => /EXT4-fs/.test(l)).pop()?.replace(/^\[[\s\d.]+\]\s*/, '');
    throw new UsageError(`--rootfs ${path}: the guest cannot mount it as ext4${why ? ` (${why})` : ''}: the image is corrupt; rebuild it with \`net-test rootfs build --force\``);
  }
}

/** One file to run once: an executable's argv, or a node test's bundle (run by the agent). */
interface Item {
  file: TestFile;
  display: string;
  argv?: string[];
  bundle?: string;
  /** A Python file: run with the unittest hook, its cases read from its results file. */
  python?: boolean;
  /** --filter selects this Python file's unittest cases (its path did not match). */
  caseFilter?: boolean;
  /** A kselftest: runs in this host directory (on an overlay in the guest). */
  dir?: string;
  /** Seconds, when not the run's --timeout. */
  timeout?: number;
}

/** Exit status after a stop signal, as a shell reports it: 128 + the signal's number. */
const signalExit = (s: NodeJS.Signals): number => 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[s]!;

export async function run(o: RunOptions): Promise<number> {
  validate(o);
  const t0 = Date.now();
  const notes: string[] = [];
  let names = o.shell && o.tests.length === 0 ? [] : discoverTests(o.tests, o.cwd, notes);
  for (const n of notes) process.stderr.write(pc.dim(`net-test: ${n}`) + '\n');
  const allNames = names;
  const shardSpec = o.shard ? parseShard(o.shard) : undefined;
  if (o.durations && !shardSpec) throw new UsageError('--durations balances --shard I/N: give --shard too');
  const recorded = o.durations ? readDurationsFile(resolve(o.cwd, o.durations)) : undefined;
  if (shardSpec) names = shard(names, shardSpec, (f) => recorded?.get(f));
  // A collection's C programs that were never built: failures, as kselftest reports them.
  const notBuilt = names.filter((n) => !existsSync(resolve(o.cwd, n)) && kselftestInfo(resolve(o.cwd, n)));
  names = names.filter((n) => !notBuilt.includes(n));
  const tests: TestFile[] = o.shell && o.tests.length === 0 ? [] : names.length ? resolveTests(names, o.cwd) : [];
  const kernel = o.resolvedKernel ?? locateKernel({ kernel: o.kernel, cwd: o.cwd });
  const net: NetMode = o.hostNet ? 'host' : 'private';
  const filter = o.filter !== undefined ? new RegExp(o.filter) : undefined;
  const rootfs = o.rootfs !== undefined ? checkRootfs(o.rootfs, o.rw === true, o.cwd) : undefined;
  const plannedVms = Math.max(1, Math.min(o.jobs ?? availableParallelism(), tests.length * (o.repeat ?? 1)));
  const timeTravel = chooseTimeTravel({ kernel: kernel.path, want: o.timeTravel, cmdline: o.cmdline, interactive: o.shell, hostNet: o.hostNet });
  const cmdline = [...timeTravel.args, ...o.cmdline];
  const meta: RunMeta = {
    id: runId(o.runId, process.env, { kernel: `${kernel.path} ${kernel.release}`, tests: allNames, count: shardSpec?.count ?? 1 }),
    attempt: runAttempt(process.env),
    shard: shardSpec ? `${shardSpec.index}/${shardSpec.count}` : null,
    tests: allNames,
    shardTests: names,
    filter: o.filter ?? null,
    kernel: kernelIdentity(kernel.path, kernel.release),
  };

  // Leftovers of runs that were killed (SIGKILL leaves no chance to clean up) go first.
  sweepDeadRuns();
  const tmp = createRunTemp();
  // An uncaught error ends the process without `finally`: the temp directory still goes.
  const removeTmp = () => rmSync(tmp, { recursive: true, force: true });
  process.once('exit', removeTmp);
  let releaseOut: (() => void) | undefined;
  let preload: string | undefined;
  const root = o.out ? resolve(o.cwd, o.out) : join(tmp, 'run');
  try {
    const shimDirs = [join(cacheDir(), 'shim'), tmp];
    requireRunnable({ kernel, imageRoot: rootfs !== undefined, taps: o.taps, hostNet: o.hostNet, memBytes: parseMem(o.mem)!, vms: plannedVms, shimDirs });
    preload = shimNeeded() ? (buildShim(shimDirs) as { path: string }).path : undefined;
    releaseOut = o.out ? claimOutDir(root) : undefined;
    mkdirSync(root, { recursive: true });
  } catch (e) {
    releaseOut?.();
    removeTmp();
    process.off('exit', removeTmp);
    throw e;
  }
  const memDir = memoryDir();
  const abort = new AbortController();
  const stopSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    interrupted = s;
    abort.abort();
  };
  for (const s of stopSignals) process.on(s, onSignal);
  const ttyState = o.shell ? spawnSync('stty', ['-g'], { stdio: ['inherit', 'pipe', 'ignore'], encoding: 'utf8' }).stdout?.trim() : undefined;
  let progress: NodeJS.Timeout | undefined;
  try {
    // /dev links, /lib/modules, tool links: made once, seen by every VM through /host.
    const guest = prepareGuestFiles(join(tmp, 'guest'), kernel);
    // --- Bundle node tests once; every VM reads them through /host.
    const bundles = join(tmp, 'bundles');
    mkdirSync(bundles);
    const repeat = o.repeat ?? 1;
    const items: Item[] = [];
    if (o.typecheck) typecheck(tests.filter((t) => t.kind === 'node').map((t) => t.path), tmp);
    const agent = join(bundles, 'agent.mjs');
    if (tests.some((t) => t.kind === 'node')) await bundleAgent(agent);
    // node with our reporters: spec live on the output line, TAP into the run directory. An
    // image brings its own Node (Debian 12's is 18, without --disable-warning).
    const nodeArgv = (tap: string) => [
      ...(rootfs ? ['node'] : [guestPath(process.execPath), '--disable-warning=MaxListenersExceededWarning']),
      '--enable-source-maps',
      ...(filter ? [`--test-name-pattern=${o.filter}`] : []),
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=/run/net-test/${tap}`,
    ];
    const testEnv = { ...kselftestEnv(process.env), ...Object.fromEntries(o.env ?? []) };
    const wholeCollection = collectionMembers(o.tests, o.cwd);
    const agentArgv = (tap: string) => [...nodeArgv(tap), `--test-reporter=${guestPath(AGENT_REPORTER)}`, '--test-reporter-destination=/dev/null', guestPath(agent)];
    for (const [i, t] of tests.entries()) {
      // An executable has no cases to select: --filter selects it by its path. A Python file
      // whose path does not match runs with the filter on its unittest cases.
      const python = t.kind === 'exec' && isPythonTest(t.path);
      if (filter && t.kind === 'exec' && !python && !filter.test(t.display)) continue;
      let run: Pick<Item, 'argv' | 'bundle' | 'python' | 'caseFilter' | 'dir' | 'timeout'>;
      if (t.kind === 'exec') {
        // A test in a kselftest collection's directory runs there, with its KSELFTEST_<NAME>_ARGS
        // and the directory's settings timeout; `-- ARGS` go to files named one by one.
        const ks = kselftestInfo(t.path);
        const args = ks ? [...splitArgs(testEnv[ks.argsVar]), ...(wholeCollection.has(t.path) ? [] : o.args)] : o.args;
        let interpreter: string[] = [];
        try {
          accessSync(t.path, constants.X_OK);
        } catch {
          interpreter = (ks && shebang(t.path)) || [];
        }
        run = { argv: [...interpreter, guestPath(t.path), ...args], ...(python ? { python, caseFilter: filter !== undefined && !filter.test(t.display) } : {}) };
        if (ks) run = { ...run, dir: ks.dir, ...(ks.timeout !== undefined && !o.timeoutGiven ? { timeout: ks.timeout } : {}) };
      } else {
        const b = join(bundles, bundleName(i + 1, t));
        await bundleTest(t, b);
        run = { bundle: guestPath(b) };
      }
      for (let k = 1; k <= repeat; k++) items.push({ file: t, display: repeat > 1 ? `${t.display} #${k}` : t.display, ...run });
    }
    await stopBundler();
    const missing: FileResult[] = notBuilt
      .filter((n) => !filter || filter.test(n))
      .map((n) => ({ display: n, verdict: 'fail', cases: [], output: '', attempts: 1, detail: `not built: build its collection's programs (make -C ${dirname(n) || '.'})` }));
    if (tests.length > 0 && items.length === 0 && missing.length === 0) throw new UsageError(`--filter ${o.filter} selects no test`);

    const jobs = Math.max(1, Math.min(o.jobs ?? availableParallelism(), items.length || 1));
    const stream = !o.quiet && !o.ktap && jobs === 1;
    const color = process.stdout.isTTY && stream;
    let vmCount = 0;
    const results = new Map<Item, FileResult>();
    /** A file's first failure, once it is being retried: a later pass makes it flaky. */
    const firstFailure = new Map<Item, FileResult>();
    let done = 0;
    let running = 0;
    /** What each worker's VM is running now, for the status line. */
    const onFile = new Map<number, { display: string; since: number }>();

    const showProgress = process.stderr.isTTY && !stream && !o.quiet && items.length > 1;
    const clearProgress = () => showProgress && process.stderr.write('\r\x1b[K');
    if (showProgress) {
      progress = setInterval(() => {
        const failed = [...results.values()].filter((r) => !isOk(r.verdict)).length;
        const now = Date.now();
        const files = [...onFile.entries()].sort(([a], [b]) => a - b).map(([w, f]) => `[${w}] ${f.display} ${((now - f.since) / 1000).toFixed(0)} s`);
        const line = [`${done}/${items.length} done · ${failed} failed · ${((now - t0) / 1000).toFixed(0)} s`, ...(files.length ? files : [`${running} VMs booting`])].join(' · ');
        process.stderr.write(`\r\x1b[K${pc.dim(line.slice(0, Math.max(20, (process.stderr.columns || 80) - 1)))}`);
      }, 250);
    }
    // With --ktap, stdout is KTAP only: the report goes to stderr.
    const print = (text: string) => {
      clearProgress();
      (o.ktap ? process.stderr : process.stdout).write(text + '\n');
    };
    for (const r of missing) print(resultLine(r));
    if (guest.iptablesNote && (o.verbose || tests.some((t) => t.kind === 'exec'))) print(pc.dim(`note: ${guest.iptablesNote}`));

    /** Boots one VM for `batch`; returns the items it did not get to. */
    const vm = async (batch: Item[], worker: number, attempt: number): Promise<Item[]> => {
      const n = ++vmCount;
      const runDir = n === 1 ? root : join(root, `vm-${n}`);
      const umlDir = join(tmp, `uml-${n}`);
      mkdirSync(runDir, { recursive: true });
      mkdirSync(umlDir);
      try {
        writeFileSync(join(runDir, 'seed'), randomBytes(512));
      } catch (e) {
        throw new UsageError(`cannot write the run directory ${runDir}: ${(e as Error).message}: free space there or choose another --out`);
      }
      // Each parallel VM has its own network namespace, so tap names never collide.
      const taps = planTaps(o.taps, tapPrefix());
      const { steps, tapOf: agentTap } = planSteps(
        batch.map((it, idx) => ({
          display: it.display,
          argv: it.argv,
          bundle: it.bundle,
          env: it.python ? pythonTestEnv(guestPath(UNITTEST_HOOK_DIR), idx + 1, it.caseFilter ? o.filter : undefined) : undefined,
          dir: it.dir !== undefined ? guestPath(it.dir) : undefined,
        })),
        { args: o.args, noAgent: o.noAgent === true, nodeArgv, agentArgv },
      );
      if (o.verbose) {
        process.stderr.write(pc.dim(`net-test: VM ${n}: kernel ${kernel.path} (${kernel.release}, ${kernel.source}); time-travel ${timeTravel.on ? 'on' : 'off'} (${timeTravel.why}); run dir ${runDir}; taps ${taps.map((t) => t.name).join(' ') || 'none'}\n`));
      }
      /**
       * Item i's cases as its files say now. Undefined while a node file's entry is not yet in
       * the agent's TAP (node writes it asynchronously), unless `final`.
       */
      const casesOf = (it: Item, i: number, output: string, final: boolean): { cases: TestCase[]; ut?: UnittestResults } | undefined => {
        if (it.bundle) {
          // The agent's TAP has one top-level suite per file, named as the file is shown.
          const tap = read(join(runDir, agentTap.get(i)!));
          const top = tap ? parseTap(tap) : [];
          if (o.noAgent) return { cases: top };
          const mine = top.find((c) => c.name === it.display);
          return mine ? { cases: mine.children } : final ? { cases: [] } : undefined;
        }
        const ut = it.python ? read(join(runDir, unittestResultsName(i))) : undefined;
        if (ut !== undefined) {
          const u = parseUnittest(ut);
          return { cases: u.cases, ut: u };
        }
        return { cases: execCases(output) };
      };
      /** The verdict of file `it` (index `i`) from its exit status or what stopped it. */
      const judge = (it: Item, output: string, durationMs: number | undefined, c: { cases: TestCase[]; ut?: UnittestResults }, end: { status: number } | { stopped: Stopped }): FileResult =>
        fileVerdict({
          display: it.display,
          node: it.bundle !== undefined,
          cases: c.cases,
          unittest: c.ut,
          caseFilter: it.caseFilter,
          output,
          durationMs,
          ...end,
        });
      const record = (it: Item, i: number, judged: FileResult) => {
        if (stream) header(i); // a file without output still gets its header
        const r = afterRetry(judged, attempt, firstFailure.get(it));
        progressed = true;
        results.set(it, r);
        done++;
        if (r.verdict !== 'pass' && r.verdict !== 'skip' && !stream && r.output) print(resultLine(r) + '\n' + outputExcerpt(r));
        else print(resultLine(r));
        if (r.crash) print(crashText(r.crash));
      };
      // Verdicts as the guest reports each file's end (its status, and its output complete: the
      // next file's marker came), not when the VM is gone. A header per file: streamed output
      // gets it before its first line; parallel VMs print it as the file starts.
      const started = new Map<number, number>();
      const headed = new Set<number>();
      const recorded = new Set<number>();
      const waiting = new Map<number, { status: number; output: string; end: number }>();
      let progressed = false;
      const header = (i: number) => {
        const it = batch[i - 1];
        if (!it || headed.has(i) || o.quiet) return;
        headed.add(i);
        print(pc.bold(pc.cyan(`=== ${it.display}`)) + (jobs > 1 ? pc.dim(` [${worker}]`) : ''));
      };
      const flushLive = () => {
        for (const [i, w] of waiting) {
          const it = batch[i - 1]!;
          const c = casesOf(it, i, w.output, false);
          if (!c) continue; // a node file's TAP is still being written: next event, or the VM's end
          waiting.delete(i);
          const since = started.get(i);
          record(it, i, judge(it, w.output, since !== undefined ? w.end - since : undefined, c, { status: w.status }));
          recorded.add(i);
        }
      };
      running++;
      let outcome: VmOutcome;
      try {
        outcome = await runVm(
          {
            kernel,
            count: batch.length,
            steps,
            taps,
            net,
            mem: o.mem,
            timeout: o.timeout,
            timeouts: batch.map((it) => it.timeout),
            cmdline,
            runDir,
            umlDir,
            memoryDir: memDir,
            preload,
            rootfs,
            umid: `net-test-${process.pid}-${n}`,
            init: INIT,
            shell: o.shell,
            failOnWarn: o.failOnWarn,
            cwd: guestPath(o.cwd),
            // The caller's PATH names host directories; an image has its own.
            path: (guest.binPath ? `${guest.binPath}:` : '') + (rootfs ? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' : (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')),
            testEnv,
            guestFiles: guest.dir,
            env: { TERM: color || o.shell ? (process.env.TERM ?? 'linux') : 'dumb', ...(color ? { FORCE_COLOR: '1' } : {}) },
            ...(stream
              ? {
                  onOutput: (i: number, chunk: string) => {
                    if (i > 0) header(i);
                    process.stdout.write(chunk);
                  },
                }
              : {}),
            onTestStart: (i: number) => {
              started.set(i, Date.now());
              const it = batch[i - 1];
              if (it) onFile.set(worker, { display: it.display, since: Date.now() });
              if (jobs > 1) header(i);
            },
            onTestDone: (i: number, status: number, output: string) => {
              if (onFile.get(worker)?.display === batch[i - 1]?.display) onFile.delete(worker);
              waiting.set(i, { status, output, end: Date.now() });
              flushLive();
            },
            ...(o.verbose && !o.shell ? { onConsoleLine: (l: string) => process.stderr.write(pc.dim(`[vm${worker}] ${l}`) + '\n') } : {}),
            ...(o.verbose ? { onCommand: (line: string) => process.stderr.write(pc.dim(`net-test: VM ${worker}: ${line}`) + '\n') } : {}),
          },
          abort.signal,
        );
      } finally {
        running--;
        onFile.delete(worker);
        rmSync(umlDir, { recursive: true, force: true });
      }
      if (outcome.interrupted) return [];
      if (outcome.setupError !== undefined) throw new UsageError(describeSetupError(outcome.setupError));
      if (outcome.xstateMismatch && outcome.timing.ready === undefined) throw new UsageError(`${kernel.path} (${kernel.release}) ${XSTATE_MISMATCH_HELP}`);
      if (outcome.rootMountFailed && outcome.timing.ready === undefined) {
        throw new UsageError(`${kernel.path} (${kernel.release}) could not mount its root file system (the host's, through hostfs): is CONFIG_HOSTFS=y? (net-test build sets it)`);
      }
      if (outcome.runDirError) throw new InfraError(`the run directory failed: ${outcome.runDirError}: free space there or choose another --out`);
      if (rootfs && outcome.timing.ready === undefined) rootfsFailure(o.rootfs!, outcome);
      const keep = o.out ? ` (console log: ${join(runDir, 'console.log')})` : ' (keep the console log with --out DIR)';
      const rest: Item[] = [];
      batch.forEach((it, idx) => {
        const i = idx + 1;
        const st = outcome.statuses.get(i);
        const tt = outcome.timing.tests[idx]!;
        const durationMs = tt.start !== undefined ? (tt.end ?? outcome.timing.exit ?? Date.now()) - tt.start : undefined;
        if (recorded.has(i)) {
          // Reported live; the session's own clock has the exact duration.
          const r = results.get(it);
          if (r && durationMs !== undefined) r.durationMs = durationMs;
          return;
        }
        const output = outcome.output.get(i) ?? '';
        const c = casesOf(it, i, output, true)!;
        let end: { status: number } | { stopped: Stopped } | undefined;
        if (st !== undefined) end = { status: st };
        else if (outcome.crash && (outcome.running === i || (tt.start !== undefined && tt.end === undefined))) {
          end = { stopped: { crash: outcome.crash, detail: `the kernel crashed while this test ran${keep}` } };
        } else if (outcome.timedOut?.phase === 'test' && outcome.timedOut.test === i) {
          const limit = it.timeout ?? o.timeout;
          end = { stopped: { timeoutS: limit, detail: `ran longer than ${limit} s; VM killed` } };
        } else if (tt.start !== undefined) {
          // It started and the guest went away without a crash report: lost, not its fault alone.
          end = { stopped: { lost: `the guest stopped while this test ran (UML exit ${outcome.exit.code ?? outcome.exit.signal})${keep}` } };
        }
        const r = end ? judge(it, output, durationMs, c, end) : undefined;
        if (r) record(it, i, r);
        else rest.push(it);
      });
      for (const w of outcome.warnings.slice(0, 3)) print(pc.yellow(`kernel warning (not fatal without --fail-on-warn): ${w}`));
      if (!progressed && rest.length > 0) {
        // Nothing ran: retrying would fail the same way. Say why once, for every file.
        const why = outcome.timedOut?.phase === 'boot'
          ? `the guest did not come up within ${BOOT_TIMEOUT_MS / 1000} s; VM killed${keep}`
          : outcome.guestError
            ? `guest init failed: ${outcome.guestError}${keep}`
            : `the guest stopped before running tests (UML exit ${outcome.exit.code ?? outcome.exit.signal}); last console lines:\n  ${outcome.consoleTail.slice(-15).join('\n  ')}${keep}`;
        if (outcome.crash) print(crashText(outcome.crash));
        for (const it of rest) {
          const r: FileResult = { display: it.display, cases: [], output: '', attempts: 1, verdict: outcome.crash ? 'crash' : 'error', detail: why };
          if (outcome.crash) r.crash = outcome.crash;
          results.set(it, r);
          done++;
        }
        print(pc.red(why));
        return [];
      }
      return rest;
    };

    // Shares of equal expected time, from how long each file took last time.
    const durations = jobs > 1 ? loadDurations() : new Map<string, number>();
    if (items.length === 0 && o.shell) await vm([], 1, 1);
    else if (items.length > 0) {
      await schedule(items, {
        jobs,
        // A fresh CI machine has no cache: the --durations file (by shown path) balances its VMs too.
        expected: (it) => durations.get(it.file.path) ?? recorded?.get(it.file.display),
        runBatch: vm,
        aborted: () => abort.signal.aborted,
        retries: o.retries ?? 0,
        failed: (list) => list.filter((it) => !isOk(results.get(it)?.verdict ?? 'pass')),
        // A failure that passes later is flaky, never a plain pass: keep the first failure.
        onRetry: (failed, attempt) => {
          for (const it of failed) if (!firstFailure.has(it)) firstFailure.set(it, results.get(it)!);
          done -= failed.length;
          print(pc.dim(`retrying ${failed.length} file(s), attempt ${attempt}`));
        },
      });
    }
    clearInterval(progress);
    clearProgress();

    if (interrupted) {
      process.stderr.write(`net-test: interrupted (${interrupted}); VMs stopped\n`);
      return signalExit(interrupted);
    }
    const ordered = [...missing, ...items.map((it) => results.get(it)).filter((r): r is FileResult => r !== undefined)];
    const wall = Date.now() - t0;
    // A file's whole run is what balancing needs: not a --filter slice, not a crash or timeout.
    if (!o.filter) {
      const measured = new Map<string, number>();
      for (const it of items) {
        const r = results.get(it);
        if (r && measuredRun(r)) measured.set(it.file.path, r.durationMs!);
      }
      saveDurations(measured);
    }
    if (o.ktap) process.stdout.write(toKtap(ordered));
    if (o.junit) writeFileSync(resolve(o.cwd, o.junit), toJunit(ordered, wall));
    if (o.json) writeFileSync(resolve(o.cwd, o.json), toJson(ordered, wall, meta));
    if (o.kcidb) writeFileSync(resolve(o.cwd, o.kcidb), toKcidb(ordered, meta, meta.kernel));
    if (ordered.length > 1) print(summary(ordered, wall));
    const code = ordered.length ? exitCode(ordered) : Exit.pass;
    if (code !== Exit.pass && !o.out && o.keepFailed !== false && !o.shell) {
      const kept = keepFailedRun(root);
      print(
        'path' in kept
          ? pc.dim(`net-test: run directory kept at ${kept.path} (the guest's /run/net-test: console.log, output, pcaps); the last ${KEPT_RUNS} failed runs are kept`)
          : pc.yellow(`net-test: could not keep the run directory: ${kept.error}`),
      );
    }
    return code;
  } finally {
    await stopBundler();
    clearInterval(progress);
    for (const s of stopSignals) process.off(s, onSignal);
    if (ttyState) spawnSync('stty', [ttyState], { stdio: ['inherit', 'ignore', 'ignore'] });
    removeTmp();
    process.off('exit', removeTmp);
    releaseOut?.();
  }
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
