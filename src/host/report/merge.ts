// `net-test merge`: the JSON reports of a run's N shards (from N machines) back into one run's
// results. Pieces that do not make exactly one run are refused, naming the file: a report of
// another run, a shard given twice, a shard missing, shards cut differently, a corrupt file.
import { readFileSync } from 'node:fs';
import type { CrashReport } from '../console/crash.js';
import { UsageError } from '../errors.js';
import type { FileResult, Verdict } from '../results/model.js';
import type { TestCase } from '../results/tap.js';
import type { RunMeta } from './run-meta.js';

export interface ShardReport {
  file: string;
  run: RunMeta;
  index: number;
  count: number;
  wallMs: number;
  results: FileResult[];
}

export interface Merged {
  run: RunMeta;
  /** Wall time of the slowest shard: the shards ran side by side. */
  wallMs: number;
  results: FileResult[];
  /** Shard reports left out because a later attempt of the same shard replaced them. */
  superseded: string[];
}

const VERDICTS = new Set<Verdict>(['pass', 'fail', 'skip', 'crash', 'timeout', 'error', 'flaky']);
const SHARD = /^(\d+)\/(\d+)$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function isCase(v: unknown): v is TestCase {
  return isObj(v) && typeof v.name === 'string' && ['pass', 'fail', 'skip', 'todo'].includes(v.status as string) && Array.isArray(v.children) && v.children.every(isCase);
}

function fileResult(v: unknown): FileResult | undefined {
  if (!isObj(v) || typeof v.file !== 'string' || !VERDICTS.has(v.verdict as Verdict) || !Array.isArray(v.cases) || !v.cases.every(isCase)) return undefined;
  if (typeof v.attempts !== 'number') return undefined;
  const r: FileResult = { display: v.file, verdict: v.verdict as Verdict, cases: v.cases, output: typeof v.output === 'string' ? v.output : '', attempts: v.attempts };
  if (typeof v.exitStatus === 'number') r.exitStatus = v.exitStatus;
  if (typeof v.durationMs === 'number') r.durationMs = v.durationMs;
  if (typeof v.detail === 'string') r.detail = v.detail;
  if (isObj(v.crash) && typeof v.crash.kind === 'string' && typeof v.crash.title === 'string' && isStrings(v.crash.lines)) r.crash = v.crash as unknown as CrashReport;
  return r;
}

/** One shard's JSON, checked: UsageError naming the file when it is not one. */
export function readShardReport(file: string, text?: string): ShardReport {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? readFileSync(file, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : e instanceof SyntaxError ? `not valid JSON, truncated or corrupt (${err.message})` : err.message;
    throw new UsageError(`${file}: ${why}`);
  }
  const bad = (what: string) => new UsageError(`${file}: ${what}`);
  if (!isObj(raw) || raw.version !== 1 || !Array.isArray(raw.files)) throw bad('not a net-test JSON report (net-test run --json FILE writes one)');
  const run = raw.run;
  if (!isObj(run)) throw bad('has no run id: it was written by a net-test without merge support; run the shards again');
  if (typeof run.id !== 'string' || !run.id || typeof run.attempt !== 'number' || !isStrings(run.tests) || !isStrings(run.shardTests)) throw bad('its "run" record is incomplete: corrupt file');
  if (run.shard !== null && (typeof run.shard !== 'string' || !SHARD.test(run.shard))) throw bad(`its shard is ${JSON.stringify(run.shard)}, not I/N`);
  const m = typeof run.shard === 'string' ? SHARD.exec(run.shard)! : undefined;
  const index = m ? Number(m[1]) : 1;
  const count = m ? Number(m[2]) : 1;
  if (index < 1 || index > count) throw bad(`its shard ${run.shard} is not I/N with 1 <= I <= N`);
  const results: FileResult[] = [];
  for (const [i, f] of raw.files.entries()) {
    const r = fileResult(f);
    if (!r) throw bad(`file entry ${i + 1} is malformed: corrupt file`);
    results.push(r);
  }
  const kernel = isObj(run.kernel) && typeof run.kernel.release === 'string' && typeof run.kernel.path === 'string' ? { release: run.kernel.release, path: run.kernel.path, configSha256: typeof run.kernel.configSha256 === 'string' ? run.kernel.configSha256 : null } : undefined;
  const meta: RunMeta = { id: run.id, attempt: run.attempt, shard: m ? (run.shard as string) : null, tests: run.tests, shardTests: run.shardTests, filter: typeof run.filter === 'string' ? run.filter : null, kernel };
  return { file, run: meta, index, count, wallMs: typeof raw.wallMs === 'number' ? raw.wallMs : 0, results };
}

