import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toKtap } from '../../../src/host/report/ktap.js';
import { toJunit } from '../../../src/host/report/junit.js';
import { resultLine } from '../../../src/host/report/terminal.js';
import type { FileResult } from '../../../src/host/results/model.js';
import { countCases, parseTap } from '../../../src/host/results/tap.js';
import { parseUnittest } from '../../../src/host/results/unittest.js';
import { isPythonTest, pythonTestEnv, UNITTEST_HOOK_DIR } from '../../../src/host/prepare/python.js';

const KUNIT = '/var/cache/net-test/linux-source-6.1/tools/testing/kunit/kunit.py';
const FIXTURES = join(import.meta.dirname ?? '', '../../../../test/fixtures');
const PY = '/usr/bin/python3';

const TB = 'Traceback (most recent call last):\n  File "t.py", line 4, in test_fail\n    self.assertEqual(1, 2)\nAssertionError: 1 != 2\n';
const records = [
  { t: 'start', name: 'A.test_ok' },
  { t: 'case', name: 'A.test_ok', id: 'm.A.test_ok', status: 'pass', ms: 3 },
  { t: 'start', name: 'A.test_fail' },
  { t: 'case', name: 'A.test_fail', id: 'm.A.test_fail', status: 'fail', ms: 1, traceback: TB },
  { t: 'case', name: 'A.test_err', id: 'm.A.test_err', status: 'error', ms: 0, traceback: 'Traceback...\nOSError: [Errno 19] No such device\n' },
  { t: 'case', name: 'A.test_skip', id: 'm.A.test_skip', status: 'skip', ms: 0, reason: 'no ipv6' },
  { t: 'case', name: 'A.test_x', id: 'm.A.test_x', status: 'xfail', ms: 0, reason: 'expected failure' },
  { t: 'case', name: 'A.test_y', id: 'm.A.test_y', status: 'xpass', ms: 0, reason: 'unexpected success' },
  { t: 'case', name: 'B.test_b', id: 'm.B.test_b', status: 'error', ms: 0, reason: 'setUpClass failed', traceback: 'setUpClass (m.B) failed:\nRuntimeError: no tun\n' },
  { t: 'filtered', dropped: 2 },
  { t: 'start', name: 'C.test_hang' },
];

