// The kernel networking suite (suite/) on both kernels: the distribution's UML kernel and the
// one built from linux-source-6.1 with our fragment. Every case must pass or skip with a reason.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assertNothingLeft, BUILT_KERNEL, KERNELS, netTest, ROOT, ROOTFS_IMAGE, ROOTS } from '../helpers/cli.js';
import { readReport, verdictLines, type JsonReport } from '../helpers/report.js';

describe('suite/', { concurrency: 1 }, () => {
  for (const [name, kernel, skip] of KERNELS) {
    test(`on the ${name}`, { skip }, async () => {
      const dir = mkdtempSync('/var/tmp/net-test-suite-');
      try {
        const r = await netTest(['run', '-q', '-j', '2', '--timeout', '120', '--kernel', kernel, '--json', join(dir, 'r.json'), 'suite/'], { cwd: ROOT });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const rep = readReport(join(dir, 'r.json'));
        assert.ok(rep.files.every((f) => f.verdict === 'pass'), r.stdout);
        assert.equal(rep.totals.cases.fail, 0);
        assert.ok(rep.totals.cases.pass >= 80, `only ${rep.totals.cases.pass} cases passed`);
        assertNothingLeft(r);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

/** Every case as "file > suite > case: status", in order. */
// A sample of the suite on the image root (run --rootfs): the same cases, the same verdicts as on
// the host root, with the image's own Node and tools.
const SAMPLE = ['suite/ping.test.ts', 'suite/routing.test.ts', 'suite/tcp.test.ts'];
describe('a sample of suite/ on both guest roots', { concurrency: 1, skip: ROOTS[1]![2] || (existsSync(BUILT_KERNEL) ? false : `no built kernel at ${BUILT_KERNEL}`) }, () => {
  test(`${SAMPLE.join(', ')}: same verdicts on the host root and on ${ROOTFS_IMAGE}`, async () => {
    const dir = mkdtempSync('/var/tmp/net-test-suite-');
    try {
      const reports: JsonReport[] = [];
      for (const [, rootArgs] of ROOTS) {
        const json = join(dir, `r${reports.length}.json`);
        const r = await netTest(['run', '-q', '-j', '1', '--timeout', '120', '--kernel', BUILT_KERNEL, ...rootArgs, '--json', json, ...SAMPLE], { cwd: ROOT });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assertNothingLeft(r);
        reports.push(readReport(json));
      }
      const [host, image] = reports.map((r) => verdictLines(r));
      assert.ok(host!.length >= 50, `only ${host!.length} cases`);
      assert.deepEqual(image, host);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
