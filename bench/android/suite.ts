// Android's net/test (kernel/tests, not in this repository: see docs/ANDROID.md) under net-test:
// the whole suite as one process (all_tests.py in one VM) against its modules as files over
// -j 2 (one VM each, files balanced by the previous round's durations), side by side.
//   node dist/bench/android/suite.js --suite DIR/net/test [--kernel FILE] [--rounds N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, median, opt } from '../runner/common.js';

const suite = opt('--suite', '/var/tmp/android-net-test/net/test');
const kernel = opt('--kernel', '');
const rounds = Number(opt('--rounds', '1'));

interface Case {
  status: string;
  error?: boolean;
  children: Case[];
}
interface Report {
  files: { file: string; verdict: string; durationMs: number | null; cases: Case[] }[];
}

const dir = mkdtempSync('/var/tmp/net-test-bench-android-');
/** One run: wall seconds and the case counts from its JSON report. */
function run(name: string, args: string[]) {
  const json = join(dir, `${name}.json`);
  const t0 = performance.now();
  // Its own duration record, so the -j 2 shares of round 2+ are balanced by round 1.
  const r = spawnSync(process.execPath, [CLI, 'run', '-q', '--timeout', '1200', '--json', json, ...(kernel ? ['--kernel', kernel] : []), ...args], {
    cwd: suite,
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') },
  });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0 && r.status !== 1) throw new Error(`net-test run ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  const rep = JSON.parse(readFileSync(json, 'utf8')) as Report;
  const c = { ran: 0, ok: 0, fail: 0, error: 0, skip: 0 };
  const walk = (cs: Case[]) => {
    for (const x of cs) {
      if (x.children.length) walk(x.children);
      else {
        c.ran++;
        if (x.status === 'pass') c.ok++;
        else if (x.status === 'skip' || x.status === 'todo') c.skip++;
        else if (x.error) c.error++;
        else c.fail++;
      }
    }
  };
  for (const f of rep.files) walk(f.cases);
  const slowest = [...rep.files].sort((a, b) => (b.durationMs ?? 0) - (a.durationMs ?? 0)).slice(0, 3).map((f) => `${f.file} ${((f.durationMs ?? 0) / 1000).toFixed(0)} s`);
  return { s, c, files: rep.files.length, slowest, verdicts: rep.files.filter((f) => f.verdict !== 'pass').map((f) => `${f.file} ${f.verdict}`) };
}

try {
  const one: number[] = [];
  const many: number[] = [];
  let last: { one: ReturnType<typeof run>; many: ReturnType<typeof run> } | undefined;
  for (let k = 0; k < rounds; k++) {
    const a = run('one', ['-j', '1', './all_tests.py']);
    const b = run('files', ['-j', '2', '*_test.py']);
    one.push(a.s);
    many.push(b.s);
    last = { one: a, many: b };
    console.error(`round ${k + 1}: one process ${a.s.toFixed(1)} s, files -j 2 ${b.s.toFixed(1)} s`);
  }
  const [o, m] = [median(one), median(many)];
  console.log(`Android net/test at ${suite}${kernel ? ` on ${kernel}` : ''}, medians of ${rounds} round(s) (seconds)`);
  console.log('| run | wall | files | cases ran | ok | fail | error | skip |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, w, r] of [
    ['all_tests.py, one process, -j 1', o, last!.one],
    ['*_test.py as files, -j 2', m, last!.many],
  ] as const) {
    console.log(`| ${name} | ${w.toFixed(1)} | ${r.files} | ${r.c.ran} | ${r.c.ok} | ${r.c.fail} | ${r.c.error} | ${r.c.skip} |`);
  }
  console.log(`files over -j 2 vs one process: ${(o / m).toFixed(2)}x; slowest files: ${last!.many.slowest.join(', ')}`);
  for (const [name, r] of [['one process', last!.one], ['files', last!.many]] as const) if (r.verdicts.length) console.log(`${name}, files not passing: ${r.verdicts.join(', ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
