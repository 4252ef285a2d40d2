// Running a block of code as another user, on this thread only.
import * as sys from './sys/calls.js';

/**
 * Run `fn` (synchronous) with real and effective uid (and gid, if given) switched on the main
 * thread, then switch back, even if it throws.
 *
 * This uses the raw setresuid/setresgid system calls, which change only the calling thread.
 * glibc's setresuid() would change every thread of the process (it signals them all), so
 * libuv's worker threads (file I/O, e.g. writing results) would lose root too, and a failure
 * halfway could leave threads with different credentials. Sockets created inside `fn` on the
 * main thread belong to the new uid (sk_uid comes from the creating thread's fsuid, which
 * follows euid). The saved uid stays 0 so root can be taken back; supplementary groups are
 * left alone.
 */
export function asUser<T>(uid: number, fn: () => T, opts: { gid?: number } = {}): T {
  const ruid = sys.getuid();
  const euid = sys.geteuid();
  const rgid = sys.getgid();
  const egid = sys.getegid();
  if (opts.gid !== undefined) sys.setresgidThread(opts.gid, opts.gid, -1);
  try {
    sys.setresuidThread(uid, uid, -1);
  } catch (e) {
    if (opts.gid !== undefined) sys.setresgidThread(rgid, egid, -1);
    throw e;
  }
  let result: T;
  try {
    result = fn();
  } finally {
    sys.setresuidThread(ruid, euid, -1);
    if (opts.gid !== undefined) sys.setresgidThread(rgid, egid, -1);
  }
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    throw new TypeError('asUser: fn returned a promise; credentials apply only to synchronous code');
  }
  return result;
}

