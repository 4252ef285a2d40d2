// net-test merge: shards back into one run, and every way the pieces can fail to be one run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJson } from '../../../src/host/report/json.js';
import { mergeShards, readShardReport, mergedDurations } from '../../../src/host/report/merge.js';
import type { RunMeta } from '../../../src/host/report/run-meta.js';
import { runAttempt, runId } from '../../../src/host/report/run-meta.js';
import type { FileResult } from '../../../src/host/results/model.js';
import { shard } from '../../../src/host/prepare/discover.js';
import { UsageError } from '../../../src/host/errors.js';
import { CLI } from '../../helpers/cli.js';

const TESTS = ['suite/a.test.ts', 'suite/b.sh', 'suite/c.test.ts', 'suite/d.sh', 'suite/e.sh'];

const result = (display: string, verdict: FileResult['verdict'] = 'pass', durationMs = 100): FileResult => ({
  display,
  verdict,
  exitStatus: verdict === 'pass' ? 0 : 1,
  durationMs,
  output: `output of ${display}\n`,
  attempts: 1,
  cases: [{ name: `${display} case`, status: verdict === 'pass' ? 'pass' : 'fail', children: [] }],
});

/** Shard i/n of TESTS as `run --shard i/n --json` writes it. */
function shardJson(i: number, n: number, o: { id?: string; attempt?: number; tests?: string[]; verdicts?: Record<string, FileResult['verdict']> } = {}): string {
  const tests = o.tests ?? TESTS;
  const mine = shard(tests, { index: i, count: n });
  const meta: RunMeta = { id: o.id ?? 'run-1', attempt: o.attempt ?? 1, shard: `${i}/${n}`, tests, shardTests: mine, filter: null };
  return toJson(mine.map((t) => result(t, o.verdicts?.[t] ?? 'pass', 100 * (tests.indexOf(t) + 1))), 1000 * i, meta);
}

const read = (name: string, text: string) => readShardReport(name, text);
const refuses = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n'));

test('the shards of a run merge into its files in the unsharded order, slowest shard as wall time', () => {
  const m = mergeShards([3, 1, 2].map((i) => read(`s${i}.json`, shardJson(i, 3))));
  assert.deepEqual(m.results.map((r) => r.display), TESTS);
  assert.equal(m.wallMs, 3000);
  assert.equal(m.run.shard, null);
  assert.deepEqual(m.run.shardTests, TESTS);
  // The round trip keeps what the reporters need.
  assert.equal(m.results[0]!.output, 'output of suite/a.test.ts\n');
  assert.deepEqual(m.results[0]!.cases, [{ name: 'suite/a.test.ts case', status: 'pass', children: [] }]);
  assert.deepEqual(Object.fromEntries(mergedDurations(m)), { 'suite/a.test.ts': 100, 'suite/b.sh': 200, 'suite/c.test.ts': 300, 'suite/d.sh': 400, 'suite/e.sh': 500 });
});

test('shards of two runs are refused, naming the file', () => {
  refuses(() => mergeShards([read('a.json', shardJson(1, 2)), read('b.json', shardJson(2, 2, { id: 'run-2' }))]), /^b\.json: from run run-2, but a\.json is from run run-1/);
});

test('a missing shard is refused, naming which', () => {
  refuses(() => mergeShards([read('a.json', shardJson(1, 3)), read('c.json', shardJson(3, 3))]), /^shard 2\/3 of run run-1 missing/);
});

test('a shard given twice is an overlap; a later CI attempt of it replaces the earlier', () => {
  refuses(() => mergeShards([read('a.json', shardJson(1, 2)), read('b.json', shardJson(2, 2)), read('b2.json', shardJson(2, 2))]), /^b2\.json: shard 2\/2 again/);
  const m = mergeShards([read('a.json', shardJson(1, 2)), read('b.json', shardJson(2, 2, { verdicts: { 'suite/b.sh': 'fail' } })), read('b2.json', shardJson(2, 2, { attempt: 2 }))]);
  assert.deepEqual(m.superseded, ['b.json']);
  assert.ok(m.results.every((r) => r.verdict === 'pass'));
});

test('shards cut differently (one file in two shards, or in none) are refused', () => {
  const two = JSON.parse(shardJson(2, 2)) as { run: RunMeta };
  two.run.shardTests = [...two.run.shardTests, 'suite/a.test.ts'];
  refuses(() => mergeShards([read('a.json', shardJson(1, 2)), read('b.json', JSON.stringify(two))]), /^b\.json: shard 2\/2 ran suite\/a\.test\.ts, which a\.json \(shard 1\/2\) ran too/);
  two.run.shardTests = two.run.shardTests.slice(1, -1);
  refuses(() => mergeShards([read('a.json', shardJson(1, 2)), read('b.json', JSON.stringify(two))]), /^no shard ran suite\/b\.sh/);
});

