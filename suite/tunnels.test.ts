// IP tunnels on a tap network: ipip (IPv4 in IPv4), sit (IPv6 in IPv4) and ip6tnl (IPv6 and IPv4
// in IPv6), created through rtnetlink. The outer endpoints are the guest's addresses on net1 and
// documentation addresses behind net1's router; each tunnel has its own remote. Checked on the
// wire and in the devices' counters: the outer header a datagram gets (ip_tunnel_xmit(),
// ipip6_tunnel_xmit(), ip6_tnl_xmit()), what decapsulation accepts (ip_tunnel_rcv(), ipip6_rcv(),
// ip6_tnl_rcv()), the device MTU and its limits (ip_tunnel_bind_dev(), ip6_tnl_dev_init_gen()),
// and path MTU inside the tunnel: an error for the outer path lowers the inner path MTU to the
// outer one minus the encapsulation (tnl_update_pmtu(), ip6_tnl_err()).
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { statsDelta, type LinkStats } from '../src/lib/netlink/route.js';
import type { GreTunnelSpec, IpTunnelSpec, LinkSpec } from '../src/lib/netlink/rt-link.js';
import { closing, udpSocket, type Socket } from '../src/lib/socket.js';
import { errnoIs, K } from '../src/lib/sys/index.js';
import { withSysctl } from '../src/lib/sysctl.js';
import { xfrmStats, xfrmStatsDelta } from '../src/lib/ipsec/index.js';
import { readFileSync } from 'node:fs';
import { mibDelta } from '../src/lib/mib.js';
import { gunzipSync } from 'node:zlib';
import {
  build,
  destOpts,
  icmp,
  icmpv6,
  ipv4,
  ipv6,
  layer,
  raw,
  udp,
  ICMP_DEST_UNREACH,
  ICMP_FRAG_NEEDED,
  ICMP_HOST_UNREACH,
  ICMP_PORT_UNREACH,
  ICMPV6_DEST_UNREACH,
  ICMPV6_PKT_TOOBIG,
  type Layer,
} from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });

/** Own routing table for the inner prefixes (a rule by destination selects it). */
const INNER_TABLE = 300;
/** Outer remotes: behind net1's router, one per tunnel. */
const R = (i: number): string => `203.0.113.${i}`;
const R6 = (i: number): string => `2001:db8:ff::${i.toString(16)}`;
/** Inner addresses: ours on the tunnel, and the peer routed into it. */
const IN4 = (i: number): string => `192.0.2.${i}`;
const PEER4 = (i: number): string => `192.0.2.${100 + i}`;
const IN6 = (i: number): string => `2001:db8:77::${i.toString(16)}`;
const PEER6 = (i: number): string => `2001:db8:77::1:${i.toString(16)}`;

interface Tun {
  dev: string;
  /** Index into the address plans above. */
  i: number;
  spec: LinkSpec;
  inner: (4 | 6)[];
}

const TUNNELS: Tun[] = [];
const tun = (dev: string, i: number, inner: (4 | 6)[], spec: IpTunnelSpec | GreTunnelSpec): Tun => {
  const t = { dev, i, inner, spec: { ...spec, name: dev } };
  TUNNELS.push(t);
  return t;
};

const n1 = (): Network => nets.net(1);
/** Filled in before(): the tunnels' specs need net1's addresses. */
let IPIP: Tun, IPIP_FIXED: Tun, IPIP_INHERIT: Tun, IPIP_PMTU: Tun, IPIP_MTU: Tun, SIT: Tun, SIT_PMTU: Tun, SIT_MTU: Tun;
let T6: Tun, T6_NONE: Tun, T6_ZERO: Tun, T6_PMTU: Tun;
/** Why a kind's cases skip (the kernel lacks it). */
const missing: Record<string, string> = {};

