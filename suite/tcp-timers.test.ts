// TCP's timers seen from the wire (net/ipv4/tcp_timer.c): keepalive probes, the user timeout on
// retransmissions and on zero-window probing, and zero-window probes with their back-off. The
// test is the peer on network 1 (no scaling, SACK or timestamps). Counts are exact; times are
// read on the guest's clock (Date.now() in the guest), with the slack UML's 100 Hz timer wheel
// needs, and only where a count alone would not say what is tested.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks } from '../src/lib/networks.js';
import { expectNone, nextPacket } from '../src/lib/expect.js';
import { mibCounters } from '../src/lib/mib.js';
import { acceptFromWire, type TcpConn } from '../src/lib/tcp-peer.js';
import { tcpSocket } from '../src/lib/socket.js';
import { isSysError, K, type ErrnoCode } from '../src/lib/sys/index.js';
import { layer, type Layer } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });
const { SOL_SOCKET, SOL_TCP, SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT } = K;
const errno = (code: ErrnoCode) => (e: unknown): boolean => {
  if (isSysError(e, code)) return true;
  throw e;
};

let nextPort = 200;
const open = (): TcpConn => acceptFromWire(nets.net(1), { port: nextPort++ });

const isTcp = (c: TcpConn) => (p: Layer[]): boolean => layer(p, 'tcp')?.sport === c.port;

/** Every segment of this connection within `ms`, with its arrival time on the guest's clock. */
function segments(c: TcpConn, ms: number): { at: number; seq: number; ack: number; flags: string; len: number }[] {
  const out: { at: number; seq: number; ack: number; flags: string; len: number }[] = [];
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return out;
    let a;
    try {
      a = nextPacket(c.n, isTcp(c), { timeoutMs: left });
    } catch {
      return out;
    }
    const t = layer(a.packet, 'tcp')!;
    out.push({ at: Date.now(), seq: t.seq, ack: t.ack, flags: t.flags, len: layer(a.packet, 'raw')?.data.length ?? 0 });
  }
}

const delta = (before: Map<string, number>, name: string): number => (mibCounters('netstat').get(name) ?? NaN) - (before.get(name) ?? NaN);

function keepalive(c: TcpConn, o: { idle: number; intvl: number; cnt?: number }): void {
  c.sock.setOption(SOL_SOCKET, SO_KEEPALIVE, 1);
  c.sock.setOption(SOL_TCP, TCP_KEEPIDLE, o.idle);
  c.sock.setOption(SOL_TCP, TCP_KEEPINTVL, o.intvl);
  if (o.cnt !== undefined) c.sock.setOption(SOL_TCP, TCP_KEEPCNT, o.cnt);
}

