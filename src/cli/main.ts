// `net-test` command line: parsing only; the work happens in src/host.
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { Exit, InfraError, UsageError } from '../host/errors.js';
import { run } from '../host/run.js';
import type { RunOptions } from '../host/options.js';
import { watch } from '../host/watch/watch.js';
import { doctor } from '../host/doctor.js';
import { parseLog } from '../host/parse.js';
import { mergeReports } from '../host/merge.js';
import { probeKernel } from '../host/kernel/locate.js';
import { findKernelTree } from '../host/kernel/tree.js';
import { buildKernel } from '../host/kernel/build.js';
import { buildCommand, buildOptionsFrom, reportBuildError } from './build.js';
import { addBuildFirstOptions, addOutputOptions, addReportOptions, addSelectExecOptions, addVmOptions, runOptionsOf, type CliValues } from './options.js';
import { rootfsCommand } from './rootfs.js';

/** The launcher (bin/net-test.js), for commands that run net-test again (doctor's boot check). */
const CLI_SCRIPT = fileURLToPath(new URL('../../../bin/net-test.js', import.meta.url));

const EXAMPLES = `
Examples:
  net-test run suite/ping.test.ts            boot the kernel, run one TS test, report
  net-test run ./check.sh ./check.py -- -v   run two executables, passing -v to each
  net-test run --kernel ~/linux/linux --timeout 60 t.test.ts
  net-test run -v --out /var/tmp/run1 t.sh   stream the console, keep the run directory
  net-test run -j 2 --junit results.xml suite/    a whole directory in 2 parallel VMs
  net-test run -j 2 "*_test.py"              a Python unittest suite, case by case (docs/ANDROID.md)
  net-test run --shard 2/4 --retries 1 suite/    CI matrix slice, failures retried once
  net-test watch suite/ping.test.ts          boot once; re-run the test in the running VM on every save
  net-test shell                             root shell in the guest (eth0, eth1 up to you)
  net-test run --rootfs bookworm.img suite/  boot an image (net-test rootfs build) instead of the host root
  net-test shell --rootfs bookworm.img --rw  change the image on purpose
  net-test parse console.log                 report from a saved console/KTAP log
  net-test merge --junit all.xml shard-*.json    one report from a CI run's shards (docs/CI.md)
  net-test build --selftests --kernel-dir ~/linux     a kernel with what selftests/net needs
  net-test run -j 2 ~/linux/tools/testing/selftests/net/   a kselftest collection: exactly its tests
  net-test run net:fib_tests.sh --env KSELFTEST_FIB_TESTS_SH_ARGS="-t ipv4_route"   one test of it

Verdicts of executables (kselftest's rules; docs/KSELFTEST.md): exit 0 passes, exit 4 skips
  (with or without TAP), any other status fails; a failed case fails the file whatever its exit
  status: a top-level TAP "not ok", a "TEST: ... [FAIL]" line or a "FAIL: ..." line.
  "TEST: ... [ OK|SKIP|XFAIL ]" lines are cases too; XFAIL is an expected failure, not a failure.

Exit status: 0 pass, 1 test failed, 2 usage or setup error, 3 kernel crash,
             4 timeout, 5 infrastructure failure (VM did not boot, guest lost),
             128+N stopped by signal N (SIGINT 130, SIGTERM 143, SIGHUP 129).`;

/**
 * `run` in a kernel tree (or with --kernel-dir) builds that tree first, incrementally, and boots
 * the result; --kernel or --no-build skip the build.
 */
async function runWithBuild(o: RunOptions & CliValues, go: (o: RunOptions) => Promise<number> = run): Promise<number> {
  const tree = o.kernelDir ?? (o.kernel || o.build === false ? undefined : findKernelTree(o.cwd)?.root);
  if (!tree) return go(o);
  // Same option names as `net-test build`, except -j: here it counts VMs, make gets its default.
  let kernel: string;
  try {
    kernel = (await buildKernel(buildOptionsFrom({ ...o, kernelDir: tree, jobs: undefined, configOnly: false }, o.cwd))).kernel;
  } catch (e) {
    return reportBuildError(e);
  }
  return go({ ...o, resolvedKernel: probeKernel(kernel, 'built') });
}

/** The options every command that boots shares: what boots and what is shown. */
const booting = (c: Command) => addOutputOptions(addVmOptions(c));

