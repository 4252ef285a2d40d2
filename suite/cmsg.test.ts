// Receive-side control messages (net/ipv4/ip_sockglue.c ip_cmsg_recv_offset, net/ipv6/datagram.c
// ip6_datagram_recv_ctl, *_recv_error): IP_PKTINFO / IPV6_PKTINFO, TTL / hop limit, TOS /
// traffic class and the original destination on every receive path (unicast, subnet and limited
// broadcast, a joined multicast group, another interface than the address's, loopback), checked
// as the whole control message list in the kernel's order; and the error queue's
// sock_extended_err for ICMP/ICMPv6 errors from the wire and loopback, and for local errors.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { udpSocket, type Cmsg, type Socket } from '../src/lib/socket.js';
import { errnoIs, K } from '../src/lib/sys/index.js';
import { ether, icmp, icmpv6, inetChecksum, ipv4, ipv6, raw, udp, type Layer } from '../src/lib/packet/index.js';
import { ip4ToBytes, ip6ToBytes } from '../src/lib/addr.js';
import { ip_mreqn, ipv6_mreq } from '../src/lib/uapi.js';

const nets = useNetworks({ count: 2 });

const GROUP4 = '233.252.0.1'; // MCAST-TEST-NET (RFC 5771)
const GROUP4_MAC = '01:00:5e:7c:00:01';
const GROUP6 = 'ff02::db8:0:1'; // documentation multicast (RFC 6676), link-local scope
const GROUP6_MAC = '33:33:00:00:00:01';
const PAYLOAD = 'cmsg';

/** A UDP receiver on 0.0.0.0:port asking for every IPv4 receive cmsg. */
function rx4(port: number, bindAddr = '0.0.0.0'): Socket<'inet'> {
  const s = udpSocket(4);
  for (const o of [K.IP_PKTINFO, K.IP_RECVTTL, K.IP_RECVTOS, K.IP_RECVORIGDSTADDR]) s.setOption(K.SOL_IP, o, 1);
  s.bind(`${bindAddr}:${port}`);
  return s;
}

/** An IPv6-only UDP receiver on [::]:port asking for every IPv6 receive cmsg. */
function rx6(port: number): Socket<'inet6'> {
  const s = udpSocket(6);
  s.setOption(K.SOL_IPV6, K.IPV6_V6ONLY, 1);
  for (const o of [K.IPV6_RECVPKTINFO, K.IPV6_RECVHOPLIMIT, K.IPV6_RECVTCLASS, K.IPV6_RECVORIGDSTADDR]) s.setOption(K.SOL_IPV6, o, 1);
  s.bind(`[::]:${port}`);
  return s;
}

/** Inject a UDP datagram from `src` to `dst` on `n`, TTL/hop limit 17 and TOS/traffic class 0x2d. */
function send4(n: Network, src: string, dst: string, dport: number, mac?: string): void {
  inject(n, [ether({ src: n.router.mac, dst: mac ?? n.mac }), ipv4({ src, dst, ttl: 17, tos: 0x2d }), udp({ sport: 7777, dport }), raw(PAYLOAD)]);
}
function send6(n: Network, src: string, dst: string, dport: number, mac?: string): void {
  inject(n, [ether({ src: n.router.mac, dst: mac ?? n.mac }), ipv6({ src, dst, hlim: 17, tc: 0x2d }), udp({ sport: 7777, dport }), raw(PAYLOAD)]);
}

function cmsgs4(ifindex: number, specDst: string, addr: string, port: number, ttl = 17, tos = 0x2d): Cmsg[] {
  return [
    { kind: 'pktinfo', ifindex, specDst, addr },
    { kind: 'ttl', value: ttl },
    { kind: 'tos', value: tos },
    { kind: 'origdst', address: { family: 'inet', address: addr, port } },
  ];
}
function cmsgs6(ifindex: number, addr: string, port: number, scopeId = 0, hlim = 17, tclass = 0x2d): Cmsg[] {
  return [
    { kind: 'pktinfo6', ifindex, addr },
    { kind: 'hoplimit', value: hlim },
    { kind: 'tclass', value: tclass },
    { kind: 'origdst', address: { family: 'inet6', address: addr, port, flowinfo: 0, scopeId } },
  ];
}

