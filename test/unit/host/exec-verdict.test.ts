import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execCases, execVerdict, skipReason } from '../../../src/host/results/exec-verdict.js';
import { parseTestLines } from '../../../src/host/results/test-lines.js';
import { countCases } from '../../../src/host/results/tap.js';

test('exit 4 is a skip without any TAP, with the reason the script gave', () => {
  const out = 'SKIP: Could not run test without ip tool\n';
  assert.deepEqual(execVerdict(4, out), { verdict: 'skip', detail: 'skipped (exit 4): SKIP: Could not run test without ip tool' });
});

test('exit 4 with a TAP plan of nothing is a skip too', () => {
  assert.equal(execVerdict(4, 'TAP version 13\n1..0 # SKIP no hardware\n').verdict, 'skip');
});

test('the skip reason is the last line that says skip, else the last line', () => {
  assert.equal(skipReason('setup\nSKIP: no vrf\ncleanup done\n'), 'SKIP: no vrf');
  assert.equal(skipReason('Test needs root\n\n'), 'Test needs root');
  assert.equal(skipReason(''), undefined);
});

test('a top-level TAP not ok fails the file even when it exits 0 (run_kselftest.sh always does)', () => {
  const out = ['TAP version 13', '1..2', 'ok 1 selftests: net: a.sh', 'not ok 2 selftests: net: b.sh # exit=1'].join('\n');
  assert.deepEqual(execVerdict(0, out), { verdict: 'fail', detail: 'exit 0, but case failed: selftests: net: b.sh # exit=1' });
});

test('a not ok nested under an ok parent does not fail the file; TODO is not a failure', () => {
  const out = ['TAP version 13', '1..2', '    not ok 1 inner', 'ok 1 outer', 'not ok 2 known # TODO later'].join('\n');
  assert.equal(execVerdict(0, out).verdict, 'pass');
});

test('a failed case wins over exit 4', () => {
  assert.equal(execVerdict(4, 'TEST: one    [FAIL]\nSKIP: rest\n').verdict, 'fail');
});

test('exit 0 with every case skipped is a skip; with one passed, a pass', () => {
  assert.deepEqual(execVerdict(0, 'TEST: a   [SKIP]\nTEST: b   [SKIP]\n'), { verdict: 'skip', detail: 'every case skipped: a' });
  assert.deepEqual(execVerdict(0, 'SKIP: Could not run test without arping tool\n'), { verdict: 'skip', detail: 'every case skipped: Could not run test without arping tool' });
  assert.deepEqual(execVerdict(0, 'TAP version 13\n1..0 # SKIP no hardware\nok 1 x # SKIP no hw\n'), { verdict: 'skip', detail: 'every case skipped: no hw' });
  assert.equal(execVerdict(0, 'TEST: a   [SKIP]\nTEST: b   [ OK ]\n').verdict, 'pass');
  assert.deepEqual(execVerdict(0, 'plain output\n'), { verdict: 'pass' });
});

test('any other exit status fails, without a detail (the report shows the status)', () => {
  assert.deepEqual(execVerdict(1, 'TEST: a   [ OK ]\n'), { verdict: 'fail' });
  assert.deepEqual(execVerdict(127, 'lib.sh: No such file or directory\n'), { verdict: 'fail' });
});

test('TEST: lines as fib_tests.sh, pmtu.sh and icmp_redirect.sh print them', () => {
  const out = [
    'IPv4 route add / append tests',
    `    TEST: ${'Attempt to add duplicate route - gw'.padEnd(60)}  [ OK ]`,
    `    TEST: ${'Route append with same prefix and gw'.padEnd(60)}  [FAIL]`,
    `TEST: ${'IPv4 over vxlan4: PMTU exceptions'.padEnd(60)}  [SKIP]`,
    `TEST: ${'IPv6: mtu exception plus redirect'.padEnd(60)}  [XFAIL]`,
    'TEST: no brackets here',
  ].join('\n');
  const cases = parseTestLines(out);
  assert.deepEqual(
    cases.map((c) => [c.name, c.status, c.detail]),
    [
      ['Attempt to add duplicate route - gw', 'pass', undefined],
      ['Route append with same prefix and gw', 'fail', undefined],
      ['IPv4 over vxlan4: PMTU exceptions', 'skip', undefined],
      ['IPv6: mtu exception plus redirect', 'pass', 'XFAIL: expected failure'],
    ],
  );
  assert.deepEqual(countCases(cases), { pass: 2, fail: 1, skip: 1 });
});

test('XFAIL alone is not a failure', () => {
  assert.equal(execVerdict(0, 'TEST: x   [XFAIL]\n').verdict, 'pass');
});

test('PASS:/FAIL:/SKIP: lines as rtnetlink.sh prints them; FAIL: lines fail an exit-0 run (netdevice.sh)', () => {
  const out = ['PASS: bridge setup', 'SKIP: macsec: iproute2 too old', 'FAIL: eth0: Cannot set MAC address', '  FAIL: indented is not a case', 'FAIL:no space is not a case'].join('\n');
  assert.deepEqual(
    parseTestLines(out).map((c) => [c.name, c.status]),
    [
      ['bridge setup', 'pass'],
      ['macsec: iproute2 too old', 'skip'],
      ['eth0: Cannot set MAC address', 'fail'],
    ],
  );
  assert.deepEqual(execVerdict(0, out), { verdict: 'fail', detail: 'exit 0, but case failed: eth0: Cannot set MAC address' });
});

test('TAP cases and TEST: lines together', () => {
  const cases = execCases('TAP version 13\n1..1\nok 1 a\nTEST: b   [ OK ]\n');
  assert.deepEqual(cases.map((c) => c.name), ['a', 'b']);
});

test('output without a TAP header is not read as TAP (an "ok" in prose is not a case)', () => {
  assert.deepEqual(execCases('ok, starting\nnot ok yet\n'), []);
});
