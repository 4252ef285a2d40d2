import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { discoverTests } from '../../../src/host/prepare/discover.js';
import {
  argsVariable,
  collectionMembers,
  collectionRef,
  collectionTests,
  isCollection,
  kselftestEnv,
  kselftestInfo,
  settingsTimeout,
  shebang,
  splitArgs,
} from '../../../src/host/prepare/kselftest.js';
import { UsageError } from '../../../src/host/errors.js';
import { FIXTURES } from '../../helpers/cli.js';

const KS = join(FIXTURES, 'kselftest');

test('a source collection runs what `make emit_tests` lists: never its helpers, never its other files', () => {
  const names = collectionTests(join(KS, 'coll'))!.map((p) => p.slice(KS.length + 1));
  assert.deepEqual(names, ['coll/never_built', 'coll/cwd.sh', 'coll/skip.sh', 'coll/tap-fail.sh', 'coll/cases.sh', 'coll/args.sh', 'coll/noexec.sh']);
});

test('a directory without a kselftest Makefile or list is not a collection', () => {
  assert.equal(collectionTests(join(FIXTURES, 'mixed')), undefined);
  assert.equal(isCollection(join(FIXTURES, 'mixed')), false);
});

test('an installed tree: its root runs every listed test, a collection directory its own; unlisted files never', () => {
  const rel = (ps: string[] | undefined) => ps?.map((p) => p.slice(KS.length + 1));
  assert.deepEqual(rel(collectionTests(join(KS, 'installed'))), ['installed/alpha/one.sh', 'installed/alpha/two.sh', 'installed/beta/three.sh']);
  assert.deepEqual(rel(collectionTests(join(KS, 'installed/alpha'))), ['installed/alpha/one.sh', 'installed/alpha/two.sh']);
  assert.equal(isCollection(join(KS, 'installed/beta')), true);
});

test('discovery of a collection directory goes through emit_tests; of other directories, as before', () => {
  assert.deepEqual(discoverTests(['coll/'], KS), ['coll/never_built', 'coll/cwd.sh', 'coll/skip.sh', 'coll/tap-fail.sh', 'coll/cases.sh', 'coll/args.sh', 'coll/noexec.sh']);
  assert.ok(discoverTests(['mixed'], FIXTURES).includes('mixed/b-pass.sh'));
});

test('COLLECTION:TEST picks tests by name or glob, as run_kselftest.sh -t does', () => {
  assert.deepEqual(discoverTests(['coll:skip.sh'], KS), ['coll/skip.sh']);
  assert.deepEqual(discoverTests(['coll:ca*.sh', 'installed/beta:three.sh'], KS), ['coll/cases.sh', 'installed/beta/three.sh']);
  assert.equal(collectionRef('not-a-dir:x', KS), undefined);
  assert.equal(collectionRef(join(FIXTURES, 'mixed') + ':b-pass.sh', KS), undefined);
});

test('COLLECTION:TEST naming no test is a usage error listing the tests there', () => {
  assert.throws(() => discoverTests(['coll:nosuch.sh'], KS), (e: unknown) => e instanceof UsageError && /no test nosuch\.sh in kselftest collection coll \(its tests: never_built, cwd\.sh/.test(e.message));
});

test("a make that cannot list the tests is a usage error with make's word", () => {
  assert.throws(
    () => collectionTests(join(KS, 'broken')),
    (e: unknown) => e instanceof UsageError && /emit_tests` failed: broken\/Makefile: fails on purpose/.test(e.message),
  );
});

test('KSELFTEST_<NAME>_ARGS as runner.sh sanitizes the basename', () => {
  assert.equal(argsVariable('/x/fib_tests.sh'), 'KSELFTEST_FIB_TESTS_SH_ARGS');
  assert.equal(argsVariable('cpu-on-off-test.sh'), 'KSELFTEST_CPU_ON_OFF_TEST_SH_ARGS');
  assert.equal(argsVariable('rtctest'), 'KSELFTEST_RTCTEST_ARGS');
  assert.deepEqual(splitArgs('  -t  ipv4_ping '), ['-t', 'ipv4_ping']);
  assert.deepEqual(splitArgs(undefined), []);
});

test('a collection test without its x bit runs with its #! line, as runner.sh does', () => {
  assert.deepEqual(shebang(join(KS, 'coll/noexec.sh')), ['/bin/sh']);
  assert.equal(shebang(join(KS, 'coll/Makefile')), undefined);
});

test('settings: timeout=N, comments ignored, the last one wins, 0 means none', () => {
  assert.equal(settingsTimeout('timeout=1500\n'), 1500);
  assert.equal(settingsTimeout('# timeout=1\ntimeout=3\n'), 3);
  assert.equal(settingsTimeout('timeout=0\n'), undefined);
  assert.equal(settingsTimeout('other=1\n'), undefined);
});

test('a test in a collection directory gets its directory, settings timeout and argument variable', () => {
  assert.deepEqual(kselftestInfo(join(KS, 'slow/slow.sh')), { dir: join(KS, 'slow'), argsVar: 'KSELFTEST_SLOW_SH_ARGS', timeout: 3 });
  assert.deepEqual(kselftestInfo(join(KS, 'installed/alpha/one.sh')), { dir: join(KS, 'installed/alpha'), argsVar: 'KSELFTEST_ONE_SH_ARGS' });
  assert.equal(kselftestInfo(join(FIXTURES, 'mixed/b-pass.sh')), undefined);
});

test("kselftest's variables pass from the caller's environment; nothing else does", () => {
  assert.deepEqual(kselftestEnv({ KSELFTEST_FIB_TESTS_SH_ARGS: '-t x', VERBOSE: '1', TESTS: 'a b', PAUSE_ON_FAIL: 'no', NETIFS: 'eth0', HOME: '/root', KSELFTEST_ARGS: 'no' }), {
    KSELFTEST_FIB_TESTS_SH_ARGS: '-t x',
    VERBOSE: '1',
    TESTS: 'a b',
    PAUSE_ON_FAIL: 'no',
    NETIFS: 'eth0',
  });
});

test('tests of a whole collection are told apart from files named one by one (they get no -- ARGS)', () => {
  const m = collectionMembers(['coll/', 'slow/slow.sh'], KS);
  assert.ok(m.has(join(KS, 'coll/skip.sh')));
  assert.ok(!m.has(join(KS, 'slow/slow.sh')));
});
