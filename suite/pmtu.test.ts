// Path MTU per network: an ICMP "fragmentation needed" / ICMPv6 "packet too big" injected on
// one network lowers the path MTU of that network's route to the destination only; the same
// destination through another network keeps the link MTU.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { expectPacket, inject } from '../src/lib/expect.js';
import { udpSocket, type Socket } from '../src/lib/socket.js';
import { errnoIs, K } from '../src/lib/sys/index.js';
import { build, icmp, icmpv6, ipv4, ipv6, raw, udp, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMPV6_PKT_TOOBIG, type Layer } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 2 });

function udp4(n: Network, dport: number): Socket<'inet'> {
  const s = udpSocket(4);
  s.setMark(n.mark);
  s.setOption(K.SOL_IP, K.IP_MTU_DISCOVER, K.IP_PMTUDISC_DO);
  s.connect({ address: REMOTE4, port: dport });
  return s;
}

function udp6(n: Network, dport: number): Socket<'inet6'> {
  const s = udpSocket(6);
  s.setMark(n.mark);
  s.connect({ address: REMOTE6, port: dport });
  return s;
}

/** Send a datagram and return it as it went on the wire (for quoting in the ICMP error). */
function sendAndCapture4(n: Network, s: Socket<'inet'>, dport: number, size: number): Layer[] {
  s.send(Buffer.alloc(size, 0x61));
  return expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4, df: true }), udp({ sport: s.localAddress().port, dport }), raw(Buffer.alloc(size, 0x61))], {
    ignore: ['ipv4.id'],
  });
}

describe('IPv4 path MTU', () => {
  nets.it('fragmentation needed on net1 lowers IP_MTU there; the same destination via net2 keeps 1500', () => {
    const a = udp4(nets.net(1), 7001);
    const b = udp4(nets.net(2), 7001);
    try {
      assert.equal(a.getIntOption(K.SOL_IP, K.IP_MTU), 1500);
      const sent = sendAndCapture4(nets.net(1), a, 7001, 1000);
      inject(nets.net(1), [ipv4({ src: nets.net(1).router.ip4, dst: nets.net(1).addr4 }), icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_FRAG_NEEDED, mtu: 1300 }), ...sent]);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      assert.equal(a.getIntOption(K.SOL_IP, K.IP_MTU), 1300);
      assert.equal(b.getIntOption(K.SOL_IP, K.IP_MTU), 1500);
      assert.equal(nets.rt.getRoute({ to: REMOTE4, mark: nets.net(1).mark }).metrics?.mtu, 1300);
      assert.equal(nets.rt.getRoute({ to: REMOTE4, mark: nets.net(2).mark }).metrics?.mtu, undefined);
    } finally {
      a.close();
      b.close();
    }
  });

  nets.it('after the update a datagram above the path MTU fails with EMSGSIZE; below it goes out', () => {
    const n = nets.net(1);
    const a = udp4(n, 7002);
    try {
      // The exception from the previous case (same destination, same network) still holds.
      assert.equal(a.getIntOption(K.SOL_IP, K.IP_MTU), 1300);
      assert.throws(() => a.send(Buffer.alloc(1300 - 28 + 1)), errnoIs('EMSGSIZE'));
      sendAndCapture4(n, a, 7002, 1300 - 28);
    } finally {
      a.close();
    }
  });

  nets.it('with IP_RECVERR the error queue reports EMSGSIZE with the new MTU in ee_info', () => {
    const n = nets.net(2);
    const a = udp4(n, 7003);
    a.setOption(K.SOL_IP, K.IP_RECVERR, 1);
    try {
      const sent = sendAndCapture4(n, a, 7003, 900);
      inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_FRAG_NEEDED, mtu: 1200 }), ...sent]);
      const { error } = a.recvError({ timeoutMs: 1000 });
      assert.equal(error.code, 'EMSGSIZE');
      assert.equal(error.origin, K.SO_EE_ORIGIN_ICMP);
      assert.equal(error.info, 1200);
      assert.equal(a.getIntOption(K.SOL_IP, K.IP_MTU), 1200);
    } finally {
      a.close();
    }
  });
});

describe('IPv6 path MTU', () => {
  nets.it('packet too big on net1 lowers IPV6_MTU there only; the datagram still fits 1280', () => {
    const a = udp6(nets.net(1), 7004);
    const b = udp6(nets.net(2), 7004);
    try {
      assert.equal(a.getIntOption(K.SOL_IPV6, K.IPV6_MTU), 1500);
      a.send(Buffer.alloc(1400, 0x62));
      const n = nets.net(1);
      const sent = expectPacket(n, [ipv6({ src: n.addr6, dst: REMOTE6 }), udp({ sport: a.localAddress().port, dport: 7004 }), raw(Buffer.alloc(1400, 0x62))]);
      // The quote is cut so the ICMPv6 message fits the minimum MTU (RFC 4443 2.4(c)).
      const quoted = Buffer.from(buildQuoted(sent)).subarray(0, 1280 - 48);
      inject(n, [ipv6({ src: n.router.ll, dst: n.addr6 }), icmpv6({ icmpType: ICMPV6_PKT_TOOBIG, mtu: 1280 }), raw(quoted)]);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      assert.equal(a.getIntOption(K.SOL_IPV6, K.IPV6_MTU), 1280);
      assert.equal(b.getIntOption(K.SOL_IPV6, K.IPV6_MTU), 1500);
    } finally {
      a.close();
      b.close();
    }
  });

  nets.it('a packet too big below 1280 is ignored (IPv6 minimum MTU)', () => {
    const n = nets.net(2);
    const a = udp6(n, 7005);
    try {
      a.send(Buffer.alloc(600, 0x63));
      const sent = expectPacket(n, [ipv6({ src: n.addr6, dst: REMOTE6 }), udp({ sport: a.localAddress().port, dport: 7005 }), raw(Buffer.alloc(600, 0x63))]);
      inject(n, [ipv6({ src: n.router.ll, dst: n.addr6 }), icmpv6({ icmpType: ICMPV6_PKT_TOOBIG, mtu: 1000 }), raw(buildQuoted(sent))]);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      // __ip6_rt_update_pmtu() returns early for mtu < IPV6_MIN_MTU: nothing changes.
      assert.equal(a.getIntOption(K.SOL_IPV6, K.IPV6_MTU), 1500);
    } finally {
      a.close();
    }
  });
});

/** The offending packet's bytes as an ICMPv6 error quotes them. */
function buildQuoted(p: Layer[]): Buffer {
  return build(p);
}
