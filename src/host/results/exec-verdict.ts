// The verdict of an executable test from its exit status and output, by kselftest's rules
// (tools/testing/selftests/kselftest.h, kselftest/runner.sh), for every executable:
//   - a failed case fails the file whatever its exit status: a top-level TAP `not ok`, or a
//     TEST:/FAIL: line (run_kselftest.sh itself exits 0 over failures, so the exit status
//     alone would hide them);
//   - exit 4 (KSFT_SKIP) is a skip, with or without TAP output;
//   - exit 0 is a pass, or a skip when every case it reported skipped;
//   - any other exit status is a failure.
import { parseTap, type TestCase } from './tap.js';
import { parseTestLines } from './test-lines.js';

/** kselftest's "skip" exit status (KSFT_SKIP in tools/testing/selftests/kselftest.h). */
export const KSFT_SKIP = 4;

const TAP_HEADER = /^\s*(K?TAP version \d+|1\.\.\d+)\s*$/m;

export interface ExecVerdict {
  verdict: 'pass' | 'fail' | 'skip';
  /** Why, when the exit status alone does not say: the skip's reason, the failed case. */
  detail?: string;
}

/** Cases an executable reported: TAP/KTAP (when it printed a TAP header), then TEST:/PASS:/FAIL:/SKIP: lines. */
export function execCases(output: string): TestCase[] {
  return [...(TAP_HEADER.test(output) ? parseTap(output) : []), ...parseTestLines(output)];
}

/** The reason a skipping script gave: its last line that says "skip", else its last line. */
export function skipReason(output: string): string | undefined {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^(ok|not ok)\b/.test(l));
  const line = [...lines].reverse().find((l) => /\bskip/i.test(l)) ?? lines.at(-1);
  return line === undefined ? undefined : line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

export function execVerdict(status: number, output: string, cases: TestCase[] = execCases(output)): ExecVerdict {
  const failed = cases.filter((c) => c.status === 'fail');
  if (failed.length > 0) {
    const what = failed.length === 1 ? `case failed: ${failed[0]!.name}` : `${failed.length} cases failed`;
    return { verdict: 'fail', ...(status === 0 || status === KSFT_SKIP ? { detail: `exit ${status}, but ${what}` } : {}) };
  }
  if (status === KSFT_SKIP) {
    const why = skipReason(output);
    return { verdict: 'skip', detail: `skipped (exit 4)${why ? `: ${why}` : ''}` };
  }
  if (status === 0) {
    if (cases.length > 0 && cases.every((c) => c.status === 'skip')) return { verdict: 'skip', detail: `every case skipped: ${cases[0]!.detail ?? cases[0]!.name}` };
    return { verdict: 'pass' };
  }
  return { verdict: 'fail' };
}
