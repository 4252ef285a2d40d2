// `net-test watch` end to end on the built kernel: edits make a file fail and pass again in the
// running VM; state a test leaves behind (a sysctl, the hostname, an open socket, files) is gone
// in the next run; a kernel crash is reported and a fresh VM takes over; a rebuilt kernel is
// booted; q stops it and nothing is left behind.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNothingLeft, BUILT_KERNEL, CLI, FIXTURES, netTest, ROOT } from '../helpers/cli.js';

const skip = existsSync(BUILT_KERNEL) ? false : `no built kernel at ${BUILT_KERNEL}`;

/** A running `net-test watch`: its output so far, and a way to wait for what comes next. */
function startWatch(args: string[], cwd: string, tmp: string) {
  const child = spawn(process.execPath, [CLI, 'watch', ...args], { cwd, env: { ...process.env, TMPDIR: tmp, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return {
    child,
    closed,
    get out() {
      return out;
    },
    mark: () => out.length,
    /** Resolves with the match of `re` in the output after `from`; fails after `ms`. */
    until(re: RegExp, from: number, ms = 60_000): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${re} within ${ms} ms; output:\n${out}`));
        }, ms);
        const check = () => {
          const m = out.slice(from).match(re);
          if (m) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(m);
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

describe('net-test watch', { skip, concurrency: 1 }, () => {
  test('a test that does not compile: exit 2 before anything boots, nothing left behind', async () => {
    const dir = mkdtempSync('/var/tmp/net-test-watch-');
    try {
      writeFileSync(join(dir, 'bad.test.ts'), "import { test } from 'node:test';\ntest('x', () => { const a: number = ; });\n");
      const r = await netTest(['watch', '--kernel', BUILT_KERNEL, 'bad.test.ts'], { cwd: dir });
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /cannot bundle bad\.test\.ts: bad\.test\.ts:2:\d+: /);
      assertNothingLeft(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('re-runs on edits in the running VM, resets state, survives a crash and a new kernel, stops cleanly', async () => {
    const dir = mkdtempSync('/var/tmp/net-test-watch-');
    const tmp = mkdtempSync('/var/tmp/net-test-itest-');
    try {
      const src = join(FIXTURES, 'watch');
      for (const f of readdirSync(src)) copyFileSync(join(src, f), join(dir, f));
      // The copy imports the library by its absolute path.
      const state = join(dir, 'state.test.ts');
      writeFileSync(state, readFileSync(state, 'utf8').replace('../../../src/lib/', `${ROOT}/src/lib/`));
      // A kernel of its own, so the test can "rebuild" it.
      const kernel = join(dir, 'linux');
      copyFileSync(BUILT_KERNEL, kernel);

      const w = startWatch(['--kernel', kernel, '--timeout', '30', 'flip.test.ts', 'state.test.ts', 'boot.sh'], dir, tmp);
      await w.until(/watching/, 0);
      assert.match(w.out, /PASS flip\.test\.ts/);
      assert.match(w.out, /PASS state\.test\.ts/);
      assert.match(w.out, /PASS boot\.sh/);
      const firstBoot = /boot_id=(\S+)/.exec(w.out)?.[1];
      assert.ok(firstBoot, w.out);

      // An edit that breaks the test: FAIL; the edit undone: PASS. Only that file runs.
      const flip = join(dir, 'flip.test.ts');
      const good = readFileSync(flip, 'utf8');
      let at = w.mark();
      writeFileSync(flip, good.replace('1 + 1, 2', '1 + 1, 3'));
      await w.until(/FAIL flip\.test\.ts/, at);
      await w.until(/watching/, at);
      assert.doesNotMatch(w.out.slice(at), /state\.test\.ts|boot\.sh/);
      at = w.mark();
      writeFileSync(flip, good);
      await w.until(/PASS flip\.test\.ts/, at);
      await w.until(/watching/, at);

      // An edit that does not compile: FAIL with esbuild's message, and watch goes on.
      at = w.mark();
      writeFileSync(flip, good.replace('1 + 1, 2', '1 + , 2'));
      await w.until(/FAIL flip\.test\.ts[\s\S]*cannot bundle flip\.test\.ts: .*flip\.test\.ts:\d+:\d+/, at);
      at = w.mark();
      writeFileSync(flip, good);
      await w.until(/PASS flip\.test\.ts/, at);
      await w.until(/watching/, at);

      // Enter runs everything again: state.test.ts finds nothing of its first run.
      at = w.mark();
      w.child.stdin.write('\n');
      await w.until(/PASS state\.test\.ts/, at);
      await w.until(/watching/, at);
      assert.match(w.out.slice(at), /forwarding was 0; hostname was net-test/);
      // The global sysctl is put back by hand, and watch says so.
      assert.match(w.out, /reset sysctl vm\.swappiness/);
      assert.doesNotMatch(w.out, /FAIL state\.test\.ts/);

      // A crash: reported as `run` reports it, then a fresh VM (a new boot id).
      const boot = join(dir, 'boot.sh');
      const bootGood = readFileSync(boot, 'utf8');
      at = w.mark();
      writeFileSync(boot, bootGood + 'echo c >/proc/sysrq-trigger\n');
      await w.until(/CRASH boot\.sh/, at);
      await w.until(/Kernel panic - not syncing: sysrq triggered crash/, at);
      await w.until(/a fresh VM is up/, at);
      at = w.mark();
      writeFileSync(boot, bootGood);
      await w.until(/PASS boot\.sh/, at);
      const secondBoot = /boot_id=(\S+)/.exec(w.out.slice(at))?.[1];
      assert.ok(secondBoot && secondBoot !== firstBoot, `boot ids ${firstBoot} then ${secondBoot}`);
      await w.until(/watching/, at);

      // A rebuilt kernel (a new file renamed into place): booted, everything runs on it.
      at = w.mark();
      copyFileSync(BUILT_KERNEL, `${kernel}.new`);
      renameSync(`${kernel}.new`, kernel);
      await w.until(/kernel changed/, at);
      await w.until(/PASS boot\.sh/, at);
      await w.until(/PASS state\.test\.ts/, at);
      await w.until(/PASS flip\.test\.ts/, at);
      assert.notEqual(/boot_id=(\S+)/.exec(w.out.slice(at))?.[1], secondBoot);

      // q: stops, exit status of the latest verdicts (all passed), nothing left behind.
      w.child.stdin.write('q');
      assert.equal(await w.closed, 0, w.out);
      // Nothing but what the test changed was ever put back: no global sysctl moves by itself.
      assert.deepEqual(new Set([...w.out.matchAll(/reset sysctl (\S+)/g)].map((m) => m[1])), new Set(['vm.swappiness']));
      assertNothingLeft({ status: 0, stdout: w.out, stderr: '', pid: w.child.pid!, tmp });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