before(() => {
  const n = n1();
  // ICMP errors to the remotes and to the outer senders: no per-destination rate limit.
  nets.sysctl('net.ipv4.icmp_ratelimit', 0);
  nets.sysctl('net.ipv6.icmp.ratelimit', 0);
  // New devices get no link-local address, so no DAD, RS or MLD goes through the tunnels.
  nets.sysctl('net.ipv6.conf.default.addr_gen_mode', 1);
  nets.sysctl('net.ipv6.conf.default.accept_dad', 0);
  nets.addRule({ family: 'inet', priority: 50, dst: '203.0.113.0/24', table: n.table });
  nets.addRule({ family: 'inet6', priority: 50, dst: '2001:db8:ff::/64', table: n.table });
  nets.addRule({ family: 'inet', priority: 60, dst: '192.0.2.0/24', table: INNER_TABLE });
  nets.addRule({ family: 'inet6', priority: 60, dst: '2001:db8:77::/48', table: INNER_TABLE });

  const l4 = n.addr4;
  const l6 = n.addr6;
  IPIP = tun('ipip1', 11, [4], { kind: 'ipip', local: l4, remote: R(11) });
  IPIP_FIXED = tun('ipip2', 12, [4], { kind: 'ipip', local: l4, remote: R(12), ttl: 77, tos: 0x10 });
  IPIP_INHERIT = tun('ipip3', 13, [4], { kind: 'ipip', local: l4, remote: R(13), tos: 1, pmtudisc: false });
  IPIP_PMTU = tun('ipip4', 14, [4], { kind: 'ipip', local: l4, remote: R(14) });
  IPIP_MTU = tun('ipip5', 15, [4], { kind: 'ipip', local: l4, remote: R(15) });
  SIT = tun('sit1', 31, [6], { kind: 'sit', local: l4, remote: R(31) });
  SIT_PMTU = tun('sit2', 32, [6], { kind: 'sit', local: l4, remote: R(32) });
  SIT_MTU = tun('sit3', 33, [6], { kind: 'sit', local: l4, remote: R(33) });
  T6 = tun('ip6t1', 41, [6, 4], { kind: 'ip6tnl', local: l6, remote: R6(0x41), encapLimit: K.IPV6_DEFAULT_TNL_ENCAP_LIMIT });
  T6_NONE = tun('ip6t2', 42, [6], {
    kind: 'ip6tnl', local: l6, remote: R6(0x42), flags: K.IP6_TNL_F_IGN_ENCAP_LIMIT | K.IP6_TNL_F_USE_ORIG_TCLASS | K.IP6_TNL_F_USE_ORIG_FLOWLABEL,
  });
  T6_ZERO = tun('ip6t3', 43, [6], { kind: 'ip6tnl', local: l6, remote: R6(0x43), ttl: 9, flowinfo: 0x0a812345 });
  T6_PMTU = tun('ip6t4', 44, [6], { kind: 'ip6tnl', local: l6, remote: R6(0x44), encapLimit: K.IPV6_DEFAULT_TNL_ENCAP_LIMIT });

  for (const t of TUNNELS) {
    if (missing[t.spec.kind]) continue;
    try {
      nets.rt.addLink(t.spec);
    } catch (e) {
      missing[t.spec.kind] = `no ${t.spec.kind} links here: RTM_NEWLINK: ${(e as Error).message.split('\n')[0]}`;
      continue;
    }
    if (!t.inner.includes(6)) nets.sysctl(`net.ipv6.conf.${t.dev}.disable_ipv6`, 1);
    nets.rt.setLink(t.dev, { up: true });
    if (t.inner.includes(4)) {
      nets.rt.addAddress({ dev: t.dev, address: `${IN4(t.i)}/32` });
      nets.rt.addRoute({ dst: `${PEER4(t.i)}/32`, dev: t.dev, table: INNER_TABLE });
    }
    if (t.inner.includes(6)) {
      nets.rt.addAddress({ dev: t.dev, address: `${IN6(t.i)}/128`, flags: ['nodad'] });
      nets.rt.addRoute({ dst: `${PEER6(t.i)}/128`, dev: t.dev, table: INNER_TABLE });
    }
  }
});

/** Whether xfrm4_tunnel's IPIP handler is registered: built in, or its module loaded. */
function xfrm4TunnelHandler(): boolean {
  try {
    if (/^CONFIG_INET_XFRM_TUNNEL=y$/m.test(gunzipSync(readFileSync('/proc/config.gz')).toString('utf8'))) return true;
  } catch {
    // No /proc/config.gz: the module list alone decides.
  }
  return /^xfrm4_tunnel /m.test(readFileSync('/proc/modules', 'utf8'));
}

