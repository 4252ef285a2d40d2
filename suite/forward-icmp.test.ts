// ICMP errors a forwarding host sends back (RFC 1812 4.3.2, RFC 4443 3): a transit packet from a
// host behind network 1's router whose TTL / hop limit runs out, which is too big for network 2's
// MTU (IPv4 with DF), or whose destination has no route, is answered on network 1 by the exact
// error from our address there, quoting the packet as it arrived.
//
// Why the fixture alone leaves these errors no route: an error is a locally generated packet,
// routed by an output lookup (icmp_route_lookup / icmpv6_route_lookup), and none of the fixture's
// rules match it. It carries no mark (IP4_REPLY_MARK / IP6_REPLY_MARK give the ingress mark only
// with fwmark_reflect, and ingress packets carry none), uid 0 (sock_net_uid without a socket),
// oif 0 (icmp_send sets only an L3 master device; icmp6_send sets the input interface only for
// scoped destinations) and iif lo (every output lookup), so an `iif net1` rule does not match
// either: the lookup reaches the unreachable rule and the error is dropped. A rule by
// destination (to the sending host, table of network 1) gives it the route a router would have.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject, nextPacket } from '../src/lib/expect.js';
import {
  build,
  diff,
  ether,
  formatDiff,
  icmp,
  icmpv6,
  ipv4,
  ipv6,
  layer,
  raw,
  show,
  udp,
  ICMP_DEST_UNREACH,
  ICMP_EXC_TTL,
  ICMP_FRAG_NEEDED,
  ICMP_HOST_UNREACH,
  ICMP_NET_UNREACH,
  ICMP_TIME_EXCEEDED,
  ICMPV6_DEST_UNREACH,
  ICMPV6_EXC_HOPLIMIT,
  ICMPV6_NOROUTE,
  ICMPV6_PKT_TOOBIG,
  ICMPV6_TIME_EXCEED,
  type Layer,
} from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 2 });

/**
 * Sending hosts, behind network 1's router. Each IPv4 case uses its own: ip_error's per-source
 * token bucket shares the inet_peer with icmp_send's per-destination limiter (see the last case).
 */
const SENDERS4 = '192.0.2.64/26';
const sender4 = (n: number): string => `192.0.2.${64 + n}`;
const SENDER6 = '2001:db8:1:ff::77';
/** Transit destinations: routed through network 2 by the iif rule. */
const TRANSIT4 = '203.0.113.0/25';
const TRANSIT6 = '2001:db8:ff::/64';
/** Outside the transit prefixes: no rule matches, the unreachable rule answers. */
const NO_RULE4 = '203.0.113.200';
const NO_RULE6 = '2001:db8:fe::1';
/** An `unreachable` route in network 2's table (RTN_UNREACHABLE: EHOSTUNREACH). */
const UNREACH_ROUTE4 = '203.0.113.99';
const SMALL_MTU = 1280;
const FWD_PRIO = 50;
const RETURN_PRIO = 60;

function returnRule(): { family: 'inet'; priority: number; dst: string; table: number } {
  return { family: 'inet', priority: RETURN_PRIO, dst: SENDERS4, table: nets.net(1).table };
}

before(() => {
  const [a, b] = [nets.net(1), nets.net(2)];
  nets.sysctl('net.ipv4.ip_forward', 1);
  nets.sysctl('net/ipv6/conf/all/forwarding', 1);
  // No per-destination rate limit on ICMP errors (IPv4 cases still use a sender each, see above).
  nets.sysctl('net.ipv4.icmp_ratelimit', 0);
  nets.sysctl('net.ipv6.icmp.ratelimit', 0);
  // Transit: arrivals on net1 for the remote prefixes use net2's table.
  nets.addRule({ family: 'inet', priority: FWD_PRIO, iif: a.ifname, dst: TRANSIT4, table: b.table });
  nets.addRule({ family: 'inet6', priority: FWD_PRIO, iif: a.ifname, dst: TRANSIT6, table: b.table });
  // Errors back to the senders: by destination (see the header comment).
  nets.addRule(returnRule());
  nets.addRule({ family: 'inet6', priority: RETURN_PRIO, dst: `${SENDER6}/128`, table: a.table });
  // Removed with the tap at teardown.
  nets.rt.addRoute({ dst: `${UNREACH_ROUTE4}/32`, table: b.table, type: 'unreachable' });
});

function transit4(src: string, dst: string, f: { ttl?: number; df?: boolean; size?: number } = {}): Layer[] {
  const payload = 'x'.repeat(Math.max(0, (f.size ?? 40) - 28));
  return [ipv4({ src, dst, ttl: f.ttl ?? 64, id: 0x1234, df: f.df ?? false }), udp({ sport: 1111, dport: 2222 }), raw(payload)];
}

