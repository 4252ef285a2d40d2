// The README's quick start on a minimal machine (test/cleanroom/quickstart.sh): a Debian
// minbase root with only Node.js and this checkout, the README's first command line run as
// written (as root, so without sudo). And the same root without kmod, where run and doctor
// must both name the missing package instead of booting into a hang.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

const SCRIPT = join(ROOT, 'test/cleanroom/quickstart.sh');
const skip =
  process.getuid?.() !== 0
    ? 'needs root (chroot and mounts)'
    : !existsSync('/usr/sbin/debootstrap')
      ? 'debootstrap is not installed (scripts/deps.sh installs it)'
      : false;

function quickstart(scenario: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(SCRIPT, [scenario], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', (status) => resolve({ status, out }));
  });
}

describe('the quick start in a minimal Debian root', { skip, concurrency: 1 }, () => {
  test("the README's first command line, as written, passes", async () => {
    const r = await quickstart('readme');
    assert.equal(r.status, 0, r.out.slice(-4000));
    assert.match(r.out, /PASS examples\/hello\.test\.ts \(2 passed/);
  });

  test('without kmod: run refuses at once naming the package, doctor says so', async () => {
    const r = await quickstart('nokmod');
    assert.equal(r.status, 2, r.out.slice(-4000));
    assert.match(r.out, /^net-test: modprobe \(kmod\): missing: .*; fix: apt-get install kmod$/m);
    assert.doesNotMatch(r.out, /did not come up/);
    assert.match(r.out, /✗ modprobe \(kmod\): missing/);
    assert.match(r.out, /some prerequisites are missing\nquickstart\.sh: \[nokmod\] doctor exit 2/);
  });
});
