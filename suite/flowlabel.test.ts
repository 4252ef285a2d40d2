// IPv6 flow labels: leases through IPV6_FLOWLABEL_MGR (create, share, release, the state-range
// split at 0x80000 when flowlabel_state_ranges is on), IPV6_FLOWINFO_SEND putting a leased label on the wire, and the reflection
// of a peer's label in echo replies and resets (flowlabel_reflect). Facts from
// net/ipv6/ip6_flowlabel.c (ipv6_flowlabel_get/put, fl_intern), icmp.c and tcp_ipv6.c.
// The fixture sets auto_flowlabels=0, so a packet without a label carries 0.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { useNetworks, REMOTE6, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { udpSocket, type Socket } from '../src/lib/socket.js';
import { ip6ToBytes } from '../src/lib/addr.js';
import { K, errnoIs } from '../src/lib/sys/index.js';
import { in6_flowlabel_req } from '../src/lib/uapi.js';
import { withSysctl } from '../src/lib/sysctl.js';
import { echoReply6, echoRequest6, ipv6, raw, tcp, udp } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });

/** A peer behind net1's router; a rule by destination routes our replies back to it. */
const PEER6 = '2001:db8:ff::9';
const DPORT = 7100;

before(() => {
  nets.addRule({ family: 'inet6', priority: 50, dst: `${PEER6}/128`, table: nets.net(1).table });
});

function sock(n: Network): Socket<'inet6'> {
  const s = udpSocket(6);
  s.setMark(n.mark);
  return s;
}

/** IPV6_FLOWLABEL_MGR; returns the request as the kernel left it (label 0 is filled in). */
function manage(s: Socket<'inet6'>, f: { label: number; action?: number; share?: number; flags?: number }): number {
  const req = in6_flowlabel_req.pack({
    dst: ip6ToBytes(REMOTE6), label: f.label, action: f.action ?? K.IPV6_FL_A_GET,
    share: f.share ?? K.IPV6_FL_S_EXCL, flags: f.flags ?? K.IPV6_FL_F_CREATE,
  });
  s.setOption(K.SOL_IPV6, K.IPV6_FLOWLABEL_MGR, req);
  return in6_flowlabel_req.unpack(req).label;
}

/** /proc/net/ip6_flowlabel rows: label (hex) and share. */
function leases(): { label: number; share: number }[] {
  return readFileSync('/proc/net/ip6_flowlabel', 'utf8').split('\n').slice(1).filter(Boolean)
    .map((l) => l.trim().split(/\s+/)).map(([label, share]) => ({ label: parseInt(label!, 16), share: Number(share) }));
}

function expectUdp(n: Network, s: Socket<'inet6'>, fl: number, data: Buffer): void {
  expectPacket(n, [ipv6({ src: n.addr6, dst: REMOTE6, fl }), udp({ sport: s.localAddress().port, dport: DPORT }), raw(data)]);
}

describe('flow label leases (IPV6_FLOWLABEL_MGR)', () => {
  nets.it('GET of a label nobody leased, without IPV6_FL_F_CREATE: ENOENT', () => {
    const s = sock(nets.net(1));
    try {
      assert.throws(() => manage(s, { label: 0x1111, flags: 0 }), errnoIs('ENOENT'));
    } finally {
      s.close();
    }
  });

  nets.it('flowlabel_state_ranges=0 (a new namespace\'s default): 0x80000 and 0xfffff can be leased; 0x100000 (21 bits) is EINVAL', () => {
    assert.equal(readFileSync('/proc/sys/net/ipv6/flowlabel_state_ranges', 'utf8').trim(), '0');
    const s = sock(nets.net(1));
    try {
      // Shared leases (ANY): a closed socket's label lingers (FL_MIN_LINGER), and ANY can rejoin it.
      assert.equal(manage(s, { label: 0x80000, share: K.IPV6_FL_S_ANY }), 0x80000);
      assert.equal(manage(s, { label: 0xfffff, share: K.IPV6_FL_S_ANY }), 0xfffff);
      assert.throws(() => manage(s, { label: 0x100000, share: K.IPV6_FL_S_ANY }), errnoIs('EINVAL'));
    } finally {
      s.close();
    }
  });

  nets.it('flowlabel_state_ranges=1: 0x7ffff can be leased; 0x80000 and 0x80001 (the stateless half) are ERANGE', () => {
    const s = sock(nets.net(1));
    try {
      withSysctl({ 'net.ipv6.flowlabel_state_ranges': 1 }, () => {
        assert.equal(manage(s, { label: 0x7ffff, share: K.IPV6_FL_S_ANY }), 0x7ffff);
        assert.throws(() => manage(s, { label: 0x80000, share: K.IPV6_FL_S_ANY }), errnoIs('ERANGE'));
        assert.throws(() => manage(s, { label: 0x80001, share: K.IPV6_FL_S_ANY }), errnoIs('ERANGE'));
      });
      assert.ok(leases().some((l) => l.label === 0x7ffff && l.share === K.IPV6_FL_S_ANY));
    } finally {
      s.close();
    }
  });

  nets.it('label 0 with CREATE: the kernel picks a non-zero 20-bit label and writes it into the request', () => {
    const s = sock(nets.net(1));
    try {
      const label = manage(s, { label: 0 });
      assert.ok(label > 0 && label <= 0xfffff, `label ${label.toString(16)}`);
      assert.ok(leases().some((l) => l.label === label && l.share === K.IPV6_FL_S_EXCL), 'listed in /proc/net/ip6_flowlabel');
    } finally {
      s.close();
    }
  });

  nets.it('an exclusive lease: another socket gets EPERM, and EEXIST with IPV6_FL_F_EXCL', () => {
    const [a, b] = [sock(nets.net(1)), sock(nets.net(1))];
    try {
      manage(a, { label: 0x2222 });
      assert.throws(() => manage(b, { label: 0x2222 }), errnoIs('EPERM'));
      assert.throws(() => manage(b, { label: 0x2222, flags: K.IPV6_FL_F_CREATE | K.IPV6_FL_F_EXCL }), errnoIs('EEXIST'));
    } finally {
      a.close();
      b.close();
    }
  });

  nets.it('share ANY: a second socket joins the lease; a request with another share mode is EPERM', () => {
    const [a, b, c] = [sock(nets.net(1)), sock(nets.net(1)), sock(nets.net(1))];
    try {
      manage(a, { label: 0x3333, share: K.IPV6_FL_S_ANY });
      assert.equal(manage(b, { label: 0x3333, share: K.IPV6_FL_S_ANY }), 0x3333);
      assert.throws(() => manage(c, { label: 0x3333, share: K.IPV6_FL_S_EXCL }), errnoIs('EPERM'));
      assert.deepEqual(leases().filter((l) => l.label === 0x3333), [{ label: 0x3333, share: K.IPV6_FL_S_ANY }]);
    } finally {
      a.close();
      b.close();
      c.close();
    }
  });

  nets.it('PUT of a label the socket does not hold: ESRCH', () => {
    const s = sock(nets.net(1));
    try {
      assert.throws(() => manage(s, { label: 0x4444, action: K.IPV6_FL_A_PUT, flags: 0 }), errnoIs('ESRCH'));
    } finally {
      s.close();
    }
  });
});

