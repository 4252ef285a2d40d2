// The KCIDB report (kcidb-io I/O schema v5.3): the fields and patterns that schema requires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelIdentity, toKcidb } from '../../../src/host/report/kcidb.js';
import type { RunMeta } from '../../../src/host/report/run-meta.js';
import type { FileResult } from '../../../src/host/results/model.js';
import { parseTap } from '../../../src/host/results/tap.js';
import { UsageError } from '../../../src/host/errors.js';

const run: RunMeta = { id: 'github:o/r/42', attempt: 1, shard: null, tests: ['suite/a.test.ts', 'suite/b.sh', 'suite/c.sh'], shardTests: [], filter: null };
const results: FileResult[] = [
  { display: 'suite/a.test.ts', verdict: 'fail', exitStatus: 1, durationMs: 1500, output: 'x\n', attempts: 1, cases: parseTap(['# Subtest: ping v4.x', '    ok 1 - echo reply', '    not ok 2 - echo reply # with a hash', '    1..2', 'not ok 1 - ping v4.x', '1..1'].join('\n')) },
  { display: 'suite/b.sh', verdict: 'crash', output: '', attempts: 1, cases: [], crash: { kind: 'panic', title: 'Kernel panic - not syncing: boom', lines: ['Kernel panic - not syncing: boom', 'Call Trace:'] } },
  { display: 'suite/c.sh', verdict: 'timeout', output: '', attempts: 1, cases: [] },
];

interface Kcidb {
  version: { major: number; minor: number };
  checkouts: { id: string; origin: string }[];
  builds: { id: string; origin: string; checkout_id: string; misc: { kernel_release: string; config_sha256: string | null } }[];
  tests: { id: string; build_id: string; origin: string; path: string; status: string; duration?: number; log_excerpt?: string }[];
}

test('one checkout, one build (the kernel: release, config hash), a test per file and per case, linked by id', () => {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-kcidb-'));
  try {
    writeFileSync(join(dir, '.config'), 'CONFIG_NET=y\n');
    const k = kernelIdentity(join(dir, 'linux'), '6.1.999');
    // sha256 of "CONFIG_NET=y\n"
    assert.match(k.configSha256!, /^[0-9a-f]{64}$/);
    assert.equal(kernelIdentity('/nonexistent/linux', '1').configSha256, null);
    const rep = JSON.parse(toKcidb(results, run, k, {})) as Kcidb;
    assert.deepEqual(rep.version, { major: 5, minor: 3 });
    const origin = /^[a-z0-9_]+$/;
    const id = (o: string) => new RegExp(`^${o}:.+$`);
    for (const o of [...rep.checkouts, ...rep.builds, ...rep.tests]) {
      assert.match(o.origin, origin);
      assert.match(o.id, id(o.origin));
    }
    assert.equal(rep.builds[0]!.checkout_id, rep.checkouts[0]!.id);
    assert.deepEqual(rep.builds[0]!.misc, { kernel_release: '6.1.999', config_sha256: k.configSha256 });
    assert.ok(rep.tests.every((t) => t.build_id === rep.builds[0]!.id));
    assert.equal(new Set(rep.tests.map((t) => t.id)).size, rep.tests.length, 'ids are unique');
    // Dot-separated paths: no dots, spaces or '#' inside a component.
    assert.deepEqual(rep.tests.map((t) => [t.path, t.status]), [
      ['net_test.suite.a_test_ts', 'FAIL'],
      ['net_test.suite.a_test_ts.ping_v4_x.echo_reply', 'PASS'],
      ['net_test.suite.a_test_ts.ping_v4_x.echo_reply_with_a_hash', 'FAIL'],
      ['net_test.suite.b_sh', 'FAIL'],
      ['net_test.suite.c_sh', 'ERROR'],
    ]);
    assert.equal(rep.tests[0]!.duration, 1.5);
    assert.match(rep.tests[3]!.log_excerpt!, /^Kernel panic - not syncing: boom\nCall Trace:/);
    // No property may be null in KCIDB, except inside misc (free-form).
    const nulls = (v: unknown, path: string): string[] =>
      v === null ? [path] : typeof v === 'object' ? Object.entries(v as object).flatMap(([k2, x]) => (k2 === 'misc' ? [] : nulls(x, `${path}.${k2}`))) : [];
    assert.deepEqual(nulls(rep, '$'), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the origin comes from NET_TEST_KCIDB_ORIGIN and must be KCIDB-shaped', () => {
  const rep = JSON.parse(toKcidb(results, run, undefined, { NET_TEST_KCIDB_ORIGIN: 'mylab' })) as Kcidb;
  assert.ok(rep.tests.every((t) => t.id.startsWith('mylab:github:o/r/42:')));
  assert.throws(() => toKcidb(results, run, undefined, { NET_TEST_KCIDB_ORIGIN: 'My-Lab' }), UsageError);
});
