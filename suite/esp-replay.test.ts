// ESP sequence numbers and the anti-replay window (net/xfrm/xfrm_replay.c), from the wire, in
// each replay mode the kernel has: legacy (a 32-bit bitmap, window <= 32), bitmap (XFRMA_REPLAY_ESN_VAL
// without ESN) and ESN (64-bit sequence numbers, the high half only in the ICV). At the window's
// edge (the oldest acceptable number, one older, two older), replays, sequence 0, jumps that
// clear the window, forged packets that must not move it; the counters each drop increments
// (the SA's replay and replay_window statistics, XfrmInStateSeqError); the replay state the
// kernel reports; outbound sequence exhaustion in each mode and with OSEQ_MAY_WRAP; and the
// async replay events a key manager receives every xfrm_aevent_rseqth packets.
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, type Network } from '../src/lib/networks.js';
import { nextPacket } from '../src/lib/expect.js';
import { openXfrm, setSocketPolicy, XFRMNLGRP, type SaSpec, type Xfrm } from '../src/lib/netlink/xfrm.js';
import { decodeAevent, getAe, setAeThresholds, XFRM_AE, XFRM_MSG } from '../src/lib/netlink/xfrm-events.js';
import { udpSocket, type Socket } from '../src/lib/socket.js';
import { EspError, espTransform, openEsp, sealEsp, xfrmStats, xfrmStatsDelta, type EspTransform, saUnsupported, espReceiver } from '../src/lib/ipsec/index.js';
import { build, esp, ipv4, layer, parse, raw, udp } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });
let x: Xfrm;
let skip: string | undefined;
const AEAD = { name: 'rfc4106(gcm(aes))', key: Buffer.alloc(20, 0x42), icvLen: 128 };

before(() => {
  x = openXfrm();
  skip = saUnsupported(x, { aead: AEAD }, 'ESP with rfc4106(gcm(aes))');
});

function skipped(t: TestContext): boolean {
  if (skip) t.skip(skip);
  return skip !== undefined;
}

let nextSpi = 0x1000;

/** An inbound SA and a socket its datagrams reach; `send(seq)` answers whether that sequence number was delivered. */
interface Rx {
  spi: number;
  tr: EspTransform;
  send(seq: number, opts?: { seqHi?: number; corrupt?: boolean }): boolean;
  stats(): { replay: number; replayWindow: number; integrityFailed: number };
  close(): void;
}

function receiver(n: Network, sa: Partial<SaSpec>): Rx {
  x.flushSas();
  const spi = nextSpi++;
  const rx = espReceiver(x, n, { src: REMOTE4, dst: n.addr4, spi, mode: 'transport', aead: AEAD, ...sa }, nextSpi++, 1000);
  return {
    spi,
    tr: rx.tr,
    send(seq, opts = {}) {
      const sealed = build(sealEsp([ipv4({ src: REMOTE4, dst: n.addr4 }), esp({ spi, seq }), udp({ sport: 1, dport: rx.port }), raw(`seq ${seq}`)], rx.tr, { seqHi: opts.seqHi ?? 0 }));
      if (opts.corrupt) sealed[sealed.length - 1]! ^= 1;
      const got = rx.deliver(parse(sealed, 'ip'));
      if (got) assert.equal(got.toString(), `seq ${seq}`);
      return got !== undefined;
    },
    stats: () => x.getSa({ dst: n.addr4, spi }).stats,
    close: () => rx.close(),
  };
}

function withRx(t: TestContext, sa: Partial<SaSpec>, fn: (rx: Rx, n: Network) => void): void {
  if (skipped(t)) return;
  const n = nets.net(1);
  const rx = receiver(n, sa);
  try {
    fn(rx, n);
  } finally {
    rx.close();
  }
}

/** Delivered or not, for each sequence number in turn. */
const run = (rx: Rx, seqs: number[]): boolean[] => seqs.map((s) => rx.send(s));

