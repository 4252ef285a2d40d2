// `net-test run --json` reports as the project's tests and benchmarks compare them.
import { readFileSync } from 'node:fs';

export interface ReportCase {
  name: string;
  status: string;
  children: ReportCase[];
}

export interface JsonReport {
  exitStatus: number;
  files: { file: string; verdict: string; exitStatus: number | null; attempts: number; cases: ReportCase[] }[];
  totals: { cases: { pass: number; fail: number; skip: number } };
}

export function readReport<R extends JsonReport = JsonReport>(file: string): R {
  return JSON.parse(readFileSync(file, 'utf8')) as R;
}

/**
 * Every file's verdict (with its exit status when `exit`) and every case's status, in report
 * order, as [path, status]: "file", "file > suite > case".
 */
export function verdictsOf(rep: JsonReport, o: { exit?: boolean } = {}): [string, string][] {
  const out: [string, string][] = [];
  const walk = (prefix: string, cs: ReportCase[]) => {
    for (const c of cs) {
      out.push([`${prefix} > ${c.name}`, c.status]);
      walk(`${prefix} > ${c.name}`, c.children);
    }
  };
  for (const f of rep.files) {
    out.push([f.file, o.exit ? `${f.verdict} (exit ${f.exitStatus})` : f.verdict]);
    walk(f.file, f.cases);
  }
  return out;
}

/** verdictsOf() as "path: status" lines, for assert.deepEqual between two runs. */
export function verdictLines(rep: JsonReport, o: { exit?: boolean } = {}): string[] {
  return verdictsOf(rep, o).map(([k, v]) => `${k}: ${v}`);
}
