// Real-kernel checks of the socket layer. Each file enters its own network namespace, so it is
// safe both in the UML guest and on a host (run as root).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closing, findCmsg, pingSocket, tcpSocket, udpSocket, netlinkSocket, rawSocket } from '../../../src/lib/socket.js';
import { ip6ToBytes } from '../../../src/lib/addr.js';
import { K, errnoIs, ifNameToIndex, isSysError } from '../../../src/lib/sys/index.js';
import { in6_flowlabel_req } from '../../../src/lib/uapi.js';
import { withRoute } from '../../../src/lib/netlink/route.js';
import { enterNewNetns } from '../../../src/lib/netns.js';
import { withSysctl } from '../../../src/lib/sysctl.js';

let leave: () => void = () => {};
before(() => {
  leave = enterNewNetns();
});
after(() => leave());

/** ICMP echo request with id/seq 0 (ping sockets fill in the id and the checksum). */
function echoRequest(type: number, payload: string): Buffer {
  return Buffer.concat([Buffer.from([type, 0, 0, 0, 0, 0, 0, 1]), Buffer.from(payload)]);
}

describe('ping sockets', () => {
  for (const v of [4, 6] as const) {
    it(`IPv${v} echo to the loopback address gets a reply`, () => {
      withSysctl({ 'net.ipv4.ping_group_range': '0 2147483647' }, () => {
        const s = pingSocket(v);
        try {
          const dst = v === 4 ? '127.0.0.1' : '::1';
          s.sendTo(echoRequest(v === 4 ? 8 : 128, 'net-test'), dst);
          const { data, from } = s.recvFrom({ timeoutMs: 2000 });
          assert.equal(data[0], v === 4 ? 0 : 129, 'echo reply type');
          assert.equal(data.subarray(8).toString(), 'net-test');
          assert.equal(data.readUInt16BE(6), 1, 'sequence echoed');
          assert.equal(from?.address, dst);
        } finally {
          s.close();
        }
      });
    });
  }
});

