// `run --typecheck`: TypeScript's checker over the node tests before anything boots. Bundling
// strips types without checking them, so `ipv4({ dontFragment: true })` would otherwise run.
// Not the default: tsc costs seconds per file on these machines (docs/BENCHMARKS.md).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
/** Diagnostics shown before "... and N more". */
const SHOWN = 30;

/** The nearest tsconfig.json at or above `dir`. */
function nearestTsconfig(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const f = join(d, 'tsconfig.json');
    if (existsSync(f)) return f;
    if (dirname(d) === d) return undefined;
  }
}

/** tsc's entry point: the tests' own TypeScript first, else the one next to net-test. */
function findTsc(from: string): string | undefined {
  for (const base of [from, PACKAGE_ROOT]) {
    try {
      return createRequire(join(base, 'x.js')).resolve('typescript/bin/tsc');
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/**
 * TypeScript looks for `@types` above the config it was given, which is ours in a scratch
 * directory: point it at the ones above the user's config, unless that config names its own.
 */
function typeRootsFor(cfg: string): { typeRoots?: string[] } {
  try {
    if (/"typeRoots"\s*:/.test(readFileSync(cfg, 'utf8'))) return {};
  } catch {
    return {};
  }
  const roots: string[] = [];
  for (let d = dirname(cfg); ; d = dirname(d)) {
    const t = join(d, 'node_modules', '@types');
    if (existsSync(t)) roots.push(t);
    if (dirname(d) === d) break;
  }
  return roots.length ? { typeRoots: roots } : {};
}

/**
 * For a test with no tsconfig of its own: strict ESM settings, and `net-test/...` mapped to
 * this installation's library sources (as the bundler maps them).
 */
function defaultOptions(): Record<string, unknown> {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
  const paths: Record<string, string[]> = {};
  for (const [sub, entry] of Object.entries(pkg.exports)) {
    const src = typeof entry === 'object' ? entry['net-test-source'] : undefined;
    if (src) paths[`net-test${sub.slice(1)}`] = [join(PACKAGE_ROOT, src)];
  }
  const typeRoots = join(PACKAGE_ROOT, 'node_modules', '@types');
  return {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: true,
    paths,
    ...(existsSync(join(typeRoots, 'node')) ? { typeRoots: [typeRoots], types: ['node'] } : {}),
  };
}

/**
 * Type-checks `files` (absolute paths of node tests), each group under its nearest
 * tsconfig.json (only those files and what they import), or net-test's defaults. Type errors are
 * a usage error listing tsc's diagnostics; a missing TypeScript says how to get it.
 */
export function typecheck(files: string[], scratch: string): void {
  if (files.length === 0) return;
  const tsc = findTsc(dirname(files[0]!));
  if (!tsc) throw new UsageError('--typecheck needs TypeScript: install it next to your tests (npm i -D typescript) or drop --typecheck');
  const groups = new Map<string, string[]>();
  for (const f of files) {
    const cfg = nearestTsconfig(dirname(f)) ?? '';
    groups.set(cfg, [...(groups.get(cfg) ?? []), f]);
  }
  const errors: string[] = [];
  let n = 0;
  for (const [cfg, group] of groups) {
    const own = join(scratch, `tsconfig-typecheck-${++n}.json`);
    const noEmit = { noEmit: true, incremental: false, composite: false, declaration: false, declarationMap: false, sourceMap: false };
    writeFileSync(
      own,
      JSON.stringify(
        cfg
          ? { extends: cfg, compilerOptions: { ...typeRootsFor(cfg), ...noEmit }, files: group, include: [] }
          : { compilerOptions: { ...defaultOptions(), ...noEmit }, files: group, include: [] },
      ),
    );
    const r = spawnSync(process.execPath, [tsc, '-p', own, '--pretty', 'false'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status === 0) continue;
    const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
    errors.push(...(lines.length ? lines : [`tsc exited with ${r.status ?? r.signal}`]));
  }
  if (errors.length === 0) return;
  const more = errors.length > SHOWN ? [`... and ${errors.length - SHOWN} more lines`] : [];
  throw new UsageError(`--typecheck: the tests have type errors (fix them, or run without --typecheck):\n${[...errors.slice(0, SHOWN), ...more].join('\n')}`);
}
