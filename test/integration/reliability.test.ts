// Faults, each injected for real: the runner killed or interrupted during boot and during a
// test, UML killed or frozen from outside, a guest panic, a full or read-only run directory,
// two runs on one --out, kernels that are not UML, a host without /dev/net/tun or room in
// /dev/shm. Each case checks the exit status and that nothing is left: no process, no network
// namespace (and so no tap), no temp directory. docs/RELIABILITY.md lists the same faults.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNothingLeft, BUILT_KERNEL, netnsMembers, netnsOf, netTest, umlProcesses, waitFor, type CliResult } from '../helpers/cli.js';

const haveUml = existsSync('/usr/bin/linux.uml');
const skip = haveUml ? false : 'Debian user-mode-linux is not installed (apt-get install user-mode-linux)';
const root = process.getuid?.() === 0;
const needRoot = root ? false : 'needs root (mounts a tmpfs)';

/** The run's UML processes and their network namespace, once UML is up. */
async function whenUp(pid: number): Promise<{ uml: number[]; ns: string }> {
  let uml: number[] = [];
  let ns: string | undefined;
  // The wrappers (setpriv, unshare) carry UML's command line too and start in our namespace:
  // wait until a matching process is in the run's own.
  const mine = netnsOf(process.pid);
  const up = await waitFor(() => {
    uml = umlProcesses(pid);
    ns = uml.map(netnsOf).find((n) => n !== undefined && n !== mine);
    return ns !== undefined;
  }, 60_000);
  assert.ok(up, 'UML never started in a network namespace of its own');
  return { uml, ns: ns! };
}

/** UML and its namespace are gone within two seconds of the runner's end. */
async function goneSoon(r: CliResult, ns: string): Promise<void> {
  assert.ok(await waitFor(() => umlProcesses(r.pid).length === 0, 2000), `UML processes left: ${umlProcesses(r.pid).join(' ')}`);
  assert.ok(await waitFor(() => netnsMembers(ns).length === 0, 2000), `namespace ${ns} still has processes: ${netnsMembers(ns).join(' ')}`);
}

/** Output written so far by the run's tests (--out keeps it readable during the run). */
const output = (out: string): string => (existsSync(join(out, 'output.log')) ? readFileSync(join(out, 'output.log'), 'utf8') : '');

/** SIGSTOP, for a process that may have exited meanwhile (UML reaps its helpers as it goes). */
function stop(pid: number): void {
  try {
    process.kill(pid, 'SIGSTOP');
  } catch {
    // gone
  }
}

const EXIT_ON: Record<string, number | 'killed'> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, SIGKILL: 'killed' };

describe('the runner ends: the VM, its namespace and taps go with it', { skip, concurrency: 1 }, () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGKILL'] as const) {
    for (const phase of ['boot', 'test'] as const) {
      test(`${signal} during the ${phase}`, async () => {
        const out = mkdtempSync('/var/tmp/net-test-rel-out-');
        let ns = '';
        let stoppedBoot = false;
        try {
          const r = await netTest(['run', '--out', out, 'hang.sh'], {
            onSpawn: (pid) => {
              void (async () => {
                const up = await whenUp(pid);
                ns = up.ns;
                if (phase === 'boot') {
                  // Freeze the boot so the signal lands in it, deterministically.
                  for (const p of up.uml) stop(p);
                  stoppedBoot = true;
                } else {
                  assert.ok(await waitFor(() => output(out).includes('hanging'), 60_000), 'the test never started');
                }
                process.kill(pid, signal);
              })();
            },
          });
          const want = EXIT_ON[signal];
          if (want === 'killed') assert.equal(r.status, null, r.stdout + r.stderr);
          else assert.equal(r.status, want, r.stdout + r.stderr);
          if (phase === 'boot') {
            assert.ok(stoppedBoot);
            assert.doesNotMatch(output(out), /hanging/, 'the test ran: the signal did not land during the boot');
          }
          await goneSoon(r, ns);
          if (signal === 'SIGKILL') {
            // Nothing could clean up: the temp directory stays until the next run, which removes it.
            assert.equal(readdirSync(r.tmp).length, 1, 'the killed run should have left its temp directory');
            const next = await netTest(['run', '--taps', '0', 'args.sh'], { tmp: r.tmp });
            assert.equal(next.status, 0, next.stdout + next.stderr);
            assertNothingLeft(next);
            // ... and the --out lock of the dead run is taken over.
            const again = await netTest(['run', '--out', out, 'args.sh']);
            assert.equal(again.status, 0, again.stdout + again.stderr);
            assertNothingLeft(again);
          } else {
            assertNothingLeft(r);
          }
          assert.equal(existsSync(join(out, '.net-test.lock')), false, '--out lock left behind');
        } finally {
          rmSync(out, { recursive: true, force: true });
        }
      });
    }
  }

  test('an uncaught error in the runner', async () => {
    let ns = '';
    // An error thrown from a timer, once UML is up: nothing catches it.
    // (NODE_OPTIONS splits at spaces: none in the URL.)
    const inject = 'data:text/javascript,setTimeout(()=>{throw%20new%20Error(%22injected%20fault%22)},1500)';
    const r = await netTest(['run', 'hang.sh'], {
      env: { NODE_OPTIONS: `--import=${inject}` },
      onSpawn: (pid) => void whenUp(pid).then((up) => (ns = up.ns)),
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /injected fault/);
    assert.ok(ns, 'UML was not up when the fault hit');
    await goneSoon(r, ns);
    // process.on('exit') removed the temp directory even so.
    assertNothingLeft(r);
  });
});

