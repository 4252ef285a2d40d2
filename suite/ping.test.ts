// Ping sockets (SOCK_DGRAM + IPPROTO_ICMP/ICMPV6, net/ipv4/ping.c, net/ipv6/ping.c): who may open
// them, what goes on the wire, how replies and ICMP errors come back, bind and address rules.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { asUser } from '../src/lib/creds.js';
import { procNetSockets } from '../src/lib/procnet.js';
import { sysctl } from '../src/lib/sysctl.js';
import { pingSocket, rawSocket, encodeSockAddr, type Socket } from '../src/lib/socket.js';
import { errnoIs, K, bind as sysBind, sendto } from '../src/lib/sys/index.js';
import {
  echoReply4,
  echoReply6,
  echoRequest4,
  echoRequest6,
  icmp,
  icmpv6,
  ipv4,
  ipv6,
  raw,
  ICMP_DEST_UNREACH,
  ICMP_HOST_UNREACH,
  ICMPV6_DEST_UNREACH,
  ICMPV6_ADDR_UNREACH,
  type Layer,
} from '../src/lib/packet/index.js';

const nets = useNetworks();
const NOBODY = 65534;

/** An ICMP echo header as a ping socket takes it: type, code, checksum, id, seq; then data. */
function echo4(seq: number, data: string): Buffer {
  const b = Buffer.alloc(8 + data.length);
  b[0] = 8;
  b.writeUInt16BE(seq, 6);
  b.write(data, 8);
  return b;
}
function echo6(seq: number, data: string): Buffer {
  const b = echo4(seq, data);
  b[0] = 128;
  return b;
}

/** Ping sockets need the creating gid inside net.ipv4.ping_group_range (root included). */
function allowGroups(lo: number, hi: number): () => void {
  return sysctl.set('net.ipv4.ping_group_range', `${lo}\t${hi}`);
}

function withPing<T>(fn: () => T): T {
  const restore = allowGroups(0, 0x7fffffff);
  try {
    return fn();
  } finally {
    restore();
  }
}

/** Port 0 bound ping socket marked for a network. */
function marked4(n: Network): Socket<'inet'> {
  const s = withPing(() => pingSocket(4));
  s.setMark(n.mark);
  return s;
}
function marked6(n: Network): Socket<'inet6'> {
  const s = withPing(() => pingSocket(6));
  s.setMark(n.mark);
  return s;
}

describe('ping socket creation', () => {
  nets.it('the default group range "1 0" refuses everyone, root included (EACCES)', () => {
    assert.equal(sysctl.get('net.ipv4.ping_group_range'), '1\t0');
    assert.throws(() => pingSocket(4), errnoIs('EACCES'));
    assert.throws(() => pingSocket(6), errnoIs('EACCES'));
  });

  nets.it('an unprivileged user outside the range gets EACCES', () => {
    const restore = allowGroups(100, 200);
    try {
      assert.throws(() => asUser(NOBODY, () => pingSocket(4), { gid: NOBODY }), errnoIs('EACCES'));
    } finally {
      restore();
    }
  });

  nets.it('an unprivileged user inside the range opens IPv4 and IPv6 ping sockets it owns', () => {
    const restore = allowGroups(NOBODY, NOBODY);
    try {
      const [a, b] = asUser(NOBODY, () => [pingSocket(4), pingSocket(6)] as const, { gid: NOBODY });
      a.bind('0.0.0.0');
      b.bind('::');
      const rows4 = procNetSockets('icmp').filter((r) => r.local.port === a.localAddress().port);
      const rows6 = procNetSockets('icmp6').filter((r) => r.local.port === b.localAddress().port);
      assert.equal(rows4.length, 1);
      assert.equal(rows4[0]?.uid, NOBODY);
      assert.equal(rows6.length, 1);
      assert.equal(rows6[0]?.uid, NOBODY);
      a.close();
      b.close();
    } finally {
      restore();
    }
  });

  nets.it('raw ICMP sockets stay root-only even inside the ping range (EPERM)', () => {
    const restore = allowGroups(0, 0x7fffffff);
    try {
      assert.throws(() => asUser(NOBODY, () => withRaw(), { gid: NOBODY }), errnoIs('EPERM'));
    } finally {
      restore();
    }
  });
});