/** Receive one datagram and return its control messages (payload checked). */
function received(s: Socket<'inet'> | Socket<'inet6'>): Cmsg[] {
  const m = s.recvMsg({ timeoutMs: 1000 });
  assert.equal(m.data.toString(), PAYLOAD);
  return m.control;
}

const closeAll = (ss: readonly { close(): void }[]): void => ss.forEach((s) => s.close());

describe('IPv4 receive cmsgs: IP_PKTINFO, IP_TTL, IP_TOS, IP_ORIGDSTADDR', () => {
  nets.it('unicast to the interface address: ifindex, spec_dst and addr are that address', () => {
    const n = nets.net(1);
    const s = rx4(5001);
    try {
      send4(n, n.router.ip4, n.addr4, 5001);
      assert.deepEqual(received(s), cmsgs4(n.ifindex, n.addr4, n.addr4, 5001));
    } finally {
      s.close();
    }
  });

  nets.it('subnet broadcast: ipi_addr is the broadcast, ipi_spec_dst the interface address', () => {
    const n = nets.net(1);
    const s = rx4(5002);
    try {
      send4(n, n.router.ip4, '198.51.100.63', 5002, 'ff:ff:ff:ff:ff:ff');
      assert.deepEqual(received(s), cmsgs4(n.ifindex, n.addr4, '198.51.100.63', 5002));
    } finally {
      s.close();
    }
  });

  nets.it('limited broadcast 255.255.255.255 (SO_BROADCAST socket): same spec_dst, addr 255.255.255.255', () => {
    const n = nets.net(2);
    const s = rx4(5003);
    try {
      s.setOption(K.SOL_SOCKET, K.SO_BROADCAST, 1);
      send4(n, n.router.ip4, '255.255.255.255', 5003, 'ff:ff:ff:ff:ff:ff');
      assert.deepEqual(received(s), cmsgs4(n.ifindex, n.addr4, '255.255.255.255', 5003));
    } finally {
      s.close();
    }
  });

  nets.it('a joined multicast group: ipi_addr is the group, spec_dst the interface address', () => {
    const n = nets.net(1);
    const s = rx4(5004);
    try {
      s.setOption(K.SOL_IP, K.IP_ADD_MEMBERSHIP, ip_mreqn.pack({ multiaddr: ip4ToBytes(GROUP4), address: ip4ToBytes('0.0.0.0'), ifindex: n.ifindex }));
      send4(n, n.router.ip4, GROUP4, 5004, GROUP4_MAC);
      assert.deepEqual(received(s), cmsgs4(n.ifindex, n.addr4, GROUP4, 5004));
    } finally {
      s.close();
    }
  });

  nets.it("net1's address arriving on net2: ifindex is net2's, spec_dst the address; a socket bound to net1 does not get it", () => {
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const s = rx4(5005, n1.addr4);
    const dev = rx4(5006);
    dev.bindToDevice(n1.ifname);
    try {
      send4(n2, n2.router.ip4, n1.addr4, 5005);
      assert.deepEqual(received(s), cmsgs4(n2.ifindex, n1.addr4, n1.addr4, 5005));
      send4(n2, n2.router.ip4, n1.addr4, 5006);
      assert.throws(() => dev.recvMsg({ timeoutMs: 100 }), errnoIs('EAGAIN'));
    } finally {
      closeAll([s, dev]);
    }
  });

  nets.it('loopback: ifindex 1, spec_dst and addr 127.0.0.1; TTL and TOS as the sender set them', () => {
    const s = rx4(5007);
    const tx = udpSocket(4);
    try {
      tx.setOption(K.SOL_IP, K.IP_TTL, 5);
      tx.setOption(K.SOL_IP, K.IP_TOS, 0x10);
      tx.sendTo(Buffer.from(PAYLOAD), '127.0.0.1:5007');
      assert.deepEqual(received(s), cmsgs4(1, '127.0.0.1', '127.0.0.1', 5007, 5, 0x10));
    } finally {
      closeAll([s, tx]);
    }
  });

  nets.it("to our own address through loopback: ipi_ifindex is the address's interface (the route's rt_iif), not lo", () => {
    const n = nets.net(1);
    const s = rx4(5008);
    const tx = udpSocket(4);
    try {
      // ip_route_output_key_hash_rcu() keeps the FIB result device of a local route as rt_iif.
      tx.sendTo(Buffer.from(PAYLOAD), `${n.addr4}:5008`);
      assert.deepEqual(received(s), cmsgs4(n.ifindex, n.addr4, n.addr4, 5008, 64, 0));
    } finally {
      closeAll([s, tx]);
    }
  });
});

