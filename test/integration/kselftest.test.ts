// kselftest collections as kselftest runs them (test/fixtures/kselftest): exactly the tests
// `make emit_tests` lists, each in its own directory on a writable overlay, kselftest's verdicts,
// the settings timeout, KSELFTEST_<NAME>_ARGS and --env; and the guest as the scripts expect it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assertNothingLeft, FIXTURES, KERNELS, netTest } from '../helpers/cli.js';

const KS = join(FIXTURES, 'kselftest');

interface JsonReport {
  exitStatus: number;
  files: { file: string; verdict: string; exitStatus: number | null; detail: string | null; durationMs: number | null; cases: { name: string; status: string; detail?: string }[] }[];
}

const readReport = (path: string): JsonReport => JSON.parse(readFileSync(path, 'utf8')) as JsonReport;
const byFile = (r: JsonReport) => Object.fromEntries(r.files.map((f) => [f.file, f]));

for (const [name, kernel, skip] of KERNELS) {
  describe(`kselftest collections on the ${name}`, { skip, concurrency: 1 }, () => {
    const dir = mkdtempSync('/var/tmp/net-test-ksft-');
    test.after(() => rmSync(dir, { recursive: true, force: true }));

    test("a collection runs exactly its tests, in their directory, with kselftest's verdicts", async () => {
      const json = join(dir, 'coll.json');
      const r = await netTest(
        ['run', '--kernel', kernel, '-j', '1', '--json', json, '--env', 'FOO=bar', '--env', 'EXPECT_FOO=bar', '--env', 'EXPECT_VERBOSE=1', '--env', 'EXPECT_ARGS=-a b', 'coll/', '--', 'not-for-collection-tests'],
        { cwd: KS, env: { VERBOSE: '1', KSELFTEST_ARGS_SH_ARGS: ' -a  b ' } },
      );
      assert.equal(r.status, 1, r.stdout + r.stderr);
      const files = byFile(readReport(json));
      assert.deepEqual(Object.keys(files).sort(), ['coll/args.sh', 'coll/cases.sh', 'coll/cwd.sh', 'coll/never_built', 'coll/noexec.sh', 'coll/skip.sh', 'coll/tap-fail.sh'], 'the helper (TEST_PROGS_EXTENDED) never ran');
      assert.equal(files['coll/cwd.sh']!.verdict, 'pass', r.stdout);
      assert.equal(files['coll/args.sh']!.verdict, 'pass', r.stdout);
      assert.equal(files['coll/noexec.sh']!.verdict, 'pass', r.stdout);
      assert.match(r.stdout, /ran by its interpreter/);
      assert.equal(files['coll/never_built']!.verdict, 'fail');
      assert.match(files['coll/never_built']!.detail!, /not built/);
      // exit 4 without TAP: a skip, and the reason is on the verdict line.
      assert.equal(files['coll/skip.sh']!.verdict, 'skip');
      assert.match(r.stdout, /SKIP coll\/skip\.sh.*\n\s+skipped \(exit 4\): SKIP: needs hardware this fixture pretends is missing/);
      // TAP not ok with exit 0: a failure.
      assert.equal(files['coll/tap-fail.sh']!.verdict, 'fail');
      assert.equal(files['coll/tap-fail.sh']!.exitStatus, 0);
      // TEST: lines are cases; XFAIL is not a failure.
      assert.equal(files['coll/cases.sh']!.verdict, 'pass');
      assert.deepEqual(files['coll/cases.sh']!.cases.map((c) => c.status), ['pass', 'pass', 'skip', 'pass']);
      assert.match(r.stdout, /PASS coll\/cases\.sh \(3 passed, 1 skipped/);
      // The overlay took the test's writes: nothing reached the host.
      assert.equal(existsSync(join(KS, 'coll/scratch.out')), false);
      assertNothingLeft(r);
    });

    test('COLLECTION:TEST runs one test; named one by one it also gets -- ARGS', async () => {
      const r = await netTest(['run', '--kernel', kernel, '--env', 'EXPECT_ARGS=-a x y', 'coll:args.sh', '--', 'x', 'y'], { cwd: KS, env: { KSELFTEST_ARGS_SH_ARGS: '-a' } });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /args: -a x y/);
      assert.match(r.stdout, /FOO=unset VERBOSE=unset/, 'variables not given are not set');
      assertNothingLeft(r);
    });

    test("the settings timeout applies, and a timed-out file records its duration", async () => {
      const cache = join(dir, 'cache');
      const started = Date.now();
      const r = await netTest(['run', '--kernel', kernel, 'slow/'], { cwd: KS, env: { XDG_CACHE_HOME: cache } });
      assert.equal(r.status, 4, r.stdout + r.stderr);
      assert.match(r.stdout, /TIMEOUT slow\/slow\.sh.*\n\s+ran longer than 3 s; VM killed/);
      assert.ok(Date.now() - started < 50_000, 'killed at the settings timeout, not at the test end (60 s) or the default (300 s)');
      const durations = JSON.parse(readFileSync(join(cache, 'net-test/durations.json'), 'utf8')) as Record<string, number>;
      assert.equal(durations[join(KS, 'slow/slow.sh')], 3000);
      assertNothingLeft(r);
    });

    test('an installed tree (kselftest-list.txt) runs its listed tests, each in its directory', async () => {
      const r = await netTest(['run', '--kernel', kernel, 'installed/'], { cwd: KS });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /3 files: 3 passed/);
      assert.doesNotMatch(r.stdout, /unlisted/);
      assertNothingLeft(r);
    });

    test('the guest: /dev/fd and /dev/std*, /lib/modules for modprobe and modinfo, debugfs and tracefs', async () => {
      const r = await netTest(['run', '--kernel', kernel, 'guest-env.sh'], { cwd: KS });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /ok modprobe, modprobe -n and modinfo of veth/);
      assertNothingLeft(r);
    });
  });
}
