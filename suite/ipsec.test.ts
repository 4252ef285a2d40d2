// IPsec transport mode (net/xfrm): ESP with the null cipher on the wire, opened with our own
// ESP decoding and matched field by field; SAs and policies selected by the socket mark, so
// each network can have its own security associations. Skipped where the kernel has no
// xfrm/ESP/cipher_null.
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { errnoIs } from '../src/lib/sys/index.js';
import { useNetworks, REMOTE4 } from '../src/lib/networks.js';
import { expectNone, inject, nextPacket } from '../src/lib/expect.js';
import { openXfrm, type Xfrm } from '../src/lib/netlink/xfrm.js';
import { udpSocket } from '../src/lib/socket.js';
import { assertMatch, decodeEspNull, esp, ipv4, layer, parse, raw, udp } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 2 });
const SPI_OUT = 0x1001;
const SPI_IN = 0x2001;
const NULL_CIPHER = { name: 'ecb(cipher_null)', key: Buffer.alloc(0) };
let skipReason: string | undefined;

function xfrm<T>(fn: (x: Xfrm) => T): T {
  const x = openXfrm();
  try {
    return fn(x);
  } finally {
    x.close();
  }
}

before(() => {
  const n = nets.net(1);
  const mark = { value: n.mark, mask: 0xffff };
  try {
    xfrm((x) => {
      x.addSa({ src: n.addr4, dst: REMOTE4, proto: 'esp', spi: SPI_OUT, mode: 'transport', crypt: NULL_CIPHER, mark });
      x.addSa({ src: REMOTE4, dst: n.addr4, proto: 'esp', spi: SPI_IN, mode: 'transport', crypt: NULL_CIPHER, replayWindow: 32 });
      x.addPolicy({
        dir: 'out',
        sel: { src: `${n.addr4}/32`, dst: `${REMOTE4}/32`, proto: 'udp' },
        mark,
        tmpls: [{ src: n.addr4, dst: REMOTE4, proto: 'esp', mode: 'transport' }],
      });
    });
  } catch (e) {
    skipReason = `no xfrm ESP with cipher_null here: ${(e as Error).message.split('\n')[0]}`;
  }
});

function skipped(t: TestContext): boolean {
  if (skipReason) t.skip(skipReason);
  return skipReason !== undefined;
}

function isEsp(spi: number) {
  return (p: ReturnType<typeof parse>): boolean => layer(p, 'esp')?.spi === spi;
}

describe('ESP transport mode selected by mark', () => {
  nets.it('UDP from a socket with the SA mark leaves as ESP with sequence 1, the payload intact inside', (t) => {
    if (skipped(t)) return;
    const n = nets.net(1);
    const s = udpSocket(4);
    s.setMark(n.mark);
    s.sendTo(Buffer.from('secret'), { address: REMOTE4, port: 4500 + 1 });
    const sport = s.localAddress().port;
    const { frame } = nextPacket(n, isEsp(SPI_OUT), { what: `ESP with SPI ${SPI_OUT}` });
    const opened = decodeEspNull(parse(frame.subarray(14), 'ip'));
    assert.ok(opened, 'null-cipher ESP opens');
    assertMatch(opened, [ipv4({ src: n.addr4, dst: REMOTE4, df: true }), esp({ spi: SPI_OUT, seq: 1, nullCipher: {} }), udp({ sport, dport: 4501 }), raw('secret')], { ignore: ['ipv4.id'] });
    s.close();
  });

  nets.it('the ESP sequence number counts up per packet', (t) => {
    if (skipped(t)) return;
    const n = nets.net(1);
    const s = udpSocket(4);
    s.setMark(n.mark);
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      s.sendTo(Buffer.from(`p${i}`), { address: REMOTE4, port: 4502 });
      seqs.push(layer(nextPacket(n, isEsp(SPI_OUT)).packet, 'esp')!.seq);
    }
    assert.deepEqual(seqs, [seqs[0]!, seqs[0]! + 1, seqs[0]! + 2]);
    s.close();
  });

  nets.it('the same traffic with another network mark matches no policy and leaves in the clear', (t) => {
    if (skipped(t)) return;
    const n = nets.net(2);
    const s = udpSocket(4);
    s.setMark(n.mark);
    s.sendTo(Buffer.from('plain'), { address: REMOTE4, port: 4503 });
    const p = nextPacket(n, (x) => layer(x, 'udp')?.dport === 4503).packet;
    assert.equal(layer(p, 'esp'), undefined);
    expectNone(nets.net(1), { timeoutMs: 50 });
    s.close();
  });

  nets.it('the SA counters see the packets it protected', (t) => {
    if (skipped(t)) return;
    const n = nets.net(1);
    const sa = xfrm((x) => x.getSa({ dst: REMOTE4, spi: SPI_OUT, proto: 'esp', mark: { value: n.mark, mask: 0xffff } }));
    assert.ok(sa.current.packets >= 4n, `packets ${sa.current.packets}`);
    assert.equal(sa.mode, 'transport');
  });

  nets.it('inbound ESP for the inbound SA is opened and delivered to the UDP socket', (t) => {
    if (skipped(t)) return;
    const n = nets.net(1);
    const s = udpSocket(4);
    s.bind(`${n.addr4}:4504`);
    inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), esp({ spi: SPI_IN, seq: 1, nullCipher: {} }), udp({ sport: 999, dport: 4504 }), raw('inbound')]);
    const r = s.recvFrom({ timeoutMs: 1000 });
    assert.equal(r.data.toString(), 'inbound');
    assert.deepEqual(r.from, { family: 'inet', address: REMOTE4, port: 999 });
    s.close();
  });

  nets.it('a replayed inbound ESP sequence number is dropped', (t) => {
    if (skipped(t)) return;
    const n = nets.net(1);
    const s = udpSocket(4);
    s.bind(`${n.addr4}:4505`);
    inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), esp({ spi: SPI_IN, seq: 1, nullCipher: {} }), udp({ sport: 999, dport: 4505 }), raw('replay')]);
    assert.throws(() => s.recv({ timeoutMs: 200 }), errnoIs('EAGAIN'));
    // Dropped by the replay check, not lost elsewhere: the SA counted it.
    const sa = xfrm((x) => x.getSa({ dst: n.addr4, spi: SPI_IN, proto: 'esp' }));
    assert.equal(sa.stats.replay, 1);
    s.close();
  });
});
