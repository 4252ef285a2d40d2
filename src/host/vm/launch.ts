// Starts the UML process with its network: in a fresh network namespace (default; rootless
// through a user namespace when not root) or in the caller's namespace (--host-net).
//
// The VM dies with its runner, however the runner ends (even SIGKILL), by three mechanisms:
// - UML runs in a PID namespace of its own under a shell that is that namespace's init: when
//   the shell dies, the kernel kills everything in the namespace (UML and the host processes
//   it forks). UML itself must not be the init: its panic path ends in abort(), which a
//   namespace init ignores, and it would hang.
// - `setpriv --pdeathsig KILL` on `unshare`, and `unshare --kill-child` on the shell: the
//   runner's death kills unshare, whose death kills the shell.
// - The shell holds one end of a socket whose other end only the runner holds (fd 5): a
//   watcher reads it, and its EOF (the runner is gone) kills the namespace's processes.
// The taps live in the run's network namespace, which goes with its last process. With
// --host-net they live in the caller's namespace: a detached watcher deletes them when the
// runner's pipe to it closes without a word.
import { spawn, spawnSync, type ChildProcess, type IOType } from 'node:child_process';
import { UsageError } from '../errors.js';
import { tapCreateBatch, tapDeleteBatch, type Tap } from '../net/taps.js';

export type NetMode = 'private' | 'host';

export interface Launch {
  child: ChildProcess;
  /** Kills UML and all its host processes; harmless when they are gone. */
  kill(): void;
  /** Removes what the launch created outside the process tree (host-net taps). */
  cleanup(): void;
}

/** Exit status the namespace shell uses when `ip` could not create the taps. */
export const TAP_SETUP_FAILED = 97;
/** The fd (in the namespace shell) whose EOF means the runner is gone. */
const FD_PARENT = 5;

const isRoot = () => process.getuid?.() === 0;

/**
 * The namespace's init: creates the taps (private mode), starts the parent watch, runs UML as
 * its child and exits with UML's status. `kill -KILL -1` in a PID namespace reaches every
 * process of that namespace but its init, and nothing outside it.
 */
const NS_INIT = [
  `if [ -n "$NT_IPBATCH" ]; then printf '%s' "$NT_IPBATCH" | ip -batch - >&2 || exit ${TAP_SETUP_FAILED}; fi`,
  `{ cat <&${FD_PARENT} >/dev/null 2>&1; kill -KILL -1; } &`,
  // LD_PRELOAD for UML alone (the FPU shim, xstate-shim.ts), ahead of any of the user's.
  `LD_PRELOAD="$NT_PRELOAD\${LD_PRELOAD:+ $LD_PRELOAD}" "$@" ${FD_PARENT}<&-`,
  'exit $?',
].join('\n');

export function launchUml(o: {
  kernel: string;
  args: string[];
  taps: Tap[];
  net: NetMode;
  /** fds 0-4 of UML; fd 5 is the parent watch. */
  stdio: IOType[];
  /** Environment additions for UML (TMPDIR: where its memory file goes). */
  env: Record<string, string>;
  /** A shared object preloaded into UML only. */
  preload?: string | undefined;
}): Launch {
  const batch = tapCreateBatch(o.taps);
  let cleanup = () => {};
  const ns: string[] = ['--pid', '--fork', '--kill-child'];
  if (o.net === 'host') {
    if (!isRoot()) throw new UsageError('--host-net needs root (CAP_NET_ADMIN) to create taps in your namespace: run as root, or drop --host-net');
    if (batch) cleanup = hostTaps(o.taps, batch);
  } else {
    // The taps die with the namespace, which dies with its last process: no cleanup needed.
    ns.push('--net');
    if (!isRoot()) ns.unshift('--user', '--map-root-user');
  }
  const child: ChildProcess = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', ...ns, '--', '/bin/sh', '-c', NS_INIT, 'sh', o.kernel, ...o.args], {
    detached: true,
    stdio: [...o.stdio, 'pipe'],
    env: { ...process.env, ...o.env, NT_IPBATCH: o.net === 'private' ? batch : '', NT_PRELOAD: o.preload ?? '' },
  });
  return {
    child,
    kill() {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
    cleanup: () => cleanup(),
  };
}

/**
 * Creates the taps in the caller's namespace and a detached watcher that deletes them if this
 * process dies without cleaning up (its stdin, our pipe, reaches EOF). Returns the cleanup.
 */
function hostTaps(taps: Tap[], batch: string): () => void {
  const r = spawnSync('ip', ['-batch', '-'], { input: batch, encoding: 'utf8' });
  const del = tapDeleteBatch(taps);
  if (r.status !== 0) {
    spawnSync('ip', ['-force', '-batch', '-'], { input: del, stdio: ['pipe', 'ignore', 'ignore'] });
    throw new UsageError(`cannot create tap devices: ${(r.stderr || r.error?.message || '').trim()} (another run with --host-net? remove them with: ip tuntap del dev NAME mode tap)`);
  }
  const watcher = spawn('/bin/sh', ['-c', 'cat >/dev/null; printf "%s" "$NT_TAPS_DEL" | ip -force -batch - >/dev/null 2>&1'], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { ...process.env, NT_TAPS_DEL: del },
  });
  watcher.unref();
  (watcher.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  let done = false;
  return () => {
    if (done) return;
    done = true;
    // The watcher must not delete taps of a later run with the same names: it goes first.
    watcher.kill('SIGKILL');
    spawnSync('ip', ['-force', '-batch', '-'], { input: del, stdio: ['pipe', 'ignore', 'ignore'] });
  };
}
