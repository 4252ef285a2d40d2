// The command line's option groups, one per stage (src/host/options.ts has their types). Each
// flag's parser yields the host's field as it is (numbers as numbers, --env as pairs), so an
// action hands commander's values to the host unchanged; range checks stay in the host, where
// every caller (CLI, bench, tests) gets them.
import type { Command } from 'commander';
import { UsageError } from '../host/errors.js';
import type { RunOptions } from '../host/options.js';
import { addConfigOptions, type BuildCliValues } from './build.js';

/** Commander's values for run, watch and shell: the run's options and, in a kernel tree, the build's. */
export type CliValues = Omit<RunOptions, 'tests' | 'args' | 'cwd' | 'timeoutGiven' | 'resolvedKernel'> & BuildCliValues & { build?: boolean };

const collectWords = (v: string, prev: string[]) => [...prev, ...v.split(/\s+/).filter(Boolean)];
const collectEnv = (kv: string, prev: [string, string][]): [string, string][] => {
  const eq = kv.indexOf('=');
  if (eq < 0) throw new UsageError(`--env wants NAME=VALUE, got ${JSON.stringify(kv)}`);
  return [...prev, [kv.slice(0, eq), kv.slice(eq + 1)]];
};
// Not validated here: NaN and out-of-range values reach the host's checks and their messages.
const num = (v: string) => Number(v);

/** What boots (every command that boots a VM): src/host/options.ts VmOptions. */
export function addVmOptions(c: Command): Command {
  return c
    .option('--kernel <file>', 'UML kernel to boot (default: ./linux in a kernel build dir, else /usr/bin/linux.uml)')
    .option('--mem <size>', 'guest memory', '512M')
    .option('--timeout <seconds>', "seconds each test may run before the VM is killed (exit 4); without it, a kselftest directory's settings timeout applies", num, 300)
    .option('--taps <n>', 'tap NICs: host <user>TAP0.. <-> guest eth0..', num, 2)
    .option('--host-net', "put the taps in the caller's network namespace (needs root) instead of a private one")
    .option('--cmdline <args>', 'extra kernel command line arguments (repeatable)', collectWords, [])
    .option('--env <K=V>', "set an environment variable for the tests (repeatable); kselftest's KSELFTEST_<NAME>_ARGS, VERBOSE, TESTS, PAUSE_ON_FAIL and NETIFS pass from yours", collectEnv, [])
    .option('--fail-on-warn', 'treat kernel WARNINGs (and hung-task/RCU-stall reports) as crashes')
    .option('--time-travel', 'simulated time (UML time-travel): the guest clock skips ahead while the guest is idle; the default for tests on a kernel that has it (net-test build: yes, Debian: no)')
    .option('--no-time-travel', 'real time, even on a kernel that has time-travel')
    .option('--rootfs <img>', "boot this ext4 image (net-test rootfs build) as the guest's root instead of the host's; writes go to a throw-away layer")
    .option('--rw', 'with --rootfs: write changes through to the image (e.g. to install packages); needs the image to itself');
}

/** What is shown and kept, for every command that boots: ReportOptions' common part. */
export function addOutputOptions(c: Command): Command {
  return c
    .option('--out <dir>', 'keep the run directory (console log, output, results) in DIR')
    .option('-v, --verbose', 'print the UML command line and stream the kernel console to stderr')
    .option('-q, --quiet', "print only the verdicts, not the tests' output");
}

/** Which tests and how they run (run only): SelectOptions and ExecOptions. */
export function addSelectExecOptions(c: Command): Command {
  return c
    .option('-j, --jobs <n>', 'parallel VMs (default: the core count)', num)
    .option('--filter <regex>', 'run only test cases whose name matches: node:test cases, Python unittest Class.test_name (other executables: by path)')
    .option('--retries <n>', 'rerun a failed file up to N times; a later pass is reported as flaky', num)
    .option('--repeat <n>', 'run every file N times (hunting flakes)', num)
    .option('--shard <i/n>', 'run the i-th of n deterministic, disjoint slices of the files')
    .option('--durations <file>', 'with --shard: cut slices of equal recorded time (the file net-test merge --durations wrote)')
    .option('--no-agent', 'run each .ts/.js file in a Node process of its own (slower; for tests that need one)')
    .option('--typecheck', 'type-check .ts tests with tsc before booting (their tsconfig.json, else strict defaults); type errors are exit 2')
    .option('--shell', 'open a root shell in the guest after the tests');
}

/** The reports a run writes (run only): the rest of ReportOptions. */
export function addReportOptions(c: Command): Command {
  return c
    .option('--run-id <id>', 'the run id the --json report carries, the same for every shard of a run (default: $NET_TEST_RUN_ID, GitHub\'s run, else a hash of kernel and tests)')
    .option('--ktap', 'print results as KTAP version 1 on stdout (the report goes to stderr)')
    .option('--junit <file>', 'write JUnit XML results to FILE')
    .option('--json <file>', 'write JSON results to FILE')
    .option('--kcidb <file>', 'write the results as a KernelCI KCIDB report (I/O schema v5.3) to FILE (docs/CI.md)')
    .option('--no-keep-failed', 'without --out, remove a failed run\'s directory instead of keeping it in ~/.cache/net-test/failed-runs (the last 5); also NET_TEST_KEEP_FAILED=0');
}

/** The build before a run in a kernel tree (run and watch): `net-test build`'s configuration; -j, -v and --time-travel mean the run's. */
export function addBuildFirstOptions(c: Command): Command {
  return addConfigOptions(
    c
      .option('--no-build', 'in a kernel tree, boot what is there (./linux) instead of building first')
      .option('--kernel-dir <dir>', 'build this kernel tree first (default: the tree around the current directory)')
      .option('--build-dir <dir>', 'object directory of that build, make O= (default: ~/.cache/net-test/build/<tree hash>)'),
  );
}

/** The run's options from a command's values: only what commander cannot know is added. */
export function runOptionsOf(cmd: Command, tests: string[], args: string[], extra: { shell?: boolean } = {}): RunOptions & CliValues {
  return { ...cmd.opts<CliValues>(), ...extra, tests, args, cwd: process.cwd(), timeoutGiven: cmd.getOptionValueSource('timeout') === 'cli' };
}
