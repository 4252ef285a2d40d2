// Machine-readable results: everything the terminal report says, as data. `run` says which run
// and which shard this is, so `net-test merge` can put shards back together (report/merge.ts
// reads this shape back).
import type { FileResult } from '../results/model.js';
import { exitCode, totals } from '../results/model.js';
import type { RunMeta } from './run-meta.js';

export function toJson(results: FileResult[], wallMs: number, run?: RunMeta): string {
  return (
    JSON.stringify(
      {
        version: 1,
        ...(run ? { run } : {}),
        exitStatus: exitCode(results),
        wallMs,
        totals: totals(results),
        files: results.map((r) => ({
          file: r.display,
          verdict: r.verdict,
          exitStatus: r.exitStatus ?? null,
          durationMs: r.durationMs ?? null,
          attempts: r.attempts,
          detail: r.detail ?? null,
          crash: r.crash ?? null,
          cases: r.cases,
          output: r.output,
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