function withRaw(): void {
  rawSocket(4, K.IPPROTO_ICMP).close();
}

describe('ping over loopback', () => {
  nets.it('IPv4: the reply carries the socket id, our sequence and data', () => {
    const s = withPing(() => pingSocket(4));
    s.sendTo(echo4(7, 'hello'), '127.0.0.1');
    const id = s.localAddress().port;
    assert.notEqual(id, 0, 'sending binds an ident');
    const r = s.recvFrom({ timeoutMs: 1000 });
    assert.deepEqual(r.from, { family: 'inet', address: '127.0.0.1', port: 0 });
    assert.equal(r.data[0], 0, 'echo reply');
    assert.equal(r.data[1], 0);
    assert.equal(r.data.readUInt16BE(4), id);
    assert.equal(r.data.readUInt16BE(6), 7);
    assert.equal(r.data.subarray(8).toString(), 'hello');
    s.close();
  });

  nets.it('IPv6: the reply carries the socket id, our sequence and data', () => {
    const s = withPing(() => pingSocket(6));
    s.sendTo(echo6(9, 'hi6'), '::1');
    const id = s.localAddress().port;
    const r = s.recvFrom({ timeoutMs: 1000 });
    assert.equal(r.from?.address, '::1');
    assert.equal(r.data[0], 129, 'echo reply');
    assert.equal(r.data.readUInt16BE(4), id);
    assert.equal(r.data.readUInt16BE(6), 9);
    assert.equal(r.data.subarray(8).toString(), 'hi6');
    s.close();
  });

  nets.it('IPv4: a bound ident is used as the echo id', () => {
    const s = withPing(() => pingSocket(4));
    s.bind('127.0.0.1:4242');
    s.sendTo(echo4(1, 'x'), '127.0.0.1');
    const r = s.recvFrom({ timeoutMs: 1000 });
    assert.equal(r.data.readUInt16BE(4), 4242);
    s.close();
  });

  nets.it('IPv4: the kernel overwrites the id the user wrote', () => {
    const s = withPing(() => pingSocket(4));
    s.bind('0.0.0.0:555');
    const m = echo4(3, 'x');
    m.writeUInt16BE(0xbeef, 4);
    s.sendTo(m, '127.0.0.1');
    assert.equal(s.recvFrom({ timeoutMs: 1000 }).data.readUInt16BE(4), 555);
    s.close();
  });

  nets.it('a connected ping socket sends without an address; getpeername says ENOTCONN (no peer port)', () => {
    const s = withPing(() => pingSocket(4));
    s.connect('127.0.0.1');
    s.send(echo4(5, 'c'));
    const r = s.recvFrom({ timeoutMs: 1000 });
    assert.equal(r.data.readUInt16BE(6), 5);
    // inet_getname() reports ENOTCONN while inet_dport is 0, which it always is for ping.
    assert.throws(() => s.peerAddress(), errnoIs('ENOTCONN'));
    s.close();
  });

  nets.it('an unconnected send without an address fails with EDESTADDRREQ', () => {
    const s4 = withPing(() => pingSocket(4));
    const s6 = withPing(() => pingSocket(6));
    assert.throws(() => s4.send(echo4(1, 'x')), errnoIs('EDESTADDRREQ'));
    assert.throws(() => s6.send(echo6(1, 'x')), errnoIs('EDESTADDRREQ'));
    s4.close();
    s6.close();
  });
});

