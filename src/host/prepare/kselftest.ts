// kselftest collections: a directory whose Makefile includes the selftests' lib.mk (a target of
// tools/testing/selftests), or a directory an installed tree's kselftest-list.txt names. Its tests
// are exactly what kselftest would run (`make emit_tests`: TEST_GEN_PROGS, TEST_CUSTOM_PROGS,
// TEST_PROGS), never its helpers; each runs in its directory with the directory's `settings`
// timeout and its KSELFTEST_<NAME>_ARGS, as tools/testing/selftests/kselftest/runner.sh does.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { globToRegExp } from './discover.js';

/** What the runner needs to know about a test that lives in a collection's directory. */
export interface KselftestInfo {
  /** Absolute host directory the test runs in (on a writable overlay in the guest). */
  dir: string;
  /** `timeout=` of the directory's settings file, in seconds (0 there means none: not set here). */
  timeout?: number;
  /** Environment variable holding this test's arguments, e.g. KSELFTEST_FIB_TESTS_SH_ARGS. */
  argsVar: string;
}

const LIST = 'kselftest-list.txt';
const LIB_MK = /^\s*-?include\s+\S*\blib\.mk\s*$/m;

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** A kselftest Makefile: one that includes the selftests' lib.mk (where emit_tests lives). */
function hasKselftestMakefile(dir: string): boolean {
  try {
    return LIB_MK.test(readFileSync(join(dir, 'Makefile'), 'utf8'));
  } catch {
    return false;
  }
}

/** The installed tree (the directory holding kselftest-list.txt) at or above `dir`, if any. */
function installedRoot(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, LIST))) return d;
    if (dirname(d) === d) return undefined;
  }
}

/** kselftest-list.txt: `collection:test` lines, the collection relative to the installed tree. */
function readList(root: string): { collection: string; test: string }[] {
  return readFileSync(join(root, LIST), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && l.includes(':'))
    .map((l) => ({ collection: l.slice(0, l.lastIndexOf(':')), test: l.slice(l.lastIndexOf(':') + 1) }));
}

/** Test basenames of a source collection, from `make emit_tests` (which builds nothing). */
function emitTests(dir: string): string[] {
  const r = spawnSync('make', ['-s', '--no-print-directory', '-C', dir, 'emit_tests'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${dir} is a kselftest collection and listing its tests needs make: apt-get install make`);
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n')[0];
    throw new UsageError(`cannot list the tests of kselftest collection ${dir}: \`make -C ${dir} emit_tests\` failed${why ? `: ${why}` : ''}`);
  }
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes(':'))
    .map((l) => l.slice(l.indexOf(':') + 1))
    .filter((n) => n !== '');
}

/**
 * The tests of a collection, as absolute paths in the order kselftest runs them, or undefined
 * when `dir` is not a collection. An installed tree's root lists every collection under it.
 * Tests the collection names but that are not there (C programs not built yet) are included:
 * the caller reports them.
 */
export function collectionTests(dir: string): string[] | undefined {
  const abs = resolve(dir);
  if (!listed.has(abs)) listed.set(abs, listTests(abs));
  return listed.get(abs);
}

const listed = new Map<string, string[] | undefined>();

function listTests(abs: string): string[] | undefined {
  if (hasKselftestMakefile(abs)) return [...new Set(emitTests(abs))].map((n) => join(abs, n));
  const root = installedRoot(abs);
  if (!root) return undefined;
  const rel = relative(root, abs);
  const entries = readList(root).filter((e) => rel === '' || e.collection === rel);
  if (entries.length === 0) return undefined;
  return entries.map((e) => join(root, e.collection, e.test));
}

/**
 * `COLLECTION:TEST` (kselftest's own `-t` form): TEST (a name or a glob) among the tests of the
 * collection directory COLLECTION. Undefined when `arg` is not of that form.
 */
