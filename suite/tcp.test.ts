// TCP driven from the wire: the test plays the remote peer on network 1, injecting segments and
// checking every segment the kernel answers with, packetdrill style. Timestamps are off so every
// header field but the kernel's random initial sequence number is predictable.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { procNetSockets } from '../src/lib/procnet.js';
import { type Socket } from '../src/lib/socket.js';
import { listenOn, tcpPeer, type TcpPeer } from '../src/lib/tcp-peer.js';
import { errnoIs, K } from '../src/lib/sys/index.js';
import { ipv4, layer, raw, tcp, type Layer, type TcpOption } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 2 });
const SRC_RULE_PRIO = 50;

before(() => {
  nets.sysctl('net.ipv4.tcp_timestamps', 0);
  nets.sysctl('net.ipv4.tcp_rmem', '4096\t131072\t6291456');
  // Replies the kernel sends for no socket (resets) carry no mark: route them by source address.
  for (const n of nets.all) nets.addRule({ family: 'inet', priority: SRC_RULE_PRIO + n.id, src: `${n.addr4}/32`, table: n.table });
});

const PEER_PORT = 40000;
const MSS_OPT: TcpOption[] = [{ kind: 'mss', value: 1460 }];

interface Conn {
  n: Network;
  listener: Socket<'inet'>;
  sock: Socket<'inet'>;
  /** The remote end on the wire: both sides' sequence numbers, relative to their ISNs. */
  peer: TcpPeer;
}

function ip(n: Network, toKernel: boolean): Layer {
  return toKernel ? ipv4({ src: REMOTE4, dst: n.addr4 }) : ipv4({ src: n.addr4, dst: REMOTE4, df: true, ttl: 64 });
}

/** Three-way handshake from the wire; returns the accepted socket and the peer that did it. */
function passiveOpen(n: Network, port: number, peerPort = PEER_PORT): Conn {
  const listener = listenOn(n, port);
  const peer = tcpPeer(n, { kernel: { address: n.addr4, port }, peer: { address: REMOTE4, port: peerPort }, isn: 1000 });
  peer.send('S', { options: MSS_OPT });
  peer.expect('SA', { window: 64240, options: MSS_OPT });
  peer.send('A');
  const { socket, peer: from } = listener.accept({ timeoutMs: 1000 });
  assert.deepEqual(from, { family: 'inet', address: REMOTE4, port: peerPort });
  return { n, listener, sock: socket, peer };
}

/** End a connection without leaving retransmissions on the wire: the peer resets it first. */
function close(c: Conn): void {
  c.peer.send('R', { window: 0 });
  c.sock.close();
  c.listener.close();
}

/**
 * What the kernel sends on the connection, IPv4 id aside (per-socket counter, random start).
 * The default window is the initial 64240 less what the peer has sent since the handshake: the
 * kernel never shrinks the right edge it advertised (tcp_select_window), so queued bytes and a
 * FIN use it up.
 */
function expectSeg(c: Conn, f: { flags: string; window?: number; data?: string }): Layer[] {
  return c.peer.expect(f.flags, { window: f.window ?? 64240 - (c.peer.sndNxt - 1), ...(f.data ? { data: f.data } : {}) });
}

function send(c: Conn, flags: string, data = ''): void {
  c.peer.send(flags, { data });
}

describe('passive open', () => {
  nets.it('SYN gets the exact SYN-ACK; the ACK completes the handshake and accept() returns the peer', () => {
    const c = passiveOpen(nets.net(1), 80);
    const row = procNetSockets('tcp').find((r) => r.local.port === 80 && r.remote.port === PEER_PORT);
    assert.equal(row?.stateName, 'ESTABLISHED');
    assert.deepEqual(row?.remote, { address: REMOTE4, port: PEER_PORT });
    close(c);
  });

  nets.it('an accepted socket inherits the listener mark and answers on the same network', () => {
    const c = passiveOpen(nets.net(2), 81);
    assert.equal(c.sock.getIntOption(K.SOL_SOCKET, K.SO_MARK), c.n.mark);
    c.sock.send(Buffer.from('x'));
    expectSeg(c, { flags: 'PA', data: 'x' });
    expectNone(nets.net(1), { timeoutMs: 30 });
    close(c);
  });
});

