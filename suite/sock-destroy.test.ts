// SOCK_DESTROY (inet_diag, net/ipv4/tcp.c tcp_abort()) on TCP sockets in every state it treats
// differently, over IPv4 and IPv6: which states answer with a RST on the wire (tcp_need_reset():
// ESTABLISHED, CLOSE_WAIT, FIN_WAIT1, FIN_WAIT2) and which go silently (CLOSING, LAST_ACK,
// TIME_WAIT, a request socket in SYN_RECV); what the owner of the socket sees; lookups by family
// (a dual-stack socket with an IPv4 peer is found as AF_INET and as AF_INET6 with ::ffff:
// addresses); a second destroy; the capability check; UDP over IPv6. sockdiag.test.ts has the
// IPv4 established, listener, SYN_SENT and UDP cases.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6 } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { asUser } from '../src/lib/creds.js';
import { openSockDiag, type DiagSocket, type SockDiag, type SocketId } from '../src/lib/netlink/sockdiag.js';
import { acceptFromWire, type TcpConn } from '../src/lib/tcp-peer.js';
import { tcpSocket, udpSocket } from '../src/lib/socket.js';
import { isSysError, type ErrnoCode } from '../src/lib/sys/index.js';
import { ipv4, ipv6, layer, tcp } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });

const errno = (code: ErrnoCode) => (e: unknown): boolean => {
  if (isSysError(e, code)) return true;
  throw e;
};

function withDiag<T>(fn: (d: SockDiag) => T): T {
  const d = openSockDiag();
  try {
    return fn(d);
  } finally {
    d.close();
  }
}

/** Whether this kernel has CONFIG_INET_DIAG_DESTROY (a UDP socket destroyed, or EOPNOTSUPP). */
let destroyable: boolean | undefined;
function probeDestroy(): boolean {
  if (destroyable !== undefined) return destroyable;
  const u = udpSocket(4);
  try {
    u.bind('127.0.0.1:0');
    withDiag((d) => d.destroy({ family: 'inet', protocol: 'udp', src: '127.0.0.1', sport: u.localAddress().port, dst: '0.0.0.0', dport: 0 }));
    destroyable = true;
  } catch (e) {
    if (!isSysError(e, 'EOPNOTSUPP')) throw e;
    destroyable = false;
  } finally {
    u.close();
  }
  return destroyable;
}

/** A case that needs SOCK_DESTROY: skipped, with the reason, on a kernel without it. */
function it(name: string, fn: () => void): void {
  nets.it(name, (t) => {
    if (!probeDestroy()) return t.skip('kernel built without CONFIG_INET_DIAG_DESTROY (SOCK_DESTROY answers EOPNOTSUPP)');
    fn();
  });
}

let nextPort = 300;
const open = (family: 4 | 6): TcpConn => acceptFromWire(nets.net(1), { port: nextPort++, family });

const idOf = (c: TcpConn): SocketId => ({ family: c.family === 4 ? 'inet' : 'inet6', protocol: 'tcp', src: c.local, sport: c.port, dst: c.remote, dport: c.peerPort });

/** This connection as the TCP dump of its family lists it (none, or one entry). */
function listed(c: TcpConn): DiagSocket[] {
  return withDiag((d) => d.dump({ family: c.family === 4 ? 'inet' : 'inet6', protocol: 'tcp' })).filter((s) => s.sport === c.port && s.dport === c.peerPort);
}

const state = (c: TcpConn): string => listed(c).map((s) => String(s.state)).join(',');

/** Bring the connection to `st` from ESTABLISHED, with the wire checked at each step. */
function drive(c: TcpConn, st: string): void {
  switch (st) {
    case 'established':
      return;
    case 'close_wait':
      c.send('FA');
      c.expect({ flags: 'A' });
      return;
    case 'fin_wait1':
      c.sock.shutdown('write');
      c.expect({ flags: 'FA' });
      return;
    case 'fin_wait2':
      c.sock.shutdown('write');
      c.expect({ flags: 'FA' });
      c.send('A');
      return;
    case 'closing':
      c.sock.shutdown('write');
      c.expect({ flags: 'FA' });
      c.send('FA', '', { ack: (c.kernelNxt - 1) >>> 0 }); // the peer's FIN crossed ours
      c.expect({ flags: 'A' });
      return;
    case 'last_ack':
      c.send('FA');
      c.expect({ flags: 'A' });
      c.sock.shutdown('write');
      c.expect({ flags: 'FA' });
      return;
    case 'time_wait':
      c.sock.shutdown('write');
      c.expect({ flags: 'FA' });
      c.send('FA');
      c.expect({ flags: 'A' });
      return;
  }
}

// tcp_need_reset(): these four send a RST-ACK (seq snd_nxt, FIN included; ack rcv_nxt, FIN included).
const STATES: [string, boolean][] = [
  ['established', true], ['close_wait', true], ['fin_wait1', true], ['fin_wait2', true],
  ['closing', false], ['last_ack', false], ['time_wait', false],
];

