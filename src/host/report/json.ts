// Machine-readable results: everything the terminal report says, as data.
import type { FileResult } from '../results/model.js';
import { exitCode, totals } from '../results/model.js';

export function toJson(results: FileResult[], wallMs: number): string {
  return (
    JSON.stringify(
      {
        version: 1,
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
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
