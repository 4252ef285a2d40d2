// The fast loop, before and after, side by side: every row of issue 14's table measured on two
// checkouts of net-test (each with its own kernel), interleaved round by round, medians.
//   node dist/bench/runner/fastloop.js --before DIR [--before-kernel K] [--after DIR] [--kernel K]
//        [--rounds N] [--rows run,suite,watch] [--edits N]
// DIR is a built checkout (npm ci && npm run build). Rows:
//   run    `net-test run` of bench/fixtures/trivial.sh, trivial.test.ts and suite/ping.test.ts
//   suite  the whole suite with -j 1 and -j 2 (the -j 1 run records the durations -j 2 balances by)
//   watch  (after only) `net-test watch` on trivial.test.ts and ping.test.ts: from writing an edit
//          to the verdict line, minus nothing; the verdict line's own duration is the test's time
// Wall time is from starting the command to its exit. Each side's duration record lives in a
// cache directory of its own.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, opt, ROOT } from './common.js';

const before = opt('--before', '');
const after = opt('--after', ROOT);
const beforeKernel = opt('--before-kernel', '/var/cache/net-test/build-6.1/linux');
const afterKernel = opt('--kernel', '/var/cache/net-test/build-tt/linux');
const rounds = Number(opt('--rounds', '3'));
const rows = new Set(opt('--rows', 'run,suite,watch').split(','));
const edits = Number(opt('--edits', '5'));
if (!before && (rows.has('run') || rows.has('suite'))) throw new Error('--before DIR (a built checkout to compare with) is required for the run and suite rows');

interface Side {
  name: 'before' | 'after';
  dir: string;
  kernel: string;
  cache: string;
}
const work = mkdtempSync('/var/tmp/net-test-bench-fastloop-');
const sides: Side[] = [
  ...(before ? [{ name: 'before' as const, dir: before, kernel: beforeKernel, cache: join(work, 'cache-before') }] : []),
  { name: 'after', dir: after, kernel: afterKernel, cache: join(work, 'cache-after') },
];
const samples = new Map<string, number[]>();
const add = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);

function wall(side: Side, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(side.dir, 'bin/net-test.js'), 'run', '-q', '--kernel', side.kernel, ...args], {
    cwd: side.dir,
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: side.cache },
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${side.name}: net-test run ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return ms;
}

/** Starts watch on copies of `files`, edits each `edits` times, returns save-to-verdict times and the verdicts' own durations. */
async function watchRow(side: Side, files: string[]): Promise<Map<string, { latency: number[]; own: number[] }>> {
  const dir = mkdtempSync(join(work, 'watch-'));
  const names = files.map((f) => {
    const name = f.split('/').pop()!;
    // Relative imports of the library stay valid from a directory beside the original.
    const text = readFileSync(join(side.dir, f), 'utf8').replaceAll("'../src/lib/", `'${side.dir}/src/lib/`).replaceAll("'../../src/lib/", `'${side.dir}/src/lib/`);
    writeFileSync(join(dir, name), text);
    return name;
  });
  const child = spawn(process.execPath, [join(side.dir, 'bin/net-test.js'), 'watch', '-q', '--kernel', side.kernel, ...names], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const until = async (re: RegExp, from: number, ms = 120_000): Promise<RegExpMatchArray> => {
    const t0 = Date.now();
    for (;;) {
      const m = out.slice(from).match(re);
      if (m) return m;
      if (Date.now() - t0 > ms || child.exitCode !== null) throw new Error(`watch: no ${re}; output:\n${out}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const result = new Map<string, { latency: number[]; own: number[] }>();
  try {
    await until(/watching/, 0);
    for (let e = 0; e < edits; e++) {
      for (const name of names) {
        // The next spare starts after a verdict: give it time, as a person editing would.
        await new Promise((r) => setTimeout(r, 3000));
        const from = out.length;
        const text = readFileSync(join(dir, name), 'utf8');
        const t0 = performance.now();
        writeFileSync(join(dir, name), `${text}\n// edit ${e}\n`);
        const esc = name.replace(/\./g, '\\.');
        const m = await until(new RegExp(`PASS ${esc} \\([^)]*?([\\d.]+) s\\)`), from);
        const r = result.get(name) ?? { latency: [], own: [] };
        r.latency.push(performance.now() - t0);
        r.own.push(Number(m[1]) * 1000);
        result.set(name, r);
      }
    }
  } finally {
    child.stdin.write('q');
    await new Promise((r) => child.on('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

try {
  for (const s of sides) mkdirSync(s.cache);
  for (let r = 0; r < rounds; r++) {
    // Alternate which side goes first, so a load trend does not favour one.
    const order = r % 2 ? [...sides].reverse() : sides;
    for (const s of order) {
      if (rows.has('run')) {
        add(`${s.name} run trivial.sh`, wall(s, ['bench/fixtures/trivial.sh']));
        add(`${s.name} run trivial.test.ts`, wall(s, ['bench/fixtures/trivial.test.ts']));
        add(`${s.name} run ping.test.ts`, wall(s, ['suite/ping.test.ts']));
      }
      if (rows.has('suite')) {
        add(`${s.name} suite -j 1`, wall(s, ['-j', '1', 'suite/']));
        add(`${s.name} suite -j 2`, wall(s, ['-j', '2', 'suite/']));
      }
      if (rows.has('watch') && s.name === 'after') {
        const w = await watchRow(s, ['bench/fixtures/trivial.test.ts', 'suite/ping.test.ts']);
        for (const [name, v] of w) {
          for (const x of v.latency) add(`watch ${name} latency`, x);
          for (const x of v.own) add(`watch ${name} own`, x);
        }
      }
      process.stderr.write(`round ${r + 1} ${s.name} done\n`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const sec = (key: string) => {
  const v = samples.get(key);
  return v?.length ? median(v) / 1000 : undefined;
};
const f = (x: number | undefined, d = 2) => (x === undefined ? 'n/a' : x.toFixed(d));
console.log(`before: ${before || '(none)'} on ${beforeKernel}; after: ${after} on ${afterKernel}; ${rounds} rounds, interleaved; medians in seconds`);
console.log('| what | before | after | before / after |');
console.log('|---|---|---|---|');
for (const what of ['run trivial.sh', 'run trivial.test.ts', 'run ping.test.ts', 'suite -j 1', 'suite -j 2']) {
  const b = sec(`before ${what}`);
  const a = sec(`after ${what}`);
  if (a === undefined && b === undefined) continue;
  console.log(`| net-test ${what} | ${f(b)} | ${f(a)} | ${b && a ? (b / a).toFixed(2) + 'x' : ''} |`);
}
for (const side of ['before', 'after']) {
  const j1 = sec(`${side} suite -j 1`);
  const j2 = sec(`${side} suite -j 2`);
  if (j1 && j2) console.log(`| suite -j 2 speed-up over -j 1, ${side} | | | ${(j1 / j2).toFixed(2)}x |`);
}
for (const name of ['trivial.test.ts', 'ping.test.ts']) {
  const l = samples.get(`watch ${name} latency`);
  const own = samples.get(`watch ${name} own`);
  if (!l || !own) continue;
  // The verdict line's duration has a 0.1 s resolution; the difference is the loop's own cost.
  const over = l.map((x, i) => x - own[i]!);
  console.log(`| watch: save ${name} to verdict (${l.length} edits) | | ${f(median(l) / 1000)} | test's own time ${f(median(own) / 1000, 1)}, the rest ${f(median(over) / 1000)} |`);
}
