// Python unittest files, case by case, with no change to the tests (the guest hook in
// src/guest/python): per-case counts exact in KTAP, JUnit and JSON for single modules and an
// aggregator; --filter reaching unittest cases; verdicts as each file ends; bad Python files.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countCases, parseTap, type Counts } from '../../src/host/results/tap.js';
import { assertNothingLeft, BUILT_KERNEL, FIXTURES, KERNELS, netTest } from '../helpers/cli.js';

const skip = existsSync(BUILT_KERNEL) ? false : `no built kernel at ${BUILT_KERNEL}`;
const KUNIT = '/var/cache/net-test/linux-source-6.1/tools/testing/kunit/kunit.py';
const UT = join(FIXTURES, 'unittest');

interface JsonReport {
  totals: { cases: Counts };
  files: { file: string; verdict: string; detail: string | null; cases: { name: string; status: string; detail?: string; error?: boolean; traceback?: string }[] }[];
}

/** What test/fixtures/unittest/README.txt promises, file by file. */
const EXPECTED: Record<string, { verdict: string; counts: Counts; junit: { tests: number; failures: number; errors: number; skipped: number } }> = {
  'basic_test.py': { verdict: 'fail', counts: { pass: 3, fail: 2, skip: 1 }, junit: { tests: 6, failures: 1, errors: 1, skipped: 1 } },
  'fixture_test.py': { verdict: 'fail', counts: { pass: 1, fail: 2, skip: 1 }, junit: { tests: 4, failures: 0, errors: 2, skipped: 1 } },
  'ok_test.py': { verdict: 'pass', counts: { pass: 3, fail: 0, skip: 0 }, junit: { tests: 3, failures: 0, errors: 0, skipped: 0 } },
  'all_tests.py': { verdict: 'fail', counts: { pass: 7, fail: 4, skip: 2 }, junit: { tests: 13, failures: 1, errors: 3, skipped: 2 } },
};

/** All output-<i>.log files of a run directory (the first VM's at the top, later VMs' in vm-N/). */
function perFileOutputs(out: string): string[] {
  const dirs = [out, ...readdirSync(out).filter((d) => d.startsWith('vm-')).map((d) => join(out, d))];
  return dirs.flatMap((d) => readdirSync(d).filter((f) => /^output-\d+\.log$/.test(f)).map((f) => readFileSync(join(d, f), 'utf8')));
}

