// What a run needs from the host, as one list: `net-test run` checks it before anything starts
// (a failing item is exit 2 with its fix) and `net-test doctor` prints it. Items `run` leaves to
// doctor (`doctorOnly`) are ones a run finds out by itself at the same cost and reports the
// same way (a namespace that cannot be created fails the launch, a kernel without hostfs cannot
// mount its root: exit 2 either way).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { UsageError } from './errors.js';
import type { Kernel } from './kernel/locate.js';
import { findTool } from './rootfs/tools.js';
import { buildShim, shimNeeded } from './vm/xstate-shim.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** How to fix it, as a command where one exists. */
  fix?: string;
  /** A failed optional check is a warning, not a failure. */
  optional?: boolean;
}

/** What the run is going to do, as far as the host is concerned. */
export interface RunNeeds {
  kernel: Kernel;
  /** The guest's root is an image (--rootfs): its own tools, not the host's. */
  imageRoot: boolean;
  taps: number;
  hostNet: boolean;
  /** Guest memory per VM, bytes. */
  memBytes: number;
  /** VMs at once. */
  vms: number;
  /** Where the FPU shim may be built (xstate-shim.ts), first choice first. */
  shimDirs: string[];
}

const isRoot = (): boolean => process.getuid?.() === 0;
const MiB = 2 ** 20;

/** `512M`, `2G`, `65536K`, `1048576` (bytes) → bytes, as UML reads mem=. */
export function parseMem(text: string): number | undefined {
  const m = /^(\d+)([KMG]?)$/i.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * { '': 1, K: 2 ** 10, M: MiB, G: 2 ** 30 }[(m[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G'];
}

/**
 * Where UML's guest memory (a sparse file) goes: /dev/shm when it is a writable directory,
 * else the temp directory. The runner sets UML's TMPDIR to it, so this is where it goes.
 */
export function memoryDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK | constants.X_OK);
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // not there or not ours
  }
  return tmpdir();
}

const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

function tool(name: string, what: string, pkg: string): Check {
  const path = findTool(name);
  return { name: `${name} (${what})`, ok: path !== undefined, detail: path ?? 'not installed', fix: `apt-get install ${pkg}` };
}

/** Every check `run` makes before it starts, for this run. Cheap: no process is started. */
export function runChecks(n: RunNeeds): Check[] {
  const out: Check[] = [];
  if (shimNeeded()) {
    const shim = buildShim(n.shimDirs);
    out.push({
      name: 'FPU shim for this CPU (AMX)',
      ok: 'path' in shim,
      detail:
        'path' in shim
          ? `${shim.path} (preloaded into UML: its fixed FPU buffer is smaller than this CPU's XSAVE area)`
          : `cannot build it: ${shim.error}; without it a UML kernel with a fixed FPU buffer (6.1, Debian's) kills init at its first process`,
      fix: 'apt-get install gcc libc6-dev',
    });
  }
  if (n.kernel.moduleDir && !n.imageRoot) {
    // init loads overlayfs, IPv6 and tun with the host's modprobe (the guest root is the
    // host's): without it the guest would have no overlay for /etc and no IPv6.
    const ok = existsSync('/sbin/modprobe');
    out.push({
      name: 'modprobe (kmod)',
      ok,
      detail: ok ? `/sbin/modprobe (loads ${n.kernel.release}'s modules from ${n.kernel.moduleDir})` : `missing: ${n.kernel.path} keeps overlayfs, IPv6 and tun as modules, which the guest loads with the host's /sbin/modprobe`,
      fix: 'apt-get install kmod',
    });
  }
  out.push(tool('unshare', "the run's namespaces", 'util-linux'));
  out.push(tool('setpriv', 'the VM dies with net-test', 'util-linux'));
  out.push(tool('ip', 'taps; lo in the guest', 'iproute2'));
  if (!n.imageRoot) out.push(tool('mount', "the guest's init", 'mount'));
  if (n.taps > 0) {
    const exists = existsSync('/dev/net/tun');
    const needAccess = !isRoot() && !n.hostNet;
    const ok = exists && (!needAccess || writable('/dev/net/tun'));
    out.push({
      name: '/dev/net/tun',
      ok,
      detail: !exists ? 'missing: the taps need the tun driver' : ok ? 'present' : 'not readable and writable for you',
      fix: !exists ? 'modprobe tun (or mknod -m 0666 /dev/net/tun c 10 200), or run with --taps 0' : 'chmod 0666 /dev/net/tun (as root), run as root, or use --taps 0',
    });
  }
  const dir = memoryDir();
  const need = n.memBytes * n.vms;
  let free = 0;
  try {
    const s = statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    // reported as 0 free
  }
  out.push({
    name: `guest memory in ${dir}`,
    ok: free >= need,
    detail: `${Math.floor(free / MiB)} MiB free, ${n.vms} VM(s) × ${Math.round(n.memBytes / MiB)} MiB may be used`,
    fix: `free space in ${dir} (a tmpfs: mount -o remount,size=2G ${dir}), or pass a smaller --mem or -j`,
  });
  return out;
}

/** hostfs in the kernel (a run finds out at boot: the root does not mount, exit 2). */
export function hostfsCheck(kernel: Kernel): Check {
  const help = spawnSync(kernel.path, ['--help'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  const ok = /^hostfs=/m.test(help.stdout ?? '');
  return {
    name: 'hostfs in the kernel',
    ok,
    detail: ok ? "present (the guest root is the host's)" : `${kernel.path} has no hostfs`,
    fix: 'build the kernel with CONFIG_HOSTFS=y (net-test build does)',
  };
}

/** Checks only `doctor` makes: a run finds these out itself and reports them the same way. */
export function doctorOnlyChecks(): Check[] {
  const out: Check[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  out.push({ name: 'Node.js', ok: major >= 20, detail: process.version, fix: 'install Node.js 20 or newer' });
  const args = isRoot() ? ['--pid', '--fork', '--net', 'true'] : ['--user', '--map-root-user', '--pid', '--fork', '--net', 'true'];
  const ns = spawnSync('unshare', args, { encoding: 'utf8', timeout: 10_000 });
  out.push({
    name: isRoot() ? 'network and PID namespaces' : 'user, network and PID namespaces (rootless)',
    ok: ns.status === 0,
    detail: ns.status === 0 ? 'available' : (ns.stderr || ns.error?.message || `exit ${ns.status}`).trim().split('\n')[0] ?? '',
    fix: 'sysctl -w kernel.unprivileged_userns_clone=1 (Debian/Ubuntu), or on Ubuntu 24.04+: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
  });
  return out;
}

/** The first failing required check as the one line `run` exits with (status 2). */
export function requireRunnable(n: RunNeeds): void {
  const bad = runChecks(n).find((c) => !c.ok && !c.optional);
  if (bad) throw new UsageError(`${bad.name}: ${bad.detail}; fix: ${bad.fix}`);
}