function skipped(t: TestContext, tn: Tun): boolean {
  const why = missing[tn.spec.kind];
  if (why) t.skip(why);
  return why !== undefined;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

let nextPort = 7700;

function sock4(t: Tun, o: { ttl?: number; tos?: number; df?: boolean } = {}): Socket<'inet'> {
  const s = udpSocket(4);
  s.setOption(K.SOL_IP, K.IP_MTU_DISCOVER, o.df === false ? K.IP_PMTUDISC_DONT : K.IP_PMTUDISC_DO);
  if (o.ttl !== undefined) s.setOption(K.SOL_IP, K.IP_TTL, o.ttl);
  if (o.tos !== undefined) s.setOption(K.SOL_IP, K.IP_TOS, o.tos);
  s.bind(`${IN4(t.i)}:${nextPort++}`);
  return s;
}

function sock6(t: Tun, o: { hops?: number; tclass?: number } = {}): Socket<'inet6'> {
  const s = udpSocket(6);
  s.setOption(K.SOL_IPV6, K.IPV6_DONTFRAG, 1);
  if (o.hops !== undefined) s.setOption(K.SOL_IPV6, K.IPV6_UNICAST_HOPS, o.hops);
  if (o.tclass !== undefined) s.setOption(K.SOL_IPV6, K.IPV6_TCLASS, o.tclass);
  s.bind({ address: IN6(t.i), port: nextPort++ });
  return s;
}

const DPORT = 9;
const port4 = (s: Socket<'inet'>): number => s.localAddress().port;
const port6 = (s: Socket<'inet6'>): number => s.localAddress().port;

/** The inner IPv4 datagram `s` sends to the tunnel's peer, as the tunnel receives it. */
function inner4(t: Tun, s: Socket<'inet'>, data: Buffer, f: { ttl?: number; tos?: number; df?: boolean } = {}): Layer[] {
  return [ipv4({ src: IN4(t.i), dst: PEER4(t.i), ttl: f.ttl ?? 64, tos: f.tos ?? 0, df: f.df ?? true }), udp({ sport: port4(s), dport: DPORT }), raw(data)];
}

function inner6(t: Tun, s: Socket<'inet6'>, data: Buffer, f: { hlim?: number; tc?: number; fl?: number } = {}): Layer[] {
  return [ipv6({ src: IN6(t.i), dst: PEER6(t.i), hlim: f.hlim ?? 64, tc: f.tc ?? 0, fl: f.fl ?? 0 }), udp({ sport: port6(s), dport: DPORT }), raw(data)];
}

const payload = (size: number, fill = 0x61): Buffer => Buffer.alloc(size, fill);

/** Link counters that moved since `before`. */
const delta = (before: LinkStats, dev: string): LinkStats => statsDelta(before, nets.rt.stats(dev));
/** The datagram's text, or null when none came within timeoutMs. */
const recvOrNull = (s: Socket<'inet'> | Socket<'inet6'>, timeoutMs = 300): string | null => s.tryRecv({ timeoutMs })?.toString() ?? null;
const withSock = closing;

describe('ipip', () => {
  nets.it('a new ipip device: MTU 1480 (net1 1500 − 20); min_mtu and max_mtu reported 0 (ip_tunnel_newlink sets neither)', (t) => {
    if (skipped(t, IPIP_MTU)) return;
    const l = nets.rt.link(IPIP_MTU.dev);
    assert.deepEqual({ mtu: l.mtu, min: l.minMtu, max: l.maxMtu, type: l.type }, { mtu: 1480, min: 0, max: 0, type: 'tunnel' });
  });

  nets.it('RTM_NEWLINK mtu at ip_tunnel_change_mtu()\'s limits: 67 and 65516 (IP_MAX_MTU − 20 + 1) EINVAL, 68 and 65515 taken', (t) => {
    if (skipped(t, IPIP_MTU)) return;
    const dev = IPIP_MTU.dev;
    assert.throws(() => nets.rt.setLink(dev, { mtu: 67 }), errnoIs('EINVAL'));
    nets.rt.setLink(dev, { mtu: 68 });
    assert.equal(nets.rt.link(dev).mtu, 68);
    assert.throws(() => nets.rt.setLink(dev, { mtu: 65516 }), errnoIs('EINVAL'));
    nets.rt.setLink(dev, { mtu: 65515 });
    assert.equal(nets.rt.link(dev).mtu, 65515);
  });

  nets.it('encapsulation with the defaults: outer TTL inherited (inner 33), TOS 0, DF, protocol 4, from our net1 address; the inner datagram unchanged', (t) => {
    if (skipped(t, IPIP)) return;
    const n = n1();
    withSock(sock4(IPIP, { ttl: 33, tos: 0x28 }), (s) => {
      const st = nets.rt.stats(IPIP.dev);
      s.sendTo(Buffer.from('ipip default'), `${PEER4(IPIP.i)}:${DPORT}`);
      expectPacket(n, [ipv4({ src: n.addr4, dst: R(IPIP.i), ttl: 33, tos: 0, df: true, protocol: 4 }), ...inner4(IPIP, s, Buffer.from('ipip default'), { ttl: 33, tos: 0x28 })], { ignore: ['ipv4.id'] });
      assert.deepEqual(delta(st, IPIP.dev), { tx_packets: 1n, tx_bytes: BigInt(20 + 8 + 12) });
    });
  });

  nets.it('ttl 77 tos 0x10: the outer header keeps them whatever the inner TTL and TOS', (t) => {
    if (skipped(t, IPIP_FIXED)) return;
    const n = n1();
    withSock(sock4(IPIP_FIXED, { ttl: 33, tos: 0x28 }), (s) => {
      s.sendTo(Buffer.from('fixed'), `${PEER4(IPIP_FIXED.i)}:${DPORT}`);
      expectPacket(n, [ipv4({ src: n.addr4, dst: R(IPIP_FIXED.i), ttl: 77, tos: 0x10, df: true }), ...inner4(IPIP_FIXED, s, Buffer.from('fixed'), { ttl: 33, tos: 0x28 })], { ignore: ['ipv4.id'] });
    });
  });

  nets.it('tos inherit (1) and nopmtudisc: the outer TOS is the inner 0x28; the outer DF copies the inner DF (set, then clear)', (t) => {
    if (skipped(t, IPIP_INHERIT)) return;
    const n = n1();
    for (const df of [true, false]) {
      withSock(sock4(IPIP_INHERIT, { ttl: 40, tos: 0x28, df }), (s) => {
        s.sendTo(Buffer.from(`df ${df}`), `${PEER4(IPIP_INHERIT.i)}:${DPORT}`);
        expectPacket(n, [ipv4({ src: n.addr4, dst: R(IPIP_INHERIT.i), ttl: 40, tos: 0x28, df }), ...inner4(IPIP_INHERIT, s, Buffer.from(`df ${df}`), { ttl: 40, tos: 0x28, df })], { ignore: ['ipv4.id'] });
      });
    }
  });

  nets.it('decapsulation: IPv4-in-IPv4 from the remote is delivered to the inner socket; the device counts it (inner bytes)', (t) => {
    if (skipped(t, IPIP)) return;
    const n = n1();
    withSock(sock4(IPIP), (s) => {
      const st = nets.rt.stats(IPIP.dev);
      inject(n, [ipv4({ src: R(IPIP.i), dst: n.addr4 }), ipv4({ src: PEER4(IPIP.i), dst: IN4(IPIP.i) }), udp({ sport: DPORT, dport: port4(s) }), raw('in via ipip')]);
      assert.equal(recvOrNull(s, 2000), 'in via ipip');
      assert.deepEqual(delta(st, IPIP.dev), { rx_packets: 1n, rx_bytes: BigInt(20 + 8 + 11) });
    });
  });

  nets.it('from another remote no ipip tunnel matches: not delivered; with the xfrm4 tunnel handler registered (INET_XFRM_TUNNEL) xfrm drops it as XfrmInNoStates, without it ICMP port unreachable goes back quoting the outer packet', (t) => {
    if (skipped(t, IPIP)) return;
    const n = n1();
    withSock(sock4(IPIP), (s) => {
      const st = nets.rt.stats(IPIP.dev);
      const xs = xfrmStats() ?? {};
      const outer = [ipv4({ src: R(99), dst: n.addr4, id: 0x4242 }), ipv4({ src: PEER4(IPIP.i), dst: IN4(IPIP.i), id: 7 }), udp({ sport: DPORT, dport: port4(s) }), raw('wrong remote')];
      inject(n, outer);
      if (xfrm4TunnelHandler()) {
        // tunnel4_rcv() tries the handlers in priority order: ipip (1) declines, xfrm_tunnel_rcv (3) takes it.
        expectNone(n, { timeoutMs: 200, match: (p) => layer(p, 'icmp') !== undefined });
        assert.deepEqual(xfrmStatsDelta(xs), { XfrmInNoStates: 1 });
      } else {
        expectPacket(n, [ipv4({ src: n.addr4, dst: R(99), tos: 0xc0, ttl: 64 }), icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_PORT_UNREACH }), ...outer], { ignore: ['ipv4.id'] });
      }
      assert.equal(recvOrNull(s), null);
      assert.deepEqual(delta(st, IPIP.dev), {});
    });
  });

  nets.it('outer CE over an inner Not-ECT packet: dropped, rx_frame_errors 1 and rx_errors 1 (IP_ECN_decapsulate)', (t) => {
    if (skipped(t, IPIP)) return;
    const n = n1();
    withSock(sock4(IPIP), (s) => {
      const st = nets.rt.stats(IPIP.dev);
      inject(n, [ipv4({ src: R(IPIP.i), dst: n.addr4, tos: 0x03 }), ipv4({ src: PEER4(IPIP.i), dst: IN4(IPIP.i), tos: 0 }), udp({ sport: DPORT, dport: port4(s) }), raw('ce')]);
      assert.equal(recvOrNull(s), null);
      assert.deepEqual(delta(st, IPIP.dev), { rx_errors: 1n, rx_frame_errors: 1n });
    });
  });

  nets.it('PMTU: frag-needed 1300 for the outer path; the next 1281-byte inner DF datagram gets frag-needed 1280 back; 1279 and 1280 leave (outer 1300, DF); 1281 is EMSGSIZE', (t) => {
    if (skipped(t, IPIP_PMTU)) return;
    const n = n1();
    const tn = IPIP_PMTU;
    withSock(sock4(tn), (s) => {
      s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
      const to = `${PEER4(tn.i)}:${DPORT}`;
      s.sendTo(payload(1000), to);
      const sent = expectPacket(n, [ipv4({ src: n.addr4, dst: R(tn.i), df: true }), ...inner4(tn, s, payload(1000))], { ignore: ['ipv4.id'] });
      inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_FRAG_NEEDED, mtu: 1300 }), ...sent]);
      sleep(50);
      assert.equal(nets.rt.getRoute({ to: R(tn.i), mark: n.mark }).metrics?.mtu, 1300);
      // Inner 1281 bytes: the route still says 1480, the tunnel refuses it (1281 > 1300 − 20).
      s.sendTo(payload(1281 - 28), to);
      const { error } = s.recvError({ timeoutMs: 1000 });
      assert.deepEqual({ code: error.code, origin: error.origin, icmpType: error.icmpType, icmpCode: error.icmpCode, info: error.info }, {
        code: 'EMSGSIZE', origin: K.SO_EE_ORIGIN_ICMP, icmpType: ICMP_DEST_UNREACH, icmpCode: ICMP_FRAG_NEEDED, info: 1280,
      });
      expectNone(n, { timeoutMs: 100, match: (p) => layer(p, 'ipv4')?.dst === R(tn.i) });
      for (const size of [1279, 1280]) {
        s.sendTo(payload(size - 28), to);
        const p = expectPacket(n, [ipv4({ src: n.addr4, dst: R(tn.i), df: true }), ...inner4(tn, s, payload(size - 28))], { ignore: ['ipv4.id'] });
        assert.equal(build(p).length, size + 20);
      }
      assert.throws(() => s.sendTo(payload(1281 - 28), to), errnoIs('EMSGSIZE'));
    });
  });
});

