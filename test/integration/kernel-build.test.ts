// Builds Debian's linux-source-6.1 as UML through net-test and checks the build contract:
// fragment options land in .config, bad requests fail fast with exit 2, a no-op rebuild is a
// no-op, a compile error is reported with gcc's message, and the kernel boots.
// Reuses /var/cache/net-test/{linux-source-6.1,build-6.1} (the cold build takes ~12 min on 2 cores).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { buildKernel, type BuildKernelResult } from '../../src/host/kernel/build.js';
import { fragmentsDir, parseFragment, verifyConfig } from '../../src/host/kernel/kconfig.js';

const CACHE = process.env.NET_TEST_CACHE ?? '/var/cache/net-test';
const TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const TREE = join(CACHE, 'linux-source-6.1');
const BUILD = join(CACHE, 'build-6.1');
/** A config-only build dir (no objects): cheap, reused, never compiled in. */
const SCRATCH = join(CACHE, 'scratch-kconfig');
const JOBS = Math.min(2, Number(process.env.NET_TEST_JOBS ?? 2));
const CLI_MODULE = fileURLToPath(new URL('../../src/cli/build.js', import.meta.url));
const CI_SCRIPT = fileURLToPath(new URL('../../../src/host/kernel/ci-kernel.sh', import.meta.url));

const skip = existsSync(TARBALL) ? false : `${TARBALL} is absent (apt-get install linux-source-6.1)`;

/** `net-test build ARGS` through the command module (independent of main.ts wiring). */
function cliArgs(args: string[]): string[] {
  const code = `const { buildCommand } = await import(${JSON.stringify(CLI_MODULE)});
await buildCommand().parseAsync(process.argv.slice(1), { from: 'user' });`;
  return [process.execPath, '--input-type=module', '-e', code, '--', ...args];
}