describe('Python unittest files, case by case', { skip, concurrency: 1 }, () => {
  const dir = mkdtempSync('/var/tmp/net-test-unittest-');
  let report: JsonReport;
  let ktap = '';
  let stderr = '';

  test('a glob of modules and an aggregator over -j 2: verdicts by exit status, the non-executable match skipped', async () => {
    const r = await netTest(
      ['run', '--kernel', BUILT_KERNEL, '-j', '2', '--out', join(dir, 'out'), '--ktap', '--json', join(dir, 'r.json'), '--junit', join(dir, 'r.xml'), '*_test.py', 'all_tests.py'],
      { cwd: UT },
    );
    ktap = r.stdout;
    stderr = r.stderr;
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /notexec_test\.py matches \*_test\.py but is not executable: skipped/);
    report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as JsonReport;
    assert.deepEqual(Object.fromEntries(report.files.map((f) => [f.file, f.verdict])), Object.fromEntries(Object.entries(EXPECTED).map(([f, e]) => [f, e.verdict])));
    assertNothingLeft(r);
  });

  test('JSON: exact per-case counts per file, names Class.test_name, setUpClass errors on each case', () => {
    for (const f of report.files) assert.deepEqual(countCases(f.cases.map((c) => ({ ...c, status: c.status as 'pass', children: [] }))), EXPECTED[f.file]!.counts, f.file);
    assert.deepEqual(report.totals.cases, { pass: 14, fail: 8, skip: 4 });
    const basic = report.files.find((f) => f.file === 'basic_test.py')!;
    assert.deepEqual(basic.cases.map((c) => [c.name, c.status, c.error ?? false]), [
      ['Arith.test_add', 'pass', false],
      ['Arith.test_expected', 'pass', false],
      ['Arith.test_raises', 'fail', true],
      ['Arith.test_skipped', 'skip', false],
      ['Arith.test_sub', 'pass', false],
      ['Arith.test_wrong', 'fail', false],
    ]);
    const wrong = basic.cases.find((c) => c.name === 'Arith.test_wrong')!;
    assert.equal(wrong.detail, 'AssertionError: 4 != 5 : arithmetic is broken on purpose');
    assert.match(wrong.traceback!, /^Traceback \(most recent call last\):\n {2}File "\/host.*basic_test\.py", line \d+, in test_wrong/);
    assert.deepEqual(basic.cases.find((c) => c.name === 'Arith.test_skipped')?.detail, 'needs IPv9');
    const fixture = report.files.find((f) => f.file === 'fixture_test.py')!;
    for (const name of ['Broken.test_a', 'Broken.test_b']) {
      const c = fixture.cases.find((x) => x.name === name)!;
      assert.equal(c.status, 'fail', name);
      assert.equal(c.detail, 'setUpClass failed: RuntimeError: setUpClass broken on purpose');
    }
    assert.equal(fixture.cases.find((c) => c.name === 'NoTun.test_x')?.detail, 'no tun here (on purpose)');
  });

  test('KTAP: the same counts, and the kernel parser agrees', () => {
    const files = parseTap(ktap);
    assert.deepEqual(
      Object.fromEntries(files.map((f) => [f.name, countCases(f.children)])),
      Object.fromEntries(Object.entries(EXPECTED).map(([f, e]) => [f, e.counts])),
    );
    if (existsSync(KUNIT)) {
      writeFileSync(join(dir, 'r.ktap'), ktap);
      const k = spawnSync('python3', [KUNIT, 'parse', join(dir, 'r.ktap')], { encoding: 'utf8' });
      assert.match(k.stdout + k.stderr, /Ran 26 tests: passed: 14, failed: 8, skipped: 4/, k.stdout + k.stderr);
    }
  });

  test('JUnit: a testcase per case, unittest errors as <error>, failed assertions as <failure>', () => {
    const xml = readFileSync(join(dir, 'r.xml'), 'utf8');
    for (const [file, e] of Object.entries(EXPECTED)) {
      const m = new RegExp(`<testsuite name="${file.replace(/\./g, '\\.')}" tests="(\\d+)" failures="(\\d+)" errors="(\\d+)" skipped="(\\d+)"`).exec(xml);
      assert.ok(m, `no testsuite for ${file}`);
      assert.deepEqual({ tests: Number(m[1]), failures: Number(m[2]), errors: Number(m[3]), skipped: Number(m[4]) }, e.junit, file);
    }
    assert.match(xml, /name="Arith\.test_raises" time="[\d.]+"><error message="OSError: \[Errno 19\] no such device \(on purpose\)">Traceback/);
  });

  test('a header per file, and each file has its own output file in the run directory', () => {
    for (const f of Object.keys(EXPECTED)) assert.match(stderr, new RegExp(`=== ${f.replace(/\./g, '\\.')} \\[[12]\\]`));
    const outputs = perFileOutputs(join(dir, 'out'));
    assert.equal(outputs.length, 4);
    assert.equal(outputs.filter((o) => o.includes('ok_test output line')).length, 2, 'ok_test.py and all_tests.py print it');
  });

  test('--filter selects unittest cases by name; a file left with none is a skip; verdicts as each file ends', async () => {
    const r = await netTest(['run', '--kernel', BUILT_KERNEL, '-j', '1', '--json', join(dir, 'f.json'), '--filter', 'Arith\\.test_(add|wrong)$', 'basic_test.py', 'ok_test.py'], { cwd: UT });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const f = JSON.parse(readFileSync(join(dir, 'f.json'), 'utf8')) as JsonReport;
    assert.deepEqual(f.files.map((x) => [x.file, x.verdict, x.cases.map((c) => `${c.name} ${c.status}`)]), [
      ['basic_test.py', 'fail', ['Arith.test_add pass', 'Arith.test_wrong fail']],
      ['ok_test.py', 'skip', []],
    ]);
    assert.equal(f.files[1]?.detail, '--filter matches none of its 3 unittest cases');
    // One VM, output streamed: the first file's verdict comes before the second file starts.
    const at = (s: string) => r.stdout.indexOf(s);
    assert.ok(at('=== basic_test.py') >= 0 && at('=== basic_test.py') < at('FAIL basic_test.py'), r.stdout);
    assert.ok(at('FAIL basic_test.py') < at('=== ok_test.py'), r.stdout);
    assert.ok(at('=== ok_test.py') < at('SKIP ok_test.py'), r.stdout);
    assertNothingLeft(r);
  });

  test('bad Python files: import crash, garbage TAP, a hang: fail, fail, timeout with output kept; the run goes on', async () => {
    const r = await netTest(['run', '--kernel', BUILT_KERNEL, '-j', '1', '-q', '--timeout', '10', '--json', join(dir, 'b.json'), '*.py'], { cwd: join(FIXTURES, 'unittest-bad') });
    assert.equal(r.status, 4, r.stdout + r.stderr);
    const b = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as JsonReport;
    const by = Object.fromEntries(b.files.map((x) => [x.file, x]));
    assert.deepEqual(Object.fromEntries(b.files.map((x) => [x.file, x.verdict])), {
      'after.py': 'pass',
      'garbage_tap.py': 'fail',
      'hang_test.py': 'timeout',
      'import_crash.py': 'fail',
    });
    assert.deepEqual(by['hang_test.py']!.cases.map((c) => [c.name, c.status, c.detail ?? null]), [
      ['Hang.test_a_quick', 'pass', null],
      ['Hang.test_b_forever', 'fail', 'still running when the test timed out'],
    ]);
    // --quiet prints no output; the excerpts of failures come with their verdicts.
    assert.match(r.stdout, /FAIL import_crash\.py[^\n]*\n[\s\S]*ModuleNotFoundError: No module named 'module_that_does_not_exist'/);
    assert.match(r.stdout, /TIMEOUT hang_test\.py[^\n]*\n[\s\S]*hang_test: about to sleep forever/);
    assert.match(r.stdout, /FAIL garbage_tap\.py[^\n]*\n[\s\S]*Bail out! gave up/);
    assertNothingLeft(r);
  });

  test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
});

for (const [name, kernel, why] of KERNELS) {
  test(`/proc/config.gz is readable on the ${name}`, { skip: why }, async () => {
    const r = await netTest(['run', '--kernel', kernel, 'config.sh'], { cwd: join(FIXTURES, 'kconfig') });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /config\.gz: \d+ lines/);
    assertNothingLeft(r);
  });
}
