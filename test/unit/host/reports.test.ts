import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toKtap } from '../../../src/host/report/ktap.js';
import { toJunit } from '../../../src/host/report/junit.js';
import type { FileResult } from '../../../src/host/results/model.js';
import { parseTap } from '../../../src/host/results/tap.js';

const KUNIT = '/var/cache/net-test/linux-source-6.1/tools/testing/kunit/kunit.py';
const FIXTURES = join(import.meta.dirname ?? '', '../../../../test/fixtures');

const results: FileResult[] = [
  {
    display: 'suite/a.test.ts',
    verdict: 'fail',
    exitStatus: 1,
    output: '',
    attempts: 1,
    cases: parseTap(['# Subtest: s', '    ok 1 - x', '    not ok 2 - y # with a hash', '    1..2', 'not ok 1 - s', 'ok 2 - z # SKIP later', '1..2'].join('\n')),
  },
  { display: 'suite/b.sh', verdict: 'pass', exitStatus: 0, output: '', attempts: 1, cases: [] },
  { display: 'suite/c.sh', verdict: 'crash', output: 'x', attempts: 1, cases: [], crash: { kind: 'panic', title: 'Kernel panic - not syncing: boom', lines: ['Kernel panic - not syncing: boom'] } },
  { display: 'suite/d.sh', verdict: 'skip', exitStatus: 4, output: '', attempts: 1, cases: [] },
  { display: 'suite/e.sh', verdict: 'flaky', exitStatus: 0, output: '', attempts: 2, cases: [] },
];

test('KTAP round-trips through our own parser', () => {
  const back = parseTap(toKtap(results));
  assert.deepEqual(back.map((c) => [c.name, c.status]), [
    ['suite/a.test.ts', 'fail'],
    ['suite/b.sh', 'pass'],
    ['suite/c.sh', 'fail'],
    ['suite/d.sh', 'skip'],
    ['suite/e.sh', 'pass'],
  ]);
  assert.deepEqual(back[0]?.children.map((c) => c.children.map((g) => [g.name, g.status])), [[['x', 'pass'], ['y with a hash', 'fail']], []]);
});

test("KTAP is accepted by the kernel's parser (kunit.py parse) with the same counts", { skip: existsSync(KUNIT) ? false : `no kernel tree at ${KUNIT}` }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-ktap-'));
  try {
    writeFileSync(join(dir, 'r.ktap'), toKtap(results));
    const r = spawnSync('python3', [KUNIT, 'parse', join(dir, 'r.ktap')], { encoding: 'utf8' });
    const text = r.stdout + r.stderr;
    assert.doesNotMatch(text, /\[ERROR\]/, text);
    // Leaves: x pass, y fail, z skip; b pass; c fail (crash); d skip; e pass.
    assert.match(text, /Ran 7 tests: passed: 3, failed: 2, skipped: 2/, text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JUnit validates against the JUnit schema', { skip: spawnSync('xmllint', ['--version']).status === 0 ? false : 'xmllint missing (apt-get install libxml2-utils)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-junit-'));
  try {
    const xml = toJunit([...results, { display: 'ctl\u0001<&>"', verdict: 'pass', output: 'out\u001b[0m', attempts: 1, cases: [] }], 1234);
    writeFileSync(join(dir, 'r.xml'), xml);
    const r = spawnSync('xmllint', ['--noout', '--schema', join(FIXTURES, 'junit.xsd'), join(dir, 'r.xml')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(xml, /<testsuites name="net-test" tests="8" failures="1" errors="1" skipped="2" time="1.234">/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
