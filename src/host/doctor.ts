// `net-test doctor`: the prerequisites of a run (the list `run` itself checks, src/host/prereqs.ts)
// for the kernel a run would pick here, then a real boot of that kernel running one process,
// so "ready" means a run works. Optional extras (rootfs builds) are warnings.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pc from 'picocolors';
import { cacheDir } from './cache.js';
import { Exit, type ExitCode } from './errors.js';
import { defaultBuildDir } from './kernel/build.js';
import { locateKernel, probeKernel, type Kernel } from './kernel/locate.js';
import { findKernelTree } from './kernel/tree.js';
import { doctorOnlyChecks, hostfsCheck, parseMem, runChecks, type Check } from './prereqs.js';
import { checkDebootstrap, checkMkfs, findTool, isRoot } from './rootfs/tools.js';
import { kselftestChecks } from './doctor-kselftest.js';

export interface DoctorOptions {
  cwd: string;
  kernel?: string | undefined;
  rootfs?: string | undefined;
  /** The CLI script, for the boot check (a real `net-test run`). */
  cli: string;
}

const BUILD_TOOLS = ['make', 'gcc', 'bc', 'flex', 'bison'];

/** The kernel `run` would boot from here, as checks: the choice itself and, if needed, the build tools. */
function pickKernel(o: DoctorOptions): { checks: Check[]; kernel?: Kernel } {
  const tree = o.kernel ? undefined : findKernelTree(o.cwd);
  if (tree) {
    const missing = BUILD_TOOLS.filter((t) => !findTool(t));
    const checks: Check[] = [
      {
        name: 'kernel build tools',
        ok: missing.length === 0,
        detail: missing.length ? `missing: ${missing.join(' ')} (a run here builds ${tree.root} first)` : `a run here builds ${tree.root} (${tree.version}) first`,
        fix: 'apt-get install make gcc libc6-dev bc flex bison',
      },
    ];
    const built = join(defaultBuildDir(tree.root), 'linux');
    if (!existsSync(built)) {
      checks.push({ name: 'UML kernel', ok: true, detail: `not built yet: run \`net-test build\` here, then doctor checks what it made` });
      return { checks };
    }
    try {
      const kernel = probeKernel(built, 'built');
      return { checks: [...checks, { name: 'UML kernel', ok: true, detail: `${built} (${kernel.release}, last build of this tree)` }], kernel };
    } catch (e) {
      return { checks: [...checks, { name: 'UML kernel', ok: false, detail: (e as Error).message, fix: 'net-test build' }] };
    }
  }
  try {
    const kernel = locateKernel({ kernel: o.kernel, cwd: o.cwd });
    const where = `${kernel.path} (${kernel.release}, ${kernel.source}${kernel.moduleDir ? `, modules in ${kernel.moduleDir}` : ''})`;
    return { checks: [{ name: 'UML kernel', ok: true, detail: where }], kernel };
  } catch (e) {
    return { checks: [{ name: 'UML kernel', ok: false, detail: (e as Error).message, fix: 'apt-get install user-mode-linux, or pass --kernel FILE' }] };
  }
}

/** A real run of `/bin/true` on that kernel: the one check that covers everything else. */
function bootCheck(o: DoctorOptions, kernel: Kernel): Check {
  const started = Date.now();
  const args = [o.cli, 'run', '--kernel', kernel.path, '--quiet', '--timeout', '60', ...(o.rootfs ? ['--rootfs', o.rootfs] : []), '/bin/true'];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 180_000, cwd: o.cwd, env: { ...process.env, NO_COLOR: '1' } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status === 0) return { name: 'boot', ok: true, detail: `the kernel booted and ran a process (${seconds} s)` };
  const said = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = (said.find((l) => l.startsWith('net-test:')) ?? said.at(-1) ?? r.error?.message ?? `exit ${r.status}`).replace(/^net-test: /, '');
  return { name: 'boot', ok: false, detail: `a run of /bin/true failed (exit ${r.status ?? r.signal}): ${line}`, fix: 'see the line above; net-test run -v /bin/true shows the console' };
}

function extras(): Check[] {
  const out: Check[] = [];
  const vsyscall = readFileSync('/proc/self/maps', 'utf8').includes('[vsyscall]');
  out.push({
    name: 'host vsyscall page',
    ok: vsyscall,
    optional: true,
    detail: vsyscall ? 'mapped' : 'not mapped (vsyscall=none)',
    fix: 'if UML fails at start, boot the host with vsyscall=emulate',
  });
  // Only `net-test rootfs build` needs these: warnings, not failures.
  for (const t of [checkDebootstrap(), checkMkfs()]) out.push({ name: `${t.name} (rootfs build)`, ok: t.ok, optional: true, detail: t.detail, fix: t.fix });
  out.push({
    name: 'root (rootfs build)',
    ok: isRoot(),
    optional: true,
    detail: isRoot() ? 'running as root' : 'not root: debootstrap creates device nodes and chroots',
    fix: 'run net-test rootfs build as root (sudo)',
  });
  // Only the kernel's own selftests need these: warnings (src/host/doctor-kselftest.ts).
  out.push(...kselftestChecks());
  return out;
}

export function doctor(o: DoctorOptions): ExitCode {
  let failed = false;
  const show = (c: Check) => {
    const mark = c.ok ? pc.green('✓') : c.optional ? pc.yellow('!') : pc.red('✗');
    process.stdout.write(`${mark} ${c.name}: ${c.detail}\n`);
    if (!c.ok && c.fix) process.stdout.write(`    fix: ${c.fix}\n`);
    if (!c.ok && !c.optional) failed = true;
  };
  doctorOnlyChecks().forEach(show);
  const picked = pickKernel(o);
  picked.checks.forEach(show);
  if (picked.kernel) {
    const shimDirs = [join(cacheDir(), 'shim')];
    show(hostfsCheck(picked.kernel));
    runChecks({ kernel: picked.kernel, imageRoot: o.rootfs !== undefined, taps: 2, hostNet: false, memBytes: parseMem('512M')!, vms: 1, shimDirs }).forEach(show);
    if (failed) show({ name: 'boot', ok: false, optional: true, detail: 'not tried: fix the items above first' });
    else show(bootCheck(o, picked.kernel));
  }
  extras().forEach(show);
  process.stdout.write(failed ? pc.red('some prerequisites are missing\n') : pc.green('ready to run\n'));
  return failed ? Exit.usage : Exit.pass;
}