describe('sit', () => {
  nets.it('sit device MTU 1480; an IPv6 datagram leaves in IPv4 protocol 41 with DF and TTL 64 (ipip6_netlink_parms()\'s default, not the inner hop limit 33)', (t) => {
    if (skipped(t, SIT)) return;
    const n = n1();
    assert.equal(nets.rt.link(SIT.dev).mtu, 1480);
    withSock(sock6(SIT, { hops: 33 }), (s) => {
      s.sendTo(Buffer.from('sit out'), { address: PEER6(SIT.i), port: DPORT });
      expectPacket(n, [ipv4({ src: n.addr4, dst: R(SIT.i), ttl: 64, tos: 0, df: true, protocol: 41 }), ...inner6(SIT, s, Buffer.from('sit out'), { hlim: 33 })], { ignore: ['ipv4.id'] });
    });
  });

  nets.it('sit MTU limits: min_mtu 1280 (IPV6_MIN_MTU), max_mtu 65555 (IP6_MAX_MTU − 20); RTM_NEWLINK 1279 and 65556 EINVAL, 1280 and 65555 taken', (t) => {
    if (skipped(t, SIT_MTU)) return;
    const dev = SIT_MTU.dev;
    const l = nets.rt.link(dev);
    assert.deepEqual({ min: l.minMtu, max: l.maxMtu }, { min: 1280, max: 65555 });
    assert.throws(() => nets.rt.setLink(dev, { mtu: 1279 }), errnoIs('EINVAL'));
    nets.rt.setLink(dev, { mtu: 1280 });
    assert.equal(nets.rt.link(dev).mtu, 1280);
    assert.throws(() => nets.rt.setLink(dev, { mtu: 65556 }), errnoIs('EINVAL'));
    nets.rt.setLink(dev, { mtu: 65555 });
    assert.equal(nets.rt.link(dev).mtu, 65555);
  });

  nets.it('sit decapsulation: IPv6-in-IPv4 from the remote is delivered to the inner IPv6 socket', (t) => {
    if (skipped(t, SIT)) return;
    const n = n1();
    withSock(sock6(SIT), (s) => {
      const st = nets.rt.stats(SIT.dev);
      inject(n, [ipv4({ src: R(SIT.i), dst: n.addr4 }), ipv6({ src: PEER6(SIT.i), dst: IN6(SIT.i) }), udp({ sport: DPORT, dport: port6(s) }), raw('in via sit')]);
      assert.equal(recvOrNull(s, 2000), 'in via sit');
      assert.deepEqual(delta(st, SIT.dev), { rx_packets: 1n, rx_bytes: BigInt(40 + 8 + 10) });
    });
  });

  nets.it('sit PMTU: frag-needed 1400 for the outer path; the next 1381-byte inner datagram gets packet too big 1380 back; 1380 leaves (outer 1400); 1381 is EMSGSIZE', (t) => {
    if (skipped(t, SIT_PMTU)) return;
    const n = n1();
    const tn = SIT_PMTU;
    withSock(sock6(tn), (s) => {
      s.setOption(K.SOL_IPV6, K.IPV6_RECVERR, 1);
      const to = { address: PEER6(tn.i), port: DPORT };
      s.sendTo(payload(1000), to);
      const sent = expectPacket(n, [ipv4({ src: n.addr4, dst: R(tn.i), df: true }), ...inner6(tn, s, payload(1000))], { ignore: ['ipv4.id'] });
      inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_FRAG_NEEDED, mtu: 1400 }), ...sent]);
      sleep(50);
      s.sendTo(payload(1381 - 48), to);
      const { error } = s.recvError({ timeoutMs: 1000 });
      assert.deepEqual({ code: error.code, origin: error.origin, icmpType: error.icmpType, info: error.info }, {
        code: 'EMSGSIZE', origin: K.SO_EE_ORIGIN_ICMP6, icmpType: ICMPV6_PKT_TOOBIG, info: 1380,
      });
      s.sendTo(payload(1380 - 48), to);
      const p = expectPacket(n, [ipv4({ src: n.addr4, dst: R(tn.i), df: true }), ...inner6(tn, s, payload(1380 - 48))], { ignore: ['ipv4.id'] });
      assert.equal(build(p).length, 1400);
      assert.throws(() => s.sendTo(payload(1381 - 48), to), errnoIs('EMSGSIZE'));
    });
  });

  nets.it('ICMPv4 host unreachable for the outer path: ip6_err_gen_icmpv6_unreach() builds an ICMPv6 address unreachable from the v4-mapped source ::ffff:<router>, which ip6_dst_lookup_tail() refuses (EAFNOSUPPORT): nothing is sent, no ICMPv6 counter moves, the inner socket gets no error', (t) => {
    if (skipped(t, SIT)) return;
    const n = n1();
    withSock(sock6(SIT), (s) => {
      s.setOption(K.SOL_IPV6, K.IPV6_RECVERR, 1);
      s.sendTo(Buffer.from('unreach me'), { address: PEER6(SIT.i), port: DPORT });
      const sent = expectPacket(n, [ipv4({ src: n.addr4, dst: R(SIT.i), df: true }), ...inner6(SIT, s, Buffer.from('unreach me'))], { ignore: ['ipv4.id'] });
      const v4 = mibDelta('snmp', ['Icmp.InDestUnreachs'], () => {
        // Only the counters of this error: MLD reports for the tunnels' addresses may leave meanwhile.
        const v6 = mibDelta('snmp6', ['Icmp6OutDestUnreachs', 'Icmp6InDestUnreachs', 'Ip6OutNoRoutes'], () => {
          inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_HOST_UNREACH }), ...sent]);
          sleep(100);
        });
        assert.deepEqual(v6, { Icmp6OutDestUnreachs: 0, Icmp6InDestUnreachs: 0, Ip6OutNoRoutes: 0 });
      });
      assert.deepEqual(v4, { 'Icmp.InDestUnreachs': 1 });
      assert.throws(() => s.recvError({ timeoutMs: 200 }), errnoIs('EAGAIN'));
      expectNone(n, { timeoutMs: 100, match: (p) => layer(p, 'icmpv6')?.icmpType === ICMPV6_DEST_UNREACH });
    });
  });
});