describe('IPV6_FLOWINFO_SEND', () => {
  nets.it('with a leased label in sin6_flowinfo, the packet carries it', () => {
    const n = nets.net(1);
    const s = sock(n);
    try {
      manage(s, { label: 0x5555 });
      s.setOption(K.SOL_IPV6, K.IPV6_FLOWINFO_SEND, 1);
      const data = Buffer.from('labelled');
      s.sendTo(data, { address: REMOTE6, port: DPORT, flowinfo: 0x5555 });
      expectUdp(n, s, 0x5555, data);
    } finally {
      s.close();
    }
  });

  nets.it('with a label the socket has not leased: EINVAL, nothing sent', () => {
    const n = nets.net(1);
    const s = sock(n);
    try {
      s.setOption(K.SOL_IPV6, K.IPV6_FLOWINFO_SEND, 1);
      assert.throws(() => s.sendTo(Buffer.from('x'), { address: REMOTE6, port: DPORT, flowinfo: 0x5556 }), errnoIs('EINVAL'));
      expectNone(n, { timeoutMs: 100 });
    } finally {
      s.close();
    }
  });

  nets.it('without IPV6_FLOWINFO_SEND, sin6_flowinfo is ignored: label 0', () => {
    const n = nets.net(1);
    const s = sock(n);
    try {
      manage(s, { label: 0x5557 });
      const data = Buffer.from('plain');
      s.sendTo(data, { address: REMOTE6, port: DPORT, flowinfo: 0x5557 });
      expectUdp(n, s, 0, data);
    } finally {
      s.close();
    }
  });

  nets.it('after PUT the label is no longer the socket\'s: sending with it is EINVAL', () => {
    const n = nets.net(1);
    const s = sock(n);
    try {
      manage(s, { label: 0x5558 });
      s.setOption(K.SOL_IPV6, K.IPV6_FLOWINFO_SEND, 1);
      manage(s, { label: 0x5558, action: K.IPV6_FL_A_PUT, flags: 0 });
      assert.throws(() => s.sendTo(Buffer.from('x'), { address: REMOTE6, port: DPORT, flowinfo: 0x5558 }), errnoIs('EINVAL'));
      expectNone(n, { timeoutMs: 100 });
    } finally {
      s.close();
    }
  });
});

describe('flowlabel_reflect', () => {
  const echo = (n: Network, fl: number, bits: number): void => {
    const data = Buffer.from('reflect me');
    inject(n, [ipv6({ src: PEER6, dst: n.addr6, fl }), echoRequest6({ id: 0x77, seq: fl & 0xff }), raw(data)]);
    // Bit 4 (FLOWLABEL_REFLECT_ICMPV6_ECHO_REPLIES) copies the request's label (icmpv6_echo_reply).
    const want = bits & 4 ? fl : 0;
    expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6, fl: want }), echoReply6({ id: 0x77, seq: fl & 0xff }), raw(data)]);
  };
  const rst = (n: Network, fl: number, bits: number): void => {
    inject(n, [ipv6({ src: PEER6, dst: n.addr6, fl }), tcp({ sport: 40000, dport: 9, seq: 5000, flags: 'S', window: 1000 })]);
    // Bit 2 (FLOWLABEL_REFLECT_TCP_RESET): a reset without a socket takes the segment's label.
    const want = bits & 2 ? fl : 0;
    expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6, fl: want }), tcp({ sport: 9, dport: 40000, seq: 0, ack: 5001, flags: 'RA', window: 0 })]);
  };

  for (const bits of [0, 4, 2, 6]) {
    nets.it(`flowlabel_reflect=${bits}: echo reply label ${bits & 4 ? 'reflected' : '0'}, reset label ${bits & 2 ? 'reflected' : '0'}`, () => {
      nets.sysctl('net.ipv6.flowlabel_reflect', bits);
      const n = nets.net(1);
      echo(n, 0xabcde, bits);
      rst(n, 0x12345, bits);
    });
  }
});