describe('legacy window (replay_window 32)', () => {
  nets.it('in-order packets 1..5 are delivered; the kernel reports seq 5 and bitmap 0x1f', (t) => withRx(t, { replayWindow: 32 }, (rx, n) => {
    assert.deepEqual(run(rx, [1, 2, 3, 4, 5]), [true, true, true, true, true]);
    assert.deepEqual(x.getSa({ dst: n.addr4, spi: rx.spi }).replay, { oseq: 0, seq: 5, bitmap: 0x1f });
  }));

  nets.it('at the edge: after 100, 69 (the oldest in the window) is delivered, 68 and 67 are too old (replay_window counter)', (t) => withRx(t, { replayWindow: 32 }, (rx) => {
    const st = xfrmStats()!;
    assert.deepEqual(run(rx, [100, 69, 68, 67]), [true, true, false, false]);
    assert.deepEqual(rx.stats(), { replayWindow: 2, replay: 0, integrityFailed: 0 });
    assert.deepEqual(xfrmStatsDelta(st), { XfrmInStateSeqError: 2 });
  }));

  nets.it('a replay inside the window is dropped and counted as a replay, once per copy', (t) => withRx(t, { replayWindow: 32 }, (rx, n) => {
    assert.deepEqual(run(rx, [10, 8, 10, 8, 9]), [true, true, false, false, true]);
    assert.deepEqual(rx.stats(), { replayWindow: 0, replay: 2, integrityFailed: 0 });
    assert.deepEqual(x.getSa({ dst: n.addr4, spi: rx.spi }).replay?.bitmap, 0b111);
  }));

  nets.it('sequence number 0 is never valid: dropped (XfrmInStateSeqError) without touching the replay counters', (t) => withRx(t, { replayWindow: 32 }, (rx) => {
    const st = xfrmStats()!;
    assert.deepEqual(run(rx, [0, 1, 0]), [false, true, false]);
    assert.deepEqual(rx.stats(), { replayWindow: 0, replay: 0, integrityFailed: 0 });
    assert.deepEqual(xfrmStatsDelta(st), { XfrmInStateSeqError: 2 });
  }));

  nets.it('a jump of a whole window empties it: after 10 then 42, the unseen 11 is delivered and 10 is too old', (t) => withRx(t, { replayWindow: 32 }, (rx, n) => {
    assert.deepEqual(run(rx, [10, 42]), [true, true]);
    assert.deepEqual(x.getSa({ dst: n.addr4, spi: rx.spi }).replay?.bitmap, 1);
    assert.deepEqual(run(rx, [11, 10]), [true, false]);
  }));

  nets.it('a jump of one less than the window keeps the old packet in it: after 10 then 41, 10 is a replay', (t) => withRx(t, { replayWindow: 32 }, (rx) => {
    assert.deepEqual(run(rx, [10, 41, 10, 9]), [true, true, false, false]);
    assert.deepEqual(rx.stats(), { replayWindow: 1, replay: 1, integrityFailed: 0 });
  }));

  nets.it('a forged packet (bad ICV) far ahead does not move the window: the next genuine one is still in it', (t) => withRx(t, { replayWindow: 32 }, (rx, n) => {
    assert.equal(rx.send(5), true);
    assert.equal(rx.send(1000, { corrupt: true }), false);
    assert.deepEqual(rx.stats(), { replayWindow: 0, replay: 0, integrityFailed: 1 });
    assert.deepEqual(x.getSa({ dst: n.addr4, spi: rx.spi }).replay, { oseq: 0, seq: 5, bitmap: 1 });
    assert.deepEqual(run(rx, [3, 6]), [true, true]);
  }));

  nets.it('window 1: only numbers above the highest pass; the highest again is a replay, one below is too old', (t) => withRx(t, { replayWindow: 1 }, (rx) => {
    assert.deepEqual(run(rx, [5, 5, 4, 7]), [true, false, false, true]);
    assert.deepEqual(rx.stats(), { replayWindow: 1, replay: 1, integrityFailed: 0 });
  }));

  nets.it('window 0 turns replay protection off: duplicates, old numbers and even 0 are delivered', (t) => withRx(t, { replayWindow: 0 }, (rx) => {
    const st = xfrmStats()!;
    assert.deepEqual(run(rx, [5, 5, 1, 0]), [true, true, true, true]);
    assert.deepEqual(xfrmStatsDelta(st), {});
  }));
});