/** The Tunnel Encapsulation Limit destination option ip6_tnl_xmit() adds (init_tel_txopt), padded to 8. */
const tel = (limit: number, nh: number): Layer =>
  destOpts({ nh, options: [{ kind: 'option', code: 4, data: Buffer.from([limit]) }, { kind: 'padN', n: 1 }] });

describe('ip6tnl', () => {
  nets.it('encaplimit 4: MTU 1452 (1500 − 40 − 8); IPv6 inside: outer next header 60, destination options [encap limit 4, PadN], then 41; hop limit inherited (33)', (t) => {
    if (skipped(t, T6)) return;
    const n = n1();
    assert.equal(nets.rt.link(T6.dev).mtu, 1452);
    withSock(sock6(T6, { hops: 33 }), (s) => {
      s.sendTo(Buffer.from('6in6'), { address: PEER6(T6.i), port: DPORT });
      expectPacket(n, [ipv6({ src: n.addr6, dst: R6(0x41), hlim: 33, tc: 0, fl: 0, nh: 60 }), tel(4, 41), ...inner6(T6, s, Buffer.from('6in6'), { hlim: 33 })]);
    });
  });

  nets.it('mode any carries IPv4 too: destination options then protocol 4; hop limit from the inner TTL (21)', (t) => {
    if (skipped(t, T6)) return;
    const n = n1();
    withSock(sock4(T6, { ttl: 21 }), (s) => {
      s.sendTo(Buffer.from('4in6'), `${PEER4(T6.i)}:${DPORT}`);
      expectPacket(n, [ipv6({ src: n.addr6, dst: R6(0x41), hlim: 21, nh: 60 }), tel(4, 4), ...inner4(T6, s, Buffer.from('4in6'), { ttl: 21 })], { ignore: ['ipv4.id'] });
    });
  });

  nets.it('encaplimit none with tclass and flowlabel inherit: MTU 1460, no destination options, the outer traffic class (0x28) and flow label are the inner ones', (t) => {
    if (skipped(t, T6_NONE)) return;
    const n = n1();
    assert.equal(nets.rt.link(T6_NONE.dev).mtu, 1460);
    // The inner label: the socket's automatic flow label (a flow hash), which needs the sysctl on.
    withSysctl({ 'net.ipv6.auto_flowlabels': 1 }, () => withSock(sock6(T6_NONE, { hops: 50, tclass: 0x28 }), (s) => {
      s.setOption(K.SOL_IPV6, K.IPV6_AUTOFLOWLABEL, 1);
      s.sendTo(Buffer.from('inherit'), { address: PEER6(T6_NONE.i), port: DPORT });
      const p = expectPacket(n, [ipv6({ src: n.addr6, dst: R6(0x42), hlim: 50, tc: 0x28, nh: 41 }), ...inner6(T6_NONE, s, Buffer.from('inherit'), { hlim: 50, tc: 0x28 })], { ignore: ['ipv6.fl'] });
      const [outer, inner] = p.filter((l) => l.type === 'ipv6');
      assert.ok(outer?.type === 'ipv6' && inner?.type === 'ipv6');
      assert.notEqual(inner.fl, 0);
      assert.equal(outer.fl, inner.fl);
    }));
  });

  nets.it('without IFLA_IPTUN_ENCAP_LIMIT the kernel default is a limit of 0, still sent; ttl 9 and flowinfo 0x0a812345 give hop limit 9, traffic class 0xa8, flow label 0x12345', (t) => {
    if (skipped(t, T6_ZERO)) return;
    const n = n1();
    withSock(sock6(T6_ZERO, { hops: 60, tclass: 0x04 }), (s) => {
      s.sendTo(Buffer.from('zero'), { address: PEER6(T6_ZERO.i), port: DPORT });
      expectPacket(n, [ipv6({ src: n.addr6, dst: R6(0x43), hlim: 9, tc: 0xa8, fl: 0x12345, nh: 60 }), tel(0, 41), ...inner6(T6_ZERO, s, Buffer.from('zero'), { hlim: 60, tc: 0x04 })]);
    });
  });

  nets.it('ip6tnl decapsulation: IPv6-in-IPv6 from the remote is delivered; another remote is not', (t) => {
    if (skipped(t, T6)) return;
    const n = n1();
    withSock(sock6(T6), (s) => {
      const st = nets.rt.stats(T6.dev);
      const pkt = (src: string, text: string): Layer[] => [ipv6({ src, dst: n.addr6 }), ipv6({ src: PEER6(T6.i), dst: IN6(T6.i) }), udp({ sport: DPORT, dport: port6(s) }), raw(text)];
      inject(n, pkt(R6(0x41), 'in via ip6tnl'));
      assert.equal(recvOrNull(s, 2000), 'in via ip6tnl');
      inject(n, pkt(R6(0x99), 'other remote'));
      assert.equal(recvOrNull(s), null);
      assert.deepEqual(delta(st, T6.dev), { rx_packets: 1n, rx_bytes: BigInt(40 + 8 + 13) });
    });
  });

  nets.it('PMTU: packet too big 1400 for the outer path is relayed at once as packet too big 1352 (1400 − 40 − 8) to the inner sender; 1352 then leaves as 1400 bytes; 1353 is EMSGSIZE', (t) => {
    if (skipped(t, T6_PMTU)) return;
    const n = n1();
    const tn = T6_PMTU;
    withSock(sock6(tn), (s) => {
      s.setOption(K.SOL_IPV6, K.IPV6_RECVERR, 1);
      const to = { address: PEER6(tn.i), port: DPORT };
      s.sendTo(payload(1400 - 48), to);
      const sent = expectPacket(n, [ipv6({ src: n.addr6, dst: R6(0x44), nh: 60 }), tel(4, 41), ...inner6(tn, s, payload(1400 - 48))]);
      inject(n, [ipv6({ src: n.router.ll, dst: n.addr6 }), icmpv6({ icmpType: ICMPV6_PKT_TOOBIG, mtu: 1400 }), raw(build(sent).subarray(0, 1280 - 48))]);
      const { error } = s.recvError({ timeoutMs: 1000 });
      assert.deepEqual({ code: error.code, origin: error.origin, icmpType: error.icmpType, info: error.info }, {
        code: 'EMSGSIZE', origin: K.SO_EE_ORIGIN_ICMP6, icmpType: ICMPV6_PKT_TOOBIG, info: 1352,
      });
      s.sendTo(payload(1352 - 48), to);
      const p = expectPacket(n, [ipv6({ src: n.addr6, dst: R6(0x44), nh: 60 }), tel(4, 41), ...inner6(tn, s, payload(1352 - 48))]);
      assert.equal(build(p).length, 1400);
      assert.throws(() => s.sendTo(payload(1353 - 48), to), errnoIs('EMSGSIZE'));
    });
  });
});
