// The runner end to end: each case boots the real UML kernel through the real CLI.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertNothingLeft, BUILT_KERNEL, FIXTURES, netTest, netTestOnPty, ROOTS, umlProcesses } from '../helpers/cli.js';

const haveUml = existsSync('/usr/bin/linux.uml');
const skip = haveUml ? false : 'Debian user-mode-linux is not installed (apt-get install user-mode-linux)';

// Every runner behaviour on both guest roots: the host's (default) and an image (--rootfs).
for (const [rootName, rootArgs, rootSkip] of ROOTS) {
  describe(`net-test run on the ${rootName}`, { skip: skip || rootSkip, concurrency: 1 }, () => {
    const run = ['run', ...rootArgs];
    const image = rootArgs.length > 0;

    test('a passing shell test: exit 0, its output on stdout', async () => {
      const r = await netTest([...run, 'args.sh']);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /ARGS-BEGIN\nARGS-END/);
      assert.match(r.stdout, /PASS args\.sh/);
      assertNothingLeft(r);
    });

    test('arguments after -- reach the test exactly', async () => {
      const args = ['plain', 'two words', "it's", '$(reboot)', '*', ''];
      const r = await netTest([...run, 'args.sh', '--', ...args]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const got = /ARGS-BEGIN\n([\s\S]*?)ARGS-END/.exec(r.stdout)?.[1];
      assert.equal(got, args.map((a) => `[${a}]\n`).join(''));
      assertNothingLeft(r);
    });

    test('a failing shell test: exit 1 with its status', async () => {
      const r = await netTest([...run, 'fail.sh']);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /failing on purpose/);
      assert.match(r.stdout, /FAIL fail\.sh \(exit 3/);
      assertNothingLeft(r);
    });

    test('Python tests pass and fail', async () => {
      const ok = await netTest([...run, 'pass.py', '--', 'x']);
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /python test ran in \S+ with \['x'\]/);
      assertNothingLeft(ok);
      const bad = await netTest([...run, 'fail.py']);
      assert.equal(bad.status, 1, bad.stdout + bad.stderr);
      assertNothingLeft(bad);
    });

    test('TS tests: node:test results are counted, failures named', async () => {
      const ok = await netTest([...run, 'pass.test.ts', '--', 'one', 'two words']);
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /PASS pass\.test\.ts \(2 passed/);
      assertNothingLeft(ok);
      const bad = await netTest([...run, 'fail.test.ts']);
      assert.equal(bad.status, 1, bad.stdout + bad.stderr);
      assert.match(bad.stdout, /FAIL fail\.test\.ts \(exit 1; 1 passed, 1 failed/);
      assert.match(bad.stdout, /✗ fails on purpose/);
      assertNothingLeft(bad);
    });

    test('several tests in one VM: each gets its verdict, the worst decides the exit', async () => {
      const r = await netTest([...run, 'args.sh', 'fail.sh', 'pass.py']);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /PASS args\.sh/);
      assert.match(r.stdout, /FAIL fail\.sh/);
      assert.match(r.stdout, /PASS pass\.py/);
      assertNothingLeft(r);
    });

    test('the guest sees its NICs and /host, and cannot change a host file', async () => {
      const dir = mkdtempSync('/var/tmp/net-test-victim-');
      const victim = join(dir, 'victim.txt');
      writeFileSync(victim, 'original\n');
      const before = statSync(victim).mtimeMs;
      try {
        const r = await netTest([...run, 'environment.sh', '--', victim, ...(image ? ['image'] : [])]);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.equal(readFileSync(victim, 'utf8'), 'original\n');
        assert.equal(statSync(victim).mtimeMs, before);
        assert.equal(readFileSync('/etc/resolv.conf', 'utf8').includes('192.0.2.53'), false);
        assertNothingLeft(r);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('the taps exist on the host side, in the run\'s own namespace, during the run', async () => {
      let seen = '';
      const poll = (pid: number) => {
        const deadline = Date.now() + 120_000;
        const tick = () => {
          const [uml] = umlProcesses(pid);
          if (uml !== undefined) {
            const r = spawnSync('nsenter', [`--net=/proc/${uml}/ns/net`, 'ip', '-o', 'link', 'show', 'type', 'tun'], { encoding: 'utf8' });
            if (/rootTAP0/.test(r.stdout) && /rootTAP1/.test(r.stdout)) {
              seen = r.stdout;
              return;
            }
          }
          if (Date.now() < deadline) setTimeout(tick, 100);
        };
        tick();
      };
      const r = await netTest([...run, 'sleep.sh', '--', '4'], { onSpawn: poll });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(seen, /rootTAP0.*02:4e:54:ff:00:00/);
      assert.match(seen, /rootTAP1.*02:4e:54:ff:00:01/);
      assertNothingLeft(r);
    });

    test('--host-net: the taps are in the caller\'s namespace during the run and gone after', { skip: process.getuid?.() === 0 ? false : 'needs root' }, async () => {
      let seen = '';
      const poll = (pid: number) => {
        const deadline = Date.now() + 120_000;
        const tick = () => {
          if (umlProcesses(pid).length > 0) {
            seen = spawnSync('ip', ['-o', 'link', 'show', 'type', 'tun'], { encoding: 'utf8' }).stdout;
            if (/rootTAP1/.test(seen)) return;
          }
          if (Date.now() < deadline) setTimeout(tick, 100);
        };
        tick();
      };
      const r = await netTest([...run, '--host-net', 'sleep.sh', '--', '3'], { onSpawn: poll });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(seen, /rootTAP0/);
      assertNothingLeft(r);
    });

    test('a kernel crash: exit 3 with the report', async () => {
      const r = await netTest([...run, 'crash.sh']);
      assert.equal(r.status, 3, r.stdout + r.stderr);
      assert.match(r.stdout, /CRASH crash\.sh/);
      assert.match(r.stdout, /Kernel panic - not syncing: sysrq triggered crash/);
      assert.match(r.stdout, /Call Trace:/);
      assertNothingLeft(r);
    });

    test('a hanging test: exit 4 once its timeout passes, VM killed', async () => {
      const r = await netTest([...run, '--timeout', '3', 'hang.sh']);
      assert.equal(r.status, 4, r.stdout + r.stderr);
      assert.match(r.stdout, /TIMEOUT hang\.sh/);
      assertNothingLeft(r);
    });

    test('a hanging node test: the timeout names the case it was in', async () => {
      const r = await netTest([...run, '--timeout', '5', 'hang.test.ts']);
      assert.equal(r.status, 4, r.stdout + r.stderr);
      assert.match(r.stdout, /TIMEOUT hang\.test\.ts[^\n]*\n\s+ran longer than 5 s \(the last case it started: "third blocks forever"\); VM killed/);
      assertNothingLeft(r);
    });

    test('Ctrl-C (SIGINT) stops the VM and leaves nothing', async () => {
      const r = await netTest([...run, 'hang.sh'], {
        onSpawn: (pid) => {
          const wait = () => (umlProcesses(pid).length > 0 ? setTimeout(() => process.kill(pid, 'SIGINT'), 500) : setTimeout(wait, 100));
          wait();
        },
      });
      assert.equal(r.status, 130, r.stdout + r.stderr);
      assertNothingLeft(r);
    });

    test('net-test shell on a terminal: a root shell in /host<cwd>, exit powers off cleanly', async () => {
      const { status, out } = await netTestOnPty(['shell', ...rootArgs, '--taps', '1'], 'echo "in $(pwd) as $(id -u)"; exit\n', join(FIXTURES, 'runner'));
      assert.equal(status, 0, out);
      assert.match(out, new RegExp(`in /host${join(FIXTURES, 'runner')} as 0`));
      assert.doesNotMatch(out, /Kernel panic|Attempted to kill init|init\.sh: \d+: .*not found/);
    });

    test('--out keeps the run directory with console log, output and status', async () => {
      const out = mkdtempSync('/var/tmp/net-test-out-');
      try {
        const r = await netTest([...run, '--out', out, 'fail.sh']);
        assert.equal(r.status, 1);
        assert.match(readFileSync(join(out, 'console.log'), 'utf8'), /Run .*init\.sh as init process/);
        assert.match(readFileSync(join(out, 'output.log'), 'utf8'), /failing on purpose/);
        assert.equal(readFileSync(join(out, 'status-1'), 'utf8').trim(), '3');
        assertNothingLeft(r);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  });
}

describe('--typecheck', { skip }, () => {
  test('type errors are exit 2 with tsc\'s words before anything boots; well-typed tests run', async () => {
    // Outside the repository, no tsconfig: net-test's defaults and its own library by name.
    const dir = mkdtempSync('/var/tmp/net-test-typecheck-');
    after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'bad.test.ts'), "import { test } from 'node:test';\nimport { ipv4 } from 'net-test/packet';\ntest('x', () => { ipv4({ dontFragment: true }); });\n");
    const bad = await netTest(['run', '--typecheck', 'bad.test.ts'], { cwd: dir });
    assert.equal(bad.status, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /^net-test: --typecheck: the tests have type errors/);
    assert.match(bad.stderr, /bad\.test\.ts\(3,\d+\): error TS2353: .*'dontFragment' does not exist/);
    assert.doesNotMatch(bad.stderr + bad.stdout, /=== bad/, 'nothing ran');
    assertNothingLeft(bad);
    // In the repository: its tsconfig.json.
    const good = await netTest(['run', '--typecheck', 'pass.test.ts', '--', 'one', 'two words']);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assertNothingLeft(good);
  });
});

describe('a failed run without --out', { skip }, () => {
  test('keeps its run directory in the cache and says where; --no-keep-failed and passing runs keep nothing', async () => {
    const cache = mkdtempSync('/var/tmp/net-test-kept-');
    after(() => rmSync(cache, { recursive: true, force: true }));
    const env = { XDG_CACHE_HOME: cache, NET_TEST_KEEP_FAILED: '1' };
    const r = await netTest(['run', 'fail.sh'], { env });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assertNothingLeft(r);
    const kept = /run directory kept at (\S+) /.exec(r.stdout)?.[1];
    assert.ok(kept?.startsWith(join(cache, 'net-test', 'failed-runs') + '/'), r.stdout);
    assert.match(readFileSync(join(kept!, 'output.log'), 'utf8'), /failing on purpose/);
    assert.match(readFileSync(join(kept!, 'console.log'), 'utf8'), /Linux version/);
    const none = await netTest(['run', '--no-keep-failed', 'fail.sh'], { env });
    assert.equal(none.status, 1);
    assert.doesNotMatch(none.stdout, /kept at/);
    assertNothingLeft(none);
    const ok = await netTest(['run', 'args.sh'], { env });
    assert.equal(ok.status, 0);
    assert.doesNotMatch(ok.stdout, /kept at/);
    assert.deepEqual(readdirSync(join(cache, 'net-test', 'failed-runs')), [kept!.split('/').pop()]);
  });
});

describe('the UML command line', { skip }, () => {
  test('-v prints it, and the run directory\'s cmdline boots the kernel by hand as net-test did', async () => {
    const out = mkdtempSync('/var/tmp/net-test-cmdline-');
    after(() => rmSync(out, { recursive: true, force: true }));
    const r = await netTest(['run', '-v', '--out', out, 'args.sh', '--', 'by', 'hand']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assertNothingLeft(r);
    const printed = /^net-test: VM 1: (TMPDIR=\S+ .*)$/m.exec(r.stderr)?.[1];
    assert.ok(printed?.includes(' ssl1=fd:4 '), r.stderr);
    const script = readFileSync(join(out, 'cmdline'), 'utf8');
    // The same line, but for UML's own directory, which was the run's temp dir.
    assert.equal(script.split('\n').find((l) => l.startsWith('env '))?.replace('uml_dir="$d"', ''), `env ${printed!.replace(/uml_dir=\S+/, '')} "$@"`);
    // Booted by hand, as its comments say: a namespace with the taps, fds 3 and 4.
    for (const f of ['status-1', 'output-1.log']) rmSync(join(out, f), { force: true });
    const taps = [...script.matchAll(/^# {3}(ip tuntap add .*)$/gm)].map((m) => m[1]).join('; ');
    const hand = spawnSync('unshare', ['--pid', '--fork', '--net', 'sh', '-c', `${taps}; sh cmdline 3>hand-output.log 4<>hand-control.log </dev/null`], {
      cwd: out,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(hand.status, 0, hand.stdout + hand.stderr);
    assert.equal(readFileSync(join(out, 'status-1'), 'utf8'), '0\n');
    assert.match(readFileSync(join(out, 'hand-output.log'), 'utf8'), /ARGS-BEGIN\n\[by\]\n\[hand\]\nARGS-END/);
    assert.match(readFileSync(join(out, 'hand-control.log'), 'utf8'), /nt:end 1 0\r?\nnt:done/);
  });
});

const BUILT = BUILT_KERNEL;
describe('the kernel built from linux-source-6.1', { skip: existsSync(BUILT) ? false : `no built kernel at ${BUILT} (src/host/kernel/ci-kernel.sh builds it)` }, () => {
  test('boots, runs shell and TS tests, and its crashes are caught', async () => {
    const r = await netTest(['run', '-j', '1', '--kernel', BUILT, 'environment.sh', 'pass.test.ts', 'crash.sh', '--', '/etc/hostname']);
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /PASS environment\.sh/);
    // pass.test.ts checks its own arguments: here it gets environment.sh's, so it must fail.
    assert.match(r.stdout, /FAIL pass\.test\.ts \(exit 1; 1 passed, 1 failed/);
    assert.match(r.stdout, /CRASH crash\.sh/);
    assertNothingLeft(r);
  });
});

describe('the README quick start', { skip }, () => {
  test('examples/hello.test.ts passes', async () => {
    const r = await netTest(['run', 'examples/hello.test.ts'], { cwd: join(FIXTURES, '../..') });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /PASS examples\/hello\.test\.ts \(2 passed/);
    assertNothingLeft(r);
  });
});

describe('net-test doctor', { skip }, () => {
  test('finds every prerequisite on a machine that runs the tests', () => {
    const r = spawnSync(process.execPath, [join(FIXTURES, '../../bin/net-test.js'), 'doctor'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ UML kernel: \/usr\/bin\/linux\.uml \(\S+, distribution, modules in \/usr\/lib\/uml\/modules\//);
    assert.match(r.stdout, /✓ \/dev\/net\/tun/);
    assert.match(r.stdout, /ready to run/);
  });
});

describe('bad input: exit 2, one clear line, nothing booted', { concurrency: 1 }, () => {
  const cases: [string, string[], RegExp][] = [
    ['missing test', ['run', 'no-such-test.sh'], /test not found: no-such-test\.sh/],
    ['non-executable test', ['run', '../../../package.json'], /not executable: .*package\.json \(chmod \+x/],
    ['not a UML kernel', ['run', '--kernel', '/bin/true', 'args.sh'], /not a user-mode Linux kernel: \/bin\/true/],
    ['missing kernel', ['run', '--kernel', '/nonexistent/linux', 'args.sh'], /kernel not found/],
    ['bad --taps', ['run', '--taps', 'many', 'args.sh'], /--taps must be an integer/],
    ['bad --timeout', ['run', '--timeout', '-1', 'args.sh'], /--timeout must be a positive number/],
    ['no test', ['run'], /missing required argument/],
    ['unknown option', ['run', '--frobnicate', 'args.sh'], /unknown option '--frobnicate'/],
    ['TS that does not compile', ['run', '../broken/broken.test.ts'], /cannot bundle .*broken\.test\.ts/],
  ];
  for (const [name, args, re] of cases) {
    test(name, async () => {
      const r = await netTest(args);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, `expected one line, got:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'stack trace printed');
      assertNothingLeft(r);
    });
  }
});

describe('rootless: a non-root user with a world-accessible /dev/net/tun', { skip, concurrency: 1 }, () => {
  const user = 'nettestuser';
  let tunMode: number | undefined;
  let created = false;
  const isRoot = process.getuid?.() === 0;
  after(() => {
    if (tunMode !== undefined) chmodSync('/dev/net/tun', tunMode);
    if (created) spawnSync('userdel', [user]);
  });
  for (const [rootName, rootArgs, rootSkip] of ROOTS) {
    test(`runs a shell and a TS test through a user namespace, on the ${rootName}`, { skip: !isRoot ? 'needs root to create the user' : rootSkip }, async () => {
      if (!created && spawnSync('id', [user]).status !== 0) {
        assert.equal(spawnSync('useradd', ['--system', '--no-create-home', user]).status, 0);
        created = true;
      }
      tunMode ??= statSync('/dev/net/tun').mode & 0o777;
      chmodSync('/dev/net/tun', 0o666);
      const r = await netTest(['run', ...rootArgs, 'environment.sh', 'pass.test.ts', '--', '/etc/hostname', ...(rootArgs.length ? ['image'] : [])], { user });
      // pass.test.ts expects its own arguments: it fails here on purpose, environment.sh must pass.
      assert.match(r.stdout, /PASS environment\.sh/, r.stdout + r.stderr);
      assert.match(r.stdout, /FAIL pass\.test\.ts/);
      assert.equal(r.status, 1);
      assert.equal(spawnSync('pgrep', ['-u', user]).status, 1, 'processes of the user left running');
      assertNothingLeft(r, `${user.slice(0, 10)}TAP`);
    });
  }
});
