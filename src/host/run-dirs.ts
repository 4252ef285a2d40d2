// Where a run writes on the host. Its temp directory (bundles, UML's pid file and socket, an
// image's COW file, the run directory without --out), the removal of those a dead run left
// behind, and --out (claimed by one run at a time, checked before anything boots).
// A temp directory's name carries the owner's pid and an `owner` file its start time, so any
// later run can tell one whose process is gone (killed with SIGKILL, say) from one in use.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './errors.js';
import { ownerAlive, ownerLine, takePidLock } from './pid-lock.js';

const PREFIX = 'net-test-run-';
const NAME = /^net-test-run-(\d+)-[A-Za-z0-9]{6}$/;
const OWNER = 'owner';

/** Creates this run's temp directory under `parent` (default: the temp directory). */
export function createRunTemp(parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, `${PREFIX}${process.pid}-`));
  writeFileSync(join(dir, OWNER), `${ownerLine()}\n`);
  return dir;
}

/**
 * Removes the temp directories of runs whose process is gone; returns their paths. Only
 * directories this user owns: another user's are not ours to judge (nor to remove).
 */
export function sweepDeadRuns(parent = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return removed;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const m = NAME.exec(name);
    if (!m) continue;
    const dir = join(parent, name);
    try {
      if (!statSync(dir).isDirectory() || (uid !== undefined && statSync(dir).uid !== uid)) continue;
      let owner: string;
      try {
        owner = readFileSync(join(dir, OWNER), 'utf8');
      } catch {
        owner = m[1]!; // created, owner not yet written: judge by the pid in the name
      }
      if (ownerAlive(owner)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // vanished meanwhile, or not removable: leave it
    }
  }
  return removed;
}

/**
 * The real reason a directory cannot be made: recursive mkdir reports ENOENT for a read-only
 * parent, so make the first missing component alone and take its error.
 */
function mkdirError(dir: string): string | undefined {
  let first = dir;
  while (!existsSync(dirname(first)) && dirname(first) !== first) first = dirname(first);
  try {
    mkdirSync(first);
    rmdirSync(first);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
}

/** Below this much free space a run directory is refused: the console log alone grows to ~100 KiB. */
export const OUT_MIN_FREE = 4 * 2 ** 20;
const OUT_LOCK = '.net-test.lock';

/**
 * Creates --out (and missing parents), checks that it is writable with room in it, and claims
 * it for this run; returns the release. A second run on the same directory is refused (its
 * files would mix); one whose owner died is taken over.
 */
export function claimOutDir(dir: string): () => void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(`--out ${dir}: cannot create it (${mkdirError(dir) ?? (e as NodeJS.ErrnoException).code ?? (e as Error).message}): choose a writable place`);
  }
  if (!statSync(dir).isDirectory()) throw new UsageError(`--out ${dir} exists and is not a directory`);
  let lock;
  try {
    lock = takePidLock(join(dir, OUT_LOCK));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UsageError(
      code === 'ENOSPC' ? `--out ${dir}: no space left on its file system: free space there or choose another --out` : `--out ${dir}: cannot write in it (${code}): choose a writable place`,
    );
  }
  if ('holder' in lock) throw new UsageError(`--out ${dir} is in use by another net-test run (pid ${lock.holder}): give each run its own --out`);
  const s = statfsSync(dir);
  const free = s.bavail * s.bsize;
  if (free < OUT_MIN_FREE) {
    lock.release();
    throw new UsageError(`--out ${dir}: only ${Math.floor(free / 1024)} KiB free on its file system, a run needs at least ${OUT_MIN_FREE / 2 ** 20} MiB: free space there or choose another --out`);
  }
  return lock.release;
}