describe('ping message validation', () => {
  nets.it('IPv4: only echo requests with code 0 may be sent (EINVAL)', () => {
    const s = withPing(() => pingSocket(4));
    const bad = echo4(1, 'x');
    bad[0] = 13; // timestamp request
    assert.throws(() => s.sendTo(bad, '127.0.0.1'), errnoIs('EINVAL'));
    const code = echo4(1, 'x');
    code[1] = 1;
    assert.throws(() => s.sendTo(code, '127.0.0.1'), errnoIs('EINVAL'));
    s.close();
  });

  nets.it('IPv6: an IPv4 echo type is refused (EINVAL)', () => {
    const s = withPing(() => pingSocket(6));
    assert.throws(() => s.sendTo(echo4(1, 'x'), '::1'), errnoIs('EINVAL'));
    s.close();
  });

  nets.it('a message shorter than an ICMP header is refused (EINVAL)', () => {
    const s = withPing(() => pingSocket(4));
    assert.throws(() => s.sendTo(Buffer.from([8, 0, 0, 0]), '127.0.0.1'), errnoIs('EINVAL'));
    s.close();
  });

  nets.it('MSG_OOB is refused (EOPNOTSUPP)', () => {
    const s = withPing(() => pingSocket(4));
    assert.throws(() => s.sendTo(echo4(1, 'x'), '127.0.0.1', K.MSG_OOB), errnoIs('EOPNOTSUPP'));
    s.close();
  });
});

describe('ping bind rules', () => {
  nets.it('IPv4: binding a local address works, a foreign one fails with EADDRNOTAVAIL', () => {
    const n = nets.net(1);
    const s = withPing(() => pingSocket(4));
    s.bind(n.addr4);
    assert.equal(s.localAddress().address, n.addr4);
    s.close();
    const t = withPing(() => pingSocket(4));
    assert.throws(() => t.bind(n.router.ip4), errnoIs('EADDRNOTAVAIL'));
    t.close();
  });

  nets.it('IPv4: ip_nonlocal_bind allows a foreign address', () => {
    nets.sysctl('net.ipv4.ip_nonlocal_bind', 0);
    const restore = sysctl.set('net.ipv4.ip_nonlocal_bind', 1);
    try {
      const s = withPing(() => pingSocket(4));
      s.bind(REMOTE4);
      assert.equal(s.localAddress().address, REMOTE4);
      s.close();
    } finally {
      restore();
    }
  });

  nets.it('IPv4: broadcast and multicast addresses cannot be bound (EADDRNOTAVAIL)', () => {
    const s = withPing(() => pingSocket(4));
    assert.throws(() => s.bind('255.255.255.255'), errnoIs('EADDRNOTAVAIL'));
    assert.throws(() => s.bind('224.0.0.1'), errnoIs('EADDRNOTAVAIL'));
    s.close();
  });

  nets.it('IPv4: an AF_INET6 address is refused (EAFNOSUPPORT), AF_UNSPEC with INADDR_ANY accepted', () => {
    const s = withPing(() => pingSocket(4));
    const six = encodeSockAddr({ family: 'inet6', address: '::1', port: 0, flowinfo: 0, scopeId: 0 });
    assert.throws(() => bindRaw(s.fd, six), errnoIs('EAFNOSUPPORT'));
    const unspecAny = Buffer.alloc(16); // sin_family 0, address 0.0.0.0
    bindRaw(s.fd, unspecAny);
    s.close();
  });

  nets.it('IPv4: a short address is refused (EINVAL)', () => {
    const s = withPing(() => pingSocket(4));
    assert.throws(() => bindRaw(s.fd, Buffer.from([2, 0, 0, 0])), errnoIs('EINVAL'));
    s.close();
  });

  nets.it('ping sockets start with SO_REUSEADDR, so two may share an ident; clearing it gives EADDRINUSE', () => {
    // inetsw_array marks ping INET_PROTOSW_REUSE; ping_get_port() refuses only when one lacks sk_reuse.
    const a = withPing(() => pingSocket(4));
    const b = withPing(() => pingSocket(4));
    const c = withPing(() => pingSocket(4));
    assert.equal(a.getIntOption(K.SOL_SOCKET, K.SO_REUSEADDR), 1);
    a.bind('0.0.0.0:7777');
    b.bind('0.0.0.0:7777');
    c.setOption(K.SOL_SOCKET, K.SO_REUSEADDR, 0);
    assert.throws(() => c.bind('0.0.0.0:7777'), errnoIs('EADDRINUSE'));
    a.close();
    b.close();
    c.close();
  });

  nets.it('IPv6: binding the SLAAC address works; a foreign address fails with EADDRNOTAVAIL', () => {
    const n = nets.net(1);
    const s = withPing(() => pingSocket(6));
    s.bind(n.addr6);
    assert.equal(s.localAddress().address, n.addr6);
    s.close();
    const t = withPing(() => pingSocket(6));
    assert.throws(() => t.bind(REMOTE6), errnoIs('EADDRNOTAVAIL'));
    t.close();
  });

  nets.it('IPv6: a multicast address cannot be bound (EINVAL)', () => {
    const s = withPing(() => pingSocket(6));
    assert.throws(() => s.bind('ff02::1'), errnoIs('EINVAL'));
    s.close();
  });

  nets.it('IPv6: a sockaddr_in is refused for its length (EINVAL); padded to sockaddr_in6 size, for its family (EAFNOSUPPORT)', () => {
    const s = withPing(() => pingSocket(6));
    // sockaddr_in is shorter than sockaddr_in6: the length check comes first.
    const four = encodeSockAddr({ family: 'inet', address: '127.0.0.1', port: 0 });
    assert.throws(() => bindRaw(s.fd, four), errnoIs('EINVAL'));
    const padded = Buffer.alloc(28);
    four.copy(padded);
    assert.throws(() => bindRaw(s.fd, padded), errnoIs('EAFNOSUPPORT'));
    s.close();
  });
});