describe('UDP control messages over loopback', () => {
  it('IPv4: pktinfo and TTL arrive, pktinfo chooses the reply source', () => {
    const server = udpSocket(4);
    const client = udpSocket(4);
    try {
      server.bind('0.0.0.0:0');
      server.setOption(K.SOL_IP, K.IP_PKTINFO, 1);
      server.setOption(K.SOL_IP, K.IP_RECVTTL, 1);
      server.setOption(K.SOL_IP, K.IP_RECVTOS, 1);
      client.setOption(K.SOL_IP, K.IP_RECVTTL, 1);
      const port = server.localAddress().port;
      // 127.0.0.2 is local (all of 127/8 is), so the server can tell which address was used.
      client.sendMsg({
        data: Buffer.from('q'),
        to: { address: '127.0.0.2', port },
        control: [{ kind: 'ttl', value: 17 }, { kind: 'tos', value: 0x10 }],
      });
      const q = server.recvMsg({ timeoutMs: 2000 });
      assert.equal(q.data.toString(), 'q');
      assert.equal(findCmsg(q.control, 'ttl')?.value, 17);
      assert.equal(findCmsg(q.control, 'tos')?.value, 0x10);
      const pi = findCmsg(q.control, 'pktinfo');
      assert.ok(pi, 'pktinfo present');
      assert.equal(pi.addr, '127.0.0.2');
      assert.equal(pi.ifindex, ifNameToIndex('lo'));
      assert.ok(q.from);
      server.sendMsg({
        data: Buffer.from('a'),
        to: q.from,
        control: [{ kind: 'pktinfo', specDst: pi.addr }, { kind: 'ttl', value: 33 }],
      });
      const a = client.recvMsg({ timeoutMs: 2000 });
      assert.equal(a.data.toString(), 'a');
      assert.equal(a.from?.address, '127.0.0.2', 'reply source chosen by IP_PKTINFO');
      assert.equal(findCmsg(a.control, 'ttl')?.value, 33);
    } finally {
      server.close();
      client.close();
    }
  });

  it('IPv6: pktinfo, hop limit and tclass arrive, pktinfo chooses the reply source', () => {
    withRoute((rt) => rt.addAddress({ dev: 'lo', address: '2001:db8::5/128' }, { usable: true }));
    const server = udpSocket(6);
    const client = udpSocket(6);
    try {
      server.bind('[::]:0');
      for (const o of [K.IPV6_RECVPKTINFO, K.IPV6_RECVHOPLIMIT, K.IPV6_RECVTCLASS]) server.setOption(K.SOL_IPV6, o, 1);
      client.setOption(K.SOL_IPV6, K.IPV6_RECVHOPLIMIT, 1);
      const port = server.localAddress().port;
      client.sendMsg({
        data: Buffer.from('q'),
        to: `[2001:db8::5]:${port}`,
        control: [{ kind: 'hoplimit', value: 5 }, { kind: 'tclass', value: 0xb8 }],
      });
      const q = server.recvMsg({ timeoutMs: 2000 });
      assert.equal(findCmsg(q.control, 'hoplimit')?.value, 5);
      assert.equal(findCmsg(q.control, 'tclass')?.value, 0xb8);
      const pi = findCmsg(q.control, 'pktinfo6');
      assert.equal(pi?.addr, '2001:db8::5');
      assert.ok(q.from);
      // Without pktinfo the reply to ::1... would come from the route's source; force 2001:db8::5.
      server.sendMsg({ data: Buffer.from('a'), to: q.from, control: [{ kind: 'pktinfo6', addr: '2001:db8::5' }, { kind: 'hoplimit', value: 9 }] });
      const a = client.recvMsg({ timeoutMs: 2000 });
      assert.equal(a.from?.address, '2001:db8::5');
      assert.equal(findCmsg(a.control, 'hoplimit')?.value, 9);
    } finally {
      server.close();
      client.close();
    }
  });

  it('IPv4-mapped addresses on a dual-stack socket', () => {
    const s6 = udpSocket(6);
    const c4 = udpSocket(4);
    try {
      s6.bind('[::]:0');
      c4.sendTo(Buffer.from('m'), { address: '127.0.0.1', port: s6.localAddress().port });
      const { from } = s6.recvFrom({ timeoutMs: 2000 });
      assert.equal(from?.address, '::ffff:127.0.0.1');
      s6.sendTo(Buffer.from('r'), '127.0.0.1:' + String(c4.localAddress().port)); // mapped on the way out
      assert.equal(c4.recv({ timeoutMs: 2000 }).toString(), 'r');
    } finally {
      s6.close();
      c4.close();
    }
  });
});

describe('error queue', () => {
  it('IPv4: port unreachable is read with its offender', () => {
    const s = udpSocket(4);
    try {
      s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
      s.sendTo(Buffer.from('x'), '127.0.0.3:9');
      const m = s.recvError({ timeoutMs: 2000 });
      assert.equal(m.error.code, 'ECONNREFUSED');
      assert.equal(m.error.origin, K.SO_EE_ORIGIN_ICMP);
      assert.deepEqual([m.error.icmpType, m.error.icmpCode], [3, 3]);
      assert.equal(m.error.offender?.family, 'inet');
      assert.equal(m.error.offender?.address, '127.0.0.3');
      assert.equal(m.data.toString(), 'x', 'original payload comes back');
      assert.ok(m.flags & K.MSG_ERRQUEUE);
      assert.throws(() => s.recvError(), (e: unknown) => isSysError(e, 'EAGAIN'), 'queue now empty');
    } finally {
      s.close();
    }
  });

  it('a timed recv wakes on the error and reports it instead of blocking', () => {
    const s = udpSocket(4);
    try {
      s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
      s.sendTo(Buffer.from('x'), '127.0.0.3:9');
      const t0 = Date.now();
      assert.throws(() => s.recv({ timeoutMs: 2000 }), (e: unknown) => isSysError(e, 'ECONNREFUSED'));
      assert.ok(Date.now() - t0 < 1500, 'did not wait for the timeout');
      assert.equal(s.recvError({ timeoutMs: 1000 }).error.code, 'ECONNREFUSED', 'queue entry still there');
    } finally {
      s.close();
    }
  });

  it('IPv6: port unreachable is read with its offender', () => {
    const s = udpSocket(6);
    try {
      s.setOption(K.SOL_IPV6, K.IPV6_RECVERR, 1);
      s.sendTo(Buffer.from('y'), '[::1]:9');
      const m = s.recvError({ timeoutMs: 2000 });
      assert.equal(m.error.code, 'ECONNREFUSED');
      assert.equal(m.error.origin, K.SO_EE_ORIGIN_ICMP6);
      assert.deepEqual([m.error.icmpType, m.error.icmpCode], [1, 4]);
      assert.equal(m.error.offender?.family, 'inet6');
      assert.equal(m.error.offender?.address, '::1');
    } finally {
      s.close();
    }
  });
});