describe('data', () => {
  nets.it('data from the wire is ACKed and delivered; data sent goes out with PSH', () => {
    const c = passiveOpen(nets.net(1), 82);
    send(c, 'PA', 'hello');
    expectSeg(c, { flags: 'A' });
    assert.equal(c.sock.recv({ timeoutMs: 1000 }).toString(), 'hello');
    c.sock.send(Buffer.from('world'));
    expectSeg(c, { flags: 'PA', data: 'world' });
    send(c, 'A');
    expectNone(c.n, { timeoutMs: 100 });
    close(c);
  });

  nets.it('an out-of-window segment is answered by a duplicate ACK and not delivered', () => {
    const c = passiveOpen(nets.net(1), 83);
    c.peer.send('PA', { seq: c.peer.sndNxt + 200000, data: 'zzz' }); // far beyond the 64240-byte window
    expectSeg(c, { flags: 'A' });
    assert.throws(() => c.sock.recv({ timeoutMs: 100 }), errnoIs('EAGAIN'));
    close(c);
  });
});

describe('connection teardown', () => {
  nets.it('active close: FIN, the peer FIN-ACK, our last ACK, then TIME_WAIT in /proc/net/tcp', () => {
    const c = passiveOpen(nets.net(1), 84);
    c.sock.close();
    expectSeg(c, { flags: 'FA' });
    send(c, 'FA');
    expectSeg(c, { flags: 'A' });
    const row = procNetSockets('tcp').find((r) => r.local.port === 84 && r.remote.port === PEER_PORT);
    assert.equal(row?.stateName, 'TIME_WAIT');
    c.listener.close();
  });

  nets.it('passive close: the peer FIN is ACKed, read() sees EOF, our close sends FIN (LAST_ACK)', () => {
    const c = passiveOpen(nets.net(1), 85);
    send(c, 'FA');
    expectSeg(c, { flags: 'A' });
    assert.equal(c.sock.recv({ timeoutMs: 1000 }).length, 0);
    assert.equal(procNetSockets('tcp').find((r) => r.local.port === 85 && r.remote.port === PEER_PORT)?.stateName, 'CLOSE_WAIT');
    c.sock.close();
    expectSeg(c, { flags: 'FA' });
    assert.equal(procNetSockets('tcp').find((r) => r.local.port === 85 && r.remote.port === PEER_PORT)?.stateName, 'LAST_ACK');
    send(c, 'A');
    expectNone(c.n, { timeoutMs: 100 });
    assert.equal(procNetSockets('tcp').find((r) => r.local.port === 85 && r.remote.port === PEER_PORT), undefined);
    c.listener.close();
  });

  nets.it('closing with unread data sends RST instead of FIN', () => {
    const c = passiveOpen(nets.net(1), 86);
    send(c, 'PA', 'unread');
    expectSeg(c, { flags: 'A' });
    c.sock.close();
    // tcp_send_active_reset() goes through tcp_transmit_skb(): the usual window, not 0.
    expectSeg(c, { flags: 'RA' });
    c.listener.close();
  });

  nets.it('an RST from the peer makes the next read fail with ECONNRESET', () => {
    const c = passiveOpen(nets.net(1), 87);
    send(c, 'R');
    assert.throws(() => c.sock.recv({ timeoutMs: 1000 }), errnoIs('ECONNRESET'));
    expectNone(c.n, { timeoutMs: 100 });
    close(c);
  });
});

