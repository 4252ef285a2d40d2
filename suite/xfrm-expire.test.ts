// SA and policy lifetimes (xfrm_state_check_expire(), xfrm_timer_handler(), xfrm_policy_timer()): soft and hard limits by packets,
// bytes, time since add and time since first use, on the output and the input path, each at its
// exact value; the XFRM_MSG_EXPIRE (and POLEXPIRE) notifications a key manager hears (soft: the SA lives on and
// is marked dying; hard: the SA is gone); a key manager's own XFRM_MSG_EXPIRE. The limits are
// checked before a packet is counted, so a hard limit of N passes N packets (or bytes up to N-1
// before the last packet) and drops the next one.
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, type Network } from '../src/lib/networks.js';
import { expectNone, nextPacket } from '../src/lib/expect.js';
import { openXfrm, setSocketPolicy, XFRMNLGRP, type SaSpec, type Xfrm } from '../src/lib/netlink/xfrm.js';
import { decodeExpire, decodePolexpire, expireSa, XFRM_MSG } from '../src/lib/netlink/xfrm-events.js';
import { udpSocket, type Socket } from '../src/lib/socket.js';
import { sealEsp, xfrmStats, xfrmStatsDelta, saUnsupported, espReceiver } from '../src/lib/ipsec/index.js';
import { esp, ipv4, layer, raw, udp } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });
let x: Xfrm;
let ev: Xfrm;
/** A second EXPIRE listener for POLEXPIRE (xfrm_exp_policy_notify() uses the EXPIRE group too). */
let pev: Xfrm;
let skip: string | undefined;
const AEAD = { name: 'rfc4106(gcm(aes))', key: Buffer.alloc(20, 0x42), icvLen: 128 };

before(() => {
  x = openXfrm();
  ev = openXfrm({ groups: [XFRMNLGRP.EXPIRE] });
  pev = openXfrm({ groups: [XFRMNLGRP.EXPIRE] });
  skip = saUnsupported(x, { aead: AEAD }, 'ESP with rfc4106(gcm(aes))');
});