/** bind(2) with hand-made sockaddr bytes, for the family and length checks. */
function bindRaw(fd: number, addr: Buffer): void {
  sysBind(fd, addr);
}

describe('ping link-local scopes', () => {
  nets.it('binding a link-local address needs a scope id (EINVAL without)', () => {
    const n = nets.net(2);
    const s = withPing(() => pingSocket(6));
    assert.throws(() => s.bind(n.ll6), errnoIs('EINVAL'));
    s.bind({ address: n.ll6, scopeId: n.ifindex });
    assert.equal(s.localAddress().scopeId, n.ifindex);
    s.close();
  });

  nets.it('binding a link-local address with the wrong interface fails (EADDRNOTAVAIL)', () => {
    const s = withPing(() => pingSocket(6));
    assert.throws(() => s.bind({ address: nets.net(2).ll6, scopeId: nets.net(3).ifindex }), errnoIs('EADDRNOTAVAIL'));
    s.close();
  });

  nets.it('binding with a scope id of a missing interface fails (ENODEV)', () => {
    const s = withPing(() => pingSocket(6));
    assert.throws(() => s.bind({ address: nets.net(2).ll6, scopeId: 9999 }), errnoIs('ENODEV'));
    s.close();
  });

  nets.it('sending to a link-local address without a scope fails (EINVAL)', () => {
    const s = withPing(() => pingSocket(6));
    assert.throws(() => s.sendTo(echo6(1, 'x'), nets.net(1).router.ll), errnoIs('EINVAL'));
    s.close();
  });

  nets.it('sending to the router link-local with a scope id leaves on that network only', () => {
    const n = nets.net(3);
    const s = withPing(() => pingSocket(6));
    s.sendTo(echo6(11, 'll'), { address: n.router.ll, scopeId: n.ifindex });
    const id = s.localAddress().port;
    expectPacket(n, [
      ipv6({ src: n.ll6, dst: n.router.ll, hlim: 64 }),
      echoRequest6({ id, seq: 11 }),
      raw('ll'),
    ]);
    for (const other of nets.all.filter((x) => x !== n)) expectNone(other, { timeoutMs: 50 });
    s.close();
  });

  nets.it('a scope id that disagrees with SO_BINDTODEVICE fails (EINVAL)', () => {
    const s = withPing(() => pingSocket(6));
    s.bindToDevice(nets.net(1).ifname);
    assert.throws(() => s.sendTo(echo6(1, 'x'), { address: nets.net(2).router.ll, scopeId: nets.net(2).ifindex }), errnoIs('EINVAL'));
    s.close();
  });
});

