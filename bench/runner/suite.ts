// Many files: the guest agent (one Node per VM) against one Node per file, and a suite with
// -j 1 against -j 2, the -j 2 shares dealt round-robin (no duration record) and balanced by the
// durations of the previous run, all in one run.
//   node dist/bench/runner/suite.js [--rounds N] [--files K] [--suite DIR] [--kernel FILE]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, median, opt, ROOT } from './common.js';

const rounds = Number(opt('--rounds', '3'));
const files = Number(opt('--files', '8'));
const suite = opt('--suite', existsSync(join(ROOT, 'suite')) ? 'suite' : 'test/guest');
const kernel = opt('--kernel', '');


/** Wall time of one run; `cache` is its XDG_CACHE_HOME (where the duration record lives). */
function wall(cliArgs: string[], cwd: string, cache?: string): number {
  const t0 = performance.now();
  const env = cache ? { ...process.env, XDG_CACHE_HOME: cache } : process.env;
  const r = spawnSync(process.execPath, [CLI, 'run', '-q', ...(kernel ? ['--kernel', kernel] : []), ...cliArgs], { cwd, encoding: 'utf8', env });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`net-test ${cliArgs.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return ms;
}

const dir = mkdtempSync('/var/tmp/net-test-bench-files-');
try {
  for (let i = 0; i < files; i++) {
    writeFileSync(join(dir, `t${i}.test.ts`), `import { test } from 'node:test';\ntest('trivial ${i}', () => {});\n`);
  }
  const agent: number[] = [];
  const perFile: number[] = [];
  for (let r = 0; r < rounds; r++) {
    agent.push(wall(['-j', '1', dir], ROOT));
    perFile.push(wall(['-j', '1', '--no-agent', dir], ROOT));
  }
  const a = median(agent);
  const p = median(perFile);
  console.log(`${files} trivial TS files in one VM, medians of ${rounds} rounds (seconds)`);
  console.log('| mode | wall | per file |');
  console.log('|---|---|---|');
  console.log(`| agent (one Node per VM) | ${(a / 1000).toFixed(2)} | ${(a / files / 1000).toFixed(2)} |`);
  console.log(`| --no-agent (one Node per file) | ${(p / 1000).toFixed(2)} | ${(p / files / 1000).toFixed(2)} |`);
  console.log(`saving per file: ${((p - a) / files / 1000).toFixed(2)} s; ratio ${(p / a).toFixed(2)}x`);

  // The -j 1 run records every file's duration in `record`; each round-robin run starts from an
  // empty cache of its own.
  const record = join(dir, 'record');
  const j1 = wall(['-j', '1', '--timeout', '300', suite], ROOT, record);
  const rr: number[] = [];
  const balanced: number[] = [];
  for (let r = 0; r < rounds; r++) {
    rr.push(wall(['-j', '2', '--timeout', '300', suite], ROOT, join(dir, `empty-${r}`)));
    balanced.push(wall(['-j', '2', '--timeout', '300', suite], ROOT, record));
  }
  const [b, q] = [median(balanced), median(rr)];
  console.log(`\nsuite ${suite}${kernel ? ` on ${kernel}` : ''}, medians of ${rounds} rounds (seconds)`);
  console.log('| run | wall | vs -j 1 |');
  console.log('|---|---|---|');
  console.log(`| -j 1 (one run) | ${(j1 / 1000).toFixed(1)} | 1.00x |`);
  console.log(`| -j 2, shares round-robin | ${(q / 1000).toFixed(1)} | ${(j1 / q).toFixed(2)}x |`);
  console.log(`| -j 2, shares balanced by past durations | ${(b / 1000).toFixed(1)} | ${(j1 / b).toFixed(2)}x |`);
  console.log(`balanced vs round-robin: ${(q / b).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