describe('IPv6 receive cmsgs: IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS, IPV6_ORIGDSTADDR', () => {
  nets.it('unicast to the global address: ifindex and addr, scope id 0', () => {
    const n = nets.net(1);
    const s = rx6(5101);
    try {
      send6(n, n.router.ip6, n.addr6, 5101);
      assert.deepEqual(received(s), cmsgs6(n.ifindex, n.addr6, 5101));
    } finally {
      s.close();
    }
  });

  nets.it('unicast to the link-local address: the original destination carries the scope id', () => {
    const n = nets.net(1);
    const s = rx6(5102);
    try {
      send6(n, n.router.ll, n.ll6, 5102);
      assert.deepEqual(received(s), cmsgs6(n.ifindex, n.ll6, 5102, n.ifindex));
    } finally {
      s.close();
    }
  });

  nets.it('a joined link-local multicast group: addr is the group, scope id the interface', () => {
    const n = nets.net(2);
    const s = rx6(5103);
    try {
      s.setOption(K.SOL_IPV6, K.IPV6_ADD_MEMBERSHIP, ipv6_mreq.pack({ multiaddr: ip6ToBytes(GROUP6), ifindex: n.ifindex }));
      send6(n, n.router.ll, GROUP6, 5103, GROUP6_MAC);
      assert.deepEqual(received(s), cmsgs6(n.ifindex, GROUP6, 5103, n.ifindex));
    } finally {
      s.close();
    }
  });

  nets.it("net1's global address arriving on net2: ifindex is net2's", () => {
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const s = rx6(5104);
    try {
      send6(n2, n2.router.ip6, n1.addr6, 5104);
      assert.deepEqual(received(s), cmsgs6(n2.ifindex, n1.addr6, 5104));
    } finally {
      s.close();
    }
  });

  nets.it('loopback ::1: ifindex 1; hop limit and traffic class as the sender set them', () => {
    const s = rx6(5105);
    const tx = udpSocket(6);
    try {
      tx.setOption(K.SOL_IPV6, K.IPV6_UNICAST_HOPS, 5);
      tx.setOption(K.SOL_IPV6, K.IPV6_TCLASS, 0x11);
      tx.sendTo(Buffer.from(PAYLOAD), '[::1]:5105');
      assert.deepEqual(received(s), cmsgs6(1, '::1', 5105, 0, 5, 0x11));
    } finally {
      closeAll([s, tx]);
    }
  });
});