function transit6(dst: string, f: { hlim?: number; size?: number } = {}): Layer[] {
  const payload = 'y'.repeat(Math.max(0, (f.size ?? 60) - 48));
  return [ipv6({ src: SENDER6, dst, hlim: f.hlim ?? 64 }), udp({ sport: 1111, dport: 2222 }), raw(payload)];
}

/** From net1's router to the guest (the transit packet arrives on network 1). */
function arrive(a: Network, packet: Layer[]): void {
  inject(a, [ether({ src: a.router.mac, dst: a.mac }), ...packet]);
}

/** What an IPv4 error quotes: as much of the packet as fits in 576 bytes (icmp_send: 576 - 20 - 8). */
const quote4 = (p: Layer[]): Buffer => build(p).subarray(0, 548);
/** IPv6: as much as fits in the minimum MTU (icmp6_send: 1280 - 40 - 8). */
const quote6 = (p: Layer[]): Buffer => build(p).subarray(0, 1232);

/**
 * The exact IPv4 error on net1: from our address there to the sender, precedence "internetwork
 * control" over the quoted TOS (icmp_send), TTL 64, no DF. The outer IP id is hashed
 * (__ip_select_ident, the ICMP socket never sets DF), so it is read from the packet and the rest,
 * the quoted header with its id included, compared exactly.
 */
function expectError4(err: Layer, sent: Layer[]): void {
  const a = nets.net(1);
  const got = nextPacket(a, (p) => p.some((l) => l.type === 'icmp'), { what: 'ICMP error' });
  const id = layer(got.packet, 'ipv4')!.id;
  const to = layer(sent, 'ipv4')!.src;
  const want = [ether({ src: a.mac, dst: a.router.mac }), ipv4({ src: a.addr4, dst: to, tos: 0xc0, ttl: 64, id }), err, raw(quote4(sent))];
  const d = diff(got.frame, want);
  assert.equal(d.length, 0, `${a.ifname}: the ICMP error differs in:\n${formatDiff(d)}\ngot:\n${show(got.packet)}`);
}

/** The exact ICMPv6 error on net1, from our SLAAC address there, hop limit 64. */
function expectError6(err: Layer, sent: Layer[]): void {
  const a = nets.net(1);
  expectPacket(a, [ether({ src: a.mac, dst: a.router.mac }), ipv6({ src: a.addr6, dst: SENDER6, hlim: 64 }), err, raw(quote6(sent))]);
}

