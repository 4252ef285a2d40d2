// `net-test` command line: parsing only; the work happens in src/host.
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { Exit, InfraError, UsageError } from '../host/errors.js';
import { run, type RunOptions } from '../host/run.js';
import { watch } from '../host/watch/watch.js';
import { doctor } from '../host/doctor.js';
import { parseLog } from '../host/parse.js';
import { mergeReports } from '../host/merge.js';
import { probeKernel } from '../host/kernel/locate.js';
import { findKernelTree } from '../host/kernel/tree.js';
import { buildKernel } from '../host/kernel/build.js';
import { buildCommand, buildOptionsFrom, collect, reportBuildError, type BuildCliValues } from './build.js';
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

interface VmFlags {
  kernel?: string;
  mem: string;
  timeout: string;
  taps: string;
  hostNet?: boolean;
  out?: string;
  verbose?: boolean;
  quiet?: boolean;
  failOnWarn?: boolean;
  cmdline: string[];
  env: string[];
  shell?: boolean;
  jobs?: string;
  filter?: string;
  retries?: string;
  repeat?: string;
  shard?: string;
  ktap?: boolean;
  junit?: string;
  json?: string;
  runId?: string;
  kcidb?: string;
  durations?: string;
  agent?: boolean;
  keepFailed?: boolean;
  typecheck?: boolean;
  build?: boolean;
  kernelDir?: string;
  buildDir?: string;
  config: string[];
  configitem: string[];
  allowMissing?: boolean;
  kasan?: boolean;
  timeTravel?: boolean;
  debugInfo?: boolean;
  lockdep?: boolean;
  selftests?: boolean;
  rootfs?: string;
  rw?: boolean;
}

const collectWords = (v: string, prev: string[]) => [...prev, ...v.split(/\s+/).filter(Boolean)];

/**
 * `run` in a kernel tree (or with --kernel-dir) builds that tree first, incrementally, and boots
 * the result; --kernel or --no-build skip the build.
 */
async function runWithBuild(o: RunOptions, f: VmFlags, go: (o: RunOptions) => Promise<number> = run): Promise<number> {
  const tree = f.kernelDir ?? (f.kernel || f.build === false ? undefined : findKernelTree(o.cwd)?.root);
  if (!tree) return go(o);
  // Same option names as `net-test build`, except -j: here it counts VMs, make gets its default.
  const values: BuildCliValues = { ...f, kernelDir: tree, jobs: undefined, configOnly: false };
  let kernel: string;
  try {
    kernel = (await buildKernel(buildOptionsFrom(values, o.cwd))).kernel;
  } catch (e) {
    return reportBuildError(e);
  }
  return go({ ...o, resolvedKernel: probeKernel(kernel, 'built') });
}

function vmOptions(c: Command): Command {
  return c
    .option('--kernel <file>', 'UML kernel to boot (default: ./linux in a kernel build dir, else /usr/bin/linux.uml)')
    .option('--mem <size>', 'guest memory', '512M')
    .option('--timeout <seconds>', "seconds each test may run before the VM is killed (exit 4); without it, a kselftest directory's settings timeout applies", '300')
    .option('--taps <n>', 'tap NICs: host <user>TAP0.. <-> guest eth0..', '2')
    .option('--host-net', "put the taps in the caller's network namespace (needs root) instead of a private one")
    .option('--out <dir>', 'keep the run directory (console log, output, results) in DIR')
    .option('--cmdline <args>', 'extra kernel command line arguments (repeatable)', collectWords, [])
    .option('--env <K=V>', "set an environment variable for the tests (repeatable); kselftest's KSELFTEST_<NAME>_ARGS, VERBOSE, TESTS, PAUSE_ON_FAIL and NETIFS pass from yours", collect, [])
    .option('--fail-on-warn', 'treat kernel WARNINGs (and hung-task/RCU-stall reports) as crashes')
    .option('--time-travel', 'simulated time (UML time-travel): the guest clock skips ahead while the guest is idle; the default for tests on a kernel that has it (net-test build: yes, Debian: no)')
    .option('--no-time-travel', 'real time, even on a kernel that has time-travel')
    .option('--rootfs <img>', "boot this ext4 image (net-test rootfs build) as the guest's root instead of the host's; writes go to a throw-away layer")
    .option('--rw', 'with --rootfs: write changes through to the image (e.g. to install packages); needs the image to itself')
    .option('-v, --verbose', 'print the UML command line and stream the kernel console to stderr')
    .option('-q, --quiet', "print only the verdicts, not the tests' output");
}

