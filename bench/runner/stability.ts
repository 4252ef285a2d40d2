// Is the suite stable? N consecutive whole-suite runs per kernel, as CI runs it (-j 2), and
// every case whose verdict is not the same in all of them. A case that changes is a flake,
// whatever its majority verdict.
//   node dist/bench/runner/stability.js --runs 5 --kernels build-6.1/linux,/usr/bin/linux.uml
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, opt, ROOT } from './common.js';
import { readReport, verdictsOf } from '../../test/helpers/report.js';

const runs = Number(opt('--runs', '5'));
const kernels = opt('--kernels', '/var/cache/net-test/build-6.1/linux,/usr/bin/linux.uml').split(',');
const jobs = opt('-j', '2');

let unstable = 0;
for (const kernel of kernels) {
  const seen = new Map<string, Set<string>>();
  const dir = mkdtempSync('/var/tmp/net-test-stability-');
  const failed: string[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      const json = join(dir, `r${i}.json`);
      const t0 = Date.now();
      const out = join(dir, `r${i}`);
      const r = spawnSync(process.execPath, [CLI, 'run', '-q', '-j', jobs, '--kernel', kernel, '--json', json, '--out', out, 'suite/'], { cwd: ROOT, encoding: 'utf8' });
      // A run that did not pass keeps its run directory (console logs, outputs, pcaps) to look at.
      if (r.status === 0) rmSync(out, { recursive: true, force: true });
      else failed.push(out);
      const cases = new Map(verdictsOf(readReport(json)));
      for (const [k, v] of cases) seen.set(k, (seen.get(k) ?? new Set()).add(v));
      const counts = [...cases.values()].reduce<Record<string, number>>((a, v) => ((a[v] = (a[v] ?? 0) + 1), a), {});
      process.stdout.write(`${kernel} run ${i}: exit ${r.status}, ${((Date.now() - t0) / 1000).toFixed(1)} s, ${JSON.stringify(counts)}\n`);
    }
  } finally {
    if (failed.length === 0) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept the run directories of the runs that did not pass: ${failed.join(' ')}\n`);
  }
  const changed = [...seen].filter(([, v]) => v.size > 1);
  unstable += changed.length;
  process.stdout.write(`${kernel}: ${seen.size} verdicts, ${changed.length} changed over ${runs} runs\n`);
  for (const [k, v] of changed) process.stdout.write(`  ${k}: ${[...v].join(' / ')}\n`);
}
process.exitCode = unstable ? 1 : 0;
