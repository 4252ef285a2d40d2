// What a run found out, per test file: the one shape every reporter reads.
import type { CrashReport } from '../console/crash.js';
import { countCases, type Counts, type TestCase } from './tap.js';
import { Exit, type ExitCode } from '../errors.js';

/** flaky: failed, then passed on a retry. error: the infrastructure lost it (exit 5). */
export type Verdict = 'pass' | 'fail' | 'skip' | 'crash' | 'timeout' | 'error' | 'flaky';

export interface FileResult {
  display: string;
  verdict: Verdict;
  exitStatus?: number;
  durationMs?: number;
  cases: TestCase[];
  /** The test's stdout+stderr. */
  output: string;
  crash?: CrashReport;
  /** One line for timeouts and infrastructure errors. */
  detail?: string;
  attempts: number;
}

export function totals(results: FileResult[]): { files: Record<Verdict, number>; cases: Counts } {
  const files: Record<Verdict, number> = { pass: 0, fail: 0, skip: 0, crash: 0, timeout: 0, error: 0, flaky: 0 };
  const cases: Counts = { pass: 0, fail: 0, skip: 0 };
  for (const r of results) {
    files[r.verdict]++;
    const c = countCases(r.cases);
    cases.pass += c.pass;
    cases.fail += c.fail;
    cases.skip += c.skip;
  }
  return { files, cases };
}

/** The run's exit status: the most serious outcome wins (crash, timeout, infrastructure, failure). */
export function exitCode(results: FileResult[]): ExitCode {
  const has = (v: Verdict) => results.some((r) => r.verdict === v);
  if (has('crash')) return Exit.crash;
  if (has('timeout')) return Exit.timeout;
  if (has('error')) return Exit.infra;
  if (has('fail')) return Exit.fail;
  return Exit.pass;
}