export function collectionRef(arg: string, cwd: string): string[] | undefined {
  const colon = arg.lastIndexOf(':');
  if (colon <= 0 || existsSync(resolve(cwd, arg))) return undefined;
  const dir = resolve(cwd, arg.slice(0, colon));
  const pattern = arg.slice(colon + 1);
  if (!isDir(dir)) return undefined;
  const tests = collectionTests(dir);
  if (!tests) return undefined;
  const re = globToRegExp(pattern);
  const hits = tests.filter((t) => re.test(basename(t)));
  if (hits.length === 0) {
    const names = tests.map((t) => basename(t));
    const some = names.slice(0, 8).join(', ') + (names.length > 8 ? `, ... (${names.length} in all)` : '');
    throw new UsageError(`no test ${pattern} in kselftest collection ${arg.slice(0, colon)} (its tests: ${some || 'none'})`);
  }
  return hits;
}

/** kselftest's variable name for a test's arguments: runner.sh's sanitizing of the basename. */
export function argsVariable(test: string): string {
  const name = basename(test)
    .replace(/[\s\p{Cc}]/gu, '')
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toUpperCase();
  return `KSELFTEST_${name}_ARGS`;
}

/** `timeout=N` of a settings file (kselftest's per-directory settings); undefined without one. */
export function settingsTimeout(text: string): number | undefined {
  let timeout: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*timeout\s*=\s*(\d+)\s*$/.exec(line);
    if (m) timeout = Number(m[1]);
  }
  return timeout === 0 ? undefined : timeout;
}

const infoCache = new Map<string, boolean>();

/** Whether a directory is a kselftest collection (its tests run the kselftest way). */
export function isCollection(dir: string): boolean {
  let v = infoCache.get(dir);
  if (v === undefined) {
    v = hasKselftestMakefile(dir);
    if (!v) {
      const root = installedRoot(dir);
      const rel = root !== undefined ? relative(root, dir) : undefined;
      v = root !== undefined && rel !== undefined && rel !== '' && !rel.startsWith('..') && readList(root).some((e) => e.collection === rel.split(sep).join('/'));
    }
    infoCache.set(dir, v);
  }
  return v;
}

/** How a test file runs the kselftest way, when its directory is a collection. */
export function kselftestInfo(path: string): KselftestInfo | undefined {
  const dir = dirname(resolve(path));
  if (!isCollection(dir)) return undefined;
  let timeout: number | undefined;
  try {
    timeout = settingsTimeout(readFileSync(join(dir, 'settings'), 'utf8'));
  } catch {
    // no settings file: the run's --timeout applies
  }
  return { dir, argsVar: argsVariable(path), ...(timeout !== undefined ? { timeout } : {}) };
}

/** Words of a KSELFTEST_<NAME>_ARGS value (runner.sh lets the shell split it on blanks). */
export function splitArgs(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter(Boolean);
}

/** kselftest's variables a run passes from the caller's environment to the tests. */
const PASSED = /^(KSELFTEST_[A-Za-z0-9_]+_ARGS|VERBOSE|TESTS|PAUSE_ON_FAIL|NETIFS)$/;

export function kselftestEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => PASSED.test(e[0]) && e[1] !== undefined));
}

/** Tests that came from naming a whole collection directory (they get KSELFTEST_*_ARGS, not `-- ARGS`). */
export function collectionMembers(args: string[], cwd: string): Set<string> {
  return new Set(args.flatMap((a) => (isDir(resolve(cwd, a)) ? (collectionTests(resolve(cwd, a)) ?? []) : [])));
}

/**
 * The interpreter of a collection test that is not executable (a tarball can lose the bit):
 * runner.sh runs such a file with the command on its `#!` line, as here; undefined without one.
 */
export function shebang(path: string): string[] | undefined {
  let first: string;
  try {
    first = readFileSync(path, 'utf8').slice(0, 256).split('\n')[0] ?? '';
  } catch {
    return undefined;
  }
  const words = first.startsWith('#!') ? first.slice(2).trim().split(/\s+/).filter(Boolean) : [];
  return words.length ? words : undefined;
}