describe('bitmap window (XFRMA_REPLAY_ESN_VAL without ESN)', () => {
  for (const w of [64, 128]) {
    nets.it(`window ${w}: after 1000, ${1000 - w + 1} is delivered, ${1000 - w} and ${1000 - w - 1} are too old, a replay is a replay`, (t) => withRx(t, { replayEsn: { replayWindow: w } }, (rx) => {
      assert.deepEqual(run(rx, [1000, 1000 - w + 1, 1000 - w, 1000 - w - 1, 1000 - w + 1]), [true, true, false, false, false]);
      assert.deepEqual(rx.stats(), { replayWindow: 2, replay: 1, integrityFailed: 0 });
    }));
  }

  nets.it('window 64: the kernel\'s bitmap has the bits of 1000, 999 and 937 (the window\'s oldest) set, and only those', (t) => withRx(t, { replayEsn: { replayWindow: 64 } }, (rx, n) => {
    assert.deepEqual(run(rx, [1000, 999, 937]), [true, true, true]);
    const ae = getAe(x, { dst: n.addr4, spi: rx.spi, src: REMOTE4 });
    // Bit i of the ring stands for sequence number s with i = (s - 1) % window.
    const bits = (ae.replayEsn?.bmp ?? []).flatMap((word, i) => Array.from({ length: 32 }, (_, b) => ((word >>> b) & 1 ? i * 32 + b : -1))).filter((b) => b >= 0);
    assert.deepEqual([ae.replayEsn?.seq, bits], [1000, [936 % 64, 998 % 64, 999 % 64].sort((a, b) => a - b)]);
  }));
});

describe('ESN window (64-bit sequence numbers)', () => {
  nets.it('window 128: the same edges, but a number below the window is taken as the next 2^32 and fails its ICV', (t) => withRx(t, { flags: ['esn'], replayEsn: { replayWindow: 128 } }, (rx) => {
    // RFC 4303 appendix A: below the window means the sender wrapped; the kernel infers high
    // half 1, the ICV (computed with 0) fails: an integrity failure, not a replay_window drop.
    assert.deepEqual(run(rx, [500, 373, 372, 371, 500]), [true, true, false, false, false]);
    assert.deepEqual(rx.stats(), { replayWindow: 0, replay: 1, integrityFailed: 2 });
  }));

  nets.it('across 2^32: after 0xfffffff0, low number 5 is taken as the next subspace (authenticated with high 1)', (t) => withRx(t, { flags: ['esn'], replayEsn: { replayWindow: 128, seq: 0xfffffff0 } }, (rx, n) => {
    assert.equal(rx.send(5, { seqHi: 1 }), true);
    const ae = getAe(x, { dst: n.addr4, spi: rx.spi, src: REMOTE4 });
    assert.deepEqual([ae.replayEsn?.seqHi, ae.replayEsn?.seq], [1, 5]);
  }));

  nets.it('across 2^32: the same packet authenticated with high 0 fails the ICV; the window stays where it was', (t) => withRx(t, { flags: ['esn'], replayEsn: { replayWindow: 128, seq: 0xfffffff0 } }, (rx, n) => {
    assert.equal(rx.send(5, { seqHi: 0 }), false);
    assert.deepEqual(rx.stats(), { replayWindow: 0, replay: 0, integrityFailed: 1 });
    const ae = getAe(x, { dst: n.addr4, spi: rx.spi, src: REMOTE4 });
    assert.deepEqual([ae.replayEsn?.seqHi, ae.replayEsn?.seq], [0, 0xfffffff0]);
  }));

  nets.it('after the wrap, a number from the old subspace still inside the window is accepted with high 0', (t) => withRx(t, { flags: ['esn'], replayEsn: { replayWindow: 128, seq: 0xfffffff0 } }, (rx) => {
    // Window (0x1:0x5) spans back to 0x0:0xffffff86; 0xfffffff8 is in it, in subspace 0.
    assert.deepEqual([rx.send(5, { seqHi: 1 }), rx.send(0xfffffff8, { seqHi: 0 }), rx.send(0xfffffff8, { seqHi: 0 })], [true, true, false]);
    assert.deepEqual(rx.stats(), { replayWindow: 0, replay: 1, integrityFailed: 0 });
  }));
});