describe('the VM fails from outside', { skip, concurrency: 1 }, () => {
  /** Runs `args` with --out, and calls `act` with the run's UML processes once `marker` is in the test's output. */
  async function whenRunning(args: string[], marker: string, act: (uml: number[], pid: number) => void): Promise<{ r: CliResult; ns: string }> {
    const out = mkdtempSync('/var/tmp/net-test-rel-out-');
    let ns = '';
    try {
      const r = await netTest(['run', '--out', out, ...args], {
        onSpawn: (pid) =>
          void (async () => {
            const up = await whenUp(pid);
            ns = up.ns;
            assert.ok(await waitFor(() => output(out).includes(marker), 60_000), 'the test never started');
            act(umlProcesses(pid), pid);
          })(),
      });
      return { r, ns };
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }

  test('UML killed: the test is lost (exit 5), the files after it still run', async () => {
    // The main UML process: the lowest pid of the run's.
    const { r, ns } = await whenRunning(['-j', '1', 'hang.sh', 'args.sh'], 'hanging', (uml) => process.kill(Math.min(...uml), 'SIGKILL'));
    assert.equal(r.status, 5, r.stdout + r.stderr);
    assert.match(r.stdout, /ERROR hang\.sh/);
    assert.match(r.stdout, /PASS args\.sh/);
    await goneSoon(r, ns);
    assertNothingLeft(r);
  });

  test('the guest frozen (SIGSTOP): the test times out (exit 4)', async () => {
    const { r, ns } = await whenRunning(['--timeout', '3', 'hang.sh'], 'hanging', (uml) => uml.forEach(stop));
    assert.equal(r.status, 4, r.stdout + r.stderr);
    assert.match(r.stdout, /TIMEOUT hang\.sh/);
    await goneSoon(r, ns);
    assertNothingLeft(r);
  });

  test('a guest panic: exit 3 with the report', async () => {
    const r = await netTest(['run', 'crash.sh']);
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /Kernel panic - not syncing: sysrq triggered crash/);
    assertNothingLeft(r);
  });
});

