// Simulated time, side by side: the suite on a kernel with CONFIG_UML_TIME_TRAVEL_SUPPORT booted
// in real time (--no-time-travel) and in simulated time (--time-travel), and optionally on the
// same kernel built without the option (--baseline), interleaved round by round. Reports the
// medians and every case whose verdict was not the same in every run of every mode.
//   node dist/bench/runner/time-travel.js --kernel TT_KERNEL [--baseline KERNEL] [--rounds N] [-j N] [--suite DIR] [--out FILE]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bareBoot, CLI, median, opt, ROOT } from './common.js';

const rounds = Number(opt('--rounds', '3'));
const kernel = opt('--kernel', '/var/cache/net-test/build-tt/linux');
const baseline = opt('--baseline', '');
const jobs = opt('-j', '1');
const suite = opt('--suite', 'suite/');
const outFile = opt('--out', '');

interface Case {
  name: string;
  status: string;
  children: Case[];
}
interface Report {
  files: { file: string; verdict: string; durationMs?: number; cases: Case[] }[];
}

const modes: { name: string; kernel: string; args: string[] }[] = [
  ...(baseline ? [{ name: 'kernel without time-travel support', kernel: baseline, args: [] }] : []),
  { name: 'time-travel built in, booted without', kernel, args: ['--no-time-travel'] },
  { name: 'time-travel on', kernel, args: ['--time-travel'] },
];

const work = mkdtempSync('/var/tmp/net-test-bench-tt-');
const wall: Record<string, number[]> = {};
const boot: Record<string, number[]> = {};
const fileMs: Record<string, Record<string, number[]>> = {};
/** case -> mode -> statuses seen */
const seen = new Map<string, Map<string, string[]>>();
const log: string[] = [];

function walk(prefix: string, cs: Case[], mode: string): void {
  for (const c of cs) {
    const key = `${prefix} > ${c.name}`;
    const byMode = seen.get(key) ?? new Map<string, string[]>();
    seen.set(key, byMode);
    byMode.set(mode, [...(byMode.get(mode) ?? []), c.status]);
    walk(key, c.children, mode);
  }
}

try {
  for (let r = 0; r < rounds; r++) {
    // Alternate the order round by round, so a load trend does not favour one mode.
    for (const m of r % 2 ? [...modes].reverse() : modes) {
      // Bare boots: the fixed cost of the option itself, with the same command-line argument.
      const b = await bareBoot(m.kernel, m.args.includes('--time-travel') ? ['time-travel'] : []);
      (boot[m.name] ??= []).push(b);
      const json = join(work, `r${r}-${modes.indexOf(m)}.json`);
      const t0 = performance.now();
      const res = spawnSync(process.execPath, [CLI, 'run', '-q', '-j', jobs, '--timeout', '300', '--kernel', m.kernel, ...m.args, '--json', json, suite], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, XDG_CACHE_HOME: join(work, 'cache') },
      });
      const ms = performance.now() - t0;
      (wall[m.name] ??= []).push(ms);
      let rep: Report;
      try {
        rep = JSON.parse(readFileSync(json, 'utf8')) as Report;
      } catch {
        throw new Error(`${m.name}: no JSON report (exit ${res.status}):\n${res.stdout}${res.stderr}`);
      }
      for (const f of rep.files) {
        walk(f.file, f.cases, m.name);
        if (f.verdict !== 'pass') walk(f.file, [{ name: `(file verdict)`, status: f.verdict, children: [] }], m.name);
        if (f.durationMs !== undefined) ((fileMs[m.name] ??= {})[f.file] ??= []).push(f.durationMs);
      }
      const line = `round ${r + 1} ${m.name}: exit ${res.status}, ${(ms / 1000).toFixed(1)} s, bare boot ${(b / 1000).toFixed(2)} s`;
      log.push(line);
      process.stderr.write(line + '\n');
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const s = (ms: number, d = 1) => (ms / 1000).toFixed(d);
const out: string[] = [];
out.push(`kernel ${kernel}${baseline ? `, baseline ${baseline}` : ''}; suite ${suite}, -j ${jobs}; ${rounds} rounds, interleaved; medians in seconds`);
out.push('| mode | bare boot | suite wall | vs time-travel on |');
out.push('|---|---|---|---|');
const on = median(wall['time-travel on']!);
for (const m of modes) out.push(`| ${m.name} | ${s(median(boot[m.name]!), 2)} | ${s(median(wall[m.name]!))} | ${(median(wall[m.name]!) / on).toFixed(2)}x |`);
out.push('');
out.push('| file | ' + modes.map((m) => m.name).join(' | ') + ' |');
out.push('|---|' + modes.map(() => '---|').join(''));
const files = Object.keys(fileMs[modes[0]!.name] ?? {});
for (const f of files) out.push(`| ${f} | ${modes.map((m) => s(median(fileMs[m.name]?.[f] ?? [0]), 2)).join(' | ')} |`);
const differing = [...seen.entries()].filter(([, byMode]) => {
  const all = [...byMode.values()].flat();
  return new Set(all).size > 1 || [...byMode.values()].some((v) => v.length !== rounds) || byMode.size !== modes.length;
});
out.push('');
out.push(`${seen.size} cases; ${differing.length} with a verdict that differs between runs or modes`);
for (const [name, byMode] of differing) out.push(`  ${name}: ${[...byMode.entries()].map(([m, v]) => `${m}: ${v.join(',')}`).join('; ')}`);
console.log(out.join('\n'));
if (outFile) writeFileSync(outFile, [...log, '', ...out].join('\n') + '\n');
