// The kernel networking suite (suite/) on both kernels: the distribution's UML kernel and the
// one built from linux-source-6.1 with our fragment. Every case must pass or skip with a reason.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assertNothingLeft, KERNELS, netTest, ROOT } from '../helpers/cli.js';


interface Report {
  files: { file: string; verdict: string }[];
  totals: { cases: { pass: number; fail: number; skip: number } };
}

describe('suite/', { concurrency: 1 }, () => {
  for (const [name, kernel, skip] of KERNELS) {
    test(`on the ${name}`, { skip }, async () => {
      const dir = mkdtempSync('/var/tmp/net-test-suite-');
      try {
        const r = await netTest(['run', '-q', '-j', '2', '--timeout', '120', '--kernel', kernel, '--json', join(dir, 'r.json'), 'suite/'], { cwd: ROOT });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const rep = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as Report;
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