/** A --repeat run shows "file #k": the file it ran is the part before. */
const testOf = (display: string, tests: Set<string>) => (tests.has(display) ? display : display.replace(/ #\d+$/, ''));

/** The shards of one run as one run's results, in the order an unsharded run reports them. */
export function mergeShards(shards: ShardReport[]): Merged {
  if (shards.length === 0) throw new UsageError('merge needs the JSON report of every shard (net-test run --shard I/N --json FILE)');
  const first = shards[0]!;
  for (const s of shards) {
    if (s.run.id !== first.run.id) throw new UsageError(`${s.file}: from run ${s.run.id}, but ${first.file} is from run ${first.run.id}: give the shards of one run (same --run-id)`);
    if (s.count !== first.count) throw new UsageError(`${s.file}: shard ${s.run.shard ?? '1/1'} of ${s.count}, but ${first.file} is one of ${first.count}: give the shards of one run`);
    if (JSON.stringify(s.run.tests) !== JSON.stringify(first.run.tests)) throw new UsageError(`${s.file}: its run has other test files than ${first.file}'s (another checkout or other arguments): give the shards of one run`);
    const k = (r: RunMeta) => (r.kernel ? `${r.kernel.release} (config ${r.kernel.configSha256?.slice(0, 12) ?? 'unknown'})` : 'unknown');
    if (s.run.kernel && first.run.kernel && (s.run.kernel.release !== first.run.kernel.release || s.run.kernel.configSha256 !== first.run.kernel.configSha256)) {
      throw new UsageError(`${s.file}: ran kernel ${k(s.run)}, ${first.file} kernel ${k(first.run)}: give the shards of one run (one kernel)`);
    }
    if ((s.run.filter ?? null) !== (first.run.filter ?? null)) throw new UsageError(`${s.file}: run with --filter ${s.run.filter ?? '(none)'}, ${first.file} with ${first.run.filter ?? '(none)'}: give the shards of one run`);
  }
  // A shard given twice is an overlap, unless a later CI attempt re-ran it: then the later wins.
  const byIndex = new Map<number, ShardReport>();
  const superseded: string[] = [];
  for (const s of shards) {
    const had = byIndex.get(s.index);
    if (!had) {
      byIndex.set(s.index, s);
      continue;
    }
    if (had.run.attempt === s.run.attempt) throw new UsageError(`${s.file}: shard ${s.index}/${s.count} again (attempt ${s.run.attempt}), already given as ${had.file}: give each shard once`);
    const [keep, drop] = had.run.attempt > s.run.attempt ? [had, s] : [s, had];
    byIndex.set(s.index, keep);
    superseded.push(drop.file);
  }
  const missing = Array.from({ length: first.count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0) throw new UsageError(`shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${first.count}`).join(', ')} of run ${first.run.id} missing (given: ${[...byIndex.values()].map((s) => s.file).join(', ')}): give every shard's JSON`);
  // The cut: every file in exactly one shard. Machines with different durations files cut differently.
  const owner = new Map<string, ShardReport>();
  const ordered = [...byIndex.values()].sort((a, b) => a.index - b.index);
  for (const s of ordered) {
    for (const t of s.run.shardTests) {
      const o = owner.get(t);
      if (o) throw new UsageError(`${s.file}: shard ${s.index}/${s.count} ran ${t}, which ${o.file} (shard ${o.index}/${o.count}) ran too: the shards were cut differently (give every machine the same --durations file)`);
      owner.set(t, s);
    }
  }
  const uncovered = first.run.tests.filter((t) => !owner.has(t));
  if (uncovered.length > 0) throw new UsageError(`no shard ran ${uncovered.slice(0, 3).join(', ')}${uncovered.length > 3 ? ` and ${uncovered.length - 3} more` : ''}: the shards were cut differently (give every machine the same --durations file)`);
  const tests = new Set(first.run.tests);
  const position = new Map(first.run.tests.map((t, i) => [t, i]));
  for (const s of ordered) {
    for (const r of s.results) {
      const t = testOf(r.display, tests);
      if (owner.get(t) !== s) throw new UsageError(`${s.file}: has results for ${r.display}, which is not among the files of its shard: corrupt file`);
    }
  }
  // Stable sort: a file's repeats keep their order.
  const results = ordered.flatMap((s) => s.results).sort((a, b) => position.get(testOf(a.display, tests))! - position.get(testOf(b.display, tests))!);
  const wallMs = Math.max(...ordered.map((s) => s.wallMs));
  const run: RunMeta = { ...first.run, attempt: Math.max(...ordered.map((s) => s.run.attempt)), shard: null, shardTests: first.run.tests };
  return { run, wallMs, results, superseded };
}

/** Durations of whole files (not a --filter slice, not a crash or timeout): the input of --shard --durations. */
export function mergedDurations(m: Merged): Map<string, number> {
  const out = new Map<string, number>();
  if (m.run.filter !== null) return out;
  for (const r of m.results) {
    if (r.durationMs === undefined || !['pass', 'fail', 'skip', 'flaky'].includes(r.verdict)) continue;
    // --repeat: the file's own name, its longest run.
    const t = r.display.replace(/ #\d+$/, '');
    out.set(t, Math.max(out.get(t) ?? 0, r.durationMs));
  }
  return out;
}
