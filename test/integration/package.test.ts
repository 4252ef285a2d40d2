// net-test as a package: the tarball `npm pack` makes, installed the way `npm i -g` lays it out
// (its dependencies linked from this checkout instead of fetched: no registry needed), gives a
// `net-test` command that runs a test from a directory outside the repository. The test imports
// the library by package name, type-checks with the tsconfig docs/LIBRARY.md documents, and runs
// on a real kernel; a type error in a second file is caught by that same tsc.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNothingLeft, KERNELS, netTest, ROOT } from '../helpers/cli.js';

const kernel = KERNELS.find(([, , skip]) => !skip);

/** The tsconfig block docs/LIBRARY.md gives for tests outside the repository. */
function documentedTsconfig(): string {
  const md = readFileSync(join(ROOT, 'docs/LIBRARY.md'), 'utf8');
  const m = /<!-- tsconfig for tests outside the repository[^\n]*-->\n```json\n([\s\S]*?)```/.exec(md);
  assert.ok(m?.[1], 'docs/LIBRARY.md lost its tsconfig block');
  return m[1];
}

const TEST = `import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errnoIs, expectPacket, inject, K, udpSocket, useNetworks, REMOTE4 } from 'net-test/lib';
import { ipv4, ls, raw, udp } from 'net-test/packet';
import { withRoute } from 'net-test/netlink';

const nets = useNetworks({ count: 1 });

describe('a test outside the repository', () => {
  it('uses sockets, errno names and netlink by package name', () => {
    const s = udpSocket(4);
    assert.throws(() => s.bind('192.0.2.200:7'), errnoIs('EADDRNOTAVAIL'));
    s.close();
    assert.equal(withRoute((rt) => rt.link('lo').up), true);
    assert.match(ls('udp'), /^sport/m);
    assert.equal(K.IPPROTO_UDP, 17);
  });

  nets.it('expects a marked datagram on its fixture network, and injects one back', () => {
    const n = nets.net(1);
    const s = udpSocket(4);
    s.setMark(n.mark);
    s.bind({ address: n.addr4, port: 4000 });
    s.sendTo(Buffer.from('out'), { address: REMOTE4, port: 9 });
    expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4, df: true }), udp({ sport: 4000, dport: 9 }), raw('out')], { ignore: ['ipv4.id'] });
    inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), udp({ sport: 9, dport: 4000 }), raw('back')]);
    assert.equal(s.recv({ timeoutMs: 1000 }).toString(), 'back');
    s.close();
  });
});
`;

describe('the package outside the repository', { skip: kernel ? false : 'no kernel' }, () => {
  test('npm pack, installed as npm i -g would; a test in a temp directory type-checks and runs', async () => {
    const dir = mkdtempSync('/var/tmp/net-test-package-');
    try {
      const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(pack.status, 0, pack.stderr);
      const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
      // <prefix>/lib/node_modules/net-test and <prefix>/bin/net-test, as npm i -g --prefix lays them out.
      const pkg = join(dir, 'prefix/lib/node_modules/net-test');
      mkdirSync(pkg, { recursive: true });
      assert.equal(spawnSync('tar', ['-xzf', tarball, '--strip-components=1', '-C', pkg]).status, 0);
      assert.ok(!readdirSync(pkg).includes('test'), 'the tarball carries the runner and library, not the project tests');
      symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
      mkdirSync(join(dir, 'prefix/bin'));
      symlinkSync('../lib/node_modules/net-test/bin/net-test.js', join(dir, 'prefix/bin/net-test'));

      // A project of the user's: the documented tsconfig, net-test linked (npm link net-test), @types/node.
      const proj = join(dir, 'proj');
      mkdirSync(join(proj, 'node_modules/@types'), { recursive: true });
      symlinkSync(pkg, join(proj, 'node_modules/net-test'));
      symlinkSync(join(ROOT, 'node_modules/@types/node'), join(proj, 'node_modules/@types/node'));
      writeFileSync(join(proj, 'tsconfig.json'), documentedTsconfig());
      writeFileSync(join(proj, 'outside.test.ts'), TEST);
      const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
      const ok = spawnSync(process.execPath, [tsc, '-p', proj], { encoding: 'utf8', cwd: proj });
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      // The types are real: a misspelt field is an error (bundling alone would not say so).
      writeFileSync(join(proj, 'typo.ts'), "import { ipv4 } from 'net-test/packet';\nipv4({ dontFragment: true });\n");
      const bad = spawnSync(process.execPath, [tsc, '-p', proj], { encoding: 'utf8', cwd: proj });
      assert.notEqual(bad.status, 0);
      assert.match(bad.stdout, /typo\.ts\(2,\d+\): error TS2353: .*'dontFragment'/);
      rmSync(join(proj, 'typo.ts'));

      const r = await netTest(['run', '--kernel', kernel![1], 'outside.test.ts'], { cwd: proj, cli: join(dir, 'prefix/bin/net-test') });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /PASS outside\.test\.ts \(2 passed/);
      assertNothingLeft(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