describe('errno names', () => {
  const code = (c: string) => (e: unknown) => isSysError(e) && e.code === c;

  it('EADDRINUSE: two sockets on one port', () => {
    const a = udpSocket(4);
    const b = udpSocket(4);
    try {
      a.bind('127.0.0.1:0');
      assert.throws(() => b.bind(a.localAddress()), code('EADDRINUSE'));
    } finally {
      a.close();
      b.close();
    }
  });

  it('EADDRNOTAVAIL: bind to an address that is not local', () => {
    const a = udpSocket(4);
    const b = udpSocket(6);
    try {
      assert.throws(() => a.bind('192.0.2.1:0'), code('EADDRNOTAVAIL'));
      assert.throws(() => b.bind('[2001:db8::77]:0'), code('EADDRNOTAVAIL'));
    } finally {
      a.close();
      b.close();
    }
  });

  it('ENETUNREACH: no route in a fresh namespace', () => {
    const a = udpSocket(4);
    const b = udpSocket(6);
    try {
      assert.throws(() => a.connect('192.0.2.1:53'), code('ENETUNREACH'));
      assert.throws(() => b.connect('[2001:db8::1]:53'), code('ENETUNREACH'));
    } finally {
      a.close();
      b.close();
    }
  });

  it('EAGAIN: MSG_DONTWAIT with nothing queued, and a timeout', () => {
    const a = udpSocket(4);
    try {
      a.bind('127.0.0.1:0');
      assert.throws(() => a.recv({ flags: K.MSG_DONTWAIT }), code('EAGAIN'));
      const t0 = Date.now();
      assert.throws(() => a.recv({ timeoutMs: 100 }), code('EAGAIN'));
      assert.ok(Date.now() - t0 >= 90, 'waited for the timeout');
    } finally {
      a.close();
    }
  });

  it('EINVAL: binding a bound socket again', () => {
    const a = udpSocket(4);
    try {
      a.bind('127.0.0.1:0');
      assert.throws(() => a.bind('127.0.0.1:0'), code('EINVAL'));
    } finally {
      a.close();
    }
  });

  it('ECONNREFUSED: TCP to a closed port', () => {
    const a = tcpSocket(6);
    try {
      assert.throws(() => a.connect('[::1]:9'), code('ECONNREFUSED'));
    } finally {
      a.close();
    }
  });

  it('the error carries errno, call and args', () => {
    const a = udpSocket(4);
    try {
      a.bind('192.0.2.9:7');
      assert.fail('bind succeeded');
    } catch (e) {
      assert.ok(isSysError(e));
      assert.equal(e.errno, 99);
      assert.equal(e.call, 'bind');
      assert.equal(e.args[0], a.fd);
      assert.deepEqual(e.args[1], { family: 'inet', address: '192.0.2.9', port: 7 });
      assert.match(e.message, /^bind\(\d+, 192\.0\.2\.9:7\) failed: EADDRNOTAVAIL/);
    } finally {
      a.close();
    }
  });
});