describe('IPv4 datagrams on a dual-stack IPv6 socket', () => {
  nets.it('IPV6_PKTINFO carries the v4-mapped destination and the ifindex; hop limit and tclass are not given, IP_TTL is', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    try {
      for (const o of [K.IPV6_RECVPKTINFO, K.IPV6_RECVHOPLIMIT, K.IPV6_RECVTCLASS]) s.setOption(K.SOL_IPV6, o, 1);
      s.setOption(K.SOL_IP, K.IP_RECVTTL, 1);
      s.bind('[::]:5106');
      send4(n, n.router.ip4, n.addr4, 5106);
      assert.deepEqual(received(s), [{ kind: 'pktinfo6', ifindex: n.ifindex, addr: `::ffff:${n.addr4}` }, { kind: 'ttl', value: 17 }]);
      send4(n, n.router.ip4, '198.51.100.63', 5106, 'ff:ff:ff:ff:ff:ff');
      assert.deepEqual(received(s), [{ kind: 'pktinfo6', ifindex: n.ifindex, addr: '::ffff:198.51.100.63' }, { kind: 'ttl', value: 17 }]);
    } finally {
      s.close();
    }
  });
});

// ---- the error queue ----

/** A marked UDP socket with IP_RECVERR, connected through `n` to REMOTE4:dport. */
function err4(n: Network, dport: number, dst = REMOTE4): Socket<'inet'> {
  const s = udpSocket(4);
  s.setMark(n.mark);
  s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
  s.setOption(K.SOL_IP, K.IP_MTU_DISCOVER, K.IP_PMTUDISC_DO);
  s.connect(`${dst}:${dport}`);
  return s;
}
function err6(n: Network, dport: number, dst = REMOTE6): Socket<'inet6'> {
  const s = udpSocket(6);
  s.setMark(n.mark);
  s.setOption(K.SOL_IPV6, K.IPV6_RECVERR, 1);
  s.connect(`[${dst}]:${dport}`);
  return s;
}

/** Send PAYLOAD and return the datagram as it left on `n` (to quote in an ICMP error). */
function sent4(n: Network, s: Socket<'inet'>, dst: string, dport: number, to?: string): Layer[] {
  if (to === undefined) s.send(Buffer.from(PAYLOAD));
  else s.sendTo(Buffer.from(PAYLOAD), to);
  return expectPacket(n, [ipv4({ src: n.addr4, dst }), udp({ sport: s.localAddress().port, dport }), raw(PAYLOAD)], { ignore: ['ipv4.id', 'ipv4.ttl', 'ipv4.df'] });
}
function sent6Body(n: Network, s: Socket<'inet6'>, dport: number, body: Buffer): Layer[] {
  s.send(body);
  return expectPacket(n, [ipv6({ src: n.addr6, dst: REMOTE6 }), udp({ sport: s.localAddress().port, dport }), raw(body)]);
}
const sent6 = (n: Network, s: Socket<'inet6'>, dport: number): Layer[] => sent6Body(n, s, dport, Buffer.from(PAYLOAD));

interface ErrWant {
  errno: number;
  origin: number;
  type: number;
  code: number;
  info: number;
  offender: unknown;
}
/** Read one error and compare every sock_extended_err field, the offender and the original destination. */
function expectError(s: Socket<'inet'> | Socket<'inet6'>, want: ErrWant, from: unknown): void {
  const m = s.recvError({ timeoutMs: 1000 });
  const e = m.error;
  assert.deepEqual(
    { errno: e.errno, origin: e.origin, type: e.icmpType, code: e.icmpCode, info: e.info, data: e.data, offender: e.offender },
    { ...want, data: 0 },
  );
  assert.deepEqual(m.from, from);
  assert.ok(m.flags & K.MSG_ERRQUEUE);
}

const ICMP = K.SO_EE_ORIGIN_ICMP;
const ICMP6 = K.SO_EE_ORIGIN_ICMP6;
const v4 = (address: string, port = 0): unknown => ({ family: 'inet', address, port });
const v6 = (address: string, port = 0, scopeId = 0): unknown => ({ family: 'inet6', address, port, flowinfo: 0, scopeId });

