// What the runner benchmarks share: where the CLI is, their flags, medians, a bare boot.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { shimEnv } from '../../src/host/vm/xstate-shim.js';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = join(ROOT, 'bin/net-test.js');

const args = process.argv.slice(2);
/** `--name value` from the command line, or the default. */
export const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Wall time of a bare boot of `kernel` to `halt -f` (hostfs root, init a two-line script),
 * with `extra` on its command line. UML's console is stdin: it must stay open (EOF hangs up
 * init's session).
 */
export async function bareBoot(kernel: string, extra: string[] = []): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'net-test-bench-'));
  // Outside /tmp: the guest's /tmp is not the host's.
  const init = join('/var/tmp', `net-test-bench-halt-${process.pid}.sh`);
  writeFileSync(init, '#!/bin/sh\nexec halt -f\n');
  chmodSync(init, 0o755);
  try {
    const t0 = performance.now();
    const child = spawn(kernel, ['mem=512M', 'rootfstype=hostfs', 'rootflags=/', 'ro', `init=${init}`, 'con=null', 'con0=fd:0,fd:1', `uml_dir=${work}`, ...extra], {
      stdio: ['pipe', 'pipe', 'ignore'],
      // The FPU-state shim on CPUs that need it (src/host/vm/xstate-shim.ts); a run sets it itself.
      env: shimEnv(),
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await new Promise((r) => child.on('close', r));
    if (!out.includes('System halted')) throw new Error(`bare boot did not halt cleanly:\n${out.slice(-1000)}`);
    return performance.now() - t0;
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(init, { force: true });
  }
}
