/**
 * ESP with a null cipher: the kernel decrypts what the library encapsulated, answers, and
 * encapsulates its reply, which the library opens and matches. Needs xfrm with esp6 and
 * cipher_null (present in the UML guest); skipped where the kernel lacks them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { withRoute } from '../../../src/lib/netlink/route.js';
import { sysctl } from '../../../src/lib/sysctl.js';
import { assertMatch, build, decodeEspNull, echoReply6, echoRequest6, esp, ipv6, layer, parse, raw, summary } from '../../../src/lib/packet/index.js';
import { openTun, type TunDevice } from '../../../src/lib/tun.js';

const US = '2001:db8:e::1', PEER = '2001:db8:e::2';
const SPI_IN = 0x100, SPI_OUT = 0x200;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

const stateIn = ['src', PEER, 'dst', US, 'proto', 'esp', 'spi', String(SPI_IN)];
const stateOut = ['src', US, 'dst', PEER, 'proto', 'esp', 'spi', String(SPI_OUT)];
const policyOut = ['src', US, 'dst', PEER, 'dir', 'out'];

/** Installs the SAs; returns why not if the kernel cannot. */
function setUpXfrm(): string | undefined {
  try {
    ip('xfrm', 'state', 'add', ...stateIn, 'mode', 'transport', 'enc', 'ecb(cipher_null)', '');
  } catch (e) {
    return `no ESP null cipher in this kernel: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
  ip('xfrm', 'state', 'add', ...stateOut, 'mode', 'transport', 'enc', 'ecb(cipher_null)', '');
  ip('xfrm', 'policy', 'add', ...policyOut, 'tmpl', 'src', US, 'dst', PEER, 'proto', 'esp', 'mode', 'transport');
  return undefined;
}

describe('ESP null cipher through the kernel', () => {
  let tun: TunDevice;
  let skip: string | undefined;
  before(() => {
    skip = setUpXfrm();
    tun = openTun({ name: 'pktesp%d', up: false });
    sysctl.set(`net.ipv6.conf.${tun.name}.accept_dad`, 0);
    tun.setUp(true);
    withRoute((rt) => rt.addAddress({ dev: tun.name, address: `${US}/64` }, { usable: true }));
  });
  after(() => {
    tun.close();
    if (skip) return;
    for (const args of [['state', 'delete', ...stateIn.slice(0, 4), 'proto', 'esp', 'spi', String(SPI_IN)], ['state', 'delete', ...stateOut.slice(0, 4), 'proto', 'esp', 'spi', String(SPI_OUT)], ['policy', 'delete', ...policyOut]]) {
      try { ip('xfrm', ...args); } catch { /* already gone with the namespace */ }
    }
  });

  it('an ESP-wrapped echo request gets an ESP-wrapped echo reply', (t) => {
    if (skip) { t.skip(skip); return; }
    tun.write(build([ipv6({ src: PEER, dst: US }), esp({ spi: SPI_IN, seq: 1, nullCipher: {} }), echoRequest6({ id: 9, seq: 1 }), raw('esp ping')]));
    const seen: string[] = [];
    const f = tun.readMatching((fr) => {
      const p = parse(fr, 'ip');
      seen.push(summary(p));
      return layer(p, 'esp')?.spi === SPI_OUT;
    }, { timeoutMs: 3000 });
    assert.ok(f, `no ESP reply; saw:\n${seen.join('\n')}`);
    const opened = decodeEspNull(parse(f, 'ip'));
    assert.ok(opened, summary(parse(f, 'ip')));
    assertMatch(opened, [ipv6({ src: US, dst: PEER }), esp({ spi: SPI_OUT, seq: 1, nullCipher: {} }), echoReply6({ id: 9, seq: 1 }), raw('esp ping')], { ignore: ['ipv6.fl'] });
  });
});
