// TCP Fast Open as a client (RFC 7413), seen from the wire: the test plays the server on network 1.
// A first sendto(MSG_FASTOPEN) has no cookie cached, so the SYN asks for one (an empty Fast Open
// option, kind 34: 6.1 only falls back to the experimental 254/0xF989 form after a server ignored
// the request, tcp_rcv_fastopen_synack's try_exp) and carries no data; the SYN-ACK's cookie lands in
// the tcp_metrics cache, and the next connection's SYN carries the cookie and the data
// (tcp_send_syn_data). A SYN-ACK that acknowledges only the SYN makes the kernel retransmit the
// data at once. Timestamps are off so every field but the initial sequence number is predictable.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject, nextPacket } from '../src/lib/expect.js';
import { openTcpMetrics } from '../src/lib/netlink/genl.js';
import { tcpSocket, type Socket } from '../src/lib/socket.js';
import { errnoIs, K } from '../src/lib/sys/index.js';
import { mibDelta } from '../src/lib/mib.js';
import { closeSilently } from '../src/lib/tcp-repair.js';
import { diff, ipv4, layer, raw, summary, tcp, type Layer, type TcpOption } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });

const SERVER_PORT = 443;
const COOKIE = Buffer.from('c00c1e5a1e5ac00c', 'hex');
const SERVER_MSS = 1400;
/** The earliest a retransmission timer armed with TCP_RTO_MIN (HZ/5) fires at HZ=100: 20 jiffies, less the one it was armed in. */
const EARLIEST_RTO_MS = 200 - 10;

before(() => {
  nets.sysctl('net.ipv4.tcp_timestamps', 0);
  nets.sysctl('net.ipv4.tcp_rmem', '4096\t131072\t6291456');
  nets.sysctl('net.ipv4.tcp_fastopen', K.TFO_CLIENT_ENABLE);
  // Never switch active Fast Open off for "middlebox" symptoms (tcp_fastopen_active_disable).
  nets.sysctl('net.ipv4.tcp_fastopen_blackhole_timeout_sec', 0);
});

/** Options of a client SYN, timestamps off (tcp_options_write order), then the Fast Open option padded with two NOPs. */
function synOptions(cookie: Uint8Array): TcpOption[] {
  return [
    { kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'sackOk' }, { kind: 'nop' }, { kind: 'wscale', shift: 7 },
    { kind: 'fastOpen', cookie }, { kind: 'nop' }, { kind: 'nop' },
  ];
}

const out = (n: Network): Layer => ipv4({ src: n.addr4, dst: REMOTE4, df: true, ttl: 64 });
const inward = (n: Network): Layer => ipv4({ src: REMOTE4, dst: n.addr4 });
// A connected TCP socket's IPv4 id counter starts at a random value (inet_id); the initial
// sequence number is random by design.
const IGNORE = ['ipv4.id', 'tcp.seq'];

function client(n: Network, port: number): Socket<'inet'> {
  const s = tcpSocket(4);
  s.setMark(n.mark);
  s.bind(`${n.addr4}:${port}`);
  s.setNonBlocking(true);
  return s;
}

/** Fresh cookie cache for each case: the tcp_metrics entries of this namespace. */
function flushCache(): void {
  const tm = openTcpMetrics();
  try {
    tm.flush();
  } finally {
    tm.close();
  }
}

function cached(): { cookie?: Buffer; mss?: number } | undefined {
  const tm = openTcpMetrics();
  try {
    const e = tm.list().find((x) => x.addr === REMOTE4);
    return e && { cookie: e.fopenCookie, mss: e.fopenMss };
  } finally {
    tm.close();
  }
}

/** End a connection from the wire with an in-sequence RST (no retransmissions left behind). */
function resetFromWire(n: Network, port: number, seq: number): void {
  inject(n, [inward(n), tcp({ sport: SERVER_PORT, dport: port, seq, flags: 'R', window: 0 })]);
}

/**
 * The cookie exchange: sendto(MSG_FASTOPEN) without a cached cookie sends the cookie-request SYN
 * (no data, EINPROGRESS), our SYN-ACK hands out COOKIE, the kernel completes the handshake.
 */