describe('resets and cookies', () => {
  nets.it('a SYN to a closed port is answered by RST-ACK acknowledging the SYN', () => {
    const n = nets.net(1);
    inject(n, [ip(n, true), tcp({ sport: 40100, dport: 9, seq: 5000, flags: 'S', window: 65535 })]);
    expectPacket(n, [ip(n, false), tcp({ sport: 9, dport: 40100, seq: 0, ack: 5001, flags: 'RA', window: 0 })], { ignore: ['ipv4.id'] });
  });

  nets.it('an ACK to a closed port is answered by a bare RST with its ack as sequence number', () => {
    const n = nets.net(2);
    inject(n, [ip(n, true), tcp({ sport: 40101, dport: 9, seq: 5000, ack: 777, flags: 'A', window: 65535 })]);
    expectPacket(n, [ip(n, false), tcp({ sport: 9, dport: 40101, seq: 777, ack: 0, flags: 'R', window: 0 })], { ignore: ['ipv4.id'] });
  });

  nets.it('an RST to a closed port is not answered', () => {
    const n = nets.net(1);
    inject(n, [ip(n, true), tcp({ sport: 40102, dport: 9, seq: 5000, flags: 'R', window: 0 })]);
    expectNone(n, { timeoutMs: 150 });
  });

  nets.it('SYN cookies (tcp_syncookies=2): the cookie SYN-ACK, then the ACK carrying it establishes', () => {
    nets.sysctl('net.ipv4.tcp_syncookies', 2);
    try {
      const n = nets.net(1);
      const c = passiveOpen(n, 88);
      send(c, 'PA', 'cookie');
      expectSeg(c, { flags: 'A' });
      assert.equal(c.sock.recv({ timeoutMs: 1000 }).toString(), 'cookie');
      close(c);
    } finally {
      nets.sysctl('net.ipv4.tcp_syncookies', 1);
    }
  });

  for (const cookies of [1, 2] as const) {
    nets.it(`tcp_syncookies=${cookies}: after the SYN-ACK ${cookies === 2 ? 'no request socket is kept' : 'a SYN_RECV request socket is listed'}`, () => {
      // With cookies forced the state lives in the SYN-ACK's sequence number, not in a request sock.
      nets.sysctl('net.ipv4.tcp_syncookies', cookies);
      const n = nets.net(1);
      const port = 90 + cookies;
      const l = listenOn(n, port);
      try {
        inject(n, [ip(n, true), tcp({ sport: 40300, dport: port, seq: 1000, flags: 'S', window: 65535, options: MSS_OPT })]);
        expectPacket(n, [ip(n, false), tcp({ sport: port, dport: 40300, ack: 1001, flags: 'SA', window: 64240, options: MSS_OPT })], { ignore: ['tcp.seq', 'ipv4.id'] });
        const rows = procNetSockets('tcp').filter((r) => r.local.port === port && r.remote.port === 40300);
        assert.deepEqual(rows.map((r) => r.stateName), cookies === 2 ? [] : ['SYN_RECV']);
        inject(n, [ip(n, true), tcp({ sport: 40300, dport: port, seq: 1001, flags: 'R', window: 0 })]);
      } finally {
        l.close();
        nets.sysctl('net.ipv4.tcp_syncookies', 1);
      }
    });
  }

  nets.it('SYN cookies: an ACK with a forged cookie gets a RST and no connection', () => {
    nets.sysctl('net.ipv4.tcp_syncookies', 2);
    const n = nets.net(1);
    const l = listenOn(n, 89);
    try {
      inject(n, [ip(n, true), tcp({ sport: 40200, dport: 89, seq: 1000, ack: 12345, flags: 'A', window: 65535 })]);
      expectPacket(n, [ip(n, false), tcp({ sport: 89, dport: 40200, seq: 12345, ack: 0, flags: 'R', window: 0 })], { ignore: ['ipv4.id'] });
      assert.throws(() => l.accept({ timeoutMs: 100 }), errnoIs('EAGAIN'));
    } finally {
      l.close();
      nets.sysctl('net.ipv4.tcp_syncookies', 1);
    }
  });
});