function cli(args: string[], wrap: (argv: string[]) => string[] = (a) => a) {
  const [cmd = '', ...rest] = wrap(cliArgs(args));
  const r = spawnSync(cmd, rest, { encoding: 'utf8', timeout: 30 * 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kernel build (linux-source-6.1 as UML)', { skip }, () => {
  let first: BuildKernelResult;

  before(async () => {
    if (!existsSync(join(TREE, 'Makefile'))) {
      // Unpack only (ci-kernel.sh would also build): same atomic rename as the script.
      mkdirSync(CACHE, { recursive: true });
      const tmp = mkdtempSync(join(CACHE, '.unpack.'));
      const r = spawnSync('tar', ['-C', tmp, '-xf', TARBALL], { stdio: 'inherit' });
      assert.equal(r.status, 0, 'unpacking linux-source-6.1');
      rmSync(TREE, { recursive: true, force: true });
      spawnSync('mv', [join(tmp, 'linux-source-6.1'), TREE]);
      rmSync(tmp, { recursive: true, force: true });
    }
    first = await buildKernel({ kernelDir: TREE, buildDir: BUILD, jobs: JOBS, progress: false });
  });

  it('puts every option of our fragment into .config', () => {
    const config = readFileSync(first.config, 'utf8');
    const items = parseFragment(readFileSync(join(fragmentsDir(), 'net-test.config'), 'utf8'), 'net-test.config');
    const unmet = verifyConfig(items, config).filter((u) => !u.item.optional);
    assert.deepEqual(unmet, []);
    for (const line of ['CONFIG_INET_DIAG_DESTROY=y', 'CONFIG_UML_NET_TUNTAP=y', 'CONFIG_XFRM_INTERFACE=y', 'CONFIG_TUN=y']) {
      assert.match(config, new RegExp(`^${line}$`, 'm'));
    }
    assert.match(config, /^# CONFIG_MODULES is not set$/m);
  });

  it('a second build with no change is a no-op', async (t) => {
    const configMtime = statSync(first.config).mtimeMs;
    const kernelMtime = statSync(first.kernel).mtimeMs;
    const again = await buildKernel({ kernelDir: TREE, buildDir: BUILD, jobs: JOBS, progress: false });
    t.diagnostic(`no-op rebuild took ${again.seconds.toFixed(1)} s`);
    assert.equal(again.rebuilt, false);
    assert.equal(again.configChanged, false);
    assert.equal(statSync(first.config).mtimeMs, configMtime, '.config untouched');
    assert.equal(statSync(first.kernel).mtimeMs, kernelMtime, 'kernel not relinked');
    assert.ok(again.seconds < 60, `no-op rebuild took ${again.seconds} s`);
  });

  it('fails with exit 2 naming a nonexistent symbol, before compiling', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'net-test-frag-'));
    try {
      const fragment = join(dir, 'bad.config');
      writeFileSync(fragment, 'CONFIG_VETH=y\nCONFIG_NET_TEST_NO_SUCH_SYMBOL=y\n');
      const started = Date.now();
      const r = cli(['--kernel-dir', TREE, '--build-dir', SCRATCH, '--config', fragment]);
      t.diagnostic(`failed after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^net-test: 1 requested kernel option\(s\) did not take effect.*CONFIG_NET_TEST_NO_SUCH_SYMBOL/m);
      assert.match(r.stderr, /CONFIG_NET_TEST_NO_SUCH_SYMBOL=y \(.*bad\.config:2\): unknown symbol/);
      assert.equal(existsSync(join(SCRATCH, 'vmlinux')), false, 'nothing was compiled');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--configitem sets and unsets options; bad syntax and unmet dependencies exit 2', () => {
    const ok = cli([
      '--kernel-dir', TREE, '--build-dir', SCRATCH, '--config-only',
      '--configitem', 'CONFIG_VLAN_8021Q=y', '--configitem', 'CONFIG_SYN_COOKIES=n',
    ]);
    assert.equal(ok.status, 0, ok.stderr);
    const config = readFileSync(join(SCRATCH, '.config'), 'utf8');
    assert.match(config, /^CONFIG_VLAN_8021Q=y$/m);
    assert.match(config, /^# CONFIG_SYN_COOKIES is not set$/m);

    const bad = cli(['--kernel-dir', TREE, '--build-dir', SCRATCH, '--config-only', '--configitem', 'VLAN_8021Q=y']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /bad --configitem 'VLAN_8021Q=y'/);

    // UML 6.1 cannot preempt, so DEBUG_ATOMIC_SLEEP is a real symbol whose dependency is unmet.
    const unmet = ['--kernel-dir', TREE, '--build-dir', SCRATCH, '--config-only', '--configitem', 'CONFIG_DEBUG_ATOMIC_SLEEP=y'];
    const failed = cli(unmet);
    assert.equal(failed.status, 2);
    assert.match(failed.stderr, /CONFIG_DEBUG_ATOMIC_SLEEP=y \(--configitem\): ended up .*depends on .*ARCH_NO_PREEMPT/);
    const allowed = cli([...unmet, '--allow-missing']);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stderr, /warning: CONFIG_DEBUG_ATOMIC_SLEEP=y/);
  });

  it('reports a compile error with the compiler message, leaving the cached tree and build untouched', (t) => {
    // Cheap and honest: in a private mount namespace, overlay a tmpfs over the real tree and the
    // real build dir at their own paths, append an #error to one source file in the overlay, and
    // build. Kbuild sees one changed file, gcc fails within seconds, and every write lands in
    // the tmpfs, which vanishes with the namespace.
    const kernelMtime = statSync(first.kernel).mtimeMs;
    const victim = 'net/ipv6/addrconf.c';
    const script = [
      'set -e',
      's=$(mktemp -d)',
      'mount -t tmpfs tmpfs "$s"',
      'mkdir -p "$s/tu/$(dirname "$VICTIM")" "$s/tw" "$s/bu" "$s/bw"',
      'cp -p "$TREE/$VICTIM" "$s/tu/$VICTIM"',
      'printf "\\n#error net-test deliberate compile failure\\n" >> "$s/tu/$VICTIM"',
      'mount -t overlay overlay -o "lowerdir=$TREE,upperdir=$s/tu,workdir=$s/tw" "$TREE"',
      'mount -t overlay overlay -o "lowerdir=$BUILD,upperdir=$s/bu,workdir=$s/bw" "$BUILD"',
      'set +e',
      '"$@"',
      'rc=$?',
      'umount "$BUILD" "$TREE" "$s"',
      'rmdir "$s"',
      'exit $rc',
    ].join('\n');
    const started = Date.now();
    const r = cli(['--kernel-dir', TREE, '--build-dir', BUILD, '-j', String(JOBS)], (argv) => [
      'env', `TREE=${TREE}`, `BUILD=${BUILD}`, `VICTIM=${victim}`,
      'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...argv,
    ]);
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`compile failure reported after ${seconds.toFixed(1)} s`);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^net-test: kernel build failed after .*\(full log: .*net-test-build\.log\)$/m);
    assert.match(r.stderr, /net\/ipv6\/addrconf\.c:\d+:\d+: error: #error net-test deliberate compile failure/);
    assert.ok(r.stderr.split('\n').length < 30, `short report, got:\n${r.stderr}`);
    assert.ok(seconds < 300, `compile failure took ${seconds} s`);
    assert.equal(statSync(first.kernel).mtimeMs, kernelMtime, 'cached kernel untouched');
    assert.doesNotMatch(readFileSync(join(TREE, victim), 'utf8'), /deliberate compile failure/);
  });

  it('boots: init exits and the kernel panics with "Attempted to kill init"', async () => {
    const args = ['mem=256M', 'rootfstype=hostfs', 'rootflags=/', 'ro', 'init=/bin/true', 'con=null', 'con0=fd:0,fd:1'];
    const child = spawn(first.kernel, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let out = '';
    const seen = await new Promise<boolean>((done) => {
      const timer = setTimeout(() => done(false), 60_000);
      const check = (chunk: Buffer): void => {
        out += chunk.toString();
        if (out.includes('Attempted to kill init')) {
          clearTimeout(timer);
          done(true);
        }
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      child.on('exit', () => {
        clearTimeout(timer);
        done(out.includes('Attempted to kill init'));
      });
    });
    try {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    child.stdin.destroy();
    assert.ok(seen, `no "Attempted to kill init" in console output:\n${out.slice(-2000)}`);
    assert.match(out, /Kernel panic - not syncing: Attempted to kill init/);
  });

  it('ci-kernel.sh reuses the cache and prints the kernel path last', () => {
    const r = spawnSync('bash', [CI_SCRIPT], { encoding: 'utf8', env: { ...process.env, NET_TEST_JOBS: String(JOBS) } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').at(-1), first.kernel);
  });

});
