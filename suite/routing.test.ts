// Multi-network routing: the network a packet leaves on is chosen by policy rules matching the
// socket's fwmark, owner uid, bound device or IP(V6)_UNICAST_IF, for ping, TCP SYN, UDP and raw.
// Each case checks the exact packet on the chosen network and silence on the others.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6, PRIO_UID, UID_BASE, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { asUser } from '../src/lib/creds.js';
import { sysctl } from '../src/lib/sysctl.js';
import { openSocket, pingSocket, rawSocket, tcpSocket, udpSocket, type Socket } from '../src/lib/socket.js';
import { errnoIs } from '../src/lib/sys/index.js';
import { echoRequest4, echoRequest6, ipv4, ipv6, raw, tcp, udp, type Layer, type TcpOption } from '../src/lib/packet/index.js';

const nets = useNetworks();
before(() => {
  // Deterministic SYNs: no timestamps (their value is random), a fixed receive buffer ceiling
  // (it sets the window scale), and ping sockets allowed.
  nets.sysctl('net.ipv4.tcp_timestamps', 0);
  nets.sysctl('net.ipv4.tcp_rmem', '4096\t131072\t6291456');
  nets.sysctl('net.ipv4.ping_group_range', '0\t2147483647');
});

type Proto = 'ping' | 'udp' | 'tcp' | 'raw';
type Selector = 'mark' | 'uid' | 'oif' | 'unicastIf';
type V = 4 | 6;
type AnySocket = Socket<'inet'> | Socket<'inet6'>;

const EXPERIMENTAL_PROTO = 253; // RFC 3692 protocol number for experimentation
const DPORT = 9999;

function open(v: V, proto: Proto): AnySocket {
  switch (proto) {
    case 'ping':
      return v === 4 ? pingSocket(4) : pingSocket(6);
    case 'udp':
      return v === 4 ? udpSocket(4) : udpSocket(6);
    case 'tcp':
      return v === 4 ? openSocket('inet', 'stream', 0, { nonBlocking: true }) : openSocket('inet6', 'stream', 0, { nonBlocking: true });
    case 'raw':
      return v === 4 ? rawSocket(4, EXPERIMENTAL_PROTO) : rawSocket(6, EXPERIMENTAL_PROTO);
  }
}

function select(s: AnySocket, how: Selector, n: Network): void {
  switch (how) {
    case 'mark':
      s.setMark(n.mark);
      break;
    case 'uid':
      s.chown(n.uid);
      break;
    case 'oif':
      s.bindToDevice(n.ifname);
      break;
    case 'unicastIf':
      s.setUnicastIf(n.ifindex);
      break;
  }
}

const ECHO = (v: V): Buffer => {
  const b = Buffer.from('\x08\x00\x00\x00\x00\x00\x00\x2aping', 'latin1');
  if (v === 6) b[0] = 128;
  return b;
};

/** SYN options Linux 6.1 sends with timestamps off and SACK on (tcp_options_write order). */
function synOptions(mss: number): TcpOption[] {
  return [{ kind: 'mss', value: mss }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'sackOk' }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }];
}

/** Send one packet of the protocol to the remote target; returns the exact packet expected on n. */
function fire(s: AnySocket, v: V, proto: Proto, n: Network): { expected: Layer[]; ignore: string[] } {
  const dst = v === 4 ? REMOTE4 : REMOTE6;
  const ip = (): Layer => (v === 4 ? ipv4({ src: n.addr4, dst, df: true, ttl: 64 }) : ipv6({ src: n.addr6, dst, hlim: 64 }));
  // Unconnected IPv4 datagrams take a hashed IP id (__ip_select_ident); TCP a random one.
  const ignore = v === 4 ? ['ipv4.id'] : [];
  switch (proto) {
    case 'ping': {
      (s as Socket<'inet'>).sendTo(ECHO(v), dst);
      const id = s.localAddress().port;
      return { expected: [ip(), v === 4 ? echoRequest4({ id, seq: 42 }) : echoRequest6({ id, seq: 42 }), raw('ping')], ignore };
    }
    case 'udp': {
      (s as Socket<'inet'>).sendTo(Buffer.from('udp'), { address: dst, port: DPORT });
      return { expected: [ip(), udp({ sport: s.localAddress().port, dport: DPORT }), raw('udp')], ignore };
    }
    case 'raw': {
      (s as Socket<'inet'>).sendTo(Buffer.from('raw'), dst);
      const l = ip();
      if (l.type === 'ipv4') l.protocol = EXPERIMENTAL_PROTO;
      if (l.type === 'ipv6') l.nh = EXPERIMENTAL_PROTO;
      return { expected: [l, raw('raw')], ignore };
    }
    case 'tcp': {
      assert.throws(() => (s as Socket<'inet'>).connect({ address: dst, port: DPORT }), errnoIs('EINPROGRESS'));
      // The window is 65535 rounded down to a multiple of the MSS (tcp_select_initial_window).
      const mss = v === 4 ? 1460 : 1440;
      const window = Math.floor(65535 / mss) * mss;
      return {
        expected: [ip(), tcp({ sport: s.localAddress().port, dport: DPORT, flags: 'S', seq: 0, ack: 0, window, options: synOptions(mss) })],
        ignore: [...ignore, 'tcp.seq'], // the initial sequence number is random by design
      };
    }
  }
}

