// Starts the UML process with its network: in a fresh network namespace (default; rootless
// through a user namespace when not root) or in the caller's namespace (--host-net).
// UML and every host process it forks share one process group, so one kill ends them all.
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
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

const isRoot = () => process.getuid?.() === 0;

export function launchUml(o: {
  kernel: string;
  args: string[];
  taps: Tap[];
  net: NetMode;
  stdio: StdioOptions;
}): Launch {
  const batch = tapCreateBatch(o.taps);
  let child: ChildProcess;
  let cleanup = () => {};
  if (o.net === 'host') {
    if (!isRoot()) throw new UsageError('--host-net needs root (CAP_NET_ADMIN) to create taps in your namespace: run as root, or drop --host-net');
    if (batch) {
      const r = spawnSync('ip', ['-batch', '-'], { input: batch, encoding: 'utf8' });
      if (r.status !== 0) {
        spawnSync('ip', ['-force', '-batch', '-'], { input: tapDeleteBatch(o.taps), stdio: ['pipe', 'ignore', 'ignore'] });
        throw new UsageError(`cannot create tap devices: ${(r.stderr || r.error?.message || '').trim()} (another run with --host-net? remove them with: ip tuntap del dev NAME mode tap)`);
      }
      cleanup = () => {
        spawnSync('ip', ['-force', '-batch', '-'], { input: tapDeleteBatch(o.taps), stdio: ['pipe', 'ignore', 'ignore'] });
        cleanup = () => {};
      };
    }
    child = spawn(o.kernel, o.args, { detached: true, stdio: o.stdio });
  } else {
    // The taps die with the namespace, which dies with its last process: no cleanup needed.
    const script = `if [ -n "$NT_IPBATCH" ]; then printf '%s' "$NT_IPBATCH" | ip -batch - >&2 || exit ${TAP_SETUP_FAILED}; fi; exec "$@"`;
    const userns = isRoot() ? [] : ['--user', '--map-root-user'];
    child = spawn('unshare', [...userns, '--net', '--', '/bin/sh', '-c', script, 'sh', o.kernel, ...o.args], {
      detached: true,
      stdio: o.stdio,
      env: { ...process.env, NT_IPBATCH: batch },
    });
  }
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
