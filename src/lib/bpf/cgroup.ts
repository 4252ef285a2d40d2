// A cgroup (v2) of the test's own, for cgroup BPF programs: created under the guest's
// /sys/fs/cgroup, the calling process moved into it while a block runs (sockets remember the
// cgroup they were created in), then moved back and the cgroup removed.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sys from '../sys/calls.js';
import { O_CLOEXEC, O_RDONLY } from '../include/uapi/asm-generic/fcntl.js';

/** Where init mounts cgroup2 (src/guest/init.sh). */
export const CGROUP_ROOT = '/sys/fs/cgroup';
const O_DIRECTORY = 0o200000;

export interface Cgroup {
  readonly path: string;
  /** An O_DIRECTORY fd of the cgroup: BPF_PROG_ATTACH's target. */
  readonly fd: number;
  /** Run `fn` with this process in the cgroup; sockets made inside stay the cgroup's. */
  run<T>(fn: () => T): T;
  /** Close the fd, leave and remove the cgroup (its programs go with it). */
  remove(): void;
}

/** The cgroup2 path of this process (the line "0::/path" of /proc/self/cgroup). */
export function currentCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  if (!line) throw new Error('no cgroup2 hierarchy in /proc/self/cgroup: is cgroup2 mounted?');
  return join(CGROUP_ROOT, line.slice(3));
}

function moveTo(dir: string): void {
  writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
}

/** Make a fresh cgroup `name` under `parent` (default: this process's current cgroup). */
export function makeCgroup(name: string, parent = currentCgroup()): Cgroup {
  const path = join(parent, name);
  mkdirSync(path);
  const fd = sys.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  let open = true;
  return {
    path,
    fd,
    run(fn) {
      const was = currentCgroup();
      moveTo(path);
      try {
        return fn();
      } finally {
        moveTo(was);
      }
    },
    remove() {
      if (!open) return;
      open = false;
      sys.close(fd);
      rmdirSync(path);
    },
  };
}
