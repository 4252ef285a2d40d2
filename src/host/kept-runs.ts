// A failed run's directory, kept when the user gave no --out: the console log, each file's
// output and the pcaps a failing test names under /run/net-test are what one looks at next.
// The newest few are kept in the cache, older ones go, so nothing grows without bound.
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './cache.js';

/** How many failed runs' directories are kept. */
export const KEPT_RUNS = 5;

export function keptRunsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'failed-runs');
}

/**
 * Moves `runDir` under keptRunsDir() as `<UTC time>-<pid>` and removes all but the newest
 * KEPT_RUNS there. Returns where it went, or why it could not be kept.
 */
export function keepFailedRun(runDir: string, env: NodeJS.ProcessEnv = process.env): { path: string } | { error: string } {
  const base = keptRunsDir(env);
  const dest = join(base, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  try {
    mkdirSync(base, { recursive: true });
    try {
      renameSync(runDir, dest);
    } catch (e) {
      // The run's temp dir and the cache are usually on different file systems.
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      cpSync(runDir, dest, { recursive: true });
    }
  } catch (e) {
    rmSync(dest, { recursive: true, force: true });
    return { error: (e as Error).message };
  }
  // Names start with the time, so they sort oldest first.
  const all = readdirSync(base).filter((n) => /^\d{4}-\d\d-\d\dT/.test(n)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - KEPT_RUNS))) rmSync(join(base, old), { recursive: true, force: true });
  return { path: dest };
}
