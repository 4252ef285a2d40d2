// A lock file holding its owner's pid and start time, created exclusively; a lock whose process
// is gone is taken over. Used where one process at a time may write a directory or an image
// (kernel builds, rootfs builds, a run's --out) and to tell a dead run's temp directory.
// The start time (clock ticks since boot, /proc/PID/stat field 22) makes a recycled pid count
// as dead: a pid alone may name an unrelated process after a crash.
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export type PidLock = { release: () => void } | { holder: number };

/** The start time of `pid`, or undefined when there is no such process. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) is in parentheses and may hold spaces: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** `pid starttime` of this process, as lock files record it. */
export const ownerLine = (): string => `${process.pid} ${startTime(process.pid) ?? ''}`.trim();

/** Whether the owner recorded as `text` (`pid [starttime]`) is still running. */
export function ownerAlive(text: string): boolean {
  const [pidText, start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = startTime(pid);
  if (now === undefined) {
    // No /proc entry we can read: fall back to signal 0 (EPERM: alive, someone else's).
    try {
      return process.kill(pid, 0);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return start === undefined || start === now;
}

/** Takes the lock at `path`, or names the live process holding it. Other errors throw. */
export function takePidLock(path: string): PidLock {
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, `${ownerLine()}\n`);
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue; // released meanwhile
    }
    if (ownerAlive(text)) return { holder: Number.parseInt(text, 10) };
    rmSync(path, { force: true });
  }
}
