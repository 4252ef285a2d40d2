// Turns results into what a person reads on the terminal.
import pc from 'picocolors';
import type { CrashReport } from './console/crash.js';
import { countCases, failures, type TestCase } from './results/tap.js';

export type Verdict = 'pass' | 'fail' | 'crash' | 'timeout' | 'notrun' | 'error';

export interface TestResult {
  display: string;
  verdict: Verdict;
  exitStatus?: number;
  durationMs?: number;
  cases: TestCase[];
}

const LABEL: Record<Verdict, string> = {
  pass: pc.green('PASS'),
  fail: pc.red('FAIL'),
  crash: pc.red(pc.bold('CRASH')),
  timeout: pc.red('TIMEOUT'),
  notrun: pc.yellow('NOT RUN'),
  error: pc.red('ERROR'),
};

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function resultLine(r: TestResult): string {
  const parts: string[] = [];
  if (r.verdict === 'fail' && r.exitStatus !== undefined) parts.push(`exit ${r.exitStatus}`);
  if (r.cases.length > 0) {
    const c = countCases(r.cases);
    parts.push(`${c.pass} passed` + (c.fail ? `, ${c.fail} failed` : '') + (c.skip ? `, ${c.skip} skipped` : ''));
  }
  if (r.durationMs !== undefined) parts.push(secs(r.durationMs));
  const lines = [`${LABEL[r.verdict]} ${r.display}${parts.length ? pc.dim(` (${parts.join('; ')})`) : ''}`];
  for (const f of failures(r.cases).slice(0, 10)) {
    lines.push(`  ${pc.red('✗')} ${f.name}${f.detail ? pc.dim(`: ${f.detail}`) : ''}`);
  }
  return lines.join('\n');
}

export function crashText(c: CrashReport, maxLines = 40): string {
  const shown = c.lines.slice(0, maxLines);
  const more = c.lines.length > maxLines ? [pc.dim(`  ... ${c.lines.length - maxLines} more lines in the console log`)] : [];
  return [pc.red(pc.bold(`kernel ${c.kind}: ${c.title}`)), ...shown.map((l) => `  ${l}`), ...more].join('\n');
}
