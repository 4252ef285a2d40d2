// One `net-test run`, as a pipeline: plan (which files, kernel, time mode) -> claim the host
// (temp directory, prerequisites, --out) -> prepare (bundles, items) -> schedule the items onto
// VMs (batch.ts boots one per batch; a crash or hang loses only the file it hit, the rest go to
// a fresh VM) -> report. The stages live in their own modules; this file only connects them.
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pc from 'picocolors';
import { Exit, UsageError } from './errors.js';
import { validateVm, type RunOptions } from './options.js';
import { memoryDir, parseMem, requireRunnable } from './prereqs.js';
import { claimOutDir, createRunTemp, sweepDeadRuns } from './run-dirs.js';
import { cacheDir } from './cache.js';
import { keepFailedRun, KEPT_RUNS } from './kept-runs.js';
import { buildShim, shimNeeded } from './vm/xstate-shim.js';
import { locateKernel, type Kernel } from './kernel/locate.js';
import { chooseTimeTravel, type TimeTravelChoice } from './kernel/time-travel.js';
import { toJson } from './report/json.js';
import { toJunit } from './report/junit.js';
import { toKtap } from './report/ktap.js';
import { LiveReport } from './report/live.js';
import { resultLine, summary } from './report/terminal.js';
import { exitCode, type FileResult } from './results/model.js';
import { measuredRun } from './results/verdict.js';
import { discoverTests, parseShard, shard } from './prepare/discover.js';
import { loadDurations, readDurationsFile, saveDurations } from './prepare/durations.js';
import { typecheck } from './prepare/typecheck.js';
import { kselftestInfo } from './prepare/kselftest.js';
import { resolveTests, stopBundler, type TestFile } from './prepare/bundle.js';
import { prepareItems, type Item } from './prepare/items.js';
import { schedule } from './schedule.js';
import { runBatch, type BatchContext } from './batch.js';
import { runAttempt, runId, type RunMeta } from './report/run-meta.js';
import { kernelIdentity, toKcidb } from './report/kcidb.js';
import { checkRootfs, type Rootfs } from './vm/rootfs.js';
import { prepareGuestFiles } from './vm/guest-files.js';

export type { RunOptions } from './options.js';

const INIT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/guest/init.sh');

function validate(o: RunOptions): void {
  const int = (v: number | undefined, name: string, min: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new UsageError(`${name} must be an integer >= ${min}, got ${v}`);
  };
  validateVm(o);
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
}

/** What a run will do, decided before anything on the host changes. */
interface RunPlan {
  tests: TestFile[];
  /** A collection's C programs that were never built: failures, as kselftest reports them. */
  notBuilt: string[];
  kernel: Kernel;
  rootfs: Rootfs | undefined;
  timeTravel: TimeTravelChoice;
  /** The kernel command line's extra words: time-travel's, then --cmdline. */
  cmdline: string[];
  /** At most this many VMs at once (for the memory check). */
  vms: number;
  /** --durations' recorded times, which balanced the shard and balance its VMs. */
  recorded: Map<string, number> | undefined;
  meta: RunMeta;
}

function planRun(o: RunOptions): RunPlan {
  const notes: string[] = [];
  const all = o.shell && o.tests.length === 0 ? [] : discoverTests(o.tests, o.cwd, notes);
  for (const n of notes) process.stderr.write(pc.dim(`net-test: ${n}`) + '\n');
  const shardSpec = o.shard ? parseShard(o.shard) : undefined;
  if (o.durations && !shardSpec) throw new UsageError('--durations balances --shard I/N: give --shard too');
  const recorded = o.durations ? readDurationsFile(resolve(o.cwd, o.durations)) : undefined;
  const mine = shardSpec ? shard(all, shardSpec, (f) => recorded?.get(f)) : all;
  const notBuilt = mine.filter((n) => !existsSync(resolve(o.cwd, n)) && kselftestInfo(resolve(o.cwd, n)));
  const names = mine.filter((n) => !notBuilt.includes(n));
  const tests = names.length ? resolveTests(names, o.cwd) : [];
  const kernel = o.resolvedKernel ?? locateKernel({ kernel: o.kernel, cwd: o.cwd });
  const timeTravel = chooseTimeTravel({ kernel: kernel.path, want: o.timeTravel, cmdline: o.cmdline, interactive: o.shell === true, hostNet: o.hostNet === true });
  return {
    tests,
    notBuilt,
    kernel,
    rootfs: o.rootfs !== undefined ? checkRootfs(o.rootfs, o.rw === true, o.cwd) : undefined,
    timeTravel,
    cmdline: [...timeTravel.args, ...o.cmdline],
    vms: Math.max(1, Math.min(o.jobs ?? availableParallelism(), tests.length * (o.repeat ?? 1))),
    recorded,
    meta: {
      id: runId(o.runId, process.env, { kernel: `${kernel.path} ${kernel.release}`, tests: all, count: shardSpec?.count ?? 1 }),
      attempt: runAttempt(process.env),
      shard: shardSpec ? `${shardSpec.index}/${shardSpec.count}` : null,
      tests: all,
      shardTests: mine,
      filter: o.filter ?? null,
      kernel: kernelIdentity(kernel.path, kernel.release),
    },
  };
}

