// Many files: the guest agent (one Node per VM) against one Node per file, and a suite with
// -j 1 against -j 2, all in one run.
//   node dist/bench/runner/suite.js [--rounds N] [--files K] [--suite DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, median, opt, ROOT } from './common.js';

const rounds = Number(opt('--rounds', '3'));
const files = Number(opt('--files', '8'));
const suite = opt('--suite', existsSync(join(ROOT, 'suite')) ? 'suite' : 'test/guest');


function wall(cliArgs: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'run', '-q', ...cliArgs], { cwd, encoding: 'utf8' });
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

  const j1 = wall(['-j', '1', '--timeout', '300', suite], ROOT);
  const j2 = wall(['-j', '2', '--timeout', '300', suite], ROOT);
  console.log(`\nsuite ${suite}: -j 1 ${(j1 / 1000).toFixed(1)} s, -j 2 ${(j2 / 1000).toFixed(1)} s, speed-up ${(j1 / j2).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
