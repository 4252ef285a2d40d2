// Dump 10,000 routes from one table: the netlink library beside `ip route show table N`, in the
// same run and namespace. Run in a fresh netns or the UML guest (it adds routes):
//   unshare -n sh -c 'ip link set lo up && node dist/bench/netlink/routes.bench.js'
//   node bin/net-test.js run bench/netlink/routes.bench.ts
// Prints one JSON line per measurement and a summary table (medians of ROUNDS runs).
import { execFileSync } from 'node:child_process';
import { openRoute } from '../../src/lib/netlink/route.js';
import { RTM } from '../../src/lib/include/uapi/linux/rtnetlink.js';
import { encodeRouteDump } from '../../src/lib/netlink/rt-route.js';

const N = Number(process.env.ROUTES ?? 10000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const TABLE = 100;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
function time(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const t00 = Date.now();
const progress = (what: string): void => console.error(`[${((Date.now() - t00) / 1000).toFixed(1)} s] ${what}`);
const rt = openRoute();
// 2001:db8:X::/48 unreachable routes: documentation space, no device needed.
const prefixes = Array.from({ length: N }, (_, i) => `2001:db8:${i.toString(16)}::/48`);
const insertMs = time(() => {
  for (const p of prefixes) rt.addRoute({ dst: p, type: 'unreachable', table: TABLE });
});

progress(`inserted ${N} routes`);
const results: Record<string, number[]> = {
  'library: dump + decode (rt.routes)': [],
  'library: dump only (raw messages)': [],
  'ip -6 route show table 100': [],
  'ip -j -6 route show table 100': [],
  'ip -V (process start baseline)': [],
};
let count = 0;
let ipLines = 0;
for (let r = 0; r < ROUNDS; r++) {
  results['library: dump + decode (rt.routes)']!.push(time(() => (count = rt.routes({ family: 'inet6', table: TABLE }).length)));
  results['library: dump only (raw messages)']!.push(time(() => rt.nl.dump(RTM.GETROUTE, encodeRouteDump({ family: 'inet6', table: TABLE }))));
  results['ip -6 route show table 100']!.push(
    time(() => (ipLines = execFileSync('ip', ['-6', 'route', 'show', 'table', String(TABLE)], { maxBuffer: 64 << 20 }).toString().split('\n').length - 1)),
  );
  results['ip -j -6 route show table 100']!.push(time(() => execFileSync('ip', ['-j', '-6', 'route', 'show', 'table', String(TABLE)], { maxBuffer: 64 << 20 })));
  results['ip -V (process start baseline)']!.push(time(() => execFileSync('ip', ['-V'])));
  progress(`round ${r + 1}/${ROUNDS}`);
}
if (count !== N || ipLines !== N) throw new Error(`expected ${N} routes, library saw ${count}, ip printed ${ipLines}`);

console.log(JSON.stringify({ routes: N, rounds: ROUNDS, insertMs: Math.round(insertMs), node: process.version }));
for (const [k, v] of Object.entries(results)) console.log(JSON.stringify({ what: k, medianMs: +median(v).toFixed(2), runsMs: v.map((x) => +x.toFixed(1)) }));
console.log(`\n${N} routes, median of ${ROUNDS}:`);
for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(40)} ${median(v).toFixed(1).padStart(8)} ms`);

const flushMs = time(() => execFileSync('ip', ['-6', 'route', 'flush', 'table', String(TABLE)]));
console.log(`  (insert via library: ${insertMs.toFixed(0)} ms; flush via ip: ${flushMs.toFixed(0)} ms)`);
rt.close();
