// The runner's judgement: one file's verdict from what its run left behind (an exit status and
// cases, or what stopped it), and what a retry makes of it. Pure: `run` and `watch` gather the
// evidence from the run directory and the VM's outcome; the rules live here, tested on their own.
import type { CrashReport } from '../console/crash.js';
import type { FileResult, Verdict } from './model.js';
import { execVerdict } from './exec-verdict.js';
import type { TestCase } from './tap.js';
import type { UnittestResults } from './unittest.js';
export { execCases } from './exec-verdict.js';

/** The verdicts that do not fail a run, nor ask for a retry. */
export function isOk(v: Verdict): boolean {
  return v === 'pass' || v === 'skip' || v === 'flaky';
}


/** Why a file that started did not end with an exit status. */
export type Stopped =
  | { crash: CrashReport; detail: string }
  | { timeoutS: number; detail: string }
  | { lost: string };

export interface Evidence {
  display: string;
  /** A node test (its cases come from the agent), else an executable. */
  node: boolean;
  /** Its exit status, when it finished. */
  status?: number | undefined;
  /** Its cases as its results say (node: the agent's; Python: the unittest hook's; else its TAP). */
  cases: TestCase[];
  /** A Python file's unittest records, when the hook wrote them. */
  unittest?: UnittestResults | undefined;
  /** --filter was applied to this Python file's unittest cases (its path did not match). */
  caseFilter?: boolean | undefined;
  output: string;
  durationMs?: number | undefined;
  /** It started and did not finish, and this is why. */
  stopped?: Stopped | undefined;
}

/**
 * The verdict of one file. A node test's exit status decides it (0 pass, else fail; every case
 * skipped is a skip); an executable's follows kselftest (exec-verdict.ts); a Python
 * file whose cases --filter removed entirely is a skip that says so. Without a status, what
 * stopped it decides (crash, timeout, error). A unittest case that began and never ended is
 * added as a failed case named after it.
 */
export function fileVerdict(e: Evidence): FileResult {
  const base = { display: e.display, cases: e.cases, output: e.output, attempts: 1, ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}) };
  let r: FileResult;
  if (e.status !== undefined) {
    const st = e.status;
    if (e.node) {
      const skipped = st === 0 && e.cases.length > 0 && e.cases.every((c) => c.status === 'skip');
      r = { ...base, verdict: skipped ? 'skip' : st === 0 ? 'pass' : 'fail', exitStatus: st };
    } else {
      // Executables: kselftest's rules (exit 4 skips; a failed case fails whatever the exit status).
      const v = execVerdict(st, e.output, e.cases);
      r = { ...base, verdict: v.verdict, exitStatus: st, ...(v.detail ? { detail: v.detail } : {}) };
    }
    // Python 3.12+ exits 5 when no test ran: here, because --filter left none.
    if (e.caseFilter && e.unittest && e.cases.length === 0 && e.unittest.filtered.dropped > 0 && (st === 0 || st === 5)) {
      r.verdict = 'skip';
      r.detail = `--filter matches none of its ${e.unittest.filtered.dropped} unittest cases`;
    }
  } else {
    const s = e.stopped;
    if (s && 'crash' in s) r = { ...base, verdict: 'crash', crash: s.crash, detail: s.detail };
    else if (s && 'timeoutS' in s) r = { ...base, verdict: 'timeout', durationMs: s.timeoutS * 1000, detail: s.detail };
    else r = { ...base, verdict: 'error', detail: s && 'lost' in s ? s.lost : 'no exit status' };
  }
  const unfinished = e.unittest?.unfinished;
  if (unfinished) {
    const why =
      r.verdict === 'timeout'
        ? 'still running when the test timed out'
        : r.verdict === 'crash'
          ? 'running when the kernel crashed'
          : r.exitStatus !== undefined
            ? `the process ended in this case (exit ${r.exitStatus})`
            : 'running when the guest stopped';
    r.cases = [...r.cases, { name: unfinished, status: 'fail', detail: why, children: [] }];
  }
  return r;
}

/**
 * A result on attempt `attempt` of a file whose first failure was `first` (when it was
 * retried): a pass after a failure is flaky, never a plain pass.
 */
export function afterRetry(r: FileResult, attempt: number, first: FileResult | undefined): FileResult {
  const out: FileResult = { ...r, attempts: attempt };
  if (first && r.verdict === 'pass') {
    out.verdict = 'flaky';
    out.detail = `failed on attempt 1 (${first.verdict}${first.exitStatus ? `, exit ${first.exitStatus}` : ''}), passed on attempt ${attempt}`;
  }
  return out;
}

/** A file's run, as duration balancing needs it: not cut short by a crash (a timeout counts as its limit). */
export function measuredRun(r: FileResult): boolean {
  // A timeout records its limit: it took at least that long, and will again.
  return r.durationMs !== undefined && ['pass', 'fail', 'skip', 'flaky', 'timeout'].includes(r.verdict);
}
