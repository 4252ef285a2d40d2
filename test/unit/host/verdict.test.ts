// The runner's judgement on recorded outcomes: what a file left (status, output, cases, what
// stopped it) and the verdict `run` and `watch` give it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterRetry, execCases, fileVerdict, isOk, measuredRun } from '../../../src/host/results/verdict.js';
import { parseUnittest } from '../../../src/host/results/unittest.js';
import type { FileResult } from '../../../src/host/results/model.js';
import type { TestCase } from '../../../src/host/results/tap.js';

const pass: TestCase = { name: 'one', status: 'pass', children: [] };
const fail: TestCase = { name: 'two', status: 'fail', detail: '1 !== 2', children: [] };
const skip: TestCase = { name: 'three', status: 'skip', detail: 'no IPv6', children: [] };
const crash = { kind: 'panic' as const, title: 'Kernel panic - not syncing: x', lines: [] };

test('one predicate for "ok": pass, skip and flaky; everything else fails the run', () => {
  assert.deepEqual(
    (['pass', 'skip', 'flaky', 'fail', 'crash', 'timeout', 'error'] as const).filter(isOk),
    ['pass', 'skip', 'flaky'],
  );
});

test('the exit status decides a finished file, whatever its cases say', () => {
  const node = (status: number, cases = [pass, fail]) => fileVerdict({ display: 'a.test.ts', node: true, status, cases, output: '' });
  assert.equal(node(1).verdict, 'fail');
  assert.deepEqual(node(1).cases.map((c) => [c.name, c.status]), [['one', 'pass'], ['two', 'fail']]);
  assert.equal(node(0).verdict, 'pass', 'status 0 passes even with a failed case listed');
  assert.equal(node(0, [skip]).verdict, 'skip', 'every case skipped');
  assert.equal(node(0, [skip, pass]).verdict, 'pass');
  assert.equal(node(0, []).verdict, 'pass', 'no cases at all is not a skip');
  assert.equal(node(4, [skip]).verdict, 'fail', "kselftest's skip status means nothing from a node test");
});

test("an executable: TAP in its output gives cases; kselftest's skip status skips with or without TAP", () => {
  const tap = 'TAP version 13\n1..2\nok 1 - a\nnot ok 2 - b\n';
  assert.deepEqual(execCases(tap).map((c) => [c.name, c.status]), [['a', 'pass'], ['b', 'fail']]);
  assert.deepEqual(execCases('ok 1 - no header, just text\n'), []);
  assert.deepEqual(execCases('TAP version 13\nok 1 - a\nOK\n1..1\n').length, 1, "unittest's OK is output");
  const exec = (status: number, output: string) => fileVerdict({ display: 'x.sh', node: false, status, cases: execCases(output), output });
  assert.equal(exec(4, 'TAP version 13\n1..0 # SKIP no\n').verdict, 'skip');
  assert.equal(exec(4, 'plain\n').verdict, 'skip', 'the 6.1 net scripts print no TAP before exit 4');
  assert.equal(exec(1, tap).exitStatus, 1);
  assert.equal(exec(0, tap).verdict, 'fail', 'a top-level not ok fails whatever the exit status');
});

test('a Python file: --filter that removes every unittest case is a skip that says so', () => {
  const ut = parseUnittest('{"t":"filtered","dropped":7}\n');
  const py = (status: number, caseFilter: boolean) => fileVerdict({ display: 't.py', node: false, status, cases: ut.cases, unittest: ut, caseFilter, output: '' });
  for (const st of [0, 5]) {
    const r = py(st, true);
    assert.equal(r.verdict, 'skip', `exit ${st}`);
    assert.equal(r.detail, '--filter matches none of its 7 unittest cases');
  }
  assert.equal(py(5, false).verdict, 'fail', 'exit 5 without a filter: no test ran, a failure');
  assert.equal(py(1, true).verdict, 'fail');
});

test('what stopped a file that never ended decides its verdict; the unittest case it was in fails by name', () => {
  const ut = parseUnittest('{"t":"start","name":"T.test_a"}\n{"t":"case","name":"T.test_a","status":"pass"}\n{"t":"start","name":"T.test_b"}\n');
  const base = { display: 'p.py', node: false, cases: ut.cases, unittest: ut, output: 'partial' };
  const c = fileVerdict({ ...base, stopped: { crash, detail: 'crashed here' } });
  assert.deepEqual([c.verdict, c.crash?.title, c.detail], ['crash', crash.title, 'crashed here']);
  assert.deepEqual(c.cases.at(-1), { name: 'T.test_b', status: 'fail', detail: 'running when the kernel crashed', children: [] });
  const t = fileVerdict({ ...base, durationMs: 12, stopped: { timeoutS: 5, detail: 'too long' } });
  assert.deepEqual([t.verdict, t.durationMs, t.cases.at(-1)?.detail], ['timeout', 5000, 'still running when the test timed out']);
  const l = fileVerdict({ ...base, stopped: { lost: 'gone' } });
  assert.deepEqual([l.verdict, l.detail, l.cases.at(-1)?.detail], ['error', 'gone', 'running when the guest stopped']);
  const ended = fileVerdict({ ...base, status: 1 });
  assert.equal(ended.cases.at(-1)?.detail, 'the process ended in this case (exit 1)');
});

test('a retry: a pass after a failure is flaky and names the first failure; other results keep their verdict', () => {
  const first: FileResult = { display: 'f', verdict: 'timeout', exitStatus: undefined, cases: [], output: '', attempts: 1 };
  const passed: FileResult = { display: 'f', verdict: 'pass', exitStatus: 0, cases: [], output: '', attempts: 1 };
  const r = afterRetry(passed, 2, first);
  assert.deepEqual([r.verdict, r.attempts, r.detail], ['flaky', 2, 'failed on attempt 1 (timeout), passed on attempt 2']);
  assert.equal(passed.verdict, 'pass', 'the input is not changed');
  assert.equal(afterRetry({ ...passed, verdict: 'fail', exitStatus: 1 }, 2, first).verdict, 'fail');
  assert.equal(afterRetry(passed, 1, undefined).verdict, 'pass');
  assert.match(afterRetry(passed, 3, { ...first, verdict: 'fail', exitStatus: 2 }).detail!, /\(fail, exit 2\), passed on attempt 3/);
});

test('durations for balancing come from whole runs, and a timeout records its limit', () => {
  const r = (verdict: FileResult['verdict'], durationMs?: number): FileResult => ({ display: 'f', verdict, cases: [], output: '', attempts: 1, ...(durationMs !== undefined ? { durationMs } : {}) });
  assert.deepEqual([r('pass', 5), r('fail', 5), r('skip', 5), r('flaky', 5), r('crash', 5), r('timeout', 5), r('error', 5), r('pass')].map(measuredRun), [true, true, true, true, false, true, false, false]);
});
