// `net-test build`: configure and compile the kernel tree as user-mode Linux.
// The option set and the error mapping are exported so `net-test run` can build first.
import { Command, InvalidArgumentError } from 'commander';
import { KernelCompileError, KernelSetupError } from '../host/kernel/build-errors.js';
import { buildKernel, type BuildKernelOptions, type BuildKernelResult } from '../host/kernel/build.js';
import { findKernelTree } from '../host/kernel/tree.js';

/**
 * Option values as commander hands them to the action: buildKernel's options under the flags'
 * names (--config and --configitem collect into `config` and `configitem`).
 */
export type BuildCliValues = Omit<BuildKernelOptions, 'kernelDir' | 'configFiles' | 'configItems' | 'progress'> & {
  kernelDir?: string | undefined;
  config?: string[] | undefined;
  configitem?: string[] | undefined;
};

/** Repeatable commander option: every occurrence appended. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('give a positive whole number.');
  return n;
}

/** What the kernel is configured with: `net-test build`'s and, in a kernel tree, `run`'s and `watch`'s. */
export function addConfigOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'extra config fragment, kernel fragment syntax (repeatable)', collect, [])
    .option('--configitem <CONFIG_X=y>', 'extra config option, =n to unset (repeatable)', collect, [])
    .option('--allow-missing', 'warn instead of failing when a requested option does not take effect')
    .option('--kasan', 'build with KASAN and UBSAN (memory error detection)')
    .option('--debug-info', 'build with debug info and gdb scripts')
    .option('--lockdep', 'build with lock dependency checking (PROVE_LOCKING)')
    .option('--selftests', "build with what the kernel's selftests/net need (VRF, bridge, tunnels, tc, NAT, MPLS, ...; see docs/KSELFTEST.md)");
}

/** `net-test build`'s options: where, how many make jobs, the configuration, time-travel, make's output. */
export function addBuildOptions(cmd: Command): Command {
  return addConfigOptions(
    cmd
      .option('--kernel-dir <dir>', 'kernel source tree (default: the tree containing the current directory)')
      .option('--build-dir <dir>', 'object directory, make O= (default: ~/.cache/net-test/build/<tree hash>)')
      .option('-j, --jobs <n>', 'parallel make jobs (default: number of CPUs)', positiveInt),
  )
    .option('--time-travel', 'UML time-travel support (net-test.config has it already; run boots with it by default)')
    .option('-v, --verbose', 'show make output instead of a status line');
}

/** Commander values -> buildKernel options; the kernel tree defaults to the one around the cwd. */
export function buildOptionsFrom(values: BuildCliValues, cwd = process.cwd()): BuildKernelOptions {
  const kernelDir = values.kernelDir ?? findKernelTree(cwd)?.root;
  if (!kernelDir) {
    throw new KernelSetupError(`${cwd} is not inside a kernel source tree: cd into one or pass --kernel-dir DIR`);
  }
  const { config, configitem, kernelDir: _named, ...rest } = values;
  return { ...rest, kernelDir, configFiles: config, configItems: configitem };
}

/** Prints a build error (one line, then its details) and returns the exit status; rethrows other errors. */
export function reportBuildError(e: unknown, err: NodeJS.WritableStream = process.stderr): number {
  if (e instanceof KernelSetupError) {
    err.write(`net-test: ${e.message}\n${e.details.map((d) => `  ${d}\n`).join('')}`);
    return e.exitCode;
  }
  if (e instanceof KernelCompileError) {
    err.write(`net-test: ${e.message}\n${e.errors.map((d) => `  ${d}\n`).join('')}`);
    return e.exitCode;
  }
  throw e;
}

/** Runs a build from CLI values; the kernel path goes to stdout (last line) for scripts. */
export async function runBuild(values: BuildCliValues): Promise<{ status: number; result?: BuildKernelResult }> {
  try {
    const result = await buildKernel(buildOptionsFrom(values));
    process.stdout.write(`${values.configOnly ? result.config : result.kernel}\n`);
    return { status: 0, result };
  } catch (e) {
    return { status: reportBuildError(e) };
  }
}

/**
 * The `build` subcommand. `onStatus` receives the exit status promise (main.ts keeps it as its
 * result); by default it becomes process.exitCode.
 */
export function buildCommand(
  onStatus: (status: Promise<number>) => void = (p) => void p.then((s) => (process.exitCode = s)),
): Command {
  // Parse errors throw CommanderError (exitOverride) so main.ts maps them to exit status 2.
  return addBuildOptions(new Command('build').exitOverride())
    .description('configure and build the kernel tree as user-mode Linux, with the options net-test needs')
    .option('--config-only', 'write and verify .config, do not compile')
    .action((values: BuildCliValues) => {
      onStatus(runBuild(values).then((r) => r.status));
    });
}
