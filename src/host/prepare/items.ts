// From test files to what a VM runs: an executable's argv (a kselftest's in its directory, with
// its arguments and timeout), a Python file with the unittest hook, a node test's bundle; and
// the Node command lines the guest starts them with. Each item runs once (--repeat makes copies).
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { collectionMembers, kselftestEnv, kselftestInfo, shebang, splitArgs } from './kselftest.js';
import { isPythonTest } from './python.js';
import { AGENT_REPORTER, bundleAgent, bundleName, bundleTest, guestPath, stopBundler, type TestFile } from './bundle.js';

/** One file to run once: an executable's argv, or a node test's bundle (run by the agent). */
export interface Item {
  file: TestFile;
  display: string;
  argv?: string[];
  bundle?: string;
  /** A Python file: run with the unittest hook, its cases read from its results file. */
  python?: boolean;
  /** --filter selects this Python file's unittest cases (its path did not match). */
  caseFilter?: boolean;
  /** A kselftest: runs in this host directory (on an overlay in the guest). */
  dir?: string;
  /** Seconds, when not the run's --timeout. */
  timeout?: number;
}

export interface Prepared {
  items: Item[];
  /** The guest's Node command line for one file, its TAP written to /run/net-test/<tap>. */
  nodeArgv: (tap: string) => string[];
  /** The same for the shared agent that runs many files. */
  agentArgv: (tap: string) => string[];
  /** The tests' environment: kselftest's variables from the caller's, then --env. */
  testEnv: Record<string, string>;
}

export interface PrepareOptions {
  tests: TestFile[];
  /** What the user named (a whole kselftest collection passes no `-- ARGS` to its members). */
  named: string[];
  args: string[];
  cwd: string;
  env?: [string, string][] | undefined;
  filter?: string | undefined;
  repeat?: number | undefined;
  timeoutGiven?: boolean | undefined;
  /** Booting an image: its own Node (Debian 12's is 18, without --disable-warning). */
  imageRoot: boolean;
  /** Where bundles go (the run's temp directory; every VM reads it through /host). */
  bundles: string;
}

/** Bundles the node tests once and turns every file into items. */
export async function prepareItems(o: PrepareOptions): Promise<Prepared> {
  const filter = o.filter !== undefined ? new RegExp(o.filter) : undefined;
  const agent = join(o.bundles, 'agent.mjs');
  if (o.tests.some((t) => t.kind === 'node')) await bundleAgent(agent);
  // node with our reporters: spec live on the output line, TAP into the run directory.
  const nodeArgv = (tap: string) => [
    ...(o.imageRoot ? ['node'] : [guestPath(process.execPath), '--disable-warning=MaxListenersExceededWarning']),
    '--enable-source-maps',
    ...(filter ? [`--test-name-pattern=${o.filter}`] : []),
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=/run/net-test/${tap}`,
  ];
  const agentArgv = (tap: string) => [...nodeArgv(tap), `--test-reporter=${guestPath(AGENT_REPORTER)}`, '--test-reporter-destination=/dev/null', guestPath(agent)];
  const testEnv = { ...kselftestEnv(process.env), ...Object.fromEntries(o.env ?? []) };
  const wholeCollection = collectionMembers(o.named, o.cwd);
  const items: Item[] = [];
  for (const [i, t] of o.tests.entries()) {
    // An executable has no cases to select: --filter selects it by its path. A Python file
    // whose path does not match runs with the filter on its unittest cases.
    const python = t.kind === 'exec' && isPythonTest(t.path);
    if (filter && t.kind === 'exec' && !python && !filter.test(t.display)) continue;
    let run: Pick<Item, 'argv' | 'bundle' | 'python' | 'caseFilter' | 'dir' | 'timeout'>;
    if (t.kind === 'exec') {
      // A test in a kselftest collection's directory runs there, with its KSELFTEST_<NAME>_ARGS
      // and the directory's settings timeout; `-- ARGS` go to files named one by one.
      const ks = kselftestInfo(t.path);
      const args = ks ? [...splitArgs(testEnv[ks.argsVar]), ...(wholeCollection.has(t.path) ? [] : o.args)] : o.args;
      let interpreter: string[] = [];
      try {
        accessSync(t.path, constants.X_OK);
      } catch {
        interpreter = (ks && shebang(t.path)) || [];
      }
      run = { argv: [...interpreter, guestPath(t.path), ...args], ...(python ? { python, caseFilter: filter !== undefined && !filter.test(t.display) } : {}) };
      if (ks) run = { ...run, dir: ks.dir, ...(ks.timeout !== undefined && !o.timeoutGiven ? { timeout: ks.timeout } : {}) };
    } else {
      const b = join(o.bundles, bundleName(i + 1, t));
      await bundleTest(t, b);
      run = { bundle: guestPath(b) };
    }
    const repeat = o.repeat ?? 1;
    for (let k = 1; k <= repeat; k++) items.push({ file: t, display: repeat > 1 ? `${t.display} #${k}` : t.display, ...run });
  }
  await stopBundler();
  return { items, nodeArgv, agentArgv, testEnv };
}