test('unittest records become cases: statuses, reasons, tracebacks, the case that never ended', () => {
  const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n{"t": "case", "name": "cut sh'; // a write cut short
  const u = parseUnittest(text);
  assert.deepEqual(
    u.cases.map((c) => [c.name, c.status, c.detail ?? null, c.error ?? false]),
    [
      ['A.test_ok', 'pass', null, false],
      ['A.test_fail', 'fail', 'AssertionError: 1 != 2', false],
      ['A.test_err', 'fail', 'OSError: [Errno 19] No such device', true],
      ['A.test_skip', 'skip', 'no ipv6', false],
      ['A.test_x', 'pass', 'expected failure', false],
      ['A.test_y', 'fail', 'unexpected success', false],
      ['B.test_b', 'fail', 'setUpClass failed: RuntimeError: no tun', true],
    ],
  );
  assert.equal(u.cases[1]?.traceback, TB);
  assert.equal(u.cases[0]?.durationMs, 3);
  assert.equal(u.unfinished, 'C.test_hang');
  assert.deepEqual(u.filtered, { dropped: 2 });
  assert.deepEqual(countCases(u.cases), { pass: 2, fail: 4, skip: 1 });
});

const file: FileResult = { display: 'm_test.py', verdict: 'fail', exitStatus: 1, output: '', attempts: 1, cases: parseUnittest(records.map((r) => JSON.stringify(r)).join('\n')).cases };

test('reports: JUnit has <error> for unittest errors and <failure> for assertions, with the traceback', () => {
  const xml = toJunit([file], 10);
  assert.match(xml, /name="A.test_fail" time="0.001"><failure message="AssertionError: 1 != 2">Traceback/);
  assert.match(xml, /name="A.test_err" time="0.000"><error message="OSError: \[Errno 19\] No such device">Traceback/);
  assert.match(xml, /<testsuite name="m_test.py" tests="7" failures="2" errors="2" skipped="1"/);
  assert.match(resultLine(file), /2 passed, 4 failed \(2 errors\), 1 skipped/);
});

test('reports: a file that fails by its exit status with every case passing says so in JUnit', () => {
  const ok: FileResult = { ...file, cases: file.cases.filter((c) => c.status === 'pass') };
  const xml = toJunit([ok], 10);
  assert.match(xml, /<testcase classname="m_test.py" name="m_test.py" time="0.000"><failure message="exit status 1"\/>/);
});

test("KTAP carries the traceback as diagnostics, and the kernel's parser still reads it", { skip: existsSync(KUNIT) ? false : `no kernel tree at ${KUNIT}` }, () => {
  const ktap = toKtap([file]);
  assert.match(ktap, /\n {4}# AssertionError: 1 != 2\n {4}not ok 2 A.test_fail\n/);
  assert.deepEqual(
    parseTap(ktap)[0]?.children.map((c) => c.status),
    ['pass', 'fail', 'fail', 'skip', 'pass', 'fail', 'fail'],
  );
  const dir = mkdtempSync(join(tmpdir(), 'net-test-ktap-'));
  try {
    writeFileSync(join(dir, 'r.ktap'), ktap);
    const r = spawnSync('python3', [KUNIT, 'parse', join(dir, 'r.ktap')], { encoding: 'utf8' });
    assert.match(r.stdout + r.stderr, /Ran 7 tests: passed: 2, failed: 4, skipped: 1/, r.stdout + r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Python tests are recognised by name or #! line', () => {
  assert.equal(isPythonTest(join(FIXTURES, 'unittest/basic_test.py')), true);
  assert.equal(isPythonTest(join(FIXTURES, 'runner/fail.sh')), false);
  assert.deepEqual(pythonTestEnv('/h', 3, 'A\\.b'), { PYTHONPATH: '/h', NET_TEST_UNITTEST: '/run/net-test/unittest-3.jsonl', NET_TEST_FILTER: 'A\\.b' });
});

// The hook itself, on the host's Python: the guest runs the same interpreter from the same files.
const hook = (args: string[], env: Record<string, string> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-hook-'));
  try {
    const out = join(dir, 'r.jsonl');
    const r = spawnSync(PY, args, { cwd: join(FIXTURES, 'unittest'), encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NET_TEST: '1', PYTHONPATH: UNITTEST_HOOK_DIR, NET_TEST_UNITTEST: out, ...env } });
    return { status: r.status, stderr: r.stderr, u: parseUnittest(existsSync(out) ? readFileSync(out, 'utf8') : '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test('hook: an aggregator reports every module, setUpClass failures on each case of the class', { skip: existsSync(PY) ? false : `no ${PY}` }, () => {
  const { status, u } = hook(['all_tests.py']);
  assert.equal(status, 1);
  assert.deepEqual(countCases(u.cases), { pass: 7, fail: 4, skip: 2 });
  const b = u.cases.filter((c) => c.name.startsWith('Broken.'));
  assert.deepEqual(b.map((c) => [c.name, c.error, c.detail]), [
    ['Broken.test_a', true, 'setUpClass failed: RuntimeError: setUpClass broken on purpose'],
    ['Broken.test_b', true, 'setUpClass failed: RuntimeError: setUpClass broken on purpose'],
  ]);
  assert.match(b[0]!.traceback!, /setUpClass \(fixture_test\.Broken\) failed:\nTraceback/);
  assert.deepEqual(u.cases.find((c) => c.name === 'NoTun.test_x')?.detail, 'no tun here (on purpose)');
  assert.equal(u.unfinished, undefined);
});

test('hook: NET_TEST_FILTER keeps matching cases only; a bad pattern fails the file with a message', { skip: existsSync(PY) ? false : `no ${PY}` }, () => {
  const { u } = hook(['all_tests.py'], { NET_TEST_FILTER: 'Arith\\.test_(add|wrong)$|^Ok\\.' });
  assert.deepEqual(u.cases.map((c) => c.name).sort(), ['Arith.test_add', 'Arith.test_wrong', 'Ok.test_one', 'Ok.test_three', 'Ok.test_two']);
  const bad = hook(['basic_test.py'], { NET_TEST_FILTER: '(' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--filter '\(' is not a Python regular expression/);
});

test('hook: without NET_TEST_UNITTEST it stays out of the way', { skip: existsSync(PY) ? false : `no ${PY}` }, () => {
  const r = spawnSync(PY, ['-c', 'import sys, unittest; print(type(sys.meta_path[0]).__name__, unittest.TestResult.addSuccess.__qualname__)'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', PYTHONPATH: UNITTEST_HOOK_DIR },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /_UnittestWatch|wrapper/);
});