describe('TCP Fast Open (server side)', () => {
  function tfoListener(n: Network, port: number): Socket<'inet'> {
    nets.sysctl('net.ipv4.tcp_fastopen', 3); // client and server
    // TCP_FASTOPEN on a listener: the queue length of pending TFO requests.
    return listenOn(n, port, { setup: (s) => s.setOption(K.SOL_TCP, K.TCP_FASTOPEN, 5) });
  }

  /** Ask for a cookie; returns the 8 bytes from the SYN-ACK (options: mss, fast open, nop, nop). */
  function requestCookie(n: Network, port: number, sport: number): Uint8Array {
    inject(n, [ip(n, true), tcp({ sport, dport: port, seq: 1000, flags: 'S', window: 65535, options: [...MSS_OPT, { kind: 'fastOpen', cookie: new Uint8Array(0) }] })]);
    const synack = expectPacket(n, [ip(n, false), tcp({
      sport: port, dport: sport, ack: 1001, flags: 'SA', window: 64240,
      options: [...MSS_OPT, { kind: 'fastOpen', cookie: new Uint8Array(8) }, { kind: 'nop' }, { kind: 'nop' }],
    })], { ignore: ['tcp.seq', 'ipv4.id', 'tcp.options[1].cookie'] }); // the cookie is a keyed hash
    const opt = layer(synack, 'tcp')!.options[1];
    assert.ok(opt?.kind === 'fastOpen' && opt.cookie.length === 8, 'an 8-byte cookie');
    inject(n, [ip(n, true), tcp({ sport, dport: port, seq: 1001, flags: 'R', window: 0 })]);
    return opt.cookie;
  }

  nets.it('a SYN with an empty Fast Open option gets a SYN-ACK carrying an 8-byte cookie', () => {
    const n = nets.net(1);
    const l = tfoListener(n, 95);
    try {
      requestCookie(n, 95, 40400);
    } finally {
      l.close();
      nets.sysctl('net.ipv4.tcp_fastopen', 1);
    }
  });

  nets.it('a SYN with the valid cookie and data: data delivered before the handshake completes, SYN-ACK acks it', () => {
    const n = nets.net(1);
    const l = tfoListener(n, 96);
    try {
      const cookie = requestCookie(n, 96, 40401);
      inject(n, [ip(n, true), tcp({ sport: 40402, dport: 96, seq: 2000, flags: 'S', window: 65535, options: [...MSS_OPT, { kind: 'fastOpen', cookie }] }), raw('tfo')]);
      expectPacket(n, [ip(n, false), tcp({ sport: 96, dport: 40402, ack: 2004, flags: 'SA', window: 64240, options: MSS_OPT })], { ignore: ['tcp.seq', 'ipv4.id'] });
      const { socket } = l.accept({ timeoutMs: 1000 });
      assert.equal(socket.recv({ timeoutMs: 1000 }).toString(), 'tfo');
      socket.close();
    } finally {
      l.close();
      nets.sysctl('net.ipv4.tcp_fastopen', 1);
    }
  });

  nets.it('a SYN with a wrong cookie and data: the data is not acknowledged, the valid cookie is returned', () => {
    const n = nets.net(1);
    const l = tfoListener(n, 97);
    try {
      const good = Buffer.from(requestCookie(n, 97, 40403));
      const cookie = Buffer.from(good);
      cookie[0] = cookie[0]! ^ 0xff;
      inject(n, [ip(n, true), tcp({ sport: 40404, dport: 97, seq: 3000, flags: 'S', window: 65535, options: [...MSS_OPT, { kind: 'fastOpen', cookie }] }), raw('bad')]);
      const synack = expectPacket(n, [ip(n, false), tcp({
        sport: 97, dport: 40404, ack: 3001, flags: 'SA', window: 64240,
        options: [...MSS_OPT, { kind: 'fastOpen', cookie: new Uint8Array(8) }, { kind: 'nop' }, { kind: 'nop' }],
      })], { ignore: ['tcp.seq', 'ipv4.id', 'tcp.options[1].cookie'] });
      // The cookie is a keyed hash of the addresses: the valid one comes back.
      const opt = layer(synack, 'tcp')!.options[1];
      assert.deepEqual(opt?.kind === 'fastOpen' ? Buffer.from(opt.cookie) : null, good);
      assert.throws(() => l.accept({ timeoutMs: 100 }), errnoIs('EAGAIN'));
      inject(n, [ip(n, true), tcp({ sport: 40404, dport: 97, seq: 3001, flags: 'R', window: 0 })]);
    } finally {
      l.close();
      nets.sysctl('net.ipv4.tcp_fastopen', 1);
    }
  });
});