function toRunOptions(tests: string[], args: string[], f: VmFlags, shell: boolean, cmd?: Command): RunOptions {
  return {
    tests,
    args,
    kernel: f.kernel,
    mem: f.mem,
    timeout: Number(f.timeout),
    timeoutGiven: cmd?.getOptionValueSource('timeout') === 'cli',
    env: f.env.map((kv) => {
      const eq = kv.indexOf('=');
      if (eq < 0) throw new UsageError(`--env wants NAME=VALUE, got ${JSON.stringify(kv)}`);
      return [kv.slice(0, eq), kv.slice(eq + 1)] as [string, string];
    }),
    taps: Number(f.taps),
    hostNet: f.hostNet === true,
    out: f.out,
    verbose: f.verbose === true,
    quiet: f.quiet === true,
    failOnWarn: f.failOnWarn === true,
    cmdline: f.cmdline,
    shell,
    cwd: process.cwd(),
    jobs: f.jobs !== undefined ? Number(f.jobs) : undefined,
    filter: f.filter,
    retries: f.retries !== undefined ? Number(f.retries) : undefined,
    repeat: f.repeat !== undefined ? Number(f.repeat) : undefined,
    shard: f.shard,
    ktap: f.ktap === true,
    junit: f.junit,
    json: f.json,
    runId: f.runId,
    kcidb: f.kcidb,
    durations: f.durations,
    noAgent: f.agent === false,
    keepFailed: f.keepFailed !== false && process.env.NET_TEST_KEEP_FAILED !== '0',
    typecheck: f.typecheck === true,
    rootfs: f.rootfs,
    rw: f.rw === true,
    timeTravel: f.timeTravel,
  };
}

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

  vmOptions(program.command('run').description('boot the kernel and run tests (any executable, or .ts/.js with node:test)'))
    .argument('<tests...>', 'test files, directories (*.test.ts/js and executables inside), kselftest collections (a directory with a kselftest Makefile or kselftest-list.txt: exactly its tests), COLLECTION:TEST, or quoted globs')
    .option('-j, --jobs <n>', 'parallel VMs (default: the core count)')
    .option('--filter <regex>', 'run only test cases whose name matches: node:test cases, Python unittest Class.test_name (other executables: by path)')
    .option('--retries <n>', 'rerun a failed file up to N times; a later pass is reported as flaky')
    .option('--repeat <n>', 'run every file N times (hunting flakes)')
    .option('--shard <i/n>', 'run the i-th of n deterministic, disjoint slices of the files')
    .option('--durations <file>', 'with --shard: cut slices of equal recorded time (the file net-test merge --durations wrote)')
    .option('--run-id <id>', 'the run id the --json report carries, the same for every shard of a run (default: $NET_TEST_RUN_ID, GitHub\'s run, else a hash of kernel and tests)')
    .option('--ktap', 'print results as KTAP version 1 on stdout (the report goes to stderr)')
    .option('--junit <file>', 'write JUnit XML results to FILE')
    .option('--json <file>', 'write JSON results to FILE')
    .option('--kcidb <file>', 'write the results as a KernelCI KCIDB report (I/O schema v5.3) to FILE (docs/CI.md)')
    .option('--no-agent', 'run each .ts/.js file in a Node process of its own (slower; for tests that need one)')
    .option('--typecheck', 'type-check .ts tests with tsc before booting (their tsconfig.json, else strict defaults); type errors are exit 2')
    .option('--no-keep-failed', 'without --out, remove a failed run\'s directory instead of keeping it in ~/.cache/net-test/failed-runs (the last 5); also NET_TEST_KEEP_FAILED=0')
    .option('--shell', 'open a root shell in the guest after the tests')
    .option('--no-build', 'in a kernel tree, boot what is there (./linux) instead of building first')
    .option('--kernel-dir <dir>', 'build this kernel tree first (default: the tree around the current directory)')
    .option('--build-dir <dir>', 'object directory of that build, make O= (default: ~/.cache/net-test/build/<tree hash>)')
    .option('--config <file>', 'extra config fragment for the build (repeatable)', collect, [])
    .option('--configitem <CONFIG_X=y>', 'extra config option for the build (repeatable)', collect, [])
    .option('--allow-missing', 'warn instead of failing when a requested config option does not take effect')
    .option('--kasan', 'build with KASAN and UBSAN')
    .option('--debug-info', 'build with debug info for gdb')
    .option('--lockdep', 'build with lock dependency checking')
    .option('--selftests', "build with what the kernel's selftests/net need (docs/KSELFTEST.md)")
    .addHelpText('after', EXAMPLES)
    .action((tests: string[], f: VmFlags, cmd: Command) => {
      result = runWithBuild(toRunOptions(tests, testArgs, f, f.shell === true, cmd), f);
    });

  vmOptions(program.command('watch').description('boot once, run the tests, then re-run a file in the running VM whenever it or anything it imports changes'))
    .argument('<tests...>', 'test files, directories or quoted globs, as for run')
    .option('--no-build', 'in a kernel tree, boot what is there (./linux) instead of building first')
    .option('--kernel-dir <dir>', 'build this kernel tree first (default: the tree around the current directory)')
    .option('--build-dir <dir>', 'object directory of that build, make O= (default: ~/.cache/net-test/build/<tree hash>)')
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
    .action((tests: string[], f: VmFlags, cmd: Command) => {
      if (f.rw) throw new UsageError('--rw is for run and shell: watch throws away what its tests write');
      result = runWithBuild(toRunOptions(tests, testArgs, f, false, cmd), f, (r) => watch(r));
    });

  vmOptions(program.command('shell').description('boot the kernel straight to a root shell on this terminal')).action((f: VmFlags, cmd: Command) => {
    result = run(toRunOptions([], [], f, true, cmd));
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
