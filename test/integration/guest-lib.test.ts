// Library tests (test/guest/**) on the real kernel, twice: inside the UML guest through
// `net-test run` (all files in one VM), and on the host in a fresh network namespace each.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { assertNothingLeft, KERNELS, netTest, ROOT } from '../helpers/cli.js';

function find(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const files = find(join(ROOT, 'test/guest')).sort();
const isRoot = process.getuid?.() === 0;


describe('library tests inside the UML guest', { skip: files.length === 0 ? 'no guest tests' : false, concurrency: 1 }, () => {
  for (const [name, kernel, skip] of KERNELS) {
    test(`${files.length} files on the ${name}`, { skip }, async () => {
      const r = await netTest(['run', '-j', '1', '--timeout', '180', '--kernel', kernel, ...files.map((f) => relative(ROOT, f))], { cwd: ROOT });
      const summary = r.stdout.split('\n').filter((l) => /^(PASS|FAIL|CRASH|TIMEOUT|ERROR|SKIP) /.test(l) || /^\s+✗/.test(l));
      assert.equal(r.status, 0, `${summary.join('\n')}\n--- full output ---\n${r.stdout.slice(-20000)}${r.stderr}`);
      assertNothingLeft(r);
    });
  }
});

describe('library tests on the host, each in a fresh network namespace', { skip: files.length === 0 ? 'no guest tests' : !isRoot ? 'needs root for unshare -n' : false }, () => {
  for (const f of files) {
    const js = join(ROOT, 'dist', relative(ROOT, f)).replace(/\.ts$/, '.js');
    test(relative(ROOT, f), () => {
      const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '--test', '--test-reporter=spec', js], {
        encoding: 'utf8',
        timeout: 180_000,
      });
      assert.equal(r.status, 0, r.stdout.slice(-20000) + r.stderr);
    });
  }
});
