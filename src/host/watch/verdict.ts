// One file's verdict from what a serving VM left: its exit status (when it finished), its cases,
// or what stopped it (a crash, a timeout, the guest lost). The rules are `net-test run`'s.
import type { CrashReport } from '../console/crash.js';
import type { FileResult } from '../results/model.js';
import { parseTap, type TestCase } from '../results/tap.js';

const TAP_HEADER = /^\s*(K?TAP version \d+|1\.\.\d+)\s*$/m;
/** kselftest's "skip" exit status. */
const KSFT_SKIP = 4;

export interface FileEvidence {
  display: string;
  node: boolean;
  /** Exit status, when the file finished. */
  status?: number | undefined;
  /** A node file's cases, as the agent wrote them (cases-<i>.json). */
  cases?: TestCase[] | undefined;
  output: string;
  durationMs?: number | undefined;
  /** It started and did not finish, and this is why. */
  stopped?: { crash: CrashReport } | { timeoutS: number } | { lost: string } | undefined;
}

export function fileVerdict(e: FileEvidence): FileResult {
  let cases: TestCase[] = [];
  if (e.node) cases = e.cases ?? [];
  else if (TAP_HEADER.test(e.output)) cases = parseTap(e.output);
  const base = { display: e.display, cases, output: e.output, attempts: 1, ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}) };
  if (e.status !== undefined) {
    const skipped = (e.status === KSFT_SKIP && !e.node && TAP_HEADER.test(e.output)) || (e.status === 0 && cases.length > 0 && cases.every((c) => c.status === 'skip'));
    return { ...base, verdict: skipped ? 'skip' : e.status === 0 ? 'pass' : 'fail', exitStatus: e.status };
  }
  const s = e.stopped;
  if (s && 'crash' in s) return { ...base, verdict: 'crash', crash: s.crash, detail: 'the kernel crashed while this test ran; the VM is rebooted' };
  if (s && 'timeoutS' in s) return { ...base, verdict: 'timeout', durationMs: s.timeoutS * 1000, detail: `ran longer than ${s.timeoutS} s; VM killed and rebooted` };
  return { ...base, verdict: 'error', detail: s && 'lost' in s ? s.lost : 'no exit status' };
}