function learnCookie(n: Network, port: number): void {
  const s = client(n, port);
  try {
    assert.throws(() => s.sendTo(Buffer.from('first'), { address: REMOTE4, port: SERVER_PORT }, K.MSG_FASTOPEN), errnoIs('EINPROGRESS'));
    const syn = expectPacket(n, [out(n), tcp({ sport: port, dport: SERVER_PORT, flags: 'S', window: 64240, options: synOptions(new Uint8Array(0)) })], { ignore: IGNORE });
    const iss = layer(syn, 'tcp')!.seq;
    inject(n, [inward(n), tcp({
      sport: SERVER_PORT, dport: port, seq: 7000, ack: iss + 1, flags: 'SA', window: 65535,
      options: [{ kind: 'mss', value: SERVER_MSS }, { kind: 'fastOpen', cookie: COOKIE }, { kind: 'nop' }, { kind: 'nop' }],
    })]);
    expectPacket(n, [out(n), tcp({ sport: port, dport: SERVER_PORT, seq: iss + 1, ack: 7001, flags: 'A', window: 64240 })], { ignore: ['ipv4.id'] });
    resetFromWire(n, port, 7001);
  } finally {
    closeSilently(s);
  }
}

describe('TCP Fast Open (client side)', () => {
  nets.it('without the client bit in tcp_fastopen, sendto(MSG_FASTOPEN) fails EOPNOTSUPP and sends nothing', () => {
    const n = nets.net(1);
    nets.sysctl('net.ipv4.tcp_fastopen', 0);
    const s = client(n, 41000);
    try {
      assert.throws(() => s.sendTo(Buffer.from('x'), { address: REMOTE4, port: SERVER_PORT }, K.MSG_FASTOPEN), errnoIs('EOPNOTSUPP'));
      expectNone(n, { timeoutMs: 200 });
    } finally {
      s.close();
      nets.sysctl('net.ipv4.tcp_fastopen', K.TFO_CLIENT_ENABLE);
    }
  });

  nets.it('no cookie cached: the SYN carries an empty Fast Open option (kind 34) and no data; the SYN-ACK cookie is cached in tcp_metrics', () => {
    const n = nets.net(1);
    flushCache();
    assert.equal(cached(), undefined);
    learnCookie(n, 41001);
    const c = cached();
    assert.deepEqual(c?.cookie, COOKIE);
    assert.equal(c?.mss, SERVER_MSS, 'the MSS of the SYN-ACK is cached with the cookie');
  });

  nets.it('cookie cached: the SYN carries the cookie and the data; a SYN-ACK acknowledging the data gets a bare ACK', () => {
    const n = nets.net(1);
    flushCache();
    learnCookie(n, 41002);
    const port = 41003;
    const s = client(n, port);
    try {
      // With data in the SYN a non-blocking sendto returns the bytes it queued, not EINPROGRESS.
      assert.equal(s.sendTo(Buffer.from('hello'), { address: REMOTE4, port: SERVER_PORT }, K.MSG_FASTOPEN), 5);
      const syn = expectPacket(n, [out(n), tcp({ sport: port, dport: SERVER_PORT, flags: 'S', window: 64240, options: synOptions(COOKIE) }), raw('hello')], { ignore: IGNORE });
      const iss = layer(syn, 'tcp')!.seq;
      inject(n, [inward(n), tcp({ sport: SERVER_PORT, dport: port, seq: 9000, ack: iss + 6, flags: 'SA', window: 65535, options: [{ kind: 'mss', value: SERVER_MSS }] })]);
      expectPacket(n, [out(n), tcp({ sport: port, dport: SERVER_PORT, seq: iss + 6, ack: 9001, flags: 'A', window: 64240 })], { ignore: ['ipv4.id'] });
      expectNone(n, { timeoutMs: 200 });
      // The server's SYN-ACK without a cookie leaves the cached one alone.
      assert.deepEqual(cached()?.cookie, COOKIE);
      resetFromWire(n, port, 9001);
    } finally {
      closeSilently(s);
    }
  });

  nets.it('cookie cached: a SYN-ACK acknowledging only the SYN makes the kernel retransmit the data at once', () => {
    const n = nets.net(1);
    flushCache();
    learnCookie(n, 41004);
    const port = 41005;
    const s = client(n, port);
    try {
      assert.equal(s.sendTo(Buffer.from('again'), { address: REMOTE4, port: SERVER_PORT }, K.MSG_FASTOPEN), 5);
      const syn = expectPacket(n, [out(n), tcp({ sport: port, dport: SERVER_PORT, flags: 'S', window: 64240, options: synOptions(COOKIE) }), raw('again')], { ignore: IGNORE });
      const iss = layer(syn, 'tcp')!.seq;
      // "At once" means before the retransmission timer could fire: the SYN-ACK arms it with
      // icsk_rto, at least TCP_RTO_MIN (HZ/5, 200 ms; include/net/tcp.h), from the jiffy it arrives
      // in, so no sooner than 200 ms less one jiffy (10 ms at UML's HZ=100) after it. The test
      // runs in the guest, so performance.now() is the guest clock the kernel's timers follow
      // (with or without time travel); TcpExt.TCPTimeouts (tcp_retransmit_timer) must not move.
      const timeouts = mibDelta('netstat', ['TcpExt.TCPTimeouts'], () => {
        const synAckAt = performance.now();
        inject(n, [inward(n), tcp({ sport: SERVER_PORT, dport: port, seq: 9000, ack: iss + 1, flags: 'SA', window: 65535, options: [{ kind: 'mss', value: SERVER_MSS }] })]);
        // tcp_rcv_fastopen_synack marks the SYN data lost and retransmits it (ACK|PSH): that segment,
        // the very next one on the wire, acknowledges the SYN-ACK; no separate ACK goes out.
        const next = nextPacket(n, () => true, { what: 'segment after the SYN-ACK' });
        const after = performance.now() - synAckAt;
        const retransmit = [out(n), tcp({ sport: port, dport: SERVER_PORT, seq: iss + 1, ack: 9001, flags: 'PA', window: 64240 }), raw('again')];
        assert.deepEqual(diff(next.frame.subarray(14), retransmit, { ignore: ['ipv4.id'] }), [], `the data again, got ${summary(next.packet)}`);
        assert.ok(after < EARLIEST_RTO_MS, `retransmitted ${after.toFixed(1)} ms (guest clock) after the SYN-ACK: not before the RTO timer could fire (${EARLIEST_RTO_MS} ms)`);
        // Acknowledged now, so the retransmission timer has nothing left to send.
        inject(n, [inward(n), tcp({ sport: SERVER_PORT, dport: port, seq: 9001, ack: iss + 6, flags: 'A', window: 65535 })]);
        expectNone(n, { timeoutMs: 200 });
      });
      assert.deepEqual(timeouts, { 'TcpExt.TCPTimeouts': 0 }, 'no retransmission timeout');
      resetFromWire(n, port, 9001);
    } finally {
      closeSilently(s);
    }
  });

  nets.it('TCP_FASTOPEN_CONNECT with a cookie cached: connect() returns at once and sends nothing; the first write sends SYN, cookie and data', () => {
    const n = nets.net(1);
    flushCache();
    learnCookie(n, 41006);
    const port = 41007;
    const s = client(n, port);
    try {
      s.setOption(K.SOL_TCP, K.TCP_FASTOPEN_CONNECT, 1);
      s.connect({ address: REMOTE4, port: SERVER_PORT }); // no EINPROGRESS: the connect is deferred
      expectNone(n, { timeoutMs: 200 });
      assert.equal(s.send(Buffer.from('late')), 4);
      const syn = expectPacket(n, [out(n), tcp({ sport: port, dport: SERVER_PORT, flags: 'S', window: 64240, options: synOptions(COOKIE) }), raw('late')], { ignore: IGNORE });
      const iss = layer(syn, 'tcp')!.seq;
      inject(n, [inward(n), tcp({ sport: SERVER_PORT, dport: port, seq: 9000, ack: iss + 5, flags: 'SA', window: 65535, options: [{ kind: 'mss', value: SERVER_MSS }] })]);
      expectPacket(n, [out(n), tcp({ sport: port, dport: SERVER_PORT, seq: iss + 5, ack: 9001, flags: 'A', window: 64240 })], { ignore: ['ipv4.id'] });
      resetFromWire(n, port, 9001);
    } finally {
      closeSilently(s);
    }
  });

  nets.it('TCP_FASTOPEN_CONNECT without a cookie: connect() sends the cookie-request SYN at once (EINPROGRESS)', () => {
    const n = nets.net(1);
    flushCache();
    const port = 41008;
    const s = client(n, port);
    try {
      s.setOption(K.SOL_TCP, K.TCP_FASTOPEN_CONNECT, 1);
      assert.throws(() => s.connect({ address: REMOTE4, port: SERVER_PORT }), errnoIs('EINPROGRESS'));
      const syn = expectPacket(n, [out(n), tcp({ sport: port, dport: SERVER_PORT, flags: 'S', window: 64240, options: synOptions(new Uint8Array(0)) })], { ignore: IGNORE });
      // Refused: the kernel answers nothing to a RST-ACK in SYN_SENT.
      inject(n, [inward(n), tcp({ sport: SERVER_PORT, dport: port, seq: 0, ack: layer(syn, 'tcp')!.seq + 1, flags: 'RA', window: 0 })]);
      expectNone(n, { timeoutMs: 200 });
    } finally {
      closeSilently(s);
    }
  });
});
