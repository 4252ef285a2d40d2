// A run cut into 4 shards, run as 4 separate net-test processes side by side (as a CI engine runs
// them on 4 machines), merged by `net-test merge`: the same report, case by case, as one
// unsharded run of the same files on the same kernel; then again, cut by the merged durations.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assertNothingLeft, BUILT_KERNEL, netTest, ROOT } from '../helpers/cli.js';
import { shard } from '../../src/host/prepare/discover.js';
import { readReport, verdictLines, type JsonReport, type ReportCase } from '../helpers/report.js';

interface Report extends JsonReport {
  run: { id: string; shard: string | null; tests: string[]; shardTests: string[] };
}
/** Every file's verdict and exit status and every case, in report order. */
const verdicts = (rep: Report): string[] => verdictLines(rep, { exit: true });


// The whole kernel suite, as a CI engine would cut it.
const SAMPLE = readdirSync(join(ROOT, 'suite'))
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => `suite/${f}`);
const skip = existsSync(BUILT_KERNEL) ? false : `no built kernel at ${BUILT_KERNEL}`;

describe('4 shards in 4 processes, merged', { skip, concurrency: 1 }, () => {
  test(`the suite (${SAMPLE.length} files): the merged report equals the unsharded run's case by case`, async () => {
    const dir = mkdtempSync('/var/tmp/net-test-shards-');
    try {
      const common = ['run', '-q', '--timeout', '120', '--kernel', BUILT_KERNEL];
      const whole = await netTest([...common, '-j', '2', '--run-id', 'whole', '--json', join(dir, 'whole.json'), ...SAMPLE], { cwd: ROOT });
      assert.ok(whole.status === 0 || whole.status === 1, whole.stdout + whole.stderr);
      assertNothingLeft(whole);

      const shardFiles = [1, 2, 3, 4].map((i) => join(dir, `shard-${i}.json`));
      const shards = await Promise.all(
        shardFiles.map((json, i) => netTest([...common, '-j', '1', '--shard', `${i + 1}/4`, '--json', json, ...SAMPLE], { cwd: ROOT, env: { NET_TEST_RUN_ID: 'sharded-1' } })),
      );
      for (const s of shards) {
        assert.ok(s.status === 0 || s.status === 1, s.stdout + s.stderr);
        assertNothingLeft(s);
      }
      const parts = shardFiles.map((f) => readReport<Report>(f));
      assert.deepEqual(parts.map((p) => p.run.shard), ['1/4', '2/4', '3/4', '4/4']);
      assert.ok(parts.every((p) => p.run.id === 'sharded-1'));
      // Disjoint and covering: every file in exactly one shard.
      assert.deepEqual(parts.flatMap((p) => p.files.map((f) => f.file)).sort(), SAMPLE);

      const merged = await netTest(['merge', '--kcidb', join(dir, 'kcidb.json'), '--json', join(dir, 'merged.json'), '--junit', join(dir, 'merged.xml'), '--durations', join(dir, 'durations.json'), ...shardFiles], { cwd: ROOT });
      const a = readReport<Report>(join(dir, 'whole.json'));
      const b = readReport<Report>(join(dir, 'merged.json'));
      assert.equal(merged.status, whole.status, merged.stdout + merged.stderr);
      assert.deepEqual(verdicts(b), verdicts(a));
      assert.deepEqual(b.totals, a.totals);
      assert.equal(b.exitStatus, a.exitStatus);
      assert.match(merged.stdout, /^run sharded-1: 4 shards merged/m);
      assert.match(merged.stdout, new RegExp(`^${SAMPLE.length} files: `, 'm'));
      // A report of another run among the shards: refused, exit 2, one line naming the file.
      const mixed = await netTest(['merge', join(dir, 'whole.json'), ...shardFiles], { cwd: ROOT });
      assert.equal(mixed.status, 2);
      assert.match(mixed.stderr, /^net-test: .*shard-1\.json: from run sharded-1, but .*whole\.json is from run whole/);
      const durations = JSON.parse(readFileSync(join(dir, 'durations.json'), 'utf8')) as Record<string, number>;
      assert.deepEqual(Object.keys(durations).sort(), SAMPLE.filter((f) => a.files.find((x) => x.file === f)?.verdict !== 'crash'));
      // KCIDB: the kernel that ran (release, .config hash from its build directory), a test per file and leaf case.
      const kcidb = JSON.parse(readFileSync(join(dir, 'kcidb.json'), 'utf8')) as { builds: { misc: { kernel_release: string; config_sha256: string } }[]; tests: { status: string }[] };
      assert.match(kcidb.builds[0]!.misc.kernel_release, /^6\.1\./);
      assert.match(kcidb.builds[0]!.misc.config_sha256, /^[0-9a-f]{64}$/);
      const leaves = (cs: ReportCase[]): number => cs.reduce((n, c) => n + (c.children.length ? leaves(c.children) : 1), 0);
      assert.equal(kcidb.tests.length, b.files.length + b.files.reduce((n, f) => n + leaves(f.cases), 0));
      assertNothingLeft(merged);
      assertNothingLeft(mixed);

      // The next run balances by those durations: a different cut, the same verdicts.
      const balanced = [1, 2, 3, 4].map((i) => join(dir, `balanced-${i}.json`));
      const round2 = await Promise.all(
        balanced.map((json, i) =>
          netTest([...common, '-j', '1', '--shard', `${i + 1}/4`, '--durations', join(dir, 'durations.json'), '--json', json, ...SAMPLE], { cwd: ROOT, env: { NET_TEST_RUN_ID: 'sharded-2' } }),
        ),
      );
      for (const s of round2) {
        assert.ok(s.status === 0 || s.status === 1, s.stdout + s.stderr);
        assertNothingLeft(s);
      }
      const cut = balanced.map((f) => (readReport<Report>(f)).run.shardTests);
      assert.deepEqual(cut, [1, 2, 3, 4].map((index) => shard(SAMPLE, { index, count: 4 }, (f) => durations[f])));
      const merged2 = await netTest(['merge', '--json', join(dir, 'merged2.json'), ...balanced], { cwd: ROOT });
      assert.equal(merged2.status, whole.status, merged2.stdout + merged2.stderr);
      assert.deepEqual(verdicts(readReport<Report>(join(dir, 'merged2.json'))), verdicts(a));
      assertNothingLeft(merged2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
