import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderPlan, SERVE_K } from '../../../src/host/vm/plan.js';
import { watchFiles } from '../../../src/host/watch/inputs.js';

test('plan.sh: the serve step gets the spare number init passes, every other word stays quoted', () => {
  const plan = renderPlan({
    mode: 'serve',
    rootless: false,
    hostname: 'h',
    cwd: '/',
    path: '/bin',
    steps: [],
    serve: ['printf', '%s\\n', `--dest=/run/results-${SERVE_K}.tap`, SERVE_K, "it's $(x)"],
    env: {},
  });
  assert.match(plan, /^NT_MODE=serve$/m);
  const r = spawnSync('sh', ['-c', `${plan}\nnt_serve 7`], { encoding: 'utf8' });
  assert.equal(r.stdout, "--dest=/run/results-7.tap\n7\nit's $(x)\n");
});

test('the file watcher reports writes in place and files renamed over, only for the files asked about', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-watch-'));
  const a = join(dir, 'a.ts');
  const b = join(dir, 'b.ts');
  writeFileSync(a, '1');
  writeFileSync(b, '1');
  const seen: string[] = [];
  let wake = () => {};
  const w = watchFiles((p) => {
    seen.push(p);
    wake();
  });
  const next = () => new Promise<void>((r) => (wake = r));
  // The watcher does not keep the event loop alive (watch has its VM and stdin for that).
  const alive = setTimeout(() => assert.fail('no change reported within 10 s'), 10_000);
  try {
    w.set([a]);
    let got = next();
    writeFileSync(a, '2');
    await got;
    assert.ok(seen.includes(a));
    seen.length = 0;
    writeFileSync(b, '2'); // not watched
    got = next();
    // An editor's save: a new file renamed over the old one.
    writeFileSync(join(dir, '.a.ts.swp'), '3');
    renameSync(join(dir, '.a.ts.swp'), a);
    await got;
    assert.ok(seen.every((p) => p === a), seen.join());
  } finally {
    clearTimeout(alive);
    w.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