/** An outbound SA with a per-socket policy; `send()` returns the ESP sequence number on the wire, or the errno. */
function sender(n: Network, sa: Partial<SaSpec>): { send(): number | string; sa: SaSpec; close(): void } {
  x.flushSas();
  const spi = nextSpi++;
  const spec: SaSpec = { src: n.addr4, dst: REMOTE4, spi, reqid: spi, mode: 'transport', aead: AEAD, ...sa };
  x.addSa(spec);
  const s: Socket<'inet'> = udpSocket(4);
  s.setMark(n.mark);
  setSocketPolicy(s.fd, 'inet', { dir: 'out', sel: {}, tmpls: [{ proto: 'esp', mode: 'transport', reqid: spi }] });
  return {
    sa: spec,
    send() {
      try {
        s.sendTo(Buffer.from('out'), `${REMOTE4}:7999`);
      } catch (e) {
        return (e as { code?: string }).code ?? String(e);
      }
      return layer(nextPacket(n, (p) => layer(p, 'esp')?.spi === spi).packet, 'esp')!.seq;
    },
    close: () => s.close(),
  };
}

describe('outbound sequence numbers run out', () => {
  for (const [mode, sa] of [['legacy', { replay: { oseq: 0xfffffffd } }], ['bitmap', { replayEsn: { replayWindow: 32, oseq: 0xfffffffd } }]] as const) {
    nets.it(`${mode}: 0xfffffffe and 0xffffffff are sent, then EOVERFLOW, counted XfrmOutStateSeqError, nothing on the wire`, (t) => {
      if (skipped(t)) return;
      const tx = sender(nets.net(1), sa);
      try {
        const st = xfrmStats()!;
        assert.deepEqual([tx.send(), tx.send(), tx.send(), tx.send()], [0xfffffffe, 0xffffffff, 'EOVERFLOW', 'EOVERFLOW']);
        assert.deepEqual(xfrmStatsDelta(st), { XfrmOutStateSeqError: 2 });
      } finally {
        tx.close();
      }
    });

    nets.it(`${mode} with XFRM_SA_XFLAG_OSEQ_MAY_WRAP: after 0xffffffff comes 0, then 1`, (t) => {
      if (skipped(t)) return;
      const tx = sender(nets.net(1), { ...sa, extraFlags: ['oseq_may_wrap'] });
      try {
        assert.deepEqual([tx.send(), tx.send(), tx.send(), tx.send()], [0xfffffffe, 0xffffffff, 0, 1]);
      } finally {
        tx.close();
      }
    });
  }

  nets.it('ESN: after 0x0:0xffffffff comes 0x1:0x0, authenticated with the high half 1 (and not 0)', (t) => {
    if (skipped(t)) return;
    const n = nets.net(1);
    const tx = sender(n, { flags: ['esn'], replayEsn: { replayWindow: 32, oseq: 0xffffffff } });
    try {
      const s = udpSocket(4);
      s.setMark(n.mark);
      setSocketPolicy(s.fd, 'inet', { dir: 'out', sel: {}, tmpls: [{ proto: 'esp', mode: 'transport', reqid: tx.sa.spi }] });
      s.sendTo(Buffer.from('esn wrap'), `${REMOTE4}:7998`);
      s.close();
      const ip = nextPacket(n, (p) => layer(p, 'esp')?.spi === tx.sa.spi).frame.subarray(14);
      const tr = espTransform(tx.sa);
      const { esp: o } = openEsp(parse(ip, 'ip'), tr, { seqHi: 1 });
      assert.equal(o.seq, 0);
      assert.throws(() => openEsp(parse(ip, 'ip'), tr, { seqHi: 0 }), (e: unknown) => e instanceof EspError && e.reason === 'icv');
      assert.equal(getAe(x, { dst: REMOTE4, spi: tx.sa.spi, src: n.addr4 }).replayEsn?.oseqHi, 1);
    } finally {
      tx.close();
    }
  });

  nets.it('ESN: the 64-bit space runs out at 0xffffffff:0xffffffff: EOVERFLOW', (t) => {
    if (skipped(t)) return;
    const tx = sender(nets.net(1), { flags: ['esn'], replayEsn: { replayWindow: 32, oseq: 0xfffffffe, oseqHi: 0xffffffff } });
    try {
      assert.deepEqual([tx.send(), tx.send()], [0xffffffff, 'EOVERFLOW']);
    } finally {
      tx.close();
    }
  });
});