describe('ping cross-family calls', () => {
  nets.it('IPv6 socket: an IPv4-mapped destination is refused (EINVAL)', () => {
    const s = withPing(() => pingSocket(6));
    assert.throws(() => s.sendTo(echo6(1, 'x'), '::ffff:127.0.0.1'), errnoIs('EINVAL'));
    s.close();
  });

  nets.it('IPv6 socket: a sockaddr_in destination is refused (EINVAL: too short)', () => {
    const s = withPing(() => pingSocket(6));
    const four = encodeSockAddr({ family: 'inet', address: '127.0.0.1', port: 0 });
    assert.throws(() => sendto(s.fd, echo6(1, 'x'), 0, four), errnoIs('EINVAL'));
    s.close();
  });

  nets.it('IPv4 socket: a sockaddr_in6 destination is refused (EAFNOSUPPORT)', () => {
    const s = withPing(() => pingSocket(4));
    const six = encodeSockAddr({ family: 'inet6', address: '::1', port: 0, flowinfo: 0, scopeId: 0 });
    assert.throws(() => sendto(s.fd, echo4(1, 'x'), 0, six), errnoIs('EAFNOSUPPORT'));
    s.close();
  });

  nets.it('IPv6 ping sockets are IPv6-only (IPV6_V6ONLY reads 1)', () => {
    const s = withPing(() => pingSocket(6));
    assert.equal(s.getIntOption(K.SOL_IPV6, K.IPV6_V6ONLY), 1);
    s.close();
  });
});