function skipped(t: TestContext): boolean {
  if (skip) t.skip(skip);
  return skip !== undefined;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

let nextSpi = 0x2000;

/** The EXPIRE notifications heard since the last call, for one SPI: 'soft' or 'hard', with the counters they carry. */
function expires(spi: number): { hard: boolean; packets: bigint; bytes: bigint }[] {
  return ev.nl.drain().filter((m) => m.type === XFRM_MSG.EXPIRE).map(decodeExpire).filter((e) => e.sa.spi === spi)
    .map((e) => ({ hard: e.hard, packets: e.sa.current.packets, bytes: e.sa.current.bytes }));
}

/** Waits for the next EXPIRE of `spi` (hard ones come from the SA's timer, after the packet that hit the limit). */
function nextExpire(spi: number, timeoutMs = 5000): { hard: boolean; packets: bigint; bytes: bigint } {
  const e = decodeExpire(ev.nl.waitFor((m) => m.type === XFRM_MSG.EXPIRE && decodeExpire(m).sa.spi === spi, timeoutMs));
  return { hard: e.hard, packets: e.sa.current.packets, bytes: e.sa.current.bytes };
}

const present = (_n: Network, spi: number, dst = REMOTE4): boolean => {
  try {
    x.getSa({ dst, spi });
    return true;
  } catch {
    return false;
  }
};

/** An outbound transport SA with `lifetime` and a socket whose datagrams use it. */
interface Tx {
  spi: number;
  /** Sends a datagram of `len` payload bytes: its ESP sequence number on the wire, or the errno. */
  send(len?: number): number | string;
  close(): void;
}

function sender(n: Network, lifetime: SaSpec['lifetime']): Tx {
  x.flushSas();
  ev.nl.drain();
  const spi = nextSpi++;
  x.addSa({ src: n.addr4, dst: REMOTE4, spi, reqid: spi, mode: 'transport', aead: AEAD, lifetime });
  const s: Socket<'inet'> = udpSocket(4);
  s.setMark(n.mark);
  setSocketPolicy(s.fd, 'inet', { dir: 'out', sel: {}, tmpls: [{ proto: 'esp', mode: 'transport', reqid: spi }] });
  return {
    spi,
    send(len = 8) {
      try {
        s.sendTo(Buffer.alloc(len, 0x61), `${REMOTE4}:7999`);
      } catch (e) {
        return (e as { code?: string }).code ?? String(e);
      }
      return layer(nextPacket(n, (p) => layer(p, 'esp')?.spi === spi).packet, 'esp')!.seq;
    },
    close: () => s.close(),
  };
}

function withTx(t: TestContext, lifetime: SaSpec['lifetime'], fn: (tx: Tx, n: Network) => void): void {
  if (skipped(t)) return;
  const n = nets.net(1);
  const tx = sender(n, lifetime);
  try {
    fn(tx, n);
  } finally {
    tx.close();
  }
}

/** An inbound transport SA with `lifetime`; `send(seq)` answers whether the datagram was delivered. */
interface Rx {
  spi: number;
  send(seq: number, len?: number): boolean;
  close(): void;
}

function receiver(n: Network, lifetime: SaSpec['lifetime']): Rx {
  x.flushSas();
  ev.nl.drain();
  const spi = nextSpi++;
  const rx = espReceiver(x, n, { src: REMOTE4, dst: n.addr4, spi, mode: 'transport', aead: AEAD, replayWindow: 32, lifetime }, nextSpi++);
  return {
    spi,
    send(seq, len = 8) {
      const got = rx.deliver(sealEsp([ipv4({ src: REMOTE4, dst: n.addr4 }), esp({ spi, seq }), udp({ sport: 1, dport: rx.port }), raw(Buffer.alloc(len, 0x62))], rx.tr));
      if (got) assert.equal(got.length, len);
      return got !== undefined;
    },
    close: () => rx.close(),
  };
}

function withRx(t: TestContext, lifetime: SaSpec['lifetime'], fn: (rx: Rx, n: Network) => void): void {
  if (skipped(t)) return;
  const n = nets.net(1);
  const rx = receiver(n, lifetime);
  try {
    fn(rx, n);
  } finally {
    rx.close();
  }
}

// What a transport-mode SA counts per packet, on output as on input: what it protects, the
// transport header and payload (xfrm_output_one() adds skb->len after xfrm4_transport_output()
// pulled the IP header; xfrm_input() after esp_input() stripped ESP): UDP 8 + payload.
const BYTES = (payload: number): bigint => BigInt(8 + payload);

describe('packet limits, output', () => {
  nets.it('hard limit 3: three packets leave (seq 1-3), the fourth fails EINVAL, counted XfrmOutStateExpired, nothing on the wire', (t) => withTx(t, { hardPacketLimit: 3n }, (tx, n) => {
    const st = xfrmStats()!;
    assert.deepEqual([tx.send(), tx.send(), tx.send()], [1, 2, 3]);
    assert.equal(tx.send(), 'EINVAL');
    expectNone(n, { timeoutMs: 50 });
    assert.deepEqual(xfrmStatsDelta(st), { XfrmOutStateExpired: 1 });
  }));

  nets.it('hard limit 3: no EXPIRE after three packets; the fourth brings a hard EXPIRE with packets 3 and the SA is deleted', (t) => withTx(t, { hardPacketLimit: 3n }, (tx, n) => {
    assert.deepEqual([tx.send(), tx.send(), tx.send()], [1, 2, 3]);
    assert.deepEqual(expires(tx.spi), []);
    assert.equal(present(n, tx.spi), true);
    tx.send();
    assert.deepEqual(nextExpire(tx.spi), { hard: true, packets: 3n, bytes: 3n * BYTES(8) });
    assert.equal(present(n, tx.spi), false);
  }));

  nets.it('soft limit 2: the third packet still leaves and brings one soft EXPIRE (packets 2); later packets none; the SA stays', (t) => withTx(t, { softPacketLimit: 2n }, (tx, n) => {
    assert.deepEqual([tx.send(), tx.send()], [1, 2]);
    assert.deepEqual(expires(tx.spi), []);
    assert.equal(tx.send(), 3);
    assert.deepEqual(expires(tx.spi), [{ hard: false, packets: 2n, bytes: 2n * BYTES(8) }]);
    assert.deepEqual([tx.send(), tx.send()], [4, 5]);
    assert.deepEqual(expires(tx.spi), []);
    assert.equal(x.getSa({ dst: REMOTE4, spi: tx.spi }).current.packets, 5n);
    assert.equal(present(n, tx.spi), true);
  }));

  nets.it('soft 1 and hard 2: soft EXPIRE at the second packet, hard at the third, in that order', (t) => withTx(t, { softPacketLimit: 1n, hardPacketLimit: 2n }, (tx) => {
    assert.equal(tx.send(), 1);
    assert.deepEqual(expires(tx.spi), []);
    assert.equal(tx.send(), 2);
    assert.deepEqual(expires(tx.spi).map((e) => [e.hard, e.packets]), [[false, 1n]]);
    assert.equal(tx.send(), 'EINVAL');
    assert.deepEqual([nextExpire(tx.spi).hard], [true]);
  }));
});

describe('byte limits, output', () => {
  const one = BYTES(8);
  nets.it(`the SA counts ${one} bytes for an 8-byte datagram (UDP 8 + 8: no IP or ESP header, no trailer), ${BYTES(100)} for 100`, (t) => withTx(t, {}, (tx) => {
    tx.send(8);
    assert.equal(x.getSa({ dst: REMOTE4, spi: tx.spi }).current.bytes, one);
    tx.send(100);
    assert.equal(x.getSa({ dst: REMOTE4, spi: tx.spi }).current.bytes, one + BYTES(100));
  }));

  for (const [what, limit, sent] of [['N-1', 2n * one - 1n, 2], ['N', 2n * one, 2], ['N+1', 2n * one + 1n, 3]] as const) {
    nets.it(`hard byte limit ${what} of two packets (${limit}): ${sent} packets leave, then EINVAL and a hard EXPIRE`, (t) => withTx(t, { hardByteLimit: limit }, (tx) => {
      const seqs = Array.from({ length: sent + 1 }, () => tx.send(8));
      assert.deepEqual(seqs, [...Array.from({ length: sent }, (_, i) => i + 1), 'EINVAL']);
      assert.deepEqual(nextExpire(tx.spi), { hard: true, packets: BigInt(sent), bytes: BigInt(sent) * one });
    }));
  }

  for (const [what, limit, at] of [['N-1', 2n * one - 1n, 3], ['N', 2n * one, 3], ['N+1', 2n * one + 1n, 4]] as const) {
    nets.it(`soft byte limit ${what} of two packets (${limit}): the soft EXPIRE comes with packet ${at}, which still leaves`, (t) => withTx(t, { softByteLimit: limit }, (tx) => {
      const heard: number[] = [];
      for (let i = 1; i <= 4; i++) {
        assert.equal(tx.send(8), i);
        if (expires(tx.spi).some((e) => !e.hard)) heard.push(i);
      }
      assert.deepEqual(heard, [at]);
    }));
  }
});

describe('limits on input', () => {
  nets.it('hard packet limit 2: two delivered, the third dropped (XfrmInStateExpired) and a hard EXPIRE with packets 2', (t) => withRx(t, { hardPacketLimit: 2n }, (rx, n) => {
    const st = xfrmStats()!;
    assert.deepEqual([rx.send(1), rx.send(2)], [true, true]);
    assert.deepEqual(expires(rx.spi), []);
    assert.equal(rx.send(3), false);
    assert.deepEqual(xfrmStatsDelta(st), { XfrmInStateExpired: 1 });
    assert.deepEqual(nextExpire(rx.spi), { hard: true, packets: 2n, bytes: 2n * BYTES(8) });
    assert.equal(present(n, rx.spi, n.addr4), false);
  }));

  nets.it('soft packet limit 2: the third is delivered and brings a soft EXPIRE; the SA stays', (t) => withRx(t, { softPacketLimit: 2n }, (rx, n) => {
    assert.deepEqual([rx.send(1), rx.send(2)], [true, true]);
    assert.deepEqual(expires(rx.spi), []);
    assert.equal(rx.send(3), true);
    assert.deepEqual(expires(rx.spi).map((e) => [e.hard, e.packets]), [[false, 2n]]);
    assert.equal(present(n, rx.spi, n.addr4), true);
  }));

  nets.it('the input path counts the datagram after decapsulation too (UDP 8 + payload)', (t) => withRx(t, {}, (rx, n) => {
    rx.send(1, 8);
    rx.send(2, 100);
    const cur = x.getSa({ dst: n.addr4, spi: rx.spi }).current;
    assert.deepEqual([cur.packets, cur.bytes], [2n, BYTES(8) + BYTES(100)]);
  }));
});

describe('time limits', () => {
  // Hard 3 s after soft, not 1: xfrm_timer_handler() looks at the hard limit first, so a timer
  // that runs late past it (a loaded host, in real time) rightly sends only the hard EXPIRE.
  nets.it('soft 1 s and hard 4 s after add: a soft EXPIRE, the SA still there, then a hard EXPIRE and the SA gone', (t) => withTx(t, { softAddExpiresSeconds: 1n, hardAddExpiresSeconds: 4n }, (tx, n) => {
    assert.deepEqual(expires(tx.spi), []);
    assert.equal(nextExpire(tx.spi, 4000).hard, false);
    assert.equal(present(n, tx.spi), true);
    assert.equal(tx.send(), 1, 'a dying SA still carries traffic');
    assert.equal(nextExpire(tx.spi, 6000).hard, true);
    assert.equal(present(n, tx.spi), false);
  }));

  nets.it('hard 1 s after first use: an SA never used outlives it; used, it expires (hard EXPIRE, SA gone)', (t) => withTx(t, { hardUseExpiresSeconds: 1n }, (tx, n) => {
    sleepMs(1200);
    assert.deepEqual(expires(tx.spi), []);
    assert.equal(present(n, tx.spi), true);
    assert.equal(tx.send(), 1);
    assert.equal(nextExpire(tx.spi, 4000).hard, true);
    assert.equal(present(n, tx.spi), false);
  }));
});

describe('XFRM_MSG_EXPIRE from a key manager (xfrm_add_sa_expire)', () => {
  nets.it('hard: listeners hear a hard EXPIRE and the SA is deleted; then it is gone', (t) => withTx(t, {}, (tx, n) => {
    assert.equal(tx.send(), 1);
    expireSa(x, { src: n.addr4, dst: REMOTE4, spi: tx.spi }, true);
    assert.deepEqual(nextExpire(tx.spi), { hard: true, packets: 1n, bytes: BYTES(8) });
    assert.equal(present(n, tx.spi), false);
  }));

  nets.it('soft: listeners hear a soft EXPIRE; the SA stays and carries traffic', (t) => withTx(t, {}, (tx, n) => {
    expireSa(x, { src: n.addr4, dst: REMOTE4, spi: tx.spi }, false);
    assert.deepEqual(nextExpire(tx.spi), { hard: false, packets: 0n, bytes: 0n });
    assert.equal(present(n, tx.spi), true);
    assert.equal(tx.send(), 1);
  }));

  nets.it('an SA that does not exist: ENOENT', (t) => {
    if (skipped(t)) return;
    x.flushSas();
    assert.throws(() => expireSa(x, { src: '192.0.2.1', dst: REMOTE4, spi: 0x7777 }, true), (e: unknown) => (e as { code?: string }).code === 'ENOENT');
  });
});

describe('policy lifetimes (XFRM_MSG_POLEXPIRE)', () => {
  const SEL = { dst: `${REMOTE4}/32`, proto: 'udp', dport: 7990 } as const;
  /** The POLEXPIRE notifications for SEL's outbound policy, waited for one at a time: 'soft' or 'hard'. */
  const nextPolexpire = (timeoutMs: number): string => {
    const m = pev.nl.waitFor((q) => q.type === XFRM_MSG.POLEXPIRE && decodePolexpire(q).policy.sel.dport === SEL.dport, timeoutMs);
    return decodePolexpire(m).hard ? 'hard' : 'soft';
  };
  const policyThere = (): boolean => {
    try {
      x.getPolicy({ dir: 'out', sel: SEL });
      return true;
    } catch {
      return false;
    }
  };
  const blockedSend = (n: Network): string => {
    const s = udpSocket(4);
    try {
      s.setMark(n.mark);
      s.sendTo(Buffer.from('p'), `${REMOTE4}:${SEL.dport}`);
      return 'ok';
    } catch (e) {
      return (e as { code?: string }).code ?? String(e);
    } finally {
      s.close();
    }
  };

  // Hard 3 s after soft, as for SAs: xfrm_policy_timer() also looks at the hard limit first.
  nets.it('soft 1 s and hard 4 s after add: a soft POLEXPIRE with the policy still blocking, then a hard one and the policy gone', (t) => {
    if (skipped(t)) return;
    const n = nets.net(1);
    x.flushPolicies();
    pev.nl.drain();
    x.addPolicy({ dir: 'out', sel: SEL, action: 'block', lifetime: { softAddExpiresSeconds: 1n, hardAddExpiresSeconds: 4n } });
    assert.equal(nextPolexpire(4000), 'soft');
    assert.deepEqual([policyThere(), blockedSend(n)], [true, 'EPERM']);
    assert.equal(nextPolexpire(6000), 'hard');
    assert.deepEqual([policyThere(), blockedSend(n)], [false, 'ok']);
  });

  nets.it('hard 1 s after first use, never used: unlike an SA\'s, a policy\'s use clock starts at add, so it expires (hard POLEXPIRE)', (t) => {
    if (skipped(t)) return;
    const n = nets.net(1);
    x.flushPolicies();
    pev.nl.drain();
    x.addPolicy({ dir: 'out', sel: SEL, action: 'block', lifetime: { hardUseExpiresSeconds: 1n } });
    // xfrm_policy_timer(): use_time ?: add_time; xfrm_timer_handler() for SAs: use_time ?: now.
    assert.equal(nextPolexpire(4000), 'hard');
    assert.deepEqual([policyThere(), blockedSend(n)], [false, 'ok']);
  });
});

