// Expands what the user named (files, directories, globs) into test files, and shards them.
import { existsSync, readdirSync, statSync, accessSync, constants } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { balance } from './durations.js';
import { collectionRef, collectionTests } from './kselftest.js';

const TEST_NAME = /\.test\.(ts|mts|js|mjs)$/;
/** What runs without being executable: node tests (bundled on the host). */
const NODE_EXT = /\.(ts|mts|js|mjs)$/;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** In a directory, tests are *.test.{ts,js,...} files and executable files, recursively. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const p = join(dir, e.name);
      if (e.name.startsWith('.') || e.name === 'node_modules') return [];
      if (e.isDirectory()) return walk(p);
      if (e.isFile() && (TEST_NAME.test(e.name) || isExecutable(p))) return [p];
      return [];
    });
}

/** `*` and `?` within a path segment, `**` across segments. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function expandGlob(pattern: string, cwd: string): string[] {
  const abs = resolve(cwd, pattern);
  const parts = abs.split(sep);
  const firstWild = parts.findIndex((p) => /[*?]/.test(p));
  const base = parts.slice(0, firstWild).join(sep) || sep;
  if (!existsSync(base)) return [];
  const re = globToRegExp(abs);
  const all = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = join(dir, e.name);
      if (e.name === 'node_modules' || e.name.startsWith('.')) return [];
      return e.isDirectory() ? all(p) : [p];
    });
  return all(base).filter((p) => re.test(p)).sort();
}

/**
 * Test paths as the user should see them: relative to cwd when inside it. A glob may match
 * helpers next to the tests (a Python suite's modules): those that cannot run (neither
 * executable nor *.ts/js) are left out, each with a line in `notes`.
 */
export function discoverTests(args: string[], cwd: string, notes?: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (abs: string, shown: string) => {
    if (!seen.has(abs)) {
      seen.add(abs);
      out.push(shown);
    }
  };
  const show = (abs: string) => {
    const r = relative(cwd, abs);
    return r.startsWith('..') ? abs : r;
  };
  for (const a of args) {
    // A kselftest collection's test by name: COLLECTION:TEST (src/host/prepare/kselftest.ts).
    const picked = collectionRef(a, cwd);
    if (picked) {
      for (const p of picked) add(p, show(p));
      continue;
    }
    if (/[*?]/.test(a) && !existsSync(resolve(cwd, a))) {
      const hits = expandGlob(a, cwd);
      if (hits.length === 0) throw new UsageError(`no test matches ${a}`);
      const runnable = hits.filter((h) => NODE_EXT.test(h) || isExecutable(h));
      if (runnable.length === 0) throw new UsageError(`no test matches ${a}: ${hits.length} file(s) match but none is executable (chmod +x the tests)`);
      for (const h of hits) if (!runnable.includes(h)) notes?.push(`${show(h)} matches ${a} but is not executable: skipped (chmod +x it to run it)`);
      for (const h of runnable) add(h, show(h));
      continue;
    }
    const abs = resolve(cwd, a);
    if (existsSync(abs) && statSync(abs).isDirectory()) {
      // A kselftest collection runs exactly its tests (make emit_tests), never its helpers.
      const found = collectionTests(abs) ?? walk(abs);
      if (found.length === 0) throw new UsageError(`no tests in directory ${a} (tests are *.test.ts/js files or executables)`);
      for (const f of found) add(f, show(f));
    } else {
      add(abs, a); // files are checked (exists, executable) by resolveTests
    }
  }
  return out;
}

/** Parses "I/N" (1-based). */
export function parseShard(s: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--shard must be I/N with 1 <= I <= N, got ${s}`);
  return { index, count };
}

/**
 * Deterministic: the files sorted by path, cut into N shares and the I-th taken. With recorded
 * durations (`known`: milliseconds by shown path) the shares have about equal expected time
 * (longest first to the least loaded share, see balance); with none, every N-th file from
 * offset I-1. Every machine of a CI matrix computes the same cut from the same list and the
 * same durations file, so the shards partition the list.
 */
export function shard<T extends string>(files: T[], s: { index: number; count: number }, known: (file: T) => number | undefined = () => undefined): T[] {
  const shares = balance([...files].sort(), s.count, known);
  return shares[s.index - 1] ?? [];
}
