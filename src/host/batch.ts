// One VM for a batch of a run's files (schedule.ts hands out the batches): boot it, judge each
// file as the guest reports its end, and after the VM is gone judge what a crash, a timeout or
// a lost guest stopped. Returns the files it did not get to, for a fresh VM.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pc from 'picocolors';
import { InfraError, UsageError } from './errors.js';
import type { Kernel } from './kernel/locate.js';
import type { TimeTravelChoice } from './kernel/time-travel.js';
import { planTaps, tapPrefix } from './net/taps.js';
import type { RunOptions } from './options.js';
import type { Item } from './prepare/items.js';
import { guestPath } from './prepare/bundle.js';
import { pythonTestEnv, UNITTEST_HOOK_DIR, unittestResultsName } from './prepare/python.js';
import type { LiveReport } from './report/live.js';
import { crashText } from './report/terminal.js';
import type { FileResult } from './results/model.js';
import { parseTap, type TestCase } from './results/tap.js';
import { execCases, fileVerdict, type Stopped } from './results/verdict.js';
import { parseUnittest, type UnittestResults } from './results/unittest.js';
import { XSTATE_MISMATCH_HELP } from './vm/xstate-shim.js';
import type { NetMode } from './vm/launch.js';
import { planSteps } from './vm/plan.js';
import type { Rootfs } from './vm/rootfs.js';
import type { GuestFiles } from './vm/guest-files.js';
import { BOOT_TIMEOUT_MS, describeSetupError, runVm, type VmOutcome } from './vm/session.js';

