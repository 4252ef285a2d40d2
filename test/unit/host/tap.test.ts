import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countCases, failures, parseTap } from '../../../src/host/results/tap.js';

test('node:test TAP with nested suites, skips and a failure', () => {
  const text = [
    'TAP version 13',
    '# Subtest: suite',
    '    # Subtest: inner ok',
    '    ok 1 - inner ok',
    '      ---',
    '      duration_ms: 1',
    '      ...',
    '    # Subtest: inner bad',
    '    not ok 2 - inner bad',
    '      ---',
    "      error: 'Expected values to be strictly equal'",
    '      ...',
    '    1..2',
    'not ok 1 - suite',
    'ok 2 - skipped one # SKIP no ipv6',
    'ok 3 - plain',
    '1..3',
  ].join('\n');
  const cases = parseTap(text);
  assert.deepEqual(cases.map((c) => [c.name, c.status]), [
    ['suite', 'fail'],
    ['skipped one', 'skip'],
    ['plain', 'pass'],
  ]);
  assert.equal(cases[0]?.children.length, 2);
  assert.deepEqual(countCases(cases), { pass: 2, fail: 1, skip: 1 });
  assert.deepEqual(failures(cases), [{ name: 'suite > inner bad', detail: 'Expected values to be strictly equal' }]);
});

test('KTAP from the kernel with noise around it', () => {
  const text = [
    '[    0.5] random kernel noise',
    'KTAP version 1',
    '1..1',
    '    KTAP version 1',
    '    # Subtest: example',
    '    1..2',
    '    ok 1 example_simple_test',
    '    ok 2 example_skip_test # SKIP this test should be skipped',
    'ok 1 example',
  ].join('\n');
  const cases = parseTap(text);
  assert.equal(cases.length, 1);
  assert.deepEqual(countCases(cases), { pass: 1, fail: 0, skip: 1 });
  assert.equal(cases[0]?.children[1]?.detail, 'this test should be skipped');
});

test('garbage is not a test', () => {
  assert.deepEqual(parseTap('okay then\nnothing here\n'), []);
});

test("names with node's TAP escapes: '\\#' is part of the name, not a directive", () => {
  const tap = ['# Subtest: file.test.ts \\#2', '    ok 1 - a \\\\ b', 'ok 1 - file.test.ts \\#2', 'ok 2 - c \\# SKIP not a skip', 'ok 3 - d # SKIP real'].join('\n');
  const cases = parseTap(tap);
  assert.deepEqual(
    cases.map((c) => [c.name, c.status]),
    [
      ['file.test.ts #2', 'pass'],
      ['c # SKIP not a skip', 'pass'],
      ['d', 'skip'],
    ],
  );
  assert.equal(cases[0]!.children[0]!.name, 'a \\ b');
});

test('result words are lowercase: uppercase OK is output, not a case', () => {
  const cases = parseTap('TAP version 13\nok 1 - a\nOK\nNOT OK 2 - shouting\n1..1\n');
  assert.deepEqual(
    cases.map((c) => [c.name, c.status]),
    [['a', 'pass']],
  );
  // The directive stays case-insensitive, as TAP 13 has it.
  assert.deepEqual(parseTap('ok 1 - b # skip no ipv6\n').map((c) => [c.name, c.status, c.detail]), [['b', 'skip', 'no ipv6']]);
});

test("Python unittest's own summary (verbosity 2) holds no TAP cases", () => {
  const out = [
    'test_fail (__main__.A.test_fail) ... FAIL',
    'test_ok (__main__.A.test_ok) ... ok',
    "test_skip (__main__.A.test_skip) ... skipped 'no ipv6'",
    '',
    '======================================================================',
    'FAIL: test_fail (__main__.A.test_fail)',
    '----------------------------------------------------------------------',
    'Traceback (most recent call last):',
    '  File "/tmp/ut/t.py", line 4, in test_fail',
    'AssertionError: 1 != 2',
    '',
    '----------------------------------------------------------------------',
    'Ran 3 tests in 0.000s',
    '',
    'FAILED (failures=1, skipped=1)',
    'OK',
    'OK (skipped=13)',
  ].join('\n');
  assert.deepEqual(parseTap(out), []);
});
