// Finds the UML kernel to boot: --kernel FILE, else ./linux in a kernel build directory,
// else the distribution's UML kernel. Every candidate is probed with `--version`, which a UML
// binary answers with its bare release string.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export interface Kernel {
  /** Absolute path of the UML executable. */
  path: string;
  /** Kernel release, e.g. "6.1.176". */
  release: string;
  /** Directory holding the kernel's modules when they are not in /lib/modules (distribution UML). */
  moduleDir?: string;
  source: 'option' | 'build-dir' | 'distribution' | 'built';
}

export const DISTRO_KERNEL = '/usr/bin/linux.uml';
const DISTRO_MODULES = '/usr/lib/uml/modules';
const RELEASE = /^\d+\.\d+(\.\d+)?\S*$/;

/** Probes `path` as a UML binary; throws UsageError saying why it is not one. */
export function probeKernel(path: string, source: Kernel['source']): Kernel {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UsageError(`kernel not found: ${path} (pass a UML kernel with --kernel FILE)`);
  if (!statSync(abs).isFile()) throw new UsageError(`kernel is not a file: ${path}`);
  try {
    accessSync(abs, constants.X_OK);
  } catch {
    throw new UsageError(`kernel is not executable: ${path} (chmod +x ${path})`);
  }
  const r = spawnSync(abs, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = (r.stdout ?? '').trim();
  if (r.status !== 0 || !RELEASE.test(out)) {
    const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
    const why = r.error
      ? `cannot execute it: ${code === 'ETIMEDOUT' ? 'no answer to --version within 10 s' : (code ?? r.error.message)}`
      : r.signal
        ? `it was killed by ${r.signal} when asked for --version: a truncated or broken binary?`
        : out
          ? `it answered --version with "${out.split('\n')[0]!.slice(0, 60)}"`
          : `it printed nothing for --version and exited ${r.status}`;
    throw new UsageError(
      `not a user-mode Linux kernel: ${path} (${why}): build one with ARCH=um (\`net-test build\`) or install Debian's user-mode-linux package`,
    );
  }
  const moduleDir = join(DISTRO_MODULES, out);
  return { path: abs, release: out, source, ...(existsSync(moduleDir) ? { moduleDir } : {}) };
}

/** The kernel a run boots when the user did not build one. */
export function locateKernel(opts: { kernel?: string | undefined; cwd: string }): Kernel {
  if (opts.kernel) return probeKernel(opts.kernel, 'option');
  const local = join(opts.cwd, 'linux');
  if (existsSync(join(opts.cwd, '.config')) && existsSync(local)) return probeKernel(local, 'build-dir');
  if (existsSync(DISTRO_KERNEL)) return probeKernel(DISTRO_KERNEL, 'distribution');
  throw new UsageError(
    'no UML kernel found: install one (apt-get install user-mode-linux), run from a kernel build directory, or pass --kernel FILE',
  );
}
