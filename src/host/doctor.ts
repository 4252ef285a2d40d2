// `net-test doctor`: every prerequisite of a run, checked the way a run uses it, with the fix.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import pc from 'picocolors';
import { Exit, type ExitCode } from './errors.js';
import { locateKernel } from './kernel/locate.js';
import { checkDebootstrap, checkMkfs } from './rootfs/tools.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** A failed optional check is a warning, not a failure. */
  optional?: boolean;
}

const isRoot = () => process.getuid?.() === 0;

function works(cmd: string, args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, err: (r.stderr || r.error?.message || '').trim().split('\n')[0] ?? '' };
}

function checks(): Check[] {
  const out: Check[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  out.push({ name: 'Node.js', ok: major >= 20, detail: process.version, fix: 'install Node.js 20 or newer' });

  let kernelPath: string | undefined;
  try {
    const k = locateKernel({ cwd: process.cwd() });
    kernelPath = k.path;
    out.push({ name: 'UML kernel', ok: true, detail: `${k.path} (${k.release}, ${k.source}${k.moduleDir ? `, modules in ${k.moduleDir}` : ''})` });
  } catch (e) {
    out.push({ name: 'UML kernel', ok: false, detail: (e as Error).message, fix: 'apt-get install user-mode-linux' });
  }
  if (kernelPath) {
    const hostfs = readFileSync(kernelPath).includes('hostfs');
    out.push({ name: 'hostfs in the kernel', ok: hostfs, detail: hostfs ? 'present' : 'missing', fix: 'build the kernel with CONFIG_HOSTFS=y (net-test build does)' });
  }

  let tun = false;
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    tun = true;
  } catch {
    // reported below
  }
  out.push({
    name: '/dev/net/tun',
    ok: tun,
    detail: tun ? 'readable and writable' : existsSync('/dev/net/tun') ? 'not readable and writable for you' : 'missing',
    fix: existsSync('/dev/net/tun') ? 'sudo chmod 0666 /dev/net/tun (or run as root, or use --taps 0)' : 'sudo modprobe tun',
  });

  const ns = isRoot() ? works('unshare', ['--net', 'true']) : works('unshare', ['--user', '--map-root-user', '--net', 'true']);
  out.push({
    name: isRoot() ? 'network namespaces' : 'user + network namespaces (rootless)',
    ok: ns.ok,
    detail: ns.ok ? 'available' : ns.err,
    fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1 (Debian/Ubuntu), or on Ubuntu 24.04+: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
  });

  const ip = works('ip', ['-V']);
  out.push({ name: 'iproute2 (ip)', ok: ip.ok, detail: ip.ok ? 'present' : ip.err, fix: 'apt-get install iproute2' });

  const shm = (() => {
    try {
      accessSync('/dev/shm', constants.W_OK);
      return true;
    } catch {
      return false;
    }
  })();
  out.push({ name: '/dev/shm (UML guest memory)', ok: shm, detail: shm ? 'writable' : 'not writable', fix: 'mount a tmpfs on /dev/shm' });

  const vsyscall = readFileSync('/proc/self/maps', 'utf8').includes('[vsyscall]');
  out.push({
    name: 'host vsyscall page',
    ok: vsyscall,
    optional: true,
    detail: vsyscall ? 'mapped' : 'not mapped (vsyscall=none)',
    fix: 'if UML fails at start, boot the host with vsyscall=emulate',
  });

  // Only `net-test rootfs build` needs these: warnings, not failures.
  for (const t of [checkDebootstrap(), checkMkfs()]) {
    out.push({ name: `${t.name} (rootfs build)`, ok: t.ok, optional: true, detail: t.detail, fix: t.fix });
  }
  out.push({
    name: 'root (rootfs build)',
    ok: isRoot(),
    optional: true,
    detail: isRoot() ? 'running as root' : 'not root: debootstrap creates device nodes and chroots',
    fix: 'run net-test rootfs build with sudo',
  });
  return out;
}

export function doctor(): ExitCode {
  let failed = false;
  for (const c of checks()) {
    const mark = c.ok ? pc.green('✓') : c.optional ? pc.yellow('!') : pc.red('✗');
    process.stdout.write(`${mark} ${c.name}: ${c.detail}\n`);
    if (!c.ok && c.fix) process.stdout.write(`    fix: ${c.fix}\n`);
    if (!c.ok && !c.optional) failed = true;
  }
  process.stdout.write(failed ? pc.red('some prerequisites are missing\n') : pc.green('ready to run\n'));
  return failed ? Exit.usage : Exit.pass;
}