export async function main(argv: string[]): Promise<number> {
  // Everything after the first "--" goes to the tests, untouched by option parsing.
  const dash = argv.indexOf('--');
  const testArgs = dash >= 0 ? argv.slice(dash + 1) : [];
  const ours = dash >= 0 ? argv.slice(0, dash) : argv;
  let result: Promise<number> = Promise.resolve(Exit.pass);

  const program = new Command('net-test')
    .description('Black-box tests of Linux kernel networking in user-mode Linux')
    .exitOverride()
    .showSuggestionAfterError()
    .addHelpText('after', EXAMPLES);

  const runCmd = booting(program.command('run').description('boot the kernel and run tests (any executable, or .ts/.js with node:test)'))
    .argument('<tests...>', 'test files, directories (*.test.ts/js and executables inside), kselftest collections (a directory with a kselftest Makefile or kselftest-list.txt: exactly its tests), COLLECTION:TEST, or quoted globs');
  addBuildFirstOptions(addReportOptions(addSelectExecOptions(runCmd)))
    .addHelpText('after', EXAMPLES)
    .action((tests: string[], _f: CliValues, cmd: Command) => {
      result = runWithBuild(runOptionsOf(cmd, tests, testArgs));
    });

  addBuildFirstOptions(
    booting(program.command('watch').description('boot once, run the tests, then re-run a file in the running VM whenever it or anything it imports changes')).argument(
      '<tests...>',
      'test files, directories or quoted globs, as for run',
    ),
  )
    .addHelpText(
      'after',
      `
Each re-run starts from a fresh guest Node process, network namespace and /tmp, /etc, /var,
/root layers; the VM stays up. Enter re-runs every file, q or Ctrl-C stops (the VM and
everything else go with it). A kernel crash or hang is reported and the VM booted again; so it
is when the kernel binary changes (rebuild it in another terminal). Time-travel is off unless
--time-travel: an idle basic-mode guest would spin through its timers while you edit.
Exit status on q: the latest verdicts' (0 when every file passed last); 130 on Ctrl-C.`,
    )
    .action((tests: string[], f: CliValues, cmd: Command) => {
      if (f.rw) throw new UsageError('--rw is for run and shell: watch throws away what its tests write');
      result = runWithBuild(runOptionsOf(cmd, tests, testArgs), (r) => watch(r));
    });

  booting(program.command('shell').description('boot the kernel straight to a root shell on this terminal')).action((_f: CliValues, cmd: Command) => {
    result = run(runOptionsOf(cmd, [], [], { shell: true }));
  });

  program.addCommand(buildCommand((p) => (result = p)));
  program.addCommand(rootfsCommand((p) => (result = p)));

  program
    .command('parse')
    .description('turn a saved console or KTAP/TAP log into the same report (and KTAP/JUnit/JSON)')
    .argument('<log>', 'log file')
    .option('--ktap', 'print KTAP version 1 instead of the report')
    .option('--junit <file>', 'write JUnit XML to FILE')
    .option('--json <file>', 'write JSON to FILE')
    .action((log: string, f: { ktap?: boolean; junit?: string; json?: string }) => {
      result = Promise.resolve(parseLog(log, f));
    });

  program
    .command('merge')
    .description("one report from the --json reports of a run's shards; refuses reports of other runs, missing or overlapping shards and corrupt files")
    .argument('<reports...>', 'the JSON report of every shard (net-test run --shard I/N --json FILE)')
    .option('--ktap', 'print KTAP version 1 on stdout (the report goes to stderr)')
    .option('--junit <file>', 'write JUnit XML to FILE')
    .option('--json <file>', 'write the merged JSON report to FILE')
    .option('--durations <file>', 'write each file\'s duration to FILE, for the next run\'s --shard I/N --durations FILE')
    .option('--kcidb <file>', 'write the merged results as a KernelCI KCIDB report (I/O schema v5.3) to FILE')
    .option('-q, --quiet', 'print only the summary, not a line per file')
    .action((reports: string[], f: { ktap?: boolean; junit?: string; json?: string; durations?: string; kcidb?: string; quiet?: boolean }) => {
      result = Promise.resolve(mergeReports(reports, f));
    });

  program
    .command('doctor')
    .description('check what a run needs here (the same list run checks), then boot the kernel once; say how to fix what is missing')
    .option('--kernel <file>', 'check this UML kernel instead of the one a run here would pick')
    .option('--rootfs <img>', 'check for runs that boot this image as the guest root')
    .action((f: { kernel?: string; rootfs?: string }) => {
      result = Promise.resolve(doctor({ cwd: process.cwd(), kernel: f.kernel, rootfs: f.rootfs, cli: CLI_SCRIPT }));
    });

  try {
    await program.parseAsync(ours, { from: 'user' });
    return await result;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return Exit.pass; // --help, --version
      return Exit.usage;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`net-test: ${e.message}\n`);
      return Exit.usage;
    }
    if (e instanceof InfraError) {
      process.stderr.write(`net-test: ${e.message}\n`);
      return Exit.infra;
    }
    process.stderr.write(`net-test: internal error: ${e instanceof Error ? e.message : String(e)} (please report this)\n`);
    return Exit.infra;
  }
}