/** What the run holds on the host until it ends; `release` gives it back. */
interface Claim {
  tmp: string;
  /** The run directory: --out, or inside tmp. */
  root: string;
  preload: string | undefined;
  release: () => void;
}

/** Sweeps dead runs, makes the temp dir, checks prerequisites, builds the shim, takes --out. */
function claimHost(o: RunOptions, plan: RunPlan): Claim {
  // Leftovers of runs that were killed (SIGKILL leaves no chance to clean up) go first.
  sweepDeadRuns();
  const tmp = createRunTemp();
  // An uncaught error ends the process without `finally`: the temp directory still goes.
  const removeTmp = () => rmSync(tmp, { recursive: true, force: true });
  process.once('exit', removeTmp);
  let releaseOut: (() => void) | undefined;
  const release = () => {
    removeTmp();
    process.off('exit', removeTmp);
    releaseOut?.();
  };
  const root = o.out ? resolve(o.cwd, o.out) : join(tmp, 'run');
  try {
    const shimDirs = [join(cacheDir(), 'shim'), tmp];
    requireRunnable({ kernel: plan.kernel, imageRoot: plan.rootfs !== undefined, taps: o.taps, hostNet: o.hostNet === true, memBytes: parseMem(o.mem)!, vms: plan.vms, shimDirs });
    const preload = shimNeeded() ? (buildShim(shimDirs) as { path: string }).path : undefined;
    releaseOut = o.out ? claimOutDir(root) : undefined;
    mkdirSync(root, { recursive: true });
    return { tmp, root, preload, release };
  } catch (e) {
    release();
    throw e;
  }
}

/** Exit status after a stop signal, as a shell reports it: 128 + the signal's number. */
const signalExit = (s: NodeJS.Signals): number => 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[s]!;

