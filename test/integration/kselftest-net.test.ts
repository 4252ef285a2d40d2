// The kernel's own tools/testing/selftests/net from linux-source-6.1 (C helpers built with make),
// run as a kselftest collection on the selftests kernel (`net-test build --selftests`) with -j 2:
// every script passes, or skips for a reason it names; the TEST: scripts report their cases.
// CI builds both with src/host/kernel/ci-kernel-selftests.sh and exports the kernel's path.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { assertNothingLeft, netTest } from '../helpers/cli.js';
import { CI_TESTS, TIMING_SENSITIVE } from '../helpers/kselftest-ci.js';

const KERNEL = process.env.NET_TEST_SELFTESTS_KERNEL ?? '/var/cache/net-test/build-selftests/linux';
const NET = process.env.NET_TEST_KSELFTEST_NET ?? '/var/cache/net-test/linux-source-6.1/tools/testing/selftests/net';

/** Scripts that print TEST: lines: their cases must be counted. */
const WITH_CASES = ['fib_tests.sh', 'fib_rule_tests.sh', 'icmp_redirect.sh', 'traceroute.sh', 'gre_gso.sh', 'fib-onlink-tests.sh'];

const skip = !existsSync(KERNEL)
  ? `no selftests kernel at ${KERNEL} (src/host/kernel/ci-kernel-selftests.sh builds it)`
  : !existsSync(join(NET, 'reuseport_addr_any'))
    ? `the C helpers of ${NET} are not built (make -C ${join(NET, '..')} TARGETS=net)`
    : false;

interface JsonReport {
  files: { file: string; verdict: string; detail: string | null; cases: { name: string; status: string }[] }[];
}

describe("the kernel's selftests/net as a kselftest collection", { skip }, () => {
  test(`${CI_TESTS.length} net selftests on the selftests kernel, -j 2: each passes or skips for a named reason`, async () => {
    const dir = mkdtempSync('/var/tmp/net-test-ksft-net-');
    try {
      const json = join(dir, 'r.json');
      const r = await netTest(['run', '--kernel', KERNEL, '-j', '2', '--retries', '1', '--json', json, ...CI_TESTS.map((t) => `${NET}:${t}`)], { cwd: NET });
      const report = JSON.parse(readFileSync(json, 'utf8')) as JsonReport;
      // A rerun that passed is accepted only from a script known to race real time (named in the log).
      const flaky = report.files.filter((f) => f.verdict === 'flaky' && basename(f.file) in TIMING_SENSITIVE);
      for (const f of flaky) console.log(`# flaky ${f.file}: ${TIMING_SENSITIVE[basename(f.file)]}; ${f.detail ?? ''}`);
      const bad = report.files.filter((f) => f.verdict !== 'pass' && !(f.verdict === 'skip' && f.detail) && !flaky.includes(f));
      assert.deepEqual(bad.map((f) => `${f.file}: ${f.verdict} ${f.detail ?? ''}`), [], r.stdout + r.stderr);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal(report.files.length, CI_TESTS.length);
      for (const name of WITH_CASES) {
        const f = report.files.find((x) => basename(x.file) === name)!;
        if (f.verdict === 'pass' || f.verdict === 'flaky') assert.ok(f.cases.length > 0, `${name} reported no TEST: cases`);
        assert.equal(f.cases.filter((c) => c.status === 'fail').length, 0, name);
      }
      assertNothingLeft(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