describe('IPv4: errors while forwarding', () => {
  nets.it('TTL 1: time exceeded from our net1 address back to the sender on net1, nothing forwarded', () => {
    const sent = transit4(sender4(1), REMOTE4, { ttl: 1 });
    arrive(nets.net(1), sent);
    // ip_forward checks the TTL before decrementing it: the quote shows TTL 1.
    expectError4(icmp({ icmpType: ICMP_TIME_EXCEEDED, code: ICMP_EXC_TTL }), sent);
    expectNone(nets.net(2), { timeoutMs: 200 });
  });

  nets.it(`DF and larger than net2's MTU (${SMALL_MTU}): fragmentation needed carrying the next-hop MTU, nothing forwarded`, () => {
    const b = nets.net(2);
    b.tap.setMtu(SMALL_MTU);
    try {
      const sent = transit4(sender4(2), REMOTE4, { df: true, size: 1400 });
      arrive(nets.net(1), sent);
      expectError4(icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_FRAG_NEEDED, mtu: SMALL_MTU }), sent);
      expectNone(b, { timeoutMs: 200 });
    } finally {
      b.tap.setMtu(1500);
    }
  });

  nets.it('the same packet without DF is forwarded in fragments instead, no error', () => {
    const b = nets.net(2);
    b.tap.setMtu(SMALL_MTU);
    try {
      arrive(nets.net(1), transit4(sender4(3), REMOTE4, { size: 1400 }));
      // ip_fragment: the first fragment fills the MTU with a multiple of 8 bytes of payload (1256),
      // the second carries the remaining 124 at offset 1256 / 8.
      const frags = [0, 1].map((i) => {
        const ip = layer(nextPacket(b, (p) => p.some((l) => l.type === 'ipv4'), { what: `fragment ${i + 1}` }).packet, 'ipv4')!;
        return { id: ip.id, len: ip.len, mf: ip.mf, fragOffset: ip.fragOffset, ttl: ip.ttl };
      });
      assert.deepEqual(frags, [
        { id: 0x1234, len: 1276, mf: true, fragOffset: 0, ttl: 63 },
        { id: 0x1234, len: 144, mf: false, fragOffset: 157, ttl: 63 },
      ]);
      expectNone(nets.net(1), { timeoutMs: 200, match: (p) => p.some((l) => l.type === 'icmp') });
    } finally {
      b.tap.setMtu(1500);
    }
  });

  nets.it('a destination no rule routes: net unreachable (the unreachable rule, ENETUNREACH)', () => {
    const sent = transit4(sender4(4), NO_RULE4);
    arrive(nets.net(1), sent);
    expectError4(icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_NET_UNREACH }), sent);
    expectNone(nets.net(2), { timeoutMs: 200 });
  });

  nets.it('a destination with an unreachable route: host unreachable (RTN_UNREACHABLE, EHOSTUNREACH)', () => {
    const sent = transit4(sender4(5), UNREACH_ROUTE4);
    arrive(nets.net(1), sent);
    expectError4(icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_HOST_UNREACH }), sent);
    expectNone(nets.net(2), { timeoutMs: 200 });
  });

  nets.it('without the rule back to the sender the error has no route: nothing on either network', () => {
    nets.rt.deleteRule(returnRule());
    try {
      arrive(nets.net(1), transit4(sender4(6), REMOTE4, { ttl: 1 }));
      expectNone(nets.net(1), { timeoutMs: 200 });
      expectNone(nets.net(2), { timeoutMs: 50 });
    } finally {
      nets.rt.addRule(returnRule());
    }
  });

  // ip_error (net/ipv4/route.c) limits unreachables per source with the inet_peer's rate_tokens
  // (ip_rt_error_cost: 1 s a message, burst 5); icmp_send's per-destination limit
  // (inet_peer_xrlim_allow) keeps its tokens in the same field and caps them at 6 ×
  // icmp_ratelimit. With icmp_ratelimit=0 every ICMP error to a host leaves that bucket empty.
  for (const ratelimit of [0, 1000] as const) {
    const outcome = ratelimit === 0 ? 'suppresses an unreachable to the same host for ~1 s' : 'leaves the unreachable through';
    nets.it(`icmp_ratelimit=${ratelimit}: a time exceeded just sent ${outcome} (shared inet_peer tokens)`, () => {
      nets.sysctl('net.ipv4.icmp_ratelimit', ratelimit);
      try {
        const from = sender4(ratelimit === 0 ? 7 : 8);
        const first = transit4(from, REMOTE4, { ttl: 1 });
        arrive(nets.net(1), first);
        expectError4(icmp({ icmpType: ICMP_TIME_EXCEEDED, code: ICMP_EXC_TTL }), first);
        const second = transit4(from, NO_RULE4);
        arrive(nets.net(1), second);
        if (ratelimit === 0) expectNone(nets.net(1), { timeoutMs: 300 });
        else expectError4(icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_NET_UNREACH }), second);
      } finally {
        nets.sysctl('net.ipv4.icmp_ratelimit', 0);
      }
    });
  }
});

describe('IPv6: errors while forwarding', () => {
  nets.it('hop limit 1: time exceeded from our net1 address back to the sender, nothing forwarded', () => {
    const sent = transit6(REMOTE6, { hlim: 1 });
    arrive(nets.net(1), sent);
    expectError6(icmpv6({ icmpType: ICMPV6_TIME_EXCEED, code: ICMPV6_EXC_HOPLIMIT }), sent);
    expectNone(nets.net(2), { timeoutMs: 200 });
  });

  nets.it(`larger than net2's MTU (${SMALL_MTU}): packet too big carrying the MTU, the quote cut at 1232 bytes`, () => {
    const b = nets.net(2);
    b.tap.setMtu(SMALL_MTU);
    try {
      const sent = transit6(REMOTE6, { size: 1300 });
      arrive(nets.net(1), sent);
      expectError6(icmpv6({ icmpType: ICMPV6_PKT_TOOBIG, code: 0, mtu: SMALL_MTU }), sent);
      expectNone(b, { timeoutMs: 200 });
    } finally {
      b.tap.setMtu(1500);
    }
  });

  nets.it('a destination no rule routes: destination unreachable, no route (ip6_pkt_discard)', () => {
    const sent = transit6(NO_RULE6);
    arrive(nets.net(1), sent);
    expectError6(icmpv6({ icmpType: ICMPV6_DEST_UNREACH, code: ICMPV6_NOROUTE }), sent);
    expectNone(nets.net(2), { timeoutMs: 200 });
  });
});
