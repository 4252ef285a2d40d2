import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cmdlineScript, commandLine, shellWord } from '../../../src/host/vm/uml.js';

test('shellWord: bare when safe, single-quoted otherwise, and sh reads back the same word', () => {
  assert.equal(shellWord('mem=512M'), 'mem=512M');
  assert.equal(shellWord('eth0=tuntap,rootTAP0,02:4e:54:00:00:00'), 'eth0=tuntap,rootTAP0,02:4e:54:00:00:00');
  const odd = ["it's", '$(reboot)', 'two words', '*', '', 'a"b', 'back\\slash'];
  for (const w of odd) {
    const r = spawnSync('sh', ['-c', `printf '%s\\n' ${shellWord(w)}`], { encoding: 'utf8' });
    assert.equal(r.stdout, `${w}\n`, w);
  }
});

test('commandLine: environment first (empty values dropped), then the kernel and its arguments', () => {
  assert.equal(commandLine('/k/linux', ['mem=1G', 'x y'], { TMPDIR: '/dev/shm', LD_PRELOAD: '' }), "TMPDIR=/dev/shm /k/linux mem=1G 'x y'");
});

test('cmdlineScript: runnable sh, a fresh directory in place of the run\'s temp one, the taps named', () => {
  const s = cmdlineScript({
    kernel: '/k/linux',
    args: ['uml_dir=/tmp/run-1/uml-1', 'ubd0=/tmp/run-1/uml-1/root.cow,/img', 'mem=1G'],
    env: { TMPDIR: '/dev/shm' },
    umlDir: '/tmp/run-1/uml-1',
    taps: [{ name: 'uTAP0', guest: 'eth0', hostMac: '02:4e:54:ff:00:00', guestMac: '02:4e:54:00:00:00' }],
    net: 'private',
  });
  assert.match(s, /^#!\/bin\/sh\n/);
  assert.match(s, /^# {3}ip tuntap add dev uTAP0 mode tap && ip link set dev uTAP0 address 02:4e:54:ff:00:00 up$/m);
  assert.match(s, /^env TMPDIR=\/dev\/shm \/k\/linux uml_dir="\$d" ubd0="\$d"\/root\.cow,\/img mem=1G "\$@"$/m);
  assert.equal(spawnSync('sh', ['-n', '-c', s]).status, 0, 'sh parses it');
});
