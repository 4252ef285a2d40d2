// Full-cycle cost of `net-test run` beside a bare boot of the same kernel, in one run.
//   node dist/bench/runner/cycle.js [--rounds N] [--kernel FILE] [--rootfs IMG]
// Each round runs, interleaved: a bare boot to `halt -f`, a trivial shell test, a trivial TS
// test; with --rootfs, the same two tests again on that image root, side by side. Wall time is measured from starting the command to its exit; the breakdown comes from
// the run's timing.json (host timestamps of console and control-channel events).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bareBoot, CLI, median, opt, ROOT } from './common.js';
import type { Timing } from '../../src/host/vm/session.js';

const rounds = Number(opt('--rounds', '5'));
const kernel = opt('--kernel', '/usr/bin/linux.uml');
const rootfs = opt('--rootfs', '');


const work = mkdtempSync(join(tmpdir(), 'net-test-bench-'));
const bare = () => bareBoot(kernel);

function cycle(test: string, i: number, extra: string[] = []): { wall: number; t: Timing } {
  const out = join(work, `out-${i}-${test.replace(/\W/g, '')}${extra.length ? '-image' : ''}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'run', '-q', '--kernel', kernel, ...extra, '--out', out, join(ROOT, 'bench/fixtures', test)], { encoding: 'utf8' });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${test} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return { wall, t: JSON.parse(readFileSync(join(out, 'timing.json'), 'utf8')) as Timing };
}

const rows: Record<string, { wall: number[]; boot: number[]; init: number[]; test: number[]; shutdown: number[]; host: number[] }> = {};
const add = (name: string, wall: number, t?: Timing) => {
  const r = (rows[name] ??= { wall: [], boot: [], init: [], test: [], shutdown: [], host: [] });
  r.wall.push(wall);
  const tt = t?.tests[0];
  if (t && t.init && t.ready && tt?.start && tt.end && t.exit) {
    r.boot.push(t.init - t.spawn);
    // init's own setup; for TS tests, "test" runs from init's ready (Node starting included).
    r.init.push(t.ready - t.init);
    r.test.push(tt.end - t.ready);
    r.shutdown.push(t.exit - tt.end);
    // Everything outside the VM: CLI start, bundling, namespace and taps, cleanup.
    r.host.push(wall - (t.exit - t.spawn));
  }
};

try {
  for (let i = 0; i < rounds; i++) {
    add('bare boot to halt -f', await bare());
    const sh = cycle('trivial.sh', i);
    add('net-test run trivial.sh', sh.wall, sh.t);
    const ts = cycle('trivial.test.ts', i);
    add('net-test run trivial.test.ts', ts.wall, ts.t);
    if (rootfs) {
      const ish = cycle('trivial.sh', i, ['--rootfs', rootfs]);
      add('net-test run --rootfs trivial.sh', ish.wall, ish.t);
      const its = cycle('trivial.test.ts', i, ['--rootfs', rootfs]);
      add('net-test run --rootfs trivial.test.ts', its.wall, its.t);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const s = (ms: number) => (ms / 1000).toFixed(2);
const bareMed = median(rows['bare boot to halt -f']!.wall);
console.log(`kernel: ${kernel}${rootfs ? `; image: ${rootfs}` : ''}; rounds: ${rounds}; medians in seconds`);
console.log('| what | wall | over bare boot | host side | kernel boot | init setup | test (incl. Node start) | shutdown |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [name, r] of Object.entries(rows)) {
  const b = (xs: number[]) => (xs.length ? s(median(xs)) : '');
  console.log(`| ${name} | ${s(median(r.wall))} | ${name.startsWith('bare') ? '' : s(median(r.wall) - bareMed)} | ${b(r.host)} | ${b(r.boot)} | ${b(r.init)} | ${b(r.test)} | ${b(r.shutdown)} |`);
}