describe('replay events for key managers (XFRMNLGRP_AEVENTS)', () => {
  /** Sends `count` packets to a fresh inbound SA and returns the replay sequence numbers of the NEWAE events heard after each. */
  function events(t: TestContext, sa: Partial<SaSpec>, count: number, setup?: (rx: Rx, n: Network) => void): (number | null)[] {
    const ev = openXfrm({ groups: [XFRMNLGRP.AEVENTS] });
    const out: (number | null)[] = [];
    try {
      withRx(t, sa, (rx, n) => {
        setup?.(rx, n);
        ev.nl.drain();
        for (let s = 1; s <= count; s++) {
          rx.send(s);
          const got = ev.nl.drain().filter((m) => m.type === XFRM_MSG.NEWAE).map(decodeAevent).filter((e) => e.spi === rx.spi);
          for (const e of got) assert.equal(e.flags & XFRM_AE.CR, XFRM_AE.CR, 'cause: replay update');
          out.push(got.length === 0 ? null : (got[0]!.replay?.seq ?? got[0]!.replayEsn?.seq ?? -1));
        }
      });
    } finally {
      ev.close();
    }
    return out;
  }

  nets.it('xfrm_aevent_rseqth 2 (default): an event after every second packet, carrying the replay state', (t) => {
    if (skipped(t)) return;
    nets.sysctl('net.core.xfrm_aevent_rseqth', 2);
    assert.deepEqual(events(t, { replayWindow: 32 }, 5), [null, 2, null, 4, null]);
  });

  nets.it('xfrm_aevent_rseqth 3: events at 3 and 6, none at 2, 4 or 5', (t) => {
    if (skipped(t)) return;
    nets.sysctl('net.core.xfrm_aevent_rseqth', 3);
    try {
      assert.deepEqual(events(t, { replayWindow: 32 }, 6), [null, null, 3, null, null, 6]);
    } finally {
      nets.sysctl('net.core.xfrm_aevent_rseqth', 2);
    }
  });

  nets.it('XFRMA_REPLAY_THRESH set by NEWAE overrides the sysctl for its SA (4: events at 4 and 8), in bitmap mode too', (t) => {
    if (skipped(t)) return;
    const got = events(t, { replayEsn: { replayWindow: 64 } }, 8, (rx, n) => setAeThresholdsFor(rx, n, 4));
    assert.deepEqual(got, [null, null, null, 4, null, null, null, 8]);
  });
});

function setAeThresholdsFor(rx: Rx, n: Network, packets: number): void {
  setAeThresholds(x, { dst: n.addr4, spi: rx.spi, src: REMOTE4 }, { replayThresh: packets });
}