/** What every VM of a run shares. */
export interface BatchContext {
  o: RunOptions;
  kernel: Kernel;
  timeTravel: TimeTravelChoice;
  /** The kernel command line's extra words (time-travel's, then --cmdline). */
  cmdline: string[];
  /** The run directory (VM n > 1 gets `vm-<n>` inside it). */
  root: string;
  /** The run's temp directory (UML's own files go in it). */
  tmp: string;
  /** The xstate shim to preload into UML, when the host needs it. */
  preload: string | undefined;
  rootfs: Rootfs | undefined;
  /** Where guest memory goes (prereqs.ts memoryDir). */
  memoryDir: string;
  /** The guest's extra files: /dev links, modules, tool links for PATH. */
  guest: GuestFiles;
  testEnv: Record<string, string>;
  net: NetMode;
  nodeArgv: (tap: string) => string[];
  agentArgv: (tap: string) => string[];
  /** The guest's init script (host path). */
  init: string;
  /** Parallel VMs; one streams the tests' output. */
  jobs: number;
  stream: boolean;
  /** Colour in the tests' output (a terminal, streamed). */
  color: boolean;
  live: LiveReport<Item>;
  signal: AbortSignal;
  /** Numbers VMs 1, 2, ... in boot order. */
  nextVm: () => number;
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

/** Boots one VM for `batch` (worker `worker`, attempt `attempt`); returns the items it did not get to. */
export async function runBatch(ctx: BatchContext, batch: Item[], worker: number, attempt: number): Promise<Item[]> {
  const { o, kernel, live } = ctx;
  const n = ctx.nextVm();
  const runDir = n === 1 ? ctx.root : join(ctx.root, `vm-${n}`);
  const umlDir = join(ctx.tmp, `uml-${n}`);
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
    { args: o.args, noAgent: o.agent === false, nodeArgv: ctx.nodeArgv, agentArgv: ctx.agentArgv },
  );
  if (o.verbose) {
    process.stderr.write(pc.dim(`net-test: VM ${n}: kernel ${kernel.path} (${kernel.release}, ${kernel.source}); time-travel ${ctx.timeTravel.on ? 'on' : 'off'} (${ctx.timeTravel.why}); run dir ${runDir}; taps ${taps.map((t) => t.name).join(' ') || 'none'}\n`));
  }
  /**
   * Item i's cases as its files say now. Undefined while a node file's entry is not yet in the
   * agent's TAP (node writes it asynchronously), unless `final`.
   */
  const casesOf = (it: Item, i: number, output: string, final: boolean): { cases: TestCase[]; ut?: UnittestResults } | undefined => {
    if (it.bundle) {
      // The agent's TAP has one top-level suite per file, named as the file is shown.
      const tap = read(join(runDir, agentTap.get(i)!));
      const top = tap ? parseTap(tap) : [];
      if (o.agent === false) return { cases: top };
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
  /** The verdict of file `it` from its exit status or what stopped it. */
  const judge = (it: Item, output: string, durationMs: number | undefined, c: { cases: TestCase[]; ut?: UnittestResults }, end: { status: number } | { stopped: Stopped }): FileResult =>
    fileVerdict({ display: it.display, node: it.bundle !== undefined, cases: c.cases, unittest: c.ut, caseFilter: it.caseFilter, output, durationMs, ...end });

  // Verdicts as the guest reports each file's end (its status, and its output complete: the
  // next file's marker came), not when the VM is gone. A header per file: streamed output gets
  // it before its first line; parallel VMs print it as the file starts.
  const started = new Map<number, number>();
  const headed = new Set<number>();
  const recorded = new Set<number>();
  const waiting = new Map<number, { status: number; output: string; end: number }>();
  let progressed = false;
  const header = (i: number) => {
    const it = batch[i - 1];
    if (!it || headed.has(i)) return;
    headed.add(i);
    live.header(it.display, worker);
  };
  const record = (it: Item, i: number, judged: FileResult) => {
    if (ctx.stream) header(i); // a file without output still gets its header
    progressed = true;
    live.record(it, judged, attempt);
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

  live.running++;
  let outcome: VmOutcome;
  try {
    outcome = await runVm(
      {
        kernel,
        count: batch.length,
        steps,
        taps,
        net: ctx.net,
        mem: o.mem,
        timeout: o.timeout,
        timeouts: batch.map((it) => it.timeout),
        cmdline: ctx.cmdline,
        runDir,
        umlDir,
        memoryDir: ctx.memoryDir,
        preload: ctx.preload,
        rootfs: ctx.rootfs,
        umid: `net-test-${process.pid}-${n}`,
        init: ctx.init,
        shell: o.shell === true,
        failOnWarn: o.failOnWarn === true,
        cwd: guestPath(o.cwd),
        // The caller's PATH names host directories; an image has its own.
        path: (ctx.guest.binPath ? `${ctx.guest.binPath}:` : '') + (ctx.rootfs ? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' : (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')),
        testEnv: ctx.testEnv,
        guestFiles: ctx.guest.dir,
        env: { TERM: ctx.color || o.shell ? (process.env.TERM ?? 'linux') : 'dumb', ...(ctx.color ? { FORCE_COLOR: '1' } : {}) },
        ...(ctx.stream
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
          if (it) live.started(worker, it.display);
          if (ctx.jobs > 1) header(i);
        },
        onTestDone: (i: number, status: number, output: string) => {
          const it = batch[i - 1];
          if (it) live.finished(worker, it.display);
          waiting.set(i, { status, output, end: Date.now() });
          flushLive();
        },
        ...(o.verbose && !o.shell ? { onConsoleLine: (l: string) => process.stderr.write(pc.dim(`[vm${worker}] ${l}`) + '\n') } : {}),
        ...(o.verbose ? { onCommand: (line: string) => process.stderr.write(pc.dim(`net-test: VM ${worker}: ${line}`) + '\n') } : {}),
      },
      ctx.signal,
    );
  } finally {
    live.running--;
    live.finished(worker);
    rmSync(umlDir, { recursive: true, force: true });
  }
  if (outcome.interrupted) return [];
  // A VM that could not be set up, or a kernel that cannot run here: exit 2 with the reason.
  if (outcome.setupError !== undefined) throw new UsageError(describeSetupError(outcome.setupError));
  if (outcome.xstateMismatch && outcome.timing.ready === undefined) throw new UsageError(`${kernel.path} (${kernel.release}) ${XSTATE_MISMATCH_HELP}`);
  if (outcome.rootMountFailed && outcome.timing.ready === undefined) {
    throw new UsageError(`${kernel.path} (${kernel.release}) could not mount its root file system (the host's, through hostfs): is CONFIG_HOSTFS=y? (net-test build sets it)`);
  }
  if (outcome.runDirError) throw new InfraError(`the run directory failed: ${outcome.runDirError}: free space there or choose another --out`);
  if (ctx.rootfs && outcome.timing.ready === undefined) rootfsFailure(o.rootfs!, outcome);

  // What the live events did not judge: files a crash, a timeout or a lost guest stopped.
  const keep = o.out ? ` (console log: ${join(runDir, 'console.log')})` : ' (keep the console log with --out DIR)';
  const rest: Item[] = [];
  batch.forEach((it, idx) => {
    const i = idx + 1;
    const st = outcome.statuses.get(i);
    const tt = outcome.timing.tests[idx]!;
    const durationMs = tt.start !== undefined ? (tt.end ?? outcome.timing.exit ?? Date.now()) - tt.start : undefined;
    if (recorded.has(i)) {
      // Reported live; the session's own clock has the exact duration.
      const r = live.results.get(it);
      if (r && durationMs !== undefined) r.durationMs = durationMs;
      return;
    }
    const output = outcome.output.get(i) ?? '';
    const c = casesOf(it, i, output, true)!;
    let end: { status: number } | { stopped: Stopped } | undefined;
    const lastCase = outcome.lastCase.get(i);
    const inCase = lastCase !== undefined ? ` (the last case it started: "${lastCase}")` : '';
    if (st !== undefined) end = { status: st };
    else if (outcome.crash && (outcome.running === i || (tt.start !== undefined && tt.end === undefined))) {
      end = { stopped: { crash: outcome.crash, detail: `the kernel crashed while this test ran${inCase}${keep}` } };
    } else if (outcome.timedOut?.phase === 'test' && outcome.timedOut.test === i) {
      const limit = it.timeout ?? o.timeout;
      end = { stopped: { timeoutS: limit, detail: `ran longer than ${limit} s${inCase}; VM killed` } };
    } else if (tt.start !== undefined) {
      // It started and the guest went away without a crash report: lost, not its fault alone.
      end = { stopped: { lost: `the guest stopped while this test ran${inCase} (UML exit ${outcome.exit.code ?? outcome.exit.signal})${keep}` } };
    }
    if (end) record(it, i, judge(it, output, durationMs, c, end));
    else rest.push(it);
  });
  for (const w of outcome.warnings.slice(0, 3)) live.print(pc.yellow(`kernel warning (not fatal without --fail-on-warn): ${w}`));
  if (!progressed && rest.length > 0) {
    // Nothing ran: retrying would fail the same way. Say why once, for every file.
    const why = outcome.timedOut?.phase === 'boot'
      ? `the guest did not come up within ${BOOT_TIMEOUT_MS / 1000} s; VM killed${keep}`
      : outcome.guestError
        ? `guest init failed: ${outcome.guestError}${keep}`
        : `the guest stopped before running tests (UML exit ${outcome.exit.code ?? outcome.exit.signal}); last console lines:\n  ${outcome.consoleTail.slice(-15).join('\n  ')}${keep}`;
    if (outcome.crash) live.print(crashText(outcome.crash));
    for (const it of rest) {
      const r: FileResult = { display: it.display, cases: [], output: '', attempts: 1, verdict: outcome.crash ? 'crash' : 'error', detail: why };
      if (outcome.crash) r.crash = outcome.crash;
      live.lost(it, r);
    }
    live.print(pc.red(why));
    return [];
  }
  return rest;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
