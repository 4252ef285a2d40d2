// Many files: parallel VMs, one agent per VM, a crash or hang losing only its own file,
// shards, retries, and the machine-readable reports (checked by the kernel's KTAP parser and
// a JUnit schema).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNothingLeft, FIXTURES, netTest } from '../helpers/cli.js';

const skip = existsSync('/usr/bin/linux.uml') ? false : 'Debian user-mode-linux is not installed';
const KUNIT = '/var/cache/net-test/linux-source-6.1/tools/testing/kunit/kunit.py';

interface JsonReport {
  exitStatus: number;
  files: { file: string; verdict: string; exitStatus: number | null; cases: { name: string; status: string; children: unknown[] }[] }[];
  totals: { cases: { pass: number; fail: number; skip: number } };
}

describe('a mixed directory in two parallel VMs', { skip, concurrency: 1 }, () => {
  const dir = mkdtempSync('/var/tmp/net-test-sched-');
  let report: JsonReport;
  let stdout = '';

  test('every file gets its own verdict and the crash decides the exit', async () => {
    const r = await netTest(['run', '-j', '2', '--timeout', '20', '--ktap', '--json', join(dir, 'r.json'), '--junit', join(dir, 'r.xml'), 'mixed'], {
      cwd: FIXTURES,
    });
    // --ktap: KTAP alone on stdout, the report on stderr.
    writeFileSync(join(dir, 'r.ktap'), r.stdout);
    stdout = r.stderr;
    assert.equal(r.status, 3, r.stdout + r.stderr);
    report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as JsonReport;
    const verdicts = Object.fromEntries(report.files.map((f) => [f.file, f.verdict]));
    assert.deepEqual(verdicts, {
      'mixed/a-pass.test.ts': 'pass',
      'mixed/b-pass.sh': 'pass',
      'mixed/c-pass.py': 'pass',
      'mixed/d-fail.sh': 'fail',
      'mixed/e-crash.sh': 'crash',
      'mixed/f-hang.sh': 'timeout',
      'mixed/g-after.test.ts': 'pass',
      'mixed/h-ktap.sh': 'pass',
      'mixed/i-skip.sh': 'skip',
    });
    assertNothingLeft(r);
  });

  test('node:test cases and a script\'s TAP become cases', () => {
    const a = report.files.find((f) => f.file === 'mixed/a-pass.test.ts')!;
    assert.deepEqual(a.cases.map((c) => [c.name, c.status]), [
      ['a suite', 'pass'],
      ['a fresh network namespace with the VM NICs, down and unconfigured', 'pass'],
    ]);
    const h = report.files.find((f) => f.file === 'mixed/h-ktap.sh')!;
    assert.deepEqual(h.cases.map((c) => c.status), ['pass', 'skip', 'pass']);
    assert.match(stdout, /CRASH mixed\/e-crash\.sh/);
    assert.match(stdout, /Kernel panic - not syncing: sysrq triggered crash/);
    assert.match(stdout, /9 files: 5 passed, 1 failed, 1 skipped, 1 crashed, 1 timed out/);
  });

  test('the JUnit file validates against the JUnit schema', () => {
    const r = spawnSync('xmllint', ['--noout', '--schema', join(FIXTURES, 'junit.xsd'), join(dir, 'r.xml')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const xml = readFileSync(join(dir, 'r.xml'), 'utf8');
    assert.match(xml, /<error type="crash" message="kernel panic: Kernel panic - not syncing: sysrq triggered crash"/);
    assert.match(xml, /<testcase classname="mixed\/a-pass.test.ts" name="a suite &gt; skipped" time="0"><skipped message="not today"\/>/);
  });

  test('KTAP: the kernel\'s own parser (kunit.py parse) reads the same counts', { skip: existsSync(KUNIT) ? false : `no kernel tree at ${KUNIT}` }, () => {
    const ktapFile = join(dir, 'r.ktap');
    assert.match(readFileSync(ktapFile, 'utf8'), /^KTAP version 1\n1\.\.9\n/);
    const k = spawnSync('python3', [KUNIT, 'parse', ktapFile], { encoding: 'utf8' });
    const text = k.stdout + k.stderr;
    assert.doesNotMatch(text, /\[ERROR\]/, text);
    // kunit.py counts leaves: our cases where a file has them, else the file itself.
    const ours = report.totals.cases;
    const without = report.files.filter((f) => f.cases.length === 0);
    const pass = ours.pass + without.filter((f) => f.verdict === 'pass' || f.verdict === 'flaky').length;
    const skipped = ours.skip + without.filter((f) => f.verdict === 'skip').length;
    const failed = ours.fail + without.filter((f) => !['pass', 'flaky', 'skip'].includes(f.verdict)).length;
    assert.match(text, new RegExp(`Ran ${pass + skipped + failed} tests: passed: ${pass}, failed: ${failed}, skipped: ${skipped}`), text);
  });

  test('net-test parse turns the saved KTAP into the same verdicts', () => {
    const r = spawnSync(process.execPath, [join(FIXTURES, '../../bin/net-test.js'), 'parse', '--json', join(dir, 'parsed.json'), join(dir, 'r.ktap')], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    // The KTAP names the panic, so parse sees the crash too.
    assert.equal(r.status, 3, r.stdout + r.stderr);
    const parsed = JSON.parse(readFileSync(join(dir, 'parsed.json'), 'utf8')) as JsonReport;
    const ok = (v: string) => (['pass', 'skip', 'flaky'].includes(v) ? v.replace('flaky', 'pass') : 'fail');
    assert.deepEqual(
      parsed.files.map((f) => [f.file, f.verdict]),
      report.files.map((f) => [f.file, ok(f.verdict)]),
    );
    assert.deepEqual(parsed.totals.cases, report.totals.cases);
  });

  test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
});

describe('shards and retries', { skip, concurrency: 1 }, () => {
  test('--shard i/n: the shards partition the files', async () => {
    const dir = mkdtempSync('/var/tmp/net-test-shard-');
    try {
      const seen: string[][] = [];
      for (const s of ['1/2', '2/2']) {
        const r = await netTest(['run', '-j', '1', '--shard', s, '--json', join(dir, `${s.replace('/', '-')}.json`), 'runner/args.sh', 'runner/fail.sh', 'runner/pass.py'], {
          cwd: FIXTURES,
        });
        assert.ok(r.status === 0 || r.status === 1, r.stdout + r.stderr);
        seen.push((JSON.parse(readFileSync(join(dir, `${s.replace('/', '-')}.json`), 'utf8')) as JsonReport).files.map((f) => f.file));
        assertNothingLeft(r);
      }
      const all = seen.flat().sort();
      assert.deepEqual(all, ['runner/args.sh', 'runner/fail.sh', 'runner/pass.py']);
      assert.ok(seen.every((s) => s.length > 0));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--retries: a failure that passes on retry is FLAKY, never PASS', async () => {
    const state = mkdtempSync('/var/tmp/net-test-flaky-');
    try {
      const r = await netTest(['run', '--retries', '2', 'flaky/flaky.sh', '--', state], { cwd: FIXTURES });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /FLAKY flaky\/flaky\.sh \(.*2 attempts/);
      assert.doesNotMatch(r.stdout, /^PASS flaky/m);
      assertNothingLeft(r);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  test('--repeat N: every file runs N times in full, node tests included', async () => {
    const dir = mkdtempSync('/var/tmp/net-test-repeat-');
    try {
      const r = await netTest(['run', '-j', '1', '--repeat', '3', '--json', join(dir, 'r.json'), 'mixed/a-pass.test.ts', 'runner/args.sh'], { cwd: FIXTURES });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const rep = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as JsonReport;
      assert.deepEqual(
        rep.files.map((f) => f.file),
        ['mixed/a-pass.test.ts #1', 'mixed/a-pass.test.ts #2', 'mixed/a-pass.test.ts #3', 'runner/args.sh #1', 'runner/args.sh #2', 'runner/args.sh #3'],
      );
      // Each repeat of the node file reports its own cases (a module cache hit would report none).
      const counts = rep.files.filter((f) => f.file.includes('.ts #')).map((f) => f.cases.length);
      assert.ok(counts.every((n) => n > 0 && n === counts[0]), `cases per repeat: ${counts.join(', ')}`);
      assertNothingLeft(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