describe('the run directory', { skip, concurrency: 1 }, () => {
  /** A tmpfs of `size` at a fresh directory, unmounted and removed by the returned function. */
  function tmpfs(size: string, ro = false): { dir: string; done: () => void } {
    const dir = mkdtempSync('/var/tmp/net-test-rel-fs-');
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${ro ? ',ro' : ''}`, 'tmpfs', dir]);
    assert.equal(m.status, 0, String(m.stderr));
    return {
      dir,
      done: () => {
        spawnSync('umount', [dir]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  test('--out on a file system with no room: exit 2 before anything boots', { skip: needRoot }, async () => {
    const fs = tmpfs('1m');
    try {
      const r = await netTest(['run', '--out', join(fs.dir, 'run'), 'args.sh']);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--out .*: only \d+ KiB free on its file system, a run needs at least 4 MiB/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assertNothingLeft(r);
    } finally {
      fs.done();
    }
  });

  test('--out fills up during the run: exit 5 naming the directory, nothing left', { skip: needRoot }, async () => {
    const fs = tmpfs('6m');
    const script = join(fs.dir, '..', `${fs.dir.split('/').pop()}-fill.sh`);
    writeFileSync(script, '#!/bin/sh\n# Fills the run directory, then keeps writing output.\ndd if=/dev/zero of="$NET_TEST_RUNDIR/fill" bs=64k 2>/dev/null\nfor i in $(seq 200); do echo "line $i of output after the disk is full"; done\n');
    chmodSync(script, 0o755);
    try {
      const r = await netTest(['run', '--out', join(fs.dir, 'run'), script]);
      assert.equal(r.status, 5, r.stdout + r.stderr);
      assert.match(r.stderr, /the run directory failed: ENOSPC writing .*: free space there or choose another --out/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'stack trace printed');
      assertNothingLeft(r);
    } finally {
      rmSync(script, { force: true });
      fs.done();
    }
  });

  test('--out under a read-only file system: exit 2; a missing parent is created', { skip: needRoot }, async () => {
    const fs = tmpfs('1m', true);
    const parent = mkdtempSync('/var/tmp/net-test-rel-parent-');
    try {
      const ro = await netTest(['run', '--out', join(fs.dir, 'run'), 'args.sh']);
      assert.equal(ro.status, 2, ro.stdout + ro.stderr);
      assert.match(ro.stderr, /--out .*run: cannot create it \(EROFS\): choose a writable place/);
      assertNothingLeft(ro);
      const deep = join(parent, 'a', 'b', 'run');
      const ok = await netTest(['run', '--out', deep, 'args.sh']);
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.ok(existsSync(join(deep, 'console.log')));
      assertNothingLeft(ok);
    } finally {
      fs.done();
      rmSync(parent, { recursive: true, force: true });
    }
  });

  test('two runs on one --out: the second is refused (exit 2), the first is unharmed', async () => {
    const out = mkdtempSync('/var/tmp/net-test-rel-out-');
    try {
      let second: CliResult | undefined;
      const first = await netTest(['run', '--out', out, 'sleep.sh', '--', '3'], {
        onSpawn: (pid) =>
          void (async () => {
            await whenUp(pid);
            second = await netTest(['run', '--out', out, 'args.sh']);
          })(),
      });
      assert.equal(first.status, 0, first.stdout + first.stderr);
      assert.ok(second);
      assert.equal(second.status, 2, second.stdout + second.stderr);
      assert.match(second.stderr, new RegExp(`--out .* is in use by another net-test run \\(pid ${first.pid}\\): give each run its own --out`));
      assertNothingLeft(first);
      assertNothingLeft(second);
      assert.equal(existsSync(join(out, '.net-test.lock')), false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('kernels that cannot run: exit 2, one line, nothing booted', { concurrency: 1 }, () => {
  const dir = mkdtempSync('/var/tmp/net-test-rel-kernel-');
  const cases: [string, () => string, RegExp][] = [
    ['an ELF program that is not UML', () => '/bin/true', /not a user-mode Linux kernel: \/bin\/true \(it answered --version with "true/],
    [
      'not an executable format (a bzImage, say)',
      () => {
        const p = join(dir, 'bzImage');
        writeFileSync(p, Buffer.concat([Buffer.alloc(0x202), Buffer.from('HdrS'), Buffer.alloc(4096, 0x90)]));
        chmodSync(p, 0o755);
        return p;
      },
      /not a user-mode Linux kernel: .*bzImage \((cannot execute it|it printed nothing for --version)/,
    ],
    [
      'a truncated UML kernel',
      () => {
        const src = existsSync(BUILT_KERNEL) ? BUILT_KERNEL : '/usr/bin/linux.uml';
        const p = join(dir, 'linux-truncated');
        copyFileSync(src, p);
        truncateSync(p, 1 << 20);
        chmodSync(p, 0o755);
        return p;
      },
      /not a user-mode Linux kernel: .*linux-truncated \((it was killed by SIG\w+|cannot execute it: \w+)/,
    ],
  ];
  for (const [name, make, re] of cases) {
    test(name, { skip: name.includes('truncated') && !existsSync(BUILT_KERNEL) && skip }, async () => {
      const r = await netTest(['run', '--kernel', make(), 'args.sh']);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assertNothingLeft(r);
    });
  }
  test('a kernel that cannot mount its root (as without hostfs)', { skip }, async () => {
    // The last rootfstype= wins: the kernel then looks for an ext4 root and finds none.
    const r = await netTest(['run', '--cmdline', 'rootfstype=ext4', 'args.sh']);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /could not mount its root file system \(the host's, through hostfs\): is CONFIG_HOSTFS=y\?/);
    assertNothingLeft(r);
  });
  test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
});

describe('a host missing what the VM needs: exit 2 naming the fix, nothing booted', { skip: skip || needRoot, concurrency: 1 }, () => {
  // The CLI runs in a mount namespace of its own where the fault is real; the host is untouched.
  const inMountNs = (setup: string) => ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', `${setup} && exec "$@"`, 'sh'];

  test('/dev/net/tun missing', async () => {
    const r = await netTest(['run', 'args.sh'], { wrap: inMountNs('mount -t tmpfs tmpfs /dev/net') });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /\/dev\/net\/tun: missing: the taps need the tun driver; fix: modprobe tun/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assertNothingLeft(r);
    // Without taps there is nothing to open: the same host runs.
    const none = await netTest(['run', '--taps', '0', 'args.sh'], { wrap: inMountNs('mount -t tmpfs tmpfs /dev/net') });
    assert.equal(none.status, 0, none.stdout + none.stderr);
    assertNothingLeft(none);
  });

  test('/dev/shm full', async () => {
    const fill = 'mount -t tmpfs -o size=8m tmpfs /dev/shm && (dd if=/dev/zero of=/dev/shm/fill bs=1M 2>/dev/null; true)';
    const r = await netTest(['run', 'args.sh'], { wrap: inMountNs(fill) });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /guest memory in \/dev\/shm: 0 MiB free, 1 VM\(s\) × 512 MiB may be used; fix: free space in \/dev\/shm/);
    assertNothingLeft(r);
  });
});