describe('keepalive', () => {
  for (const cnt of [1, 2]) {
    nets.it(`TCP_KEEPCNT ${cnt}: exactly ${cnt} probe${cnt > 1 ? 's' : ''} (ACK, seq snd_una - 1, no data) a second apart, then a RST, and reads fail ETIMEDOUT`, () => {
      const c = open();
      const before = mibCounters('netstat');
      keepalive(c, { idle: 1, intvl: 1, cnt });
      const got = segments(c, 1500 + cnt * 1000);
      const probe = { seq: (c.kernelNxt - 1) >>> 0, ack: c.peerNxt, flags: 'A', len: 0 };
      assert.deepEqual(got.map(({ seq, ack, flags, len }) => ({ seq, ack, flags, len })), [
        ...Array.from({ length: cnt }, () => probe),
        { seq: c.kernelNxt, ack: c.peerNxt, flags: 'RA', len: 0 },
      ]);
      for (let i = 1; i < got.length; i++) {
        const gap = got[i]!.at - got[i - 1]!.at;
        assert.ok(gap > 800 && gap < 1400, `gap ${i}: ${gap} ms, TCP_KEEPINTVL is 1 s`);
      }
      assert.throws(() => c.sock.recv({ timeoutMs: 0 }), errno('ETIMEDOUT'));
      assert.equal(delta(before, 'TcpExt.TCPKeepAlive'), cnt);
      c.sock.close();
    });
  }

  nets.it('without TCP_KEEPCNT the namespace\'s net.ipv4.tcp_keepalive_probes (set to 1) applies: one probe, then the RST', () => {
    nets.sysctl('net.ipv4.tcp_keepalive_probes', 1);
    const c = open();
    keepalive(c, { idle: 1, intvl: 1 });
    const got = segments(c, 2600);
    assert.deepEqual(got.map((s) => s.flags), ['A', 'RA']);
    c.sock.close();
  });

  nets.it('an answered probe resets the count: with TCP_KEEPCNT 1 the connection survives, and the next probe waits a full TCP_KEEPIDLE (2 s), not TCP_KEEPINTVL (1 s)', () => {
    const c = open();
    keepalive(c, { idle: 2, intvl: 1, cnt: 1 });
    const [first] = segments(c, 2600);
    assert.equal(first?.flags, 'A');
    c.send('A'); // the peer answers with a pure ACK
    const t0 = Date.now();
    const [second] = segments(c, 2600);
    assert.equal(second?.flags, 'A', 'a second probe, not a RST');
    assert.ok(second!.at - t0 > 1700, `the next probe after ${second!.at - t0} ms`);
    c.reset();
    c.sock.close();
  });

  nets.it('TCP_USER_TIMEOUT (2500 ms) overrides TCP_KEEPCNT (10): two probes at 1 s and 2 s, the RST at 3 s', () => {
    const c = open();
    keepalive(c, { idle: 1, intvl: 1, cnt: 10 });
    c.sock.setOption(SOL_TCP, TCP_USER_TIMEOUT, 2500);
    const got = segments(c, 3600);
    assert.deepEqual(got.map((s) => s.flags), ['A', 'A', 'RA']);
    assert.throws(() => c.sock.recv({ timeoutMs: 0 }), errno('ETIMEDOUT'));
    c.sock.close();
  });

  describe('limits (include/net/tcp.h)', () => {
    for (const [name, opt, max] of [['TCP_KEEPIDLE', TCP_KEEPIDLE, 32767], ['TCP_KEEPINTVL', TCP_KEEPINTVL, 32767], ['TCP_KEEPCNT', TCP_KEEPCNT, 127]] as const) {
      nets.it(`${name}: 0 and ${max + 1} are EINVAL; 1 and ${max} are kept and read back`, () => {
        const s = tcpSocket(4);
        try {
          for (const bad of [0, max + 1, -1]) assert.throws(() => s.setOption(SOL_TCP, opt, bad), errno('EINVAL'));
          for (const good of [1, max]) {
            s.setOption(SOL_TCP, opt, good);
            assert.equal(s.getIntOption(SOL_TCP, opt), good);
          }
        } finally {
          s.close();
        }
      });
    }
    nets.it('TCP_USER_TIMEOUT: negative is EINVAL; 0 (the default) and 2^31-1 ms are kept', () => {
      const s = tcpSocket(4);
      try {
        assert.throws(() => s.setOption(SOL_TCP, TCP_USER_TIMEOUT, -1), errno('EINVAL'));
        for (const v of [0, 0x7fffffff]) {
          s.setOption(SOL_TCP, TCP_USER_TIMEOUT, v);
          assert.equal(s.getIntOption(SOL_TCP, TCP_USER_TIMEOUT), v);
        }
      } finally {
        s.close();
      }
    });
  });
});

describe('TCP_USER_TIMEOUT on unacknowledged data', () => {
  // After the handshake the RTO is TCP_RTO_MIN (200 ms) and doubles: retransmissions at about
  // 0.2, 0.6, 1.4 and 3.0 s after the send. The user timeout counts from the first retransmission
  // (tp->retrans_stamp, net/ipv4/tcp_output.c) and each timer is clamped to what is left of it
  // (tcp_clamp_rto_to_user_timeout()), so the abort comes at 0.2 s + the timeout, unannounced.
  for (const [timeout, retrans] of [[300, 1], [500, 2], [1000, 2], [2000, 3]] as const) {
    nets.it(`${timeout} ms: the data, exactly ${retrans} retransmission${retrans > 1 ? 's' : ''}, then silence (no RST); reads fail ETIMEDOUT and TCPAbortOnTimeout counts 1`, () => {
      const c = open();
      c.sock.setOption(SOL_TCP, TCP_USER_TIMEOUT, timeout);
      const before = mibCounters('netstat');
      c.sock.send(Buffer.from('lost'));
      const got = segments(c, timeout + 700);
      assert.deepEqual(got.map((s) => `${s.flags}:${s.seq - c.kernelNxt}:${s.len}`), Array.from({ length: retrans + 1 }, () => 'PA:0:4'));
      assert.throws(() => c.sock.recv({ timeoutMs: 0 }), errno('ETIMEDOUT'));
      assert.equal(delta(before, 'TcpExt.TCPAbortOnTimeout'), 1);
      c.sock.close();
      expectNone(c.n, { timeoutMs: 50 });
    });
  }
});

