// `net-test merge SHARD.json...`: one report (terminal, KTAP, JUnit, JSON, durations) from the
// JSON reports of a run's shards, with the exit status the run would have had unsharded.
import { writeFileSync } from 'node:fs';
import pc from 'picocolors';
import { Exit, UsageError, type ExitCode } from './errors.js';
import { toJson } from './report/json.js';
import { toJunit } from './report/junit.js';
import { toKtap } from './report/ktap.js';
import { toKcidb } from './report/kcidb.js';
import { mergedDurations, mergeShards, readShardReport } from './report/merge.js';
import { crashText, resultLine, summary } from './report/terminal.js';
import { exitCode } from './results/model.js';
import { writeDurationsFile } from './prepare/durations.js';

export interface MergeOptions {
  ktap?: boolean | undefined;
  junit?: string | undefined;
  json?: string | undefined;
  durations?: string | undefined;
  kcidb?: string | undefined;
  quiet?: boolean | undefined;
}

/** An output file that cannot be written is the user's to fix: exit 2, not a stack trace. */
function write(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new UsageError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function mergeReports(files: string[], o: MergeOptions): ExitCode {
  const m = mergeShards(files.map((f) => readShardReport(f)));
  // With --ktap, stdout is KTAP only: the report goes to stderr (as in run).
  const print = (s: string) => (o.ktap ? process.stderr : process.stdout).write(s + '\n');
  for (const f of m.superseded) print(pc.dim(`net-test: ${f} left out: a later attempt of its shard replaces it`));
  if (!o.quiet) {
    for (const r of m.results) {
      print(resultLine(r));
      if (r.crash) print(crashText(r.crash));
    }
  }
  const shards = files.length - m.superseded.length;
  print(pc.dim(`run ${m.run.id}: ${shards} shard${shards === 1 ? '' : 's'} merged; the time is the slowest shard's`));
  print(summary(m.results, m.wallMs));
  if (o.ktap) process.stdout.write(toKtap(m.results));
  if (o.junit) write(o.junit, toJunit(m.results, m.wallMs));
  if (o.json) write(o.json, toJson(m.results, m.wallMs, m.run));
  if (o.kcidb) write(o.kcidb, toKcidb(m.results, m.run, m.run.kernel));
  if (o.durations) {
    if (m.run.filter !== null) print(pc.yellow(`net-test: no durations written to ${o.durations}: the shards ran with --filter, their times are not whole files'`));
    else {
      try {
        writeDurationsFile(o.durations, mergedDurations(m));
      } catch (e) {
        throw new UsageError(`cannot write ${o.durations}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
  }
  return m.results.length ? exitCode(m.results) : Exit.pass;
}