export async function run(o: RunOptions): Promise<number> {
  validate(o);
  const t0 = Date.now();
  const plan = planRun(o);
  const host = claimHost(o, plan);
  const abort = new AbortController();
  const stopSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    interrupted = s;
    abort.abort();
  };
  for (const s of stopSignals) process.on(s, onSignal);
  const ttyState = o.shell ? spawnSync('stty', ['-g'], { stdio: ['inherit', 'pipe', 'ignore'], encoding: 'utf8' }).stdout?.trim() : undefined;
  let live: LiveReport<Item> | undefined;
  try {
    // --- Prepare: /dev links, modules and tool links once, bundles once; every VM reads them through /host.
    const guest = prepareGuestFiles(join(host.tmp, 'guest'), plan.kernel);
    if (o.typecheck) typecheck(plan.tests.filter((t) => t.kind === 'node').map((t) => t.path), host.tmp);
    const bundles = join(host.tmp, 'bundles');
    mkdirSync(bundles);
    const { items, nodeArgv, agentArgv, testEnv } = await prepareItems({ ...o, tests: plan.tests, named: o.tests, imageRoot: plan.rootfs !== undefined, bundles });
    const filter = o.filter !== undefined ? new RegExp(o.filter) : undefined;
    const missing: FileResult[] = plan.notBuilt
      .filter((n) => !filter || filter.test(n))
      .map((n) => ({ display: n, verdict: 'fail', cases: [], output: '', attempts: 1, detail: `not built: build its collection's programs (make -C ${dirname(n) || '.'})` }));
    if (plan.tests.length > 0 && items.length === 0 && missing.length === 0) throw new UsageError(`--filter ${o.filter} selects no test`);

    // --- Schedule: batches onto VMs, verdicts printed as each file ends.
    const jobs = Math.max(1, Math.min(o.jobs ?? availableParallelism(), items.length || 1));
    const stream = !o.quiet && !o.ktap && jobs === 1;
    live = new LiveReport<Item>({ total: items.length, jobs, stream, quiet: o.quiet === true, ktap: o.ktap === true, t0 });
    live.start();
    for (const r of missing) live.print(resultLine(r));
    if (guest.iptablesNote && (o.verbose || plan.tests.some((t) => t.kind === 'exec'))) live.print(pc.dim(`note: ${guest.iptablesNote}`));
    let vms = 0;
    const ctx: BatchContext = {
      o,
      kernel: plan.kernel,
      timeTravel: plan.timeTravel,
      cmdline: plan.cmdline,
      root: host.root,
      tmp: host.tmp,
      preload: host.preload,
      rootfs: plan.rootfs,
      memoryDir: memoryDir(),
      guest,
      testEnv,
      net: o.hostNet ? 'host' : 'private',
      nodeArgv,
      agentArgv,
      init: INIT,
      jobs,
      stream,
      color: process.stdout.isTTY && stream,
      live,
      signal: abort.signal,
      nextVm: () => ++vms,
    };
    const batch = (list: Item[], worker: number, attempt: number) => runBatch(ctx, list, worker, attempt);
    if (items.length === 0 && o.shell) await batch([], 1, 1);
    else if (items.length > 0) {
      // Shares of equal expected time, from how long each file took last time; a fresh CI
      // machine has no cache: the --durations file (by shown path) balances its VMs too.
      const durations = jobs > 1 ? loadDurations() : new Map<string, number>();
      const results = live;
      await schedule(items, {
        jobs,
        expected: (it) => durations.get(it.file.path) ?? plan.recorded?.get(it.file.display),
        runBatch: batch,
        aborted: () => abort.signal.aborted,
        retries: o.retries ?? 0,
        failed: (list) => results.failed(list),
        onRetry: (failed, attempt) => results.retry(failed, attempt),
      });
    }
    live.stop();
    if (interrupted) {
      process.stderr.write(`net-test: interrupted (${interrupted}); VMs stopped\n`);
      return signalExit(interrupted);
    }

    // --- Report.
    return report(o, plan, [...missing, ...items.map((it) => live!.results.get(it)).filter((r): r is FileResult => r !== undefined)], items, live, Date.now() - t0, host.root);
  } finally {
    await stopBundler();
    live?.stop();
    for (const s of stopSignals) process.off(s, onSignal);
    if (ttyState) spawnSync('stty', [ttyState], { stdio: ['inherit', 'ignore', 'ignore'] });
    host.release();
  }
}

/** Durations for balancing, the report files, the summary, a failed run's directory kept; the exit status. */
function report(o: RunOptions, plan: RunPlan, ordered: FileResult[], items: Item[], live: LiveReport<Item>, wall: number, root: string): number {
  // A file's whole run is what balancing needs: not a --filter slice, not a crash or timeout.
  if (!o.filter) {
    const measured = new Map<string, number>();
    for (const it of items) {
      const r = live.results.get(it);
      if (r && measuredRun(r)) measured.set(it.file.path, r.durationMs!);
    }
    saveDurations(measured);
  }
  if (o.ktap) process.stdout.write(toKtap(ordered));
  if (o.junit) writeFileSync(resolve(o.cwd, o.junit), toJunit(ordered, wall));
  if (o.json) writeFileSync(resolve(o.cwd, o.json), toJson(ordered, wall, plan.meta));
  if (o.kcidb) writeFileSync(resolve(o.cwd, o.kcidb), toKcidb(ordered, plan.meta, plan.meta.kernel));
  if (ordered.length > 1) live.print(summary(ordered, wall));
  const code = ordered.length ? exitCode(ordered) : Exit.pass;
  const keepFailed = o.keepFailed !== false && process.env.NET_TEST_KEEP_FAILED !== '0';
  if (code !== Exit.pass && !o.out && keepFailed && !o.shell) {
    const kept = keepFailedRun(root);
    live.print(
      'path' in kept
        ? pc.dim(`net-test: run directory kept at ${kept.path} (the guest's /run/net-test: console.log, output, pcaps); the last ${KEPT_RUNS} failed runs are kept`)
        : pc.yellow(`net-test: could not keep the run directory: ${kept.error}`),
    );
  }
  return code;
}