test('different shard counts or test lists are refused', () => {
  refuses(() => mergeShards([read('a.json', shardJson(1, 2)), read('b.json', shardJson(2, 3))]), /^b\.json: shard 2\/3 of 3, but a\.json is one of 2/);
  refuses(() => mergeShards([read('a.json', shardJson(1, 2)), read('b.json', shardJson(2, 2, { tests: TESTS.slice(1) }))]), /^b\.json: its run has other test files/);
});

test('a truncated, foreign or corrupt JSON is refused, naming the file', () => {
  const good = shardJson(1, 2);
  refuses(() => read('t.json', good.slice(0, good.length / 2)), /^t\.json: not valid JSON, truncated or corrupt/);
  refuses(() => read('x.json', '{"a": 1}'), /^x\.json: not a net-test JSON report/);
  refuses(() => read('old.json', toJson([result('suite/a.test.ts')], 1)), /^old\.json: has no run id/);
  const broken = JSON.parse(good) as { files: { verdict: string }[] };
  broken.files[0]!.verdict = 'great';
  refuses(() => read('v.json', JSON.stringify(broken)), /^v\.json: file entry 1 is malformed/);
  refuses(() => readShardReport('/nonexistent/s.json'), /^\/nonexistent\/s\.json: no such file/);
});

test('run id: flag, then NET_TEST_RUN_ID, then GitHub, then a hash of what ran; attempt from the CI', () => {
  const fb = { kernel: 'k', tests: TESTS, count: 4 };
  assert.equal(runId('x1', { NET_TEST_RUN_ID: 'y' }, fb), 'x1');
  assert.equal(runId(undefined, { NET_TEST_RUN_ID: 'y', GITHUB_RUN_ID: '7' }, fb), 'y');
  assert.equal(runId(undefined, { GITHUB_RUN_ID: '7', GITHUB_REPOSITORY: 'o/r' }, fb), 'github:o/r/7');
  assert.equal(runId(undefined, {}, fb), runId(undefined, {}, { ...fb }));
  assert.notEqual(runId(undefined, {}, fb), runId(undefined, {}, { ...fb, count: 2 }));
  assert.throws(() => runId('a b', {}, fb), UsageError);
  assert.equal(runAttempt({}), 1);
  assert.equal(runAttempt({ GITHUB_RUN_ATTEMPT: '3' }), 3);
  assert.throws(() => runAttempt({ NET_TEST_ATTEMPT: '0' }), UsageError);
});

test('the CLI: exit status of the merged run, KTAP/JUnit/JSON/durations written; bad input is exit 2 in one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-merge-'));
  try {
    const files = [1, 2].map((i) => {
      const f = join(dir, `s${i}.json`);
      writeFileSync(f, shardJson(i, 2, { verdicts: { 'suite/d.sh': 'fail' } }));
      return f;
    });
    const out = (n: string) => join(dir, n);
    const r = spawnSync(process.execPath, [CLI, 'merge', '--ktap', '--junit', out('m.xml'), '--json', out('m.json'), '--durations', out('d.json'), ...files], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^KTAP version 1\n1\.\.5\n/);
    assert.match(r.stdout, /not ok 4 suite\/d\.sh/);
    assert.match(r.stderr, /5 files: 4 passed, 1 failed/);
    assert.match(readFileSync(out('m.xml'), 'utf8'), /<testsuites name="net-test" tests="5" failures="1"/);
    const merged = JSON.parse(readFileSync(out('m.json'), 'utf8')) as { run: RunMeta; exitStatus: number };
    assert.equal(merged.exitStatus, 1);
    assert.equal(merged.run.id, 'run-1');
    assert.equal(JSON.parse(readFileSync(out('d.json'), 'utf8'))['suite/e.sh'], 500);
    // The merged report merges again (as one 1/1 shard), with the same verdicts.
    const again = spawnSync(process.execPath, [CLI, 'merge', '-q', out('m.json')], { encoding: 'utf8' });
    assert.equal(again.status, 1, again.stderr);

    writeFileSync(out('cut.json'), readFileSync(files[1]!, 'utf8').slice(0, 200));
    const bad = spawnSync(process.execPath, [CLI, 'merge', files[0]!, out('cut.json')], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /^net-test: .*cut\.json: not valid JSON, truncated or corrupt .*\n$/);
    const unwritable = spawnSync(process.execPath, [CLI, 'merge', '--junit', '/nonexistent/dir/m.xml', ...files], { encoding: 'utf8' });
    assert.equal(unwritable.status, 2);
    assert.match(unwritable.stderr, /net-test: cannot write \/nonexistent\/dir\/m\.xml: ENOENT\n$/);
    const missing = spawnSync(process.execPath, [CLI, 'merge', files[0]!], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^net-test: shard 2\/2 of run run-1 missing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
