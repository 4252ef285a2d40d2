// What a person reads on the terminal: one line per file, failures, crash excerpts, a summary.
import pc from 'picocolors';
import type { CrashReport } from '../console/crash.js';
import { countCases, failures } from '../results/tap.js';
import { totals, type FileResult, type Verdict } from '../results/model.js';

const LABEL: Record<Verdict, string> = {
  pass: pc.green('PASS'),
  fail: pc.red('FAIL'),
  skip: pc.yellow('SKIP'),
  crash: pc.red(pc.bold('CRASH')),
  timeout: pc.red('TIMEOUT'),
  error: pc.red('ERROR'),
  flaky: pc.yellow('FLAKY'),
};

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function resultLine(r: FileResult): string {
  const parts: string[] = [];
  if ((r.verdict === 'fail' || r.verdict === 'flaky') && r.exitStatus !== undefined && r.exitStatus !== 0) parts.push(`exit ${r.exitStatus}`);
  if (r.cases.length > 0) {
    const c = countCases(r.cases);
    // unittest's ERRORs (unexpected exceptions) are failures; how many of them, when there are any.
    const errors = failures(r.cases).filter((f) => f.error).length;
    parts.push(`${c.pass} passed` + (c.fail ? `, ${c.fail} failed${errors ? ` (${errors} error${errors === 1 ? '' : 's'})` : ''}` : '') + (c.skip ? `, ${c.skip} skipped` : ''));
  }
  if (r.durationMs !== undefined) parts.push(secs(r.durationMs));
  if (r.attempts > 1) parts.push(`${r.attempts} attempts`);
  const lines = [`${LABEL[r.verdict]} ${r.display}${parts.length ? pc.dim(` (${parts.join('; ')})`) : ''}`];
  for (const f of failures(r.cases).slice(0, 10)) lines.push(`  ${pc.red('✗')} ${f.name}${f.detail ? pc.dim(`: ${f.detail}`) : ''}`);
  if (r.detail) lines.push(`  ${r.detail}`);
  return lines.join('\n');
}

export function crashText(c: CrashReport, maxLines = 40): string {
  const shown = c.lines.slice(0, maxLines);
  const more = c.lines.length > maxLines ? [pc.dim(`  ... ${c.lines.length - maxLines} more lines in the console log`)] : [];
  return [pc.red(pc.bold(`kernel ${c.kind}: ${c.title}`)), ...shown.map((l) => `  ${l}`), ...more].join('\n');
}

/** Last lines of a failed test's output, for runs that did not stream it. */
export function outputExcerpt(r: FileResult, maxLines = 30): string {
  const lines = r.output.trimEnd().split('\n');
  if (!r.output.trim()) return '';
  const shown = lines.slice(-maxLines);
  return pc.dim(`  --- output of ${r.display}${lines.length > maxLines ? ` (last ${maxLines} lines)` : ''} ---\n`) + shown.map((l) => `  ${l}`).join('\n');
}

export function summary(results: FileResult[], wallMs: number): string {
  const t = totals(results);
  const f = Object.entries(t.files)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v === 'pass' ? 'passed' : v === 'fail' ? 'failed' : v === 'skip' ? 'skipped' : v === 'crash' ? 'crashed' : v === 'timeout' ? 'timed out' : v === 'error' ? 'lost' : 'flaky'}`)
    .join(', ');
  const lines = [pc.bold(`${results.length} files: ${f}; cases: ${t.cases.pass} passed, ${t.cases.fail} failed, ${t.cases.skip} skipped; ${secs(wallMs)}`)];
  const slow = [...results].filter((r) => r.durationMs !== undefined).sort((a, b) => b.durationMs! - a.durationMs!).slice(0, 5);
  if (results.length > 3 && slow.length) lines.push(pc.dim(`slowest: ${slow.map((r) => `${r.display} ${secs(r.durationMs!)}`).join(', ')}`));
  return lines.join('\n');
}