for (const family of [4, 6] as const) {
  describe(`TCP over IPv${family}, by state`, () => {
    for (const [st, rst] of STATES) {
      it(`${st.toUpperCase()}: ${rst ? 'a RST-ACK with the exact sequence numbers' : 'nothing on the wire'}; the socket leaves the dump${st === 'time_wait' ? '' : ' and its owner reads ECONNABORTED'}`, () => {
        const c = open(family);
        drive(c, st);
        assert.equal(state(c), st);
        withDiag((d) => d.destroy(idOf(c)));
        if (rst) c.expect({ flags: 'RA' });
        else expectNone(c.n, { timeoutMs: 100 });
        assert.equal(state(c), '');
        if (st !== 'time_wait') {
          assert.equal(c.sock.pendingError(), 103 /* ECONNABORTED */);
          assert.throws(() => c.sock.send(Buffer.from('x')), errno('EPIPE'));
        }
        c.sock.close();
        expectNone(c.n, { timeoutMs: 50 });
      });
    }

    it('SYN_RECV (a request socket): nothing on the wire; the request is gone, so the peer\'s ACK gets a bare RST and accept() finds nothing', () => {
      const n = nets.net(1);
      const port = nextPort++;
      const l = tcpSocket(family);
      try {
        l.setMark(n.mark);
        l.bind(family === 4 ? `${n.addr4}:${port}` : `[${n.addr6}]:${port}`);
        l.listen();
        const [to, from] = family === 4
          ? [ipv4({ src: REMOTE4, dst: n.addr4 }), ipv4({ src: n.addr4, dst: REMOTE4, df: true, ttl: 64 })]
          : [ipv6({ src: REMOTE6, dst: n.addr6 }), ipv6({ src: n.addr6, dst: REMOTE6, hlim: 64 })];
        inject(n, [to, tcp({ sport: 40000, dport: port, seq: 1000, flags: 'S', window: 65535, options: [{ kind: 'mss', value: 1460 }] })]);
        const sa = expectPacket(n, [from, tcp({ sport: port, dport: 40000, ack: 1001, flags: 'SA' })], { ignore: ['ipv4.id', 'tcp.seq', 'tcp.window', 'tcp.options'] });
        const iss = layer(sa, 'tcp')!.seq;
        const fam = family === 4 ? 'inet' : 'inet6';
        const req = (): DiagSocket[] => withDiag((d) => d.dump({ family: fam, protocol: 'tcp', states: ['syn_recv'] })).filter((s) => s.sport === port);
        assert.equal(req().length, 1);
        withDiag((d) => d.destroy({ family: fam, protocol: 'tcp', src: family === 4 ? n.addr4 : n.addr6, sport: port, dst: family === 4 ? REMOTE4 : REMOTE6, dport: 40000 }));
        expectNone(n, { timeoutMs: 100 });
        assert.equal(req().length, 0);
        inject(n, [to, tcp({ sport: 40000, dport: port, seq: 1001, ack: (iss + 1) >>> 0, flags: 'A', window: 65535 })]);
        expectPacket(n, [from, tcp({ sport: port, dport: 40000, seq: (iss + 1) >>> 0, ack: 0, flags: 'R', window: 0 })], { ignore: ['ipv4.id'] });
        assert.throws(() => l.accept({ timeoutMs: 50 }), errno('EAGAIN'));
      } finally {
        l.close();
      }
    });

    it('a second SOCK_DESTROY of the same connection is ENOENT, and nothing more is sent', () => {
      const c = open(family);
      withDiag((d) => d.destroy(idOf(c)));
      c.expect({ flags: 'RA' });
      assert.throws(() => withDiag((d) => d.destroy(idOf(c))), errno('ENOENT'));
      expectNone(c.n, { timeoutMs: 50 });
      c.sock.close();
    });

    it('without CAP_NET_ADMIN (uid 20001): EPERM, and the connection goes on', () => {
      const c = open(family);
      assert.throws(() => asUser(20001, () => withDiag((d) => d.destroy(idOf(c)))), errno('EPERM'));
      assert.equal(state(c), 'established');
      c.sock.send(Buffer.from('alive'));
      c.expect({ flags: 'PA', data: 'alive' });
      c.reset();
      c.sock.close();
    });
  });
}

describe('lookups by family', () => {
  it('an IPv4 connection accepted by a dual-stack IPv6 listener is found as AF_INET and as AF_INET6 (::ffff:); either destroys it with an IPv4 RST-ACK', () => {
    for (const how of ['inet', 'inet6'] as const) {
      const c = acceptFromWire(nets.net(1), { port: nextPort++, family: 4, listenAddress: '::' });
      const id: SocketId = how === 'inet'
        ? { family: 'inet', protocol: 'tcp', src: c.local, sport: c.port, dst: REMOTE4, dport: c.peerPort }
        : { family: 'inet6', protocol: 'tcp', src: `::ffff:${c.local}`, sport: c.port, dst: `::ffff:${REMOTE4}`, dport: c.peerPort };
      assert.equal(withDiag((d) => d.lookup(id)).family, 'inet6', `${how}: the socket is an AF_INET6 one`);
      withDiag((d) => d.destroy(id));
      c.expect({ flags: 'RA' });
      assert.equal(c.sock.pendingError(), 103 /* ECONNABORTED */);
      c.sock.close();
    }
  });

  it('an IPv6 connection is not found as AF_INET with its port pair (ENOENT), and stays up', () => {
    const c = open(6);
    assert.throws(() => withDiag((d) => d.destroy({ family: 'inet', protocol: 'tcp', src: nets.net(1).addr4, sport: c.port, dst: REMOTE4, dport: c.peerPort })), errno('ENOENT'));
    assert.equal(state(c), 'established');
    c.reset();
    c.sock.close();
  });

  it('UDP over IPv6: a bound socket\'s next receive fails ECONNABORTED and it stays hashed at its explicit port', () => {
    const u = udpSocket(6);
    try {
      u.bind('[::1]:5356');
      withDiag((d) => d.destroy({ family: 'inet6', protocol: 'udp', src: '::1', sport: 5356, dst: '::', dport: 0 }));
      assert.throws(() => u.recv({ timeoutMs: 100 }), errno('ECONNABORTED'));
      assert.deepEqual(withDiag((d) => d.dump({ family: 'inet6', protocol: 'udp' })).filter((s) => s.sport === 5356).map((s) => `${s.src}/${String(s.state)}`), ['::1/close']);
    } finally {
      u.close();
    }
  });
});