function others(n: Network): Network[] {
  return nets.all.filter((x) => x !== n);
}

const SELECTORS: Selector[] = ['mark', 'uid', 'oif', 'unicastIf'];
const PROTOS: Proto[] = ['ping', 'udp', 'tcp', 'raw'];

describe('outgoing packets leave on the selected network', () => {
  SELECTORS.forEach((how, si) => {
    PROTOS.forEach((proto, pi) => {
      for (const v of [4, 6] as const) {
        const id = ((si + pi + (v === 6 ? 1 : 0)) % 4) + 1;
        if (proto === 'tcp' && how === 'unicastIf') continue; // covered below: TCP ignores it
        nets.it(`${proto} IPv${v} selected by ${how} leaves on net${id}`, () => {
          const n = nets.net(id);
          const s = open(v, proto);
          try {
            select(s, how, n);
            const { expected, ignore } = fire(s, v, proto, n);
            expectPacket(n, expected, { ignore });
            for (const o of others(n)) expectNone(o, { timeoutMs: 20 });
          } finally {
            s.close();
          }
        });
      }
    });
  });

  for (const v of [4, 6] as const) {
    nets.it(`TCP IPv${v} ignores IP_UNICAST_IF: connect finds no route (ENETUNREACH)`, () => {
      const s = open(v, 'tcp');
      s.setUnicastIf(nets.net(1).ifindex);
      assert.throws(() => s.connect({ address: v === 4 ? REMOTE4 : REMOTE6, port: DPORT }), errnoIs('ENETUNREACH'));
      s.close();
    });
  }

  for (const proto of PROTOS) {
    nets.it(`${proto}: with no selector the unreachable rule answers ENETUNREACH`, () => {
      const s = open(4, proto);
      const dst = REMOTE4;
      const send = (): void => {
        if (proto === 'tcp') s.connect({ address: dst, port: DPORT });
        else if (proto === 'udp') s.sendTo(Buffer.from('x'), { address: dst, port: DPORT });
        else s.sendTo(proto === 'ping' ? ECHO(4) : Buffer.from('x'), dst);
      };
      assert.throws(send, errnoIs('ENETUNREACH'));
      for (const n of nets.all) expectNone(n, { timeoutMs: 20 });
      s.close();
    });
  }
});

describe('rule precedence', () => {
  nets.it('a mark rule wins over a uid rule', () => {
    const s = udpSocket(4);
    s.setMark(nets.net(1).mark);
    s.chown(nets.net(2).uid);
    const { expected, ignore } = fire(s, 4, 'udp', nets.net(1));
    expectPacket(nets.net(1), expected, { ignore });
    expectNone(nets.net(2), { timeoutMs: 30 });
    s.close();
  });

  nets.it('a uid rule whose table has no route through the bound device falls through to the oif rule', () => {
    const s = udpSocket(4);
    s.chown(nets.net(2).uid);
    s.bindToDevice(nets.net(3).ifname);
    const { expected, ignore } = fire(s, 4, 'udp', nets.net(3));
    expectPacket(nets.net(3), expected, { ignore });
    expectNone(nets.net(2), { timeoutMs: 30 });
    s.close();
  });

  nets.it('only the low 16 bits are compared (fwmask 0xffff)', () => {
    const s = udpSocket(4);
    s.setMark(0x50000 | nets.net(4).mark);
    const { expected, ignore } = fire(s, 4, 'udp', nets.net(4));
    expectPacket(nets.net(4), expected, { ignore });
    s.close();
  });

  nets.it('a mark for no network hits the unreachable rule (ENETUNREACH)', () => {
    const s = udpSocket(6);
    s.setMark(77);
    assert.throws(() => s.sendTo(Buffer.from('x'), { address: REMOTE6, port: DPORT }), errnoIs('ENETUNREACH'));
    s.close();
  });

  nets.it('a uid switched with setresuid routes like chown', () => {
    // sk_uid comes from the creating thread's fsuid.
    const n = nets.net(3);
    const s = asUserSocket(n.uid);
    const { expected, ignore } = fire(s, 4, 'udp', n);
    expectPacket(n, expected, { ignore });
    s.close();
  });
});

function asUserSocket(uid: number): Socket<'inet'> {
  return asUser(uid, () => udpSocket(4));
}

