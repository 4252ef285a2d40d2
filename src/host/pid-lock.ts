// A lock file holding its owner's pid, created exclusively; a lock whose process is gone is
// taken over. Used where one build at a time may write a directory or an image.
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export type PidLock = { release: () => void } | { holder: number };

const alive = (pid: number): boolean => {
  try {
    return Number.isInteger(pid) && pid > 0 && process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Takes the lock at `path`, or names the live process holding it. Other errors throw. */
export function takePidLock(path: string): PidLock {
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid: number;
    try {
      pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    } catch {
      continue; // released meanwhile
    }
    if (alive(pid)) return { holder: pid };
    rmSync(path, { force: true });
  }
}
