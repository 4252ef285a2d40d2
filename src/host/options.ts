// The options of a run, one group per stage (as kunit_tool's build/exec/parse requests). The
// command line (src/cli/options.ts) declares each group's flags so that commander hands back
// exactly these fields: nothing is copied field by field between the CLI and the host.
import { UsageError } from './errors.js';
import type { Kernel } from './kernel/locate.js';
import { MAX_TAPS } from './net/taps.js';
import { parseMem } from './prereqs.js';

/** What boots: the kernel, the machine, its network and its root. run, watch and shell. */
export interface VmOptions {
  kernel?: string | undefined;
  /** A kernel already resolved by the caller (e.g. just built); wins over `kernel`. */
  resolvedKernel?: Kernel | undefined;
  mem: string;
  /** Seconds per test. */
  timeout: number;
  /** --timeout was given: it overrides a kselftest directory's `settings` timeout. */
  timeoutGiven?: boolean | undefined;
  taps: number;
  hostNet?: boolean | undefined;
  /** Extra kernel command line words. */
  cmdline: string[];
  /** --env K=V: the tests' environment (kselftest's own variables also pass from the caller's). */
  env?: [string, string][] | undefined;
  failOnWarn?: boolean | undefined;
  /** Boot with UML time-travel: true insists, false never, undefined where the kernel has it. */
  timeTravel?: boolean | undefined;
  /** Boot this root filesystem image instead of the host's root. */
  rootfs?: string | undefined;
  /** Write through to the --rootfs image instead of a throw-away copy-on-write layer. */
  rw?: boolean | undefined;
}

/** Which tests, with which arguments, from where. */
export interface SelectOptions {
  tests: string[];
  /** Arguments after `--`, for every test. */
  args: string[];
  cwd: string;
  filter?: string | undefined;
  shard?: string | undefined;
  /** Recorded durations (net-test merge --durations) that --shard balances by. */
  durations?: string | undefined;
  repeat?: number | undefined;
}

/** How the selected files run. */
export interface ExecOptions {
  /** Parallel VMs (default: the core count). */
  jobs?: number | undefined;
  retries?: number | undefined;
  /** false (--no-agent): each node test in a Node process of its own instead of the shared agent. */
  agent?: boolean | undefined;
  /** Type-check the node tests (tsc) before anything boots. */
  typecheck?: boolean | undefined;
  /** Open an interactive root shell after the tests (or instead of them when there are none). */
  shell?: boolean | undefined;
}

/** What is shown and written. */
export interface ReportOptions {
  verbose?: boolean | undefined;
  quiet?: boolean | undefined;
  /** Keep the run directory here. */
  out?: string | undefined;
  ktap?: boolean | undefined;
  junit?: string | undefined;
  json?: string | undefined;
  /** The run id the JSON report carries (shared by the shards of one run; see report/run-meta.ts). */
  runId?: string | undefined;
  /** Write the results as a KCIDB (KernelCI) report to this file. */
  kcidb?: string | undefined;
  /** Without --out, move a failed run's directory to the cache (default true; NET_TEST_KEEP_FAILED=0 is false). */
  keepFailed?: boolean | undefined;
}

export type RunOptions = VmOptions & SelectOptions & ExecOptions & ReportOptions;

/** The checks every command that boots makes of its VM options: exit 2 with what to give instead. */
export function validateVm(o: Pick<VmOptions, 'taps' | 'timeout' | 'mem' | 'env'>): void {
  if (!Number.isInteger(o.taps) || o.taps < 0 || o.taps > MAX_TAPS) throw new UsageError(`--taps must be an integer from 0 to ${MAX_TAPS}, got ${o.taps}`);
  if (!Number.isFinite(o.timeout) || o.timeout <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got ${o.timeout}`);
  if (parseMem(o.mem) === undefined) throw new UsageError(`--mem must look like 512M or 2G, got ${o.mem}`);
  for (const [k] of o.env ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new UsageError(`--env wants NAME=VALUE with a shell variable name, got ${JSON.stringify(k)}`);
  }
}