describe('socket options and streams', () => {
  it('SO_MARK, SO_BINDTODEVICE, IP(V6)_UNICAST_IF, SO_COOKIE', () => {
    const a = udpSocket(4);
    const b = udpSocket(6);
    try {
      a.setMark(0x1234);
      assert.equal(a.getIntOption(K.SOL_SOCKET, K.SO_MARK), 0x1234);
      a.bindToDevice('lo');
      assert.equal(a.getOption(K.SOL_SOCKET, K.SO_BINDTODEVICE, 16).toString().replace(/\0.*$/s, ''), 'lo');
      a.bindToDevice(null);
      assert.equal(a.getOption(K.SOL_SOCKET, K.SO_BINDTODEVICE, 16).length, 0);
      assert.throws(() => a.bindToDevice('nonexistent0'), (e: unknown) => isSysError(e, 'ENODEV'));
      const lo = ifNameToIndex('lo');
      a.setUnicastIf(lo);
      assert.equal(a.unicastIf(), lo);
      assert.equal(a.getOption(K.SOL_IP, K.IP_UNICAST_IF, 4).readUInt32BE(0), lo, 'network order on the wire');
      b.setUnicastIf(lo);
      assert.equal(b.unicastIf(), lo);
      assert.throws(() => b.setUnicastIf(4242), (e: unknown) => isSysError(e, 'EADDRNOTAVAIL'));
      const ca = a.cookie();
      assert.ok(ca > 0n);
      assert.notEqual(ca, b.cookie());
      assert.equal(a.cookie(), ca, 'stable');
    } finally {
      a.close();
      b.close();
    }
  });

  it('getOption with an input buffer: IPV6_FLOWLABEL_MGR GET reads the request, answers in it', () => {
    const s = udpSocket(6);
    try {
      const label = 0x1234a;
      const dst = ip6ToBytes('::1');
      // Acquire (setsockopt's GET) a label of our own, which connect() takes once IPV6_FLOWINFO_SEND is on.
      s.setOption(K.SOL_IPV6, K.IPV6_FLOWLABEL_MGR, in6_flowlabel_req.pack({
        dst, label, action: K.IPV6_FL_A_GET, share: K.IPV6_FL_S_EXCL, flags: K.IPV6_FL_F_CREATE,
      }));
      s.setOption(K.SOL_IPV6, K.IPV6_FLOWINFO_SEND, 1);
      s.connect({ address: '::1', port: 9, flowinfo: label });
      const get = in6_flowlabel_req.pack({ action: K.IPV6_FL_A_GET });
      const got = in6_flowlabel_req.unpack(s.getOption(K.SOL_IPV6, K.IPV6_FLOWLABEL_MGR, get));
      assert.equal(got.label, label);
      assert.deepEqual(Buffer.from(got.dst), dst);
      assert.equal(got.share, K.IPV6_FL_S_EXCL);
      // The kernel reads the action from our buffer: anything but GET is refused.
      const put = in6_flowlabel_req.pack({ action: K.IPV6_FL_A_PUT });
      assert.throws(() => s.getOption(K.SOL_IPV6, K.IPV6_FLOWLABEL_MGR, put), errnoIs('EINVAL'));
    } finally {
      s.close();
    }
  });

  it('non-blocking mode and SO_RCVTIMEO give EAGAIN', () => {
    const a = udpSocket(4, { nonBlocking: true });
    const b = udpSocket(4);
    try {
      a.bind('127.0.0.1:0');
      assert.throws(() => a.recv(), (e: unknown) => isSysError(e, 'EAGAIN'));
      a.setNonBlocking(false);
      a.setTimeouts({ recvMs: 50 });
      assert.throws(() => a.recv(), (e: unknown) => isSysError(e, 'EAGAIN'));
      b.bind('127.0.0.1:0');
      b.setNonBlocking(true);
      assert.throws(() => b.recv(), (e: unknown) => isSysError(e, 'EAGAIN'));
    } finally {
      a.close();
      b.close();
    }
  });

  it('TCP connect, accept, exchange, tcp_info', () => {
    const l = tcpSocket(4);
    const c = tcpSocket(4);
    try {
      l.bind('127.0.0.1:0');
      l.listen();
      c.connect(l.localAddress());
      const { socket: s, peer } = l.accept({ timeoutMs: 2000 });
      try {
        assert.deepEqual(peer, c.localAddress());
        assert.deepEqual(c.peerAddress(), l.localAddress());
        c.send(Buffer.from('hello'));
        assert.equal(s.recv({ timeoutMs: 2000 }).toString(), 'hello');
        const info = c.tcpInfo();
        assert.equal(info.state, 1, 'TCP_ESTABLISHED');
        assert.ok(info.sndMss > 0);
        c.shutdown('write');
        assert.equal(s.recv({ timeoutMs: 2000 }).length, 0, 'EOF after shutdown');
      } finally {
        s.close();
      }
    } finally {
      l.close();
      c.close();
    }
  });

  it('sendMsg gathers a scatter list into one datagram', () => {
    const a = udpSocket(6);
    try {
      a.bind('[::1]:0');
      const n = a.sendMsg({ data: [Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde')], to: a.localAddress() });
      assert.equal(n, 5);
      assert.equal(a.recv({ timeoutMs: 2000 }).toString(), 'abcde');
    } finally {
      a.close();
    }
  });

  it('MSG_PEEK and MSG_TRUNC report the real datagram length', () => {
    const a = udpSocket(4);
    try {
      a.bind('127.0.0.1:0');
      a.sendTo(Buffer.alloc(300, 1), a.localAddress());
      const peek = a.recvFrom({ size: 10, flags: K.MSG_PEEK | K.MSG_TRUNC, timeoutMs: 2000 });
      assert.equal(peek.length, 300);
      assert.equal(peek.data.length, 10);
      const m = a.recvMsg({ size: 100 });
      assert.ok(m.flags & K.MSG_TRUNC);
      assert.equal(m.data.length, 100);
    } finally {
      a.close();
    }
  });

  it('raw ICMPv6 socket and netlink socket open and bind', () => {
    const r = rawSocket(6, K.IPPROTO_ICMPV6);
    const nl = netlinkSocket(K.NETLINK_ROUTE);
    try {
      assert.equal(r.getIntOption(K.SOL_SOCKET, K.SO_PROTOCOL), K.IPPROTO_ICMPV6);
      nl.bind({ groups: 0 });
      assert.ok(nl.localAddress().pid > 0, 'kernel assigned a port id');
      nl.setOption(K.SOL_NETLINK, K.NETLINK_ADD_MEMBERSHIP, 1);
      // RTM_GETLINK dump request: nlmsghdr(len 32, type 18, flags REQUEST|DUMP) + ifinfomsg.
      const req = Buffer.alloc(32);
      req.writeUInt32LE(32, 0);
      req.writeUInt16LE(18, 4);
      req.writeUInt16LE(0x301, 6);
      req.writeUInt32LE(1, 8);
      nl.sendTo(req, { pid: 0 });
      const reply = nl.recvFrom({ timeoutMs: 2000 });
      assert.equal(reply.from?.pid, 0, 'from the kernel');
      assert.equal(reply.data.readUInt16LE(4), 16, 'RTM_NEWLINK');
    } finally {
      r.close();
      nl.close();
    }
  });
});

describe('tryRecv and closing', () => {
  it('tryRecv: the datagram when one is queued, null (not EAGAIN) when none comes in time; closing closes after the block, also when it throws', () => {
    const r = udpSocket(4);
    r.bind('127.0.0.1:0');
    const port = r.localAddress().port;
    const got = closing(udpSocket(4), (s) => {
      s.sendTo(Buffer.from('hi'), { address: '127.0.0.1', port });
      return r.tryRecv({ timeoutMs: 1000 })?.toString();
    });
    assert.equal(got, 'hi');
    assert.equal(r.tryRecv({ timeoutMs: 20 }), null);
    assert.throws(() => closing(r, () => { throw new Error('boom'); }), /boom/);
    assert.throws(() => r.tryRecv(), (e: unknown) => isSysError(e, 'EBADF'));
  });
});