describe('IP_RECVERR: sock_extended_err for ICMP errors and local errors', () => {
  nets.it('port unreachable from the destination: ECONNREFUSED, ICMP 3/3, offender the destination', () => {
    const n = nets.net(1);
    const s = err4(n, 7);
    try {
      const q = sent4(n, s, REMOTE4, 7);
      inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), icmp({ icmpType: K.ICMP_DEST_UNREACH, code: K.ICMP_PORT_UNREACH }), ...q]);
      expectError(s, { errno: 111, origin: ICMP, type: 3, code: 3, info: 0, offender: v4(REMOTE4) }, v4(REMOTE4, 7));
    } finally {
      s.close();
    }
  });

  nets.it('fragmentation needed from the router: EMSGSIZE, ICMP 3/4, ee_info the next-hop MTU 1300', () => {
    const n = nets.net(1);
    const s = err4(n, 8);
    try {
      const q = sent4(n, s, REMOTE4, 8);
      inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: K.ICMP_DEST_UNREACH, code: K.ICMP_FRAG_NEEDED, mtu: 1300 }), ...q]);
      expectError(s, { errno: 90, origin: ICMP, type: 3, code: 4, info: 1300, offender: v4(n.router.ip4) }, v4(REMOTE4, 8));
    } finally {
      s.close();
    }
  });

  nets.it('time exceeded from the router: EHOSTUNREACH, ICMP 11/0, ee_info 0', () => {
    const n = nets.net(1);
    const s = err4(n, 9);
    try {
      const q = sent4(n, s, REMOTE4, 9);
      inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: K.ICMP_TIME_EXCEEDED, code: 0 }), ...q]);
      expectError(s, { errno: 113, origin: ICMP, type: 11, code: 0, info: 0, offender: v4(n.router.ip4) }, v4(REMOTE4, 9));
    } finally {
      s.close();
    }
  });

  nets.it('the error for a net1 connection arriving on net2 is delivered all the same (no interface check)', () => {
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const s = err4(n1, 10);
    try {
      const q = sent4(n1, s, REMOTE4, 10);
      inject(n2, [ipv4({ src: n2.router.ip4, dst: n1.addr4 }), icmp({ icmpType: K.ICMP_DEST_UNREACH, code: K.ICMP_HOST_UNREACH }), ...q]);
      expectError(s, { errno: 113, origin: ICMP, type: 3, code: 1, info: 0, offender: v4(n2.router.ip4) }, v4(REMOTE4, 10));
    } finally {
      s.close();
    }
  });

  nets.it('an error about a subnet broadcast is delivered with icmp_ignore_bogus_error_responses=1 (default), dropped with 0', () => {
    const n = nets.net(1);
    const s = udpSocket(4);
    s.setMark(n.mark);
    s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
    s.setOption(K.SOL_SOCKET, K.SO_BROADCAST, 1);
    s.bind(`${n.addr4}:0`);
    const BCAST = '198.51.100.63';
    const HOST = '198.51.100.10';
    try {
      const q = sent4(n, s, BCAST, 11, `${BCAST}:11`);
      inject(n, [ipv4({ src: HOST, dst: n.addr4 }), icmp({ icmpType: K.ICMP_DEST_UNREACH, code: K.ICMP_PORT_UNREACH }), ...q]);
      expectError(s, { errno: 111, origin: ICMP, type: 3, code: 3, info: 0, offender: v4(HOST) }, v4(BCAST, 11));
      nets.sysctl('net.ipv4.icmp_ignore_bogus_error_responses', 0);
      inject(n, [ipv4({ src: HOST, dst: n.addr4 }), icmp({ icmpType: K.ICMP_DEST_UNREACH, code: K.ICMP_PORT_UNREACH }), ...q]);
      assert.throws(() => s.recvError({ timeoutMs: 100 }), errnoIs('EAGAIN'));
    } finally {
      nets.sysctl('net.ipv4.icmp_ignore_bogus_error_responses', 1);
      s.close();
    }
  });

  nets.it('an error about a datagram sent to a multicast group reaches the sender', () => {
    const n = nets.net(1);
    const s = udpSocket(4);
    s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
    s.setOption(K.SOL_IP, K.IP_MULTICAST_IF, ip_mreqn.pack({ multiaddr: ip4ToBytes('0.0.0.0'), address: ip4ToBytes('0.0.0.0'), ifindex: n.ifindex }));
    try {
      const q = sent4(n, s, GROUP4, 12, `${GROUP4}:12`);
      inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: K.ICMP_DEST_UNREACH, code: K.ICMP_PORT_UNREACH }), ...q]);
      expectError(s, { errno: 111, origin: ICMP, type: 3, code: 3, info: 0, offender: v4(n.router.ip4) }, v4(GROUP4, 12));
    } finally {
      s.close();
    }
  });

  nets.it('loopback: a closed port on 127.0.0.1 answers with a real ICMP port unreachable, offender 127.0.0.1', () => {
    const s = udpSocket(4);
    try {
      s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
      s.connect('127.0.0.1:13');
      s.send(Buffer.from(PAYLOAD));
      expectError(s, { errno: 111, origin: ICMP, type: 3, code: 3, info: 0, offender: v4('127.0.0.1') }, v4('127.0.0.1', 13));
    } finally {
      s.close();
    }
  });

  nets.it('local: a datagram over the MTU with IP_PMTUDISC_DO fails EMSGSIZE and queues origin LOCAL, ee_info 1500, no offender', () => {
    const n = nets.net(2); // net1's route to REMOTE4 has the path MTU 1300 learnt above
    const s = err4(n, 14);
    try {
      // 1472 bytes of payload fill the 1500-byte MTU exactly; one more does not fit.
      s.send(Buffer.alloc(1472));
      expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4, df: true }), udp({ sport: s.localAddress().port, dport: 14 }), raw(Buffer.alloc(1472))], { ignore: ['ipv4.id'] });
      assert.throws(() => s.recvError(), errnoIs('EAGAIN'));
      assert.throws(() => s.send(Buffer.alloc(1473)), errnoIs('EMSGSIZE'));
      expectError(s, { errno: 90, origin: K.SO_EE_ORIGIN_LOCAL, type: 0, code: 0, info: 1500, offender: null }, v4(REMOTE4, 14));
      expectNone(n, { timeoutMs: 50 });
    } finally {
      s.close();
    }
  });

  nets.it('IP_RECVERR_RFC4884: ee_data gives the extension offset at a 128-byte original datagram, not at 124; a bad checksum flags it', () => {
    const n = nets.net(1);
    const s = err4(n, 16);
    const body = Buffer.alloc(100, 0x5a); // 20 + 8 + 100 = the 128 bytes RFC 4884 requires
    // An extension structure (version 2) with one 8-byte object; its checksum covers the structure.
    const ext = (goodSum: boolean): Buffer => {
      const e = Buffer.from([0x20, 0, 0, 0, 0, 8, 1, 1, 0, 0, 0, 16]);
      e.writeUInt16BE(goodSum ? inetChecksum(e, 0, e.length) : 0x1234, 2);
      return e;
    };
    const errorWith = (words: number, goodSum: boolean): { data: number; length: number } => {
      s.send(body);
      const q = expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4, df: true }), udp({ sport: s.localAddress().port, dport: 16 }), raw(body)], { ignore: ['ipv4.id'] });
      // The length (in 32-bit words) is the second byte of the "unused" field of a destination unreachable.
      inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: K.ICMP_DEST_UNREACH, code: K.ICMP_HOST_UNREACH, unused: words }), ...q, raw(ext(goodSum))]);
      const m = s.recvError({ timeoutMs: 1000 });
      return { data: m.error.data, length: m.data.length };
    };
    try {
      assert.deepEqual(errorWith(32, true), { data: 0, length: 112 }); // option off: ee_data stays 0
      s.setOption(K.SOL_IP, K.IP_RECVERR_RFC4884, 1);
      // ee_rfc4884 { u16 len; u8 flags; u8 reserved }: len counts from the quoted payload (128 - 28).
      assert.deepEqual(errorWith(32, true), { data: 100, length: 112 });
      assert.deepEqual(errorWith(31, true), { data: 0, length: 112 });
      assert.deepEqual(errorWith(32, false), { data: 100 | (K.SO_EE_RFC4884_FLAG_INVALID << 16), length: 112 });
    } finally {
      s.close();
    }
  });

  nets.it('an IPv4 error on a v4-mapped IPv6 socket needs IP_RECVERR: IPV6_RECVERR alone queues nothing (SO_ERROR is set)', () => {
    const n = nets.net(2);
    const s = udpSocket(6);
    s.setMark(n.mark);
    s.setOption(K.SOL_IPV6, K.IPV6_RECVERR, 1);
    s.connect(`[::ffff:${REMOTE4}]:15`);
    try {
      const sendAndFail = (): void => {
        s.send(Buffer.from(PAYLOAD));
        const q = expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4 }), udp({ sport: s.localAddress().port, dport: 15 }), raw(PAYLOAD)], { ignore: ['ipv4.id', 'ipv4.ttl', 'ipv4.df'] });
        inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: K.ICMP_DEST_UNREACH, code: K.ICMP_PORT_UNREACH }), ...q]);
      };
      sendAndFail();
      assert.throws(() => s.recvError({ timeoutMs: 100 }), errnoIs('EAGAIN'));
      assert.equal(s.pendingError(), 111);
      // With IP_RECVERR the error is read as IPV6_RECVERR at SOL_IPV6, addresses v4-mapped.
      s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
      sendAndFail();
      const m = s.recvError({ timeoutMs: 1000 });
      assert.equal(m.error.level, K.SOL_IPV6);
      assert.deepEqual(
        [m.error.errno, m.error.origin, m.error.icmpType, m.error.icmpCode, m.error.info, m.error.offender, m.from],
        [111, ICMP, 3, 3, 0, v6(`::ffff:${n.router.ip4}`), v6(`::ffff:${REMOTE4}`, 15)],
      );
    } finally {
      s.close();
    }
  });
});

