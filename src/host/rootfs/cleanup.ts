// Tearing down a half-built root: debootstrap's second stage mounts proc/sys (and, in some
// setups, a tmpfs /dev with bind-mounted host device nodes) inside the target. Removing the
// tree before those are gone would delete through them into the host's /dev or /proc, so:
// stop the processes, unmount everything under the tree deepest first, then remove it without
// crossing into any other filesystem.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** mountinfo escapes space, tab, newline and backslash as \ooo (octal). */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Mount points at or below `dir`, deepest first, from a mountinfo text (proc(5) format). */
export function mountsUnder(dir: string, mountinfo: string): string[] {
  const base = dir.replace(/\/+$/, '');
  const points = mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map(unescape)
    .filter((p) => p === base || p.startsWith(`${base}/`));
  // Deeper paths first; a path mounted twice is listed twice (each umount removes one layer).
  return points.sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

/** Lazily unmounts everything under `dir`; returns the mount points still there (should be none). */
export function unmountUnder(dir: string, log?: (line: string) => void): string[] {
  for (let round = 0; round < 5; round++) {
    const points = mountsUnder(dir, readFileSync('/proc/self/mountinfo', 'utf8'));
    if (!points.length) return [];
    for (const p of points) {
      const r = spawnSync('umount', ['-l', p], { encoding: 'utf8' });
      log?.(`umount -l ${p}: ${r.status === 0 ? 'ok' : (r.stderr || String(r.error)).trim()}`);
    }
  }
  return mountsUnder(dir, readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Is any process of process group `pgid` alive? */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Ends a process group: SIGTERM, then SIGKILL after `graceMs`; resolves once the group is
 * empty (or after a further 5 s, when something is stuck in the kernel).
 */
export async function killGroup(pgid: number, graceMs = 2000): Promise<void> {
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, s);
    } catch {
      // already gone
    }
  };
  const waitGone = async (ms: number): Promise<boolean> => {
    for (let t = 0; t < ms; t += 100) {
      if (!groupAlive(pgid)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return !groupAlive(pgid);
  };
  if (!groupAlive(pgid)) return;
  signal('SIGTERM');
  if (await waitGone(graceMs)) return;
  signal('SIGKILL');
  await waitGone(5000);
}

/**
 * Removes `dir` after unmounting what is mounted below it. `rm --one-file-system` refuses to
 * descend into anything still mounted; returns an error text when something stayed.
 */
export function removeTree(dir: string, log?: (line: string) => void): string | undefined {
  const left = unmountUnder(dir, log);
  if (left.length) return `could not unmount ${left.join(', ')}; remove ${dir} by hand after unmounting them`;
  const r = spawnSync('rm', ['-rf', '--one-file-system', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `could not remove ${dir}: ${(r.stderr || String(r.error)).trim().split('\n')[0]}`;
  return undefined;
}