describe('ping to remote targets through the networks', () => {
  for (const id of [1, 2, 3, 4]) {
    nets.it(`IPv4 via mark ${id}: the exact request on net${id}, the injected reply is received`, () => {
      const n = nets.net(id);
      const s = marked4(n);
      s.sendTo(echo4(100 + id, 'payload'), REMOTE4);
      const ident = s.localAddress().port;
      const req = expectPacket(n, [
        ipv4({ src: n.addr4, dst: REMOTE4, ttl: 64, df: true }),
        echoRequest4({ id: ident, seq: 100 + id }),
        raw('payload'),
      ], { ignore: ['ipv4.id'] });
      for (const other of nets.all.filter((x) => x !== n)) expectNone(other, { timeoutMs: 30 });
      inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), echoReply4({ id: ident, seq: 100 + id }), raw('payload')]);
      const r = s.recvFrom({ timeoutMs: 1000 });
      assert.equal(r.from?.address, REMOTE4);
      assert.equal(r.data.readUInt16BE(6), 100 + id);
      assert.equal(r.data.subarray(8).toString(), 'payload');
      assert.equal(req.length, 3);
      s.close();
    });
  }

  for (const id of [1, 4]) {
    nets.it(`IPv6 via mark ${id}: the exact request on net${id}, the injected reply is received`, () => {
      const n = nets.net(id);
      const s = marked6(n);
      s.sendTo(echo6(200 + id, 'payload6'), REMOTE6);
      const ident = s.localAddress().port;
      expectPacket(n, [ipv6({ src: n.addr6, dst: REMOTE6, hlim: 64 }), echoRequest6({ id: ident, seq: 200 + id }), raw('payload6')]);
      inject(n, [ipv6({ src: REMOTE6, dst: n.addr6 }), echoReply6({ id: ident, seq: 200 + id }), raw('payload6')]);
      const r = s.recvFrom({ timeoutMs: 1000 });
      assert.equal(r.from?.address, REMOTE6);
      assert.equal(r.data[0], 129);
      assert.equal(r.data.readUInt16BE(6), 200 + id);
      s.close();
    });
  }

  nets.it('a reply with another id is not delivered', () => {
    const n = nets.net(2);
    const s = marked4(n);
    s.sendTo(echo4(1, 'x'), REMOTE4);
    const ident = s.localAddress().port;
    expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4, df: true }), echoRequest4({ id: ident, seq: 1 }), raw('x')], { ignore: ['ipv4.id'] });
    inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), echoReply4({ id: (ident + 1) & 0xffff, seq: 1 }), raw('x')]);
    assert.throws(() => s.recvFrom({ timeoutMs: 200 }), errnoIs('EAGAIN'));
    s.close();
  });

  nets.it('a reply with a bad ICMP checksum is dropped', () => {
    const n = nets.net(2);
    const s = marked4(n);
    s.sendTo(echo4(1, 'x'), REMOTE4);
    const ident = s.localAddress().port;
    expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4, df: true }), echoRequest4({ id: ident, seq: 1 }), raw('x')], { ignore: ['ipv4.id'] });
    inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), { ...echoReply4({ id: ident, seq: 1 }), checksum: 0x1234 }, raw('x')]);
    assert.throws(() => s.recvFrom({ timeoutMs: 200 }), errnoIs('EAGAIN'));
    s.close();
  });

  nets.it('the IP_TTL socket option sets the TTL of requests', () => {
    const n = nets.net(1);
    const s = marked4(n);
    s.setOption(K.SOL_IP, K.IP_TTL, 7);
    s.sendTo(echo4(2, 't'), REMOTE4);
    expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4, ttl: 7, df: true }), echoRequest4({ id: s.localAddress().port, seq: 2 }), raw('t')], { ignore: ['ipv4.id'] });
    s.close();
  });

  nets.it('IPV6_UNICAST_HOPS sets the hop limit of requests', () => {
    const n = nets.net(1);
    const s = marked6(n);
    s.setOption(K.SOL_IPV6, K.IPV6_UNICAST_HOPS, 3);
    s.sendTo(echo6(2, 't'), REMOTE6);
    expectPacket(n, [ipv6({ src: n.addr6, dst: REMOTE6, hlim: 3 }), echoRequest6({ id: s.localAddress().port, seq: 2 }), raw('t')]);
    s.close();
  });

  nets.it('without a mark, uid or device the unreachable rule refuses (ENETUNREACH)', () => {
    const s4 = withPing(() => pingSocket(4));
    const s6 = withPing(() => pingSocket(6));
    assert.throws(() => s4.sendTo(echo4(1, 'x'), REMOTE4), errnoIs('ENETUNREACH'));
    assert.throws(() => s6.sendTo(echo6(1, 'x'), REMOTE6), errnoIs('ENETUNREACH'));
    s4.close();
    s6.close();
  });
});

