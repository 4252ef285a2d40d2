// The kernel's selftests/net under net-test: the CI set of scripts at -j 1 against -j 2 (shares
// balanced by the -j 1 run's durations), and a few scripts under UML against the same scripts on
// the host's own kernel in a fresh network and mount namespace, side by side in one run.
//   node dist/bench/kselftest/collection.js [--kernel FILE] [--net DIR] [--rounds N] [--skip-collection]
// --net: tools/testing/selftests/net with its helpers built; --kernel: the selftests kernel.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, median, opt } from '../runner/common.js';
import { CI_TESTS } from '../../test/helpers/kselftest-ci.js';

const kernel = opt('--kernel', '/var/cache/net-test/build-selftests/linux');
const net = opt('--net', '/var/cache/net-test/linux-source-6.1/tools/testing/selftests/net');
const rounds = Number(opt('--rounds', '3'));
const skipCollection = process.argv.includes('--skip-collection');
/** Scripts that pass on this machine's host kernel too (it lacks dummy, VRF, GRE), and touch no global sysctl. */
const SIDE_BY_SIDE = ['route_localnet.sh', 'icmp.sh', 'unicast_extensions.sh', 'rxtimestamp.sh', 'fib_nexthop_multiprefix.sh', 'arp_ndisc_evict_nocarrier.sh'];

interface Report {
  files: { file: string; verdict: string; durationMs: number | null; cases: unknown[] }[];
}

/** One `net-test run`: wall seconds and its JSON report. */
function netTest(args: string[], cache: string): { wall: number; report: Report } {
  const dir = mkdtempSync('/var/tmp/net-test-bench-ksft-');
  try {
    const json = join(dir, 'r.json');
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [CLI, 'run', '-q', '--kernel', kernel, '--json', json, ...args], { cwd: net, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache } });
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`net-test ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return { wall, report: JSON.parse(readFileSync(json, 'utf8')) as Report };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A script on the host kernel: its own network namespace, and a mount namespace with an empty
 * private /run, so the namespaces it makes (`ip netns add`) stay ours and leave nothing behind.
 */
function onHost(script: string): { wall: number; status: number | null } {
  const inner = 'mount -t tmpfs none /run && ip link set lo up && exec "./$0"';
  const t0 = performance.now();
  const r = spawnSync('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', inner, script], { cwd: net, encoding: 'utf8' });
  return { wall: (performance.now() - t0) / 1000, status: r.status };
}

const cache = mkdtempSync('/var/tmp/net-test-bench-ksft-cache-');
try {
  if (!skipCollection) {
    const tests = CI_TESTS.map((t) => `net:${t}`);
    // Run from tools/testing/selftests so `net:` names the collection.
    const j1: number[] = [];
    const j2: number[] = [];
    for (let r = 0; r < rounds; r++) {
      j1.push(netTestIn(['-j', '1', ...tests]));
      j2.push(netTestIn(['-j', '2', ...tests]));
    }
    const [a, b] = [median(j1), median(j2)];
    console.log(`${tests.length} net selftests (the CI set) on ${kernel}, medians of ${rounds} rounds (seconds)`);
    console.log('| run | wall | vs -j 1 |');
    console.log('|---|---|---|');
    console.log(`| -j 1 | ${a.toFixed(1)} | 1.00x |`);
    console.log(`| -j 2, balanced by past durations | ${b.toFixed(1)} | ${(a / b).toFixed(2)}x |`);
  }

  console.log(`\nscripts under UML (net-test run, one VM each) vs on the host kernel in a fresh netns, medians of ${rounds} rounds (seconds)`);
  console.log('| script | UML: wall | UML: in the guest | host netns | guest / host |');
  console.log('|---|---|---|---|---|');
  for (const s of SIDE_BY_SIDE) {
    const uml: number[] = [];
    const guest: number[] = [];
    const host: number[] = [];
    let hostStatus: number | null = null;
    for (let r = 0; r < rounds; r++) {
      const u = netTest([s], cache);
      uml.push(u.wall);
      guest.push((u.report.files[0]?.durationMs ?? NaN) / 1000);
      const h = onHost(s);
      host.push(h.wall);
      hostStatus = h.status;
    }
    const [w, g, h] = [median(uml), median(guest), median(host)];
    console.log(`| ${s} | ${w.toFixed(1)} | ${g.toFixed(1)} | ${h.toFixed(1)}${hostStatus === 0 ? '' : ` (exit ${hostStatus})`} | ${(g / h).toFixed(1)}x |`);
  }
} finally {
  rmSync(cache, { recursive: true, force: true });
}

/**
 * The collection runs from tools/testing/selftests; the first -j 1 run records the durations -j 2
 * balances by. A failed script does not stop the benchmark (some are timing-sensitive under a
 * loaded UML: test/helpers/kselftest-ci.ts): each run's verdicts and case counts are printed.
 */
function netTestIn(args: string[]): number {
  const dir = mkdtempSync('/var/tmp/net-test-bench-ksft-');
  try {
    const json = join(dir, 'r.json');
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [CLI, 'run', '-q', '--kernel', kernel, '--json', json, ...args], { cwd: join(net, '..'), encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache } });
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0 && r.status !== 1) throw new Error(`net-test ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    const files = report.files.map((f) => `${f.file.replace(/^net\//, '')} ${f.verdict} ${f.cases.length} cases ${((f.durationMs ?? 0) / 1000).toFixed(1)} s`);
    console.log(`${args.slice(0, 2).join(' ')}: ${wall.toFixed(1)} s wall, exit ${r.status}: ${files.join('; ')}`);
    return wall;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
