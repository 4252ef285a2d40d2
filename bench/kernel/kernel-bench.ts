// Kernel benchmarks: no-op rebuild time, optional cold build time, and boot-to-`halt -f` time
// of the kernel net-test builds beside Debian's UML kernel, measured interleaved in one run.
//
//   node dist/bench/kernel/kernel-bench.js [--runs N] [--cold] [--kernel-dir DIR] [--build-dir DIR]
//
// Prints a Markdown table and a JSON line with every sample.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildKernel } from '../../src/host/kernel/build.js';
import { stampPath } from '../../src/host/kernel/build-stamp.js';
import { shimEnv } from '../../src/host/vm/xstate-shim.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    cold: { type: 'boolean', default: false },
    'kernel-dir': { type: 'string', default: '/var/cache/net-test/linux-source-6.1' },
    'build-dir': { type: 'string', default: '/var/cache/net-test/build-6.1' },
    distro: { type: 'string', default: '/usr/bin/linux.uml' },
    jobs: { type: 'string', default: '2' },
  },
});
const runs = Number(values.runs);
const jobs = Number(values.jobs);
const kernelDir = values['kernel-dir'];
const buildDir = values['build-dir'];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};

/** Boots `kernel` with a hostfs root whose init runs `halt -f`; seconds from spawn to exit. */
function bootToHalt(kernel: string, init: string): Promise<number> {
  const args = ['mem=256M', 'rootfstype=hostfs', 'rootflags=/', 'ro', `init=${init}`, 'con=null', 'con0=fd:0,fd:1'];
  const started = process.hrtime.bigint();
  // UML polls its console's stdin, so give it a pipe (not /dev/null).
  const child = spawn(kernel, args, { stdio: ['pipe', 'pipe', 'pipe'], env: shimEnv() });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((done, fail) => {
    child.on('close', () => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (out.includes('System halted')) done(seconds);
      else fail(new Error(`${kernel} did not halt cleanly:\n${out.slice(-1500)}`));
    });
  });
}

const report: Record<string, number[]> = {};
const add = (key: string, v: number): void => {
  (report[key] ??= []).push(v);
};

if (values.cold) {
  const cold = mkdtempSync('/var/cache/net-test/bench-cold-');
  try {
    const r = await buildKernel({ kernelDir, buildDir: cold, jobs, progress: true });
    add(`cold build (-j${jobs})`, r.seconds);
  } finally {
    rmSync(cold, { recursive: true, force: true });
  }
}

// Makes sure the cached build is current before timing no-ops (not counted).
const built = await buildKernel({ kernelDir, buildDir, jobs, progress: false });
for (let i = 0; i < runs; i++) {
  const r = await buildKernel({ kernelDir, buildDir, jobs, progress: false });
  if (r.rebuilt) throw new Error('a no-op rebuild relinked the kernel');
  add('no-op rebuild (stamp fast path)', r.seconds);
}
// Once without the stamp: Kconfig twice plus make walking the tree (what kbuild alone costs).
rmSync(stampPath(buildDir), { force: true });
const slow = await buildKernel({ kernelDir, buildDir, jobs, progress: false });
if (slow.rebuilt) throw new Error('a no-op rebuild relinked the kernel');
add('no-op rebuild (no stamp: kconfig + make walk)', slow.seconds);

const dir = mkdtempSync('/var/cache/net-test/bench-init-'); // outside /tmp: visible to the guest as-is
try {
  const init = join(dir, 'init');
  writeFileSync(init, '#!/bin/sh\nexec /sbin/halt -f\n');
  chmodSync(init, 0o755);
  const kernels: [string, string][] = [[`net-test ${built.version} (${built.kernel})`, built.kernel]];
  if (existsSync(values.distro)) kernels.push([`Debian ${values.distro}`, values.distro]);
  for (let i = 0; i < runs; i++) {
    // Alternate the order so drift on a noisy machine hits both kernels alike.
    const order = i % 2 ? [...kernels].reverse() : kernels;
    for (const [name, kernel] of order) add(`boot to halt -f: ${name}`, await bootToHalt(kernel, init));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log('| measurement | median (s) | samples (s) |');
console.log('|---|---|---|');
for (const [key, xs] of Object.entries(report)) {
  console.log(`| ${key} | ${median(xs).toFixed(2)} | ${xs.map((x) => x.toFixed(2)).join(', ')} |`);
}
console.log(JSON.stringify({ date: new Date().toISOString(), runs, jobs, report }));