describe('zero-window probes', () => {
  /** A connection whose peer acknowledged "aaaa" with a zero window while "bbbb" waits to be sent. */
  function closedWindow(): TcpConn {
    const c = open();
    c.sock.send(Buffer.from('aaaa'));
    c.expect({ flags: 'PA', data: 'aaaa' });
    c.send('A', '', { window: 0 });
    c.sock.send(Buffer.from('bbbb'));
    return c;
  }

  nets.it('nothing is sent into a zero window; a probe (ACK, seq snd_una - 1, no data) comes after the RTO; TCPWinProbe counts it', () => {
    const before = mibCounters('netstat');
    const c = closedWindow();
    const [probe] = segments(c, 450);
    assert.deepEqual(probe && { seq: probe.seq, ack: probe.ack, flags: probe.flags, len: probe.len }, { seq: (c.kernelNxt - 1) >>> 0, ack: c.peerNxt, flags: 'A', len: 0 });
    assert.equal(delta(before, 'TcpExt.TCPWinProbe'), 1);
    c.reset();
    c.sock.close();
  });

  nets.it('the window reopening sends the waiting data at once', () => {
    const c = closedWindow();
    expectNone(c.n, { timeoutMs: 100 });
    c.send('A', '', { window: 1000 });
    c.expect({ flags: 'PA', data: 'bbbb' });
    c.reset();
    c.sock.close();
  });

  nets.it('unanswered probes back off: each gap about twice the one before', () => {
    const c = closedWindow();
    const got = segments(c, 1600);
    assert.ok(got.length >= 3, `${got.length} probes`);
    const g1 = got[1]!.at - got[0]!.at;
    const g2 = got[2]!.at - got[1]!.at;
    assert.ok(g2 > 1.5 * g1 && g2 < 2.5 * g1, `gaps ${g1} and ${g2} ms`);
    c.reset();
    c.sock.close();
  });

  nets.it('net.ipv4.tcp_retries2 = 2: exactly two unanswered probes, then the connection is aborted (ETIMEDOUT, no RST)', () => {
    nets.sysctl('net.ipv4.tcp_retries2', 2);
    const c = closedWindow();
    const got = segments(c, 2000);
    assert.deepEqual(got.map((s) => s.flags), ['A', 'A']);
    assert.throws(() => c.sock.recv({ timeoutMs: 0 }), errno('ETIMEDOUT'));
    c.sock.close();
    nets.sysctl('net.ipv4.tcp_retries2', 15);
  });

  nets.it('net.ipv4.tcp_retries2 = 2, probes answered with the window still zero: probing goes on past two (RFC 1122 4.2.2.17)', () => {
    nets.sysctl('net.ipv4.tcp_retries2', 2);
    const c = closedWindow();
    for (let i = 0; i < 4; i++) {
      const [p] = segments(c, 1000);
      assert.equal(p?.flags, 'A', `probe ${i + 1}`);
      c.send('A', '', { window: 0 });
    }
    assert.equal(c.sock.pendingError(), 0);
    c.reset();
    c.sock.close();
    nets.sysctl('net.ipv4.tcp_retries2', 15);
  });

  // The first probe starts the clock; the next timer is clamped to what is left of the timeout.
  for (const [timeout, probes] of [[300, 1], [1000, 2]] as const) {
    nets.it(`TCP_USER_TIMEOUT ${timeout} ms: exactly ${probes} probe${probes > 1 ? 's' : ''}, then ETIMEDOUT`, () => {
      const c = closedWindow();
      c.sock.setOption(SOL_TCP, TCP_USER_TIMEOUT, timeout);
      const got = segments(c, timeout + 900);
      assert.deepEqual(got.map((s) => s.flags), Array.from({ length: probes }, () => 'A'));
      assert.throws(() => c.sock.recv({ timeoutMs: 0 }), errno('ETIMEDOUT'));
      c.sock.close();
    });
  }
});