describe('route queries and uid-range rules over netlink', () => {
  nets.it('RTM_GETROUTE with a mark, a uid, or an oif resolves to that network', () => {
    for (const n of nets.all) {
      assert.equal(nets.rt.getRoute({ to: REMOTE4, mark: n.mark }).oif, n.ifindex);
      assert.equal(nets.rt.getRoute({ to: REMOTE6, uid: n.uid }).oif, n.ifindex);
      const r = nets.rt.getRoute({ to: REMOTE4, oif: n.ifindex });
      assert.equal(r.gateway, n.router.ip4);
      assert.equal(r.prefsrc ?? r.src, n.addr4);
    }
  });

  nets.it('RTM_GETROUTE with nothing selecting a network fails with ENETUNREACH', () => {
    assert.throws(() => nets.rt.getRoute({ to: REMOTE4 }), errnoIs('ENETUNREACH'));
  });

  nets.it('the rule dump shows each uid range exactly as added', () => {
    const rules = nets.rt.rules('inet').filter((r) => r.uidRange !== undefined);
    assert.deepEqual(
      rules.map((r) => [r.priority, r.uidRange]),
      nets.all.map((n) => [PRIO_UID + n.id, { start: UID_BASE + n.id, end: UID_BASE + n.id }]),
    );
  });

  nets.it('a uid range wider than one uid matches every uid in it, and no other', () => {
    const n = nets.net(2);
    nets.rt.addRule({ family: 'inet', priority: 150, uidRange: { start: 30000, end: 30009 }, table: n.table });
    try {
      assert.equal(nets.rt.getRoute({ to: REMOTE4, uid: 30000 }).oif, n.ifindex);
      assert.equal(nets.rt.getRoute({ to: REMOTE4, uid: 30009 }).oif, n.ifindex);
      assert.throws(() => nets.rt.getRoute({ to: REMOTE4, uid: 30010 }), errnoIs('ENETUNREACH'));
    } finally {
      nets.rt.deleteRule({ family: 'inet', priority: 150, uidRange: { start: 30000, end: 30009 }, table: n.table });
    }
  });

  nets.it('a uid range with start above end is refused (EINVAL)', () => {
    assert.throws(
      () => nets.rt.addRule({ family: 'inet', priority: 151, uidRange: { start: 10, end: 5 }, table: 100 }),
      errnoIs('EINVAL'),
    );
  });
});

describe('incoming traffic and replies', () => {
  nets.it('a listener with the network mark answers a SYN from that network on that network', () => {
    const n = nets.net(2);
    const l = tcpSocket(4);
    l.setMark(n.mark);
    l.bind(`${n.addr4}:8080`);
    l.listen();
    inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), tcp({ sport: 40000, dport: 8080, seq: 1000, flags: 'S', window: 8192, options: [{ kind: 'mss', value: 1400 }] })]);
    expectPacket(n, [
      ipv4({ src: n.addr4, dst: REMOTE4, df: true, ttl: 64, id: 0 }),
      tcp({ sport: 8080, dport: 40000, ack: 1001, flags: 'SA', window: 64240, options: [{ kind: 'mss', value: 1460 }] }),
    ], { ignore: ['tcp.seq'] });
    for (const o of others(n)) expectNone(o, { timeoutMs: 20 });
    l.close();
  });

  nets.it('a listener without a mark cannot answer: the SYN-ACK hits the unreachable rule', () => {
    const n = nets.net(3);
    const l = tcpSocket(4);
    l.bind(`${n.addr4}:8081`);
    l.listen();
    inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), tcp({ sport: 40001, dport: 8081, seq: 5, flags: 'S', window: 8192 })]);
    for (const x of nets.all) expectNone(x, { timeoutMs: 100 });
    l.close();
  });

  nets.it('IPv6: a marked listener answers a SYN on its network with the exact SYN-ACK', () => {
    const n = nets.net(4);
    const l = tcpSocket(6);
    l.setMark(n.mark);
    l.bind(`[${n.addr6}]:8082`);
    l.listen();
    inject(n, [ipv6({ src: REMOTE6, dst: n.addr6 }), tcp({ sport: 40002, dport: 8082, seq: 7, flags: 'S', window: 8192, options: [{ kind: 'mss', value: 1400 }] })]);
    expectPacket(n, [
      ipv6({ src: n.addr6, dst: REMOTE6, hlim: 64 }),
      tcp({ sport: 8082, dport: 40002, ack: 8, flags: 'SA', window: 64800, options: [{ kind: 'mss', value: 1440 }] }),
    ], { ignore: ['tcp.seq'] });
    l.close();
  });

  nets.it('UDP to a closed port from a network: the port unreachable has no route back', () => {
    const n = nets.net(1);
    inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), udp({ sport: 5000, dport: 5001 }), raw('x')]);
    expectNone(n, { timeoutMs: 150 });
  });

  nets.it('an echo request from a network gets no reply: ingress carries no mark, so even with fwmark_reflect the reply hits the unreachable rule', () => {
    const n = nets.net(1);
    const restore = sysctl.set('net.ipv4.fwmark_reflect', 1);
    try {
      inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), echoRequest4({ id: 1, seq: 1 }), raw('r')]);
      expectNone(n, { timeoutMs: 150 });
    } finally {
      restore();
    }
  });
});