describe('ping ICMP errors through the error queue', () => {
  nets.it('IPv4: host unreachable from the router arrives as EHOSTUNREACH with the offender', () => {
    const n = nets.net(1);
    const s = marked4(n);
    s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
    s.sendTo(echo4(5, 'err'), REMOTE4);
    const ident = s.localAddress().port;
    const sent = expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4, df: true }), echoRequest4({ id: ident, seq: 5 }), raw('err')], { ignore: ['ipv4.id'] });
    inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_HOST_UNREACH }), ...(sent as Layer[])]);
    const { error, data } = s.recvError({ timeoutMs: 1000 });
    assert.equal(error.code, 'EHOSTUNREACH');
    assert.equal(error.origin, K.SO_EE_ORIGIN_ICMP);
    assert.equal(error.icmpType, ICMP_DEST_UNREACH);
    assert.equal(error.icmpCode, ICMP_HOST_UNREACH);
    assert.deepEqual(error.offender, { family: 'inet', address: n.router.ip4, port: 0 });
    // The payload is the ICMP message we sent, id rewritten by the kernel.
    assert.equal(data.readUInt16BE(4), ident);
    assert.equal(data.subarray(8).toString(), 'err');
    s.close();
  });

  nets.it('IPv4: without IP_RECVERR the error queue stays empty', () => {
    const n = nets.net(1);
    const s = marked4(n);
    s.sendTo(echo4(6, 'q'), REMOTE4);
    const ident = s.localAddress().port;
    const sent = expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4, df: true }), echoRequest4({ id: ident, seq: 6 }), raw('q')], { ignore: ['ipv4.id'] });
    inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_HOST_UNREACH }), ...(sent as Layer[])]);
    assert.throws(() => s.recvError({ timeoutMs: 200 }), errnoIs('EAGAIN'));
    s.close();
  });

  nets.it('IPv6: address unreachable arrives as EHOSTUNREACH with ICMP6 origin', () => {
    const n = nets.net(2);
    const s = marked6(n);
    s.setOption(K.SOL_IPV6, K.IPV6_RECVERR, 1);
    s.sendTo(echo6(8, 'e6'), REMOTE6);
    const ident = s.localAddress().port;
    const sent = expectPacket(n, [ipv6({ src: n.addr6, dst: REMOTE6 }), echoRequest6({ id: ident, seq: 8 }), raw('e6')]);
    inject(n, [ipv6({ src: n.router.ip6, dst: n.addr6 }), icmpv6({ icmpType: ICMPV6_DEST_UNREACH, code: ICMPV6_ADDR_UNREACH }), ...(sent as Layer[])]);
    const { error } = s.recvError({ timeoutMs: 1000 });
    assert.equal(error.code, 'EHOSTUNREACH');
    assert.equal(error.origin, K.SO_EE_ORIGIN_ICMP6);
    assert.equal(error.icmpType, ICMPV6_DEST_UNREACH);
    assert.equal(error.icmpCode, ICMPV6_ADDR_UNREACH);
    assert.equal(error.offender?.family, 'inet6');
    assert.equal((error.offender as { address: string }).address, n.router.ip6);
    s.close();
  });
});

describe('ping rows in /proc/net', () => {
  nets.it('/proc/net/icmp lists a bound socket with its address, ident and owner', () => {
    const n = nets.net(1);
    const s = withPing(() => pingSocket(4));
    s.bind(`${n.addr4}:3210`);
    const rows = procNetSockets('icmp').filter((r) => r.local.port === 3210);
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0]?.local, { address: n.addr4, port: 3210 });
    assert.deepEqual(rows[0]?.remote, { address: '0.0.0.0', port: 0 });
    assert.equal(rows[0]?.stateName, 'CLOSE');
    assert.equal(rows[0]?.uid, 0);
    s.close();
    assert.equal(procNetSockets('icmp').filter((r) => r.local.port === 3210).length, 0);
  });

  nets.it('/proc/net/icmp6 shows a connected socket as ESTABLISHED with its peer', () => {
    const s = withPing(() => pingSocket(6));
    s.bind('[::1]:3211');
    s.connect('::1');
    const rows = procNetSockets('icmp6').filter((r) => r.local.port === 3211);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.local.address, '::1');
    assert.equal(rows[0]?.remote.address, '::1');
    assert.equal(rows[0]?.stateName, 'ESTABLISHED');
    s.close();
  });

  nets.it('/proc/net/icmp counts queued replies in rx_queue', () => {
    const s = withPing(() => pingSocket(4));
    s.bind('127.0.0.1:3212');
    s.sendTo(echo4(1, 'abc'), '127.0.0.1');
    assert.equal(s.poll(K.POLLIN, 1000) & K.POLLIN, K.POLLIN);
    const row = procNetSockets('icmp').find((r) => r.local.port === 3212);
    assert.ok(row && row.rxQueue > 0, `rx_queue ${row?.rxQueue}`);
    s.close();
  });
});