describe('IPV6_RECVERR: sock_extended_err for ICMPv6 errors and local errors', () => {
  nets.it('port unreachable from the destination: ECONNREFUSED, ICMPv6 1/4, offender the destination', () => {
    const n = nets.net(1);
    const s = err6(n, 7);
    try {
      const q = sent6(n, s, 7);
      inject(n, [ipv6({ src: REMOTE6, dst: n.addr6 }), icmpv6({ icmpType: K.ICMPV6_DEST_UNREACH, code: K.ICMPV6_PORT_UNREACH }), ...q]);
      expectError(s, { errno: 111, origin: ICMP6, type: 1, code: 4, info: 0, offender: v6(REMOTE6) }, v6(REMOTE6, 7));
    } finally {
      s.close();
    }
  });

  nets.it('packet too big from the router: EMSGSIZE, ICMPv6 2/0, ee_info the MTU 1280', () => {
    const n = nets.net(1);
    const s = err6(n, 8);
    try {
      const q = sent6(n, s, 8);
      inject(n, [ipv6({ src: n.router.ip6, dst: n.addr6 }), icmpv6({ icmpType: K.ICMPV6_PKT_TOOBIG, mtu: 1280 }), ...q]);
      expectError(s, { errno: 90, origin: ICMP6, type: 2, code: 0, info: 1280, offender: v6(n.router.ip6) }, v6(REMOTE6, 8));
    } finally {
      s.close();
    }
  });

  nets.it('time exceeded from the router, arriving on net2: EHOSTUNREACH, ICMPv6 3/0, offender net2 router', () => {
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const s = err6(n1, 9);
    try {
      const q = sent6(n1, s, 9);
      inject(n2, [ipv6({ src: n2.router.ip6, dst: n1.addr6 }), icmpv6({ icmpType: K.ICMPV6_TIME_EXCEED, code: 0 }), ...q]);
      expectError(s, { errno: 113, origin: ICMP6, type: 3, code: 0, info: 0, offender: v6(n2.router.ip6) }, v6(REMOTE6, 9));
    } finally {
      s.close();
    }
  });

  nets.it('IPV6_RECVERR_RFC4884: the length in 64-bit words; 16 (128 bytes) gives the offset 80, 15 gives nothing', () => {
    const n = nets.net(2);
    const s = err6(n, 17);
    const body = Buffer.alloc(80, 0x5a); // 40 + 8 + 80 = 128 bytes
    const ext = Buffer.from([0x20, 0, 0, 0, 0, 8, 1, 1, 0, 0, 0, 16]);
    ext.writeUInt16BE(inetChecksum(ext, 0, ext.length), 2);
    const errorWith = (words: number): number => {
      const q = sent6Body(n, s, 17, body);
      // icmp6_datagram_len is the first byte after the ICMPv6 checksum.
      inject(n, [ipv6({ src: n.router.ip6, dst: n.addr6 }), icmpv6({ icmpType: K.ICMPV6_DEST_UNREACH, code: K.ICMPV6_ADDR_UNREACH, unused: words << 24 }), ...q, raw(ext)]);
      return s.recvError({ timeoutMs: 1000 }).error.data;
    };
    try {
      s.setOption(K.SOL_IPV6, K.IPV6_RECVERR_RFC4884, 1);
      assert.equal(errorWith(16), 80);
      assert.equal(errorWith(15), 0);
    } finally {
      s.close();
    }
  });

  nets.it('loopback: a closed port on ::1 answers with ICMPv6 port unreachable, offender ::1', () => {
    const s = udpSocket(6);
    try {
      s.setOption(K.SOL_IPV6, K.IPV6_RECVERR, 1);
      s.connect('[::1]:13');
      s.send(Buffer.from(PAYLOAD));
      expectError(s, { errno: 111, origin: ICMP6, type: 1, code: 4, info: 0, offender: v6('::1') }, v6('::1', 13));
    } finally {
      s.close();
    }
  });

  nets.it('local: IPV6_DONTFRAG over the MTU fails EMSGSIZE: origin LOCAL ee_info 1500, and IPV6_RECVPATHMTU gives IPV6_PATHMTU 1500', () => {
    const n = nets.net(2); // net1's route to REMOTE6 has the path MTU 1280 learnt above
    const s = err6(n, 14);
    try {
      s.setOption(K.SOL_IPV6, K.IPV6_DONTFRAG, 1);
      s.setOption(K.SOL_IPV6, K.IPV6_RECVPATHMTU, 1);
      // 1452 bytes fill the 1500-byte MTU (40 + 8 + 1452); 1453 do not.
      s.send(Buffer.alloc(1452));
      expectPacket(n, [ipv6({ src: n.addr6, dst: REMOTE6 }), udp({ sport: s.localAddress().port, dport: 14 }), raw(Buffer.alloc(1452))]);
      assert.throws(() => s.send(Buffer.alloc(1453)), errnoIs('EMSGSIZE'));
      expectError(s, { errno: 90, origin: K.SO_EE_ORIGIN_LOCAL, type: 0, code: 0, info: 1500, offender: null }, v6(REMOTE6, 14));
      // The path MTU comes back as an ordinary read (no data, one IPV6_PATHMTU cmsg) that poll()
      // does not announce: udpv6_recvmsg() checks np->rxpmtu before the receive queue.
      assert.equal(s.poll(1 /* POLLIN */, 0), 0);
      const m = s.recvMsg({ flags: K.MSG_DONTWAIT });
      assert.equal(m.data.length, 0);
      assert.deepEqual(m.control, [{ kind: 'pathmtu', address: v6(REMOTE6), mtu: 1500 }]);
      expectNone(n, { timeoutMs: 50 });
    } finally {
      s.close();
    }
  });
});
