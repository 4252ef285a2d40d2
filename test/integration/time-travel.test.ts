// The suite in simulated and in real time on the built kernel: every case must get the same
// verdict (tests that time intervals read the guest's clock in both modes), and time-travel is
// what a run boots with by default on a kernel that has it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hasTimeTravel } from '../../src/host/kernel/time-travel.js';
import { assertNothingLeft, BUILT_KERNEL, FIXTURES, netTest, ROOT } from '../helpers/cli.js';
import { readReport, verdictLines, type JsonReport } from '../helpers/report.js';

const skip = !existsSync(BUILT_KERNEL)
  ? `no built kernel at ${BUILT_KERNEL}`
  : !hasTimeTravel(BUILT_KERNEL)
    ? `${BUILT_KERNEL} has no CONFIG_UML_TIME_TRAVEL_SUPPORT (built before net-test.config turned it on: rebuild it)`
    : false;

describe('time-travel', { skip, concurrency: 1 }, () => {
  test('the suite gives the same verdict for every case with and without time-travel', async () => {
    const dir = mkdtempSync('/var/tmp/net-test-tt-');
    try {
      const reports: JsonReport[] = [];
      for (const mode of ['--time-travel', '--no-time-travel']) {
        const json = join(dir, `${mode}.json`);
        const r = await netTest(['run', '-q', '-j', '2', '--timeout', '120', '--kernel', BUILT_KERNEL, mode, '--json', json, 'suite/'], { cwd: ROOT });
        assert.equal(r.status, 0, `${mode}:\n${r.stdout}${r.stderr}`);
        assertNothingLeft(r);
        reports.push(readReport(json));
      }
      const [simulated, real] = reports.map((r) => verdictLines(r));
      assert.ok(simulated!.length >= 200, `only ${simulated!.length} cases`);
      assert.deepEqual(simulated, real);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a run boots with time-travel where the kernel has it, -v says so, --no-time-travel turns it off', async () => {
    const cwd = join(FIXTURES, 'runner');
    const on = await netTest(['run', '-v', '--kernel', BUILT_KERNEL, 'args.sh'], { cwd });
    assert.equal(on.status, 0, on.stdout + on.stderr);
    assert.match(on.stderr, /time-travel on \(the kernel supports it/);
    // The kernel's own word: its clock source is the simulated one.
    assert.match(on.stderr, /Switched to clocksource time-travel-clock/);
    assertNothingLeft(on);
    const off = await netTest(['run', '-v', '--no-time-travel', '--kernel', BUILT_KERNEL, 'args.sh'], { cwd });
    assert.equal(off.status, 0, off.stdout + off.stderr);
    assert.match(off.stderr, /time-travel off \(--no-time-travel\)/);
    assert.doesNotMatch(off.stderr, /time-travel-clock/);
    assertNothingLeft(off);
  });
});

describe('time-travel on a kernel without it', { skip: existsSync('/usr/bin/linux.uml') ? false : 'user-mode-linux is not installed' }, () => {
  test('--time-travel is a usage error that says how to get it; the default is real time', async () => {
    const r = await netTest(['run', '--time-travel', '--kernel', '/usr/bin/linux.uml', 'args.sh'], { cwd: join(FIXTURES, 'runner') });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--time-travel: \/usr\/bin\/linux\.uml was built without CONFIG_UML_TIME_TRAVEL_SUPPORT \(rebuild it with `net-test build`/);
    assertNothingLeft(r);
  });
});
