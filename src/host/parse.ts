// `net-test parse LOG`: a saved console or KTAP/TAP log turned into the same report as a run.
import { readFileSync, writeFileSync } from 'node:fs';
import { crashDetector } from './console/crash.js';
import { Exit, UsageError, type ExitCode } from './errors.js';
import { toJson } from './report/json.js';
import { toJunit } from './report/junit.js';
import { toKtap } from './report/ktap.js';
import { crashText, resultLine, summary } from './report/terminal.js';
import { exitCode, type FileResult } from './results/model.js';
import { parseTap } from './results/tap.js';

export function parseLog(path: string, o: { ktap?: boolean; junit?: string; json?: string }): ExitCode {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const crash = crashDetector({ failOnWarn: false });
  for (const l of text.split('\n')) crash.feed(l);
  // Top-level results are files (as net-test --ktap writes them) or, in a plain log, the tests.
  const results: FileResult[] = parseTap(text).map((c) => ({
    display: c.name,
    verdict: c.status === 'fail' ? 'fail' : c.status === 'skip' ? 'skip' : 'pass',
    cases: c.children,
    output: '',
    attempts: 1,
  }));
  const report = crash.report();
  if (results.length === 0 && !report) throw new UsageError(`no TAP/KTAP results and no kernel crash found in ${path}`);
  if (o.ktap) process.stdout.write(toKtap(results));
  else {
    for (const r of results) process.stdout.write(resultLine(r) + '\n');
    if (report) process.stdout.write(crashText(report) + '\n');
    if (results.length > 1) process.stdout.write(summary(results, 0) + '\n');
  }
  if (o.junit) writeFileSync(o.junit, toJunit(results, 0));
  if (o.json) writeFileSync(o.json, toJson(results, 0));
  return report ? Exit.crash : exitCode(results);
}
