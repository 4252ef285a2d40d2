// How long each test file took last time, so parallel VMs get shares of equal expected length.
// The record is a cache (~/.cache/net-test/durations.json): losing it only costs balance.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cacheDir } from '../cache.js';
import { UsageError } from '../errors.js';
import { dirname, join } from 'node:path';

/** Absolute test path -> milliseconds its last complete run took. */
export type Durations = Map<string, number>;

export function durationsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'durations.json');
}

export function loadDurations(file = durationsFile()): Durations {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return new Map(Object.entries(raw).filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] >= 0));
  } catch {
    return new Map();
  }
}

/**
 * A durations file named on the command line (`--shard I/N --durations FILE`, written by
 * `net-test merge --durations`): shown test path -> milliseconds. Unlike the cache, a file the
 * user named must be there and be valid: every shard of a CI run must cut the same way.
 */
export function readDurationsFile(file: string): Durations {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e instanceof SyntaxError ? `not JSON (${e.message})` : (e as Error).message;
    throw new UsageError(`--durations ${file}: ${why}: give the file \`net-test merge --durations\` wrote, or leave the option out`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`--durations ${file}: not a JSON object of test path -> milliseconds`);
  const out: Durations = new Map();
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new UsageError(`--durations ${file}: ${k} has ${JSON.stringify(v)}, not a number of milliseconds`);
    out.set(k, v);
  }
  return out;
}

/** Writes a durations file (shown path -> ms, sorted keys): the input of `--shard I/N --durations`. */
export function writeDurationsFile(file: string, d: Durations): void {
  const sorted = [...d.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, Math.round(v)]);
  writeFileSync(file, JSON.stringify(Object.fromEntries(sorted), null, 1) + '\n');
}

/** Merges new measurements into the record (atomic replace; a failure to write is not an error). */
export function saveDurations(measured: Durations, file = durationsFile()): void {
  if (measured.size === 0) return;
  try {
    const all = loadDurations(file);
    for (const [k, v] of measured) all.set(k, Math.round(v));
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(all), null, 1) + '\n');
    renameSync(tmp, file);
  } catch {
    // read-only home, full disk: next run balances less well, nothing else
  }
}

/**
 * Splits `items` into `n` shares of about equal expected time: longest first, each to the
 * share with the least time so far (LPT). A file never seen counts as the median of the known
 * ones, so with no record at all this deals round-robin. Each share keeps the input order
 * (consecutive node tests share one guest agent).
 */
export function balance<T>(items: T[], n: number, known: (it: T) => number | undefined): T[][] {
  const shares: { items: { it: T; at: number }[]; total: number }[] = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, () => ({ items: [], total: 0 }));
  const seen = items.map(known).filter((d): d is number => d !== undefined).sort((a, b) => a - b);
  const guess = seen.length ? seen[Math.floor(seen.length / 2)]! : 1;
  const order = items.map((it, at) => ({ it, at, cost: known(it) ?? guess })).sort((a, b) => b.cost - a.cost || a.at - b.at);
  for (const x of order) {
    let best = shares[0]!;
    for (const s of shares) if (s.total < best.total) best = s;
    best.items.push({ it: x.it, at: x.at });
    best.total += x.cost;
  }
  return shares.map((s) => s.items.sort((a, b) => a.at - b.at).map((x) => x.it));
}
