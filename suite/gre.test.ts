// GRE tunnels (RFC 2784, key and sequence number RFC 2890) on a tap network, created through
// rtnetlink: gre and gretap (IPv4 outer) and ip6gre (IPv6 outer). The outer endpoints are the guest's net1
// addresses and documentation addresses behind net1's router, one per tunnel. Checked on the wire
// and in the devices' counters: the GRE header a datagram gets (__gre_xmit(): C/K/S flags, the
// output key, a checksum over header and payload, a sequence number that starts at 0 and grows
// by 1), what input accepts (gre_parse_header(), ip_tunnel_lookup() by input key, ip_tunnel_rcv():
// checksum flag and sequence checks, each counted), the device MTU, and path MTU inside the
// tunnel: the outer path MTU minus 24 (plain) or 36 (checksum, key and sequence number).
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { statsDelta, type LinkStats } from '../src/lib/netlink/route.js';
import type { GreTunnelSpec } from '../src/lib/netlink/rt-link.js';
import { closing, udpSocket, type Socket } from '../src/lib/socket.js';
import { errnoIs, K } from '../src/lib/sys/index.js';
import { build, destOpts, ether, gre, icmp, inetChecksum, ipv4, ipv6, raw, udp, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_PORT_UNREACH, type Gre, type Layer } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });

const INNER_TABLE = 300;
const R = (i: number): string => `203.0.113.${i}`;
const R6 = (i: number): string => `2001:db8:ff::${i.toString(16)}`;
const IN4 = (i: number): string => `192.0.2.${i}`;
const PEER4 = (i: number): string => `192.0.2.${100 + i}`;
const IN6 = (i: number): string => `2001:db8:77::${i.toString(16)}`;
const PEER6 = (i: number): string => `2001:db8:77::1:${i.toString(16)}`;
const IKEY = 0x100;
const OKEY = 0x200;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;

interface Tun {
  dev: string;
  i: number;
  spec: GreTunnelSpec & { name: string };
  inner: 4 | 6;
}

const n1 = (): Network => nets.net(1);
let PLAIN: Tun, FULL: Tun, PMTU_PLAIN: Tun, PMTU_FULL: Tun, MTU: Tun, G6: Tun, TAP: Tun;
/** The gretap peer's Ethernet address (a permanent neighbour: no ARP through the tunnel). */
const PEER_MAC = '02:00:00:00:77:26';
const missing: Record<string, string> = {};

before(() => {
  const n = n1();
  nets.sysctl('net.ipv4.icmp_ratelimit', 0);
  nets.sysctl('net.ipv6.conf.default.addr_gen_mode', 1);
  nets.sysctl('net.ipv6.conf.default.accept_dad', 0);
  nets.addRule({ family: 'inet', priority: 50, dst: '203.0.113.0/24', table: n.table });
  nets.addRule({ family: 'inet6', priority: 50, dst: '2001:db8:ff::/64', table: n.table });
  nets.addRule({ family: 'inet', priority: 60, dst: '192.0.2.0/24', table: INNER_TABLE });
  nets.addRule({ family: 'inet6', priority: 60, dst: '2001:db8:77::/48', table: INNER_TABLE });
  const full = { ikey: IKEY, okey: OKEY, icsum: true, ocsum: true, iseq: true, oseq: true };
  const mk = (dev: string, i: number, inner: 4 | 6, spec: GreTunnelSpec): Tun => ({ dev, i, inner, spec: { ...spec, name: dev } });
  PLAIN = mk('gre1', 21, 4, { kind: 'gre', local: n.addr4, remote: R(21) });
  FULL = mk('gre2', 22, 4, { kind: 'gre', local: n.addr4, remote: R(22), ...full });
  PMTU_PLAIN = mk('gre3', 23, 4, { kind: 'gre', local: n.addr4, remote: R(23) });
  PMTU_FULL = mk('gre4', 24, 4, { kind: 'gre', local: n.addr4, remote: R(24), ...full });
  MTU = mk('gre5', 25, 4, { kind: 'gre', local: n.addr4, remote: R(25) });
  G6 = mk('ip6gre1', 0x51, 6, { kind: 'ip6gre', local: n.addr6, remote: R6(0x51), ikey: IKEY, okey: OKEY, oseq: true, encapLimit: K.IPV6_DEFAULT_TNL_ENCAP_LIMIT });
  TAP = mk('gretap1', 26, 4, { kind: 'gretap', local: n.addr4, remote: R(26), okey: OKEY });
  for (const t of [PLAIN, FULL, PMTU_PLAIN, PMTU_FULL, MTU, G6, TAP]) {
    if (missing[t.spec.kind]) continue;
    try {
      nets.rt.addLink(t.spec);
    } catch (e) {
      missing[t.spec.kind] = `no ${t.spec.kind} links here: RTM_NEWLINK: ${(e as Error).message.split('\n')[0]}`;
      continue;
    }
    // No IPv6 on the IPv4-inner tunnels: MLD or RS would take sequence numbers and count.
    if (t.inner === 4) nets.sysctl(`net.ipv6.conf.${t.dev}.disable_ipv6`, 1);
    nets.rt.setLink(t.dev, { up: true });
    if (t.inner === 4) {
      nets.rt.addAddress({ dev: t.dev, address: `${IN4(t.i)}/32` });
      nets.rt.addRoute({ dst: `${PEER4(t.i)}/32`, dev: t.dev, table: INNER_TABLE });
      if (t.spec.kind === 'gretap') nets.rt.addNeighbour({ dev: t.dev, dst: PEER4(t.i), lladdr: PEER_MAC, state: ['permanent'] });
    } else {
      nets.rt.addAddress({ dev: t.dev, address: `${IN6(t.i)}/128`, flags: ['nodad'] });
      nets.rt.addRoute({ dst: `${PEER6(t.i)}/128`, dev: t.dev, table: INNER_TABLE });
    }
  }
});

function skipped(t: TestContext, tn: Tun): boolean {
  const why = missing[tn.spec.kind];
  if (why) t.skip(why);
  return why !== undefined;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

let nextPort = 7800;
const DPORT = 9;

function sock4(t: Tun): Socket<'inet'> {
  const s = udpSocket(4);
  s.setOption(K.SOL_IP, K.IP_MTU_DISCOVER, K.IP_PMTUDISC_DO);
  s.bind(`${IN4(t.i)}:${nextPort++}`);
  return s;
}

const port = (s: Socket<'inet'> | Socket<'inet6'>): number => s.localAddress().port;
const to4 = (t: Tun): string => `${PEER4(t.i)}:${DPORT}`;
const payload = (size: number): Buffer => Buffer.alloc(size, 0x67);

function inner4(t: Tun, s: Socket<'inet'>, data: Buffer): Layer[] {
  return [ipv4({ src: IN4(t.i), dst: PEER4(t.i), df: true }), udp({ sport: port(s), dport: DPORT }), raw(data)];
}

/** The outer IPv4 header our side sends on `t` (TTL inherited from the inner 64, DF). */
const out4 = (t: Tun): Layer => ipv4({ src: n1().addr4, dst: R(t.i), ttl: 64, df: true, protocol: 47 });

/** Link counters that moved since `before`. */
const delta = (before: LinkStats, dev: string): LinkStats => statsDelta(before, nets.rt.stats(dev));
/** The datagram's text, or null when none came within timeoutMs. */
const recvOrNull = (s: Socket<'inet'> | Socket<'inet6'>, timeoutMs = 300): string | null => s.tryRecv({ timeoutMs })?.toString() ?? null;
const withSock = closing;

/** GRE from the remote of `t` carrying a datagram to our inner address and `s`'s port. */
function greIn(t: Tun, s: Socket<'inet'>, g: Partial<Omit<Gre, 'type'>>, text: string): Layer[] {
  return [ipv4({ src: R(t.i), dst: n1().addr4 }), gre(g), ipv4({ src: PEER4(t.i), dst: IN4(t.i) }), udp({ sport: DPORT, dport: port(s) }), raw(text)];
}

/** The GRE layer of a parsed packet, and whether its checksum verifies over header and payload. */
function greOf(p: Layer[]): { g: Gre; csumOk: boolean } {
  const bytes = build(p);
  const ihl = (bytes[0]! & 0x0f) * 4;
  const g = p.find((l): l is Gre => l.type === 'gre');
  assert.ok(g, 'no GRE layer');
  return { g, csumOk: inetChecksum(bytes, ihl, bytes.length) === 0 };
}

describe('gre output', () => {
  nets.it('device MTU: 1476 plain (1500 − 20 − 4), 1464 with checksum, key and sequence number (− 16)', (t) => {
    if (skipped(t, PLAIN)) return;
    assert.deepEqual([nets.rt.link(PLAIN.dev).mtu, nets.rt.link(FULL.dev).mtu], [1476, 1464]);
  });

  nets.it('RTM_NEWLINK mtu at ip_tunnel_change_mtu()\'s limits on a plain gre: 67 and 65512 (IP_MAX_MTU − 24 + 1) EINVAL, 68 and 65511 taken', (t) => {
    if (skipped(t, MTU)) return;
    const dev = MTU.dev;
    assert.throws(() => nets.rt.setLink(dev, { mtu: 67 }), errnoIs('EINVAL'));
    nets.rt.setLink(dev, { mtu: 68 });
    assert.equal(nets.rt.link(dev).mtu, 68);
    assert.throws(() => nets.rt.setLink(dev, { mtu: 65512 }), errnoIs('EINVAL'));
    nets.rt.setLink(dev, { mtu: 65511 });
    assert.equal(nets.rt.link(dev).mtu, 65511);
  });

  nets.it('plain gre: a 4-byte header, no flags, protocol 0x0800; outer TTL inherited, DF', (t) => {
    if (skipped(t, PLAIN)) return;
    withSock(sock4(PLAIN), (s) => {
      s.sendTo(Buffer.from('plain'), to4(PLAIN));
      const p = expectPacket(n1(), [out4(PLAIN), gre({ proto: ETH_P_IP }), ...inner4(PLAIN, s, Buffer.from('plain'))], { ignore: ['ipv4.id'] });
      assert.equal(build(p).length, 20 + 4 + 20 + 8 + 5);
    });
  });

  nets.it('okey, ocsum, oseq: C|K|S set, key is the output key (not the input key), checksum verifies, sequence numbers 0, 1, 2; tx counts 3', (t) => {
    if (skipped(t, FULL)) return;
    withSock(sock4(FULL), (s) => {
      const st = nets.rt.stats(FULL.dev);
      for (const seq of [0, 1, 2]) {
        const text = `seq ${seq}`;
        s.sendTo(Buffer.from(text), to4(FULL));
        const p = expectPacket(n1(), [out4(FULL), gre({ c: true, key: OKEY, seq, proto: ETH_P_IP }), ...inner4(FULL, s, Buffer.from(text))], { ignore: ['ipv4.id', 'gre.checksum'] });
        const { g, csumOk } = greOf(p);
        assert.deepEqual({ c: g.c, k: g.k, s: g.s, key: g.key, seq: g.seq, csumOk }, { c: true, k: true, s: true, key: OKEY, seq, csumOk: true });
      }
      assert.deepEqual(delta(st, FULL.dev), { tx_packets: 3n, tx_bytes: BigInt(3 * (20 + 8 + 5)) });
    });
  });
});

describe('gretap', () => {
  nets.it('gretap with okey: MTU 1458 (1500 − 20 − 8 − 14); the inner Ethernet frame (our MAC to the peer\'s) follows GRE K with protocol 0x6558', (t) => {
    if (skipped(t, TAP)) return;
    const l = nets.rt.link(TAP.dev);
    assert.equal(l.mtu, 1458);
    withSock(sock4(TAP), (s) => {
      s.sendTo(Buffer.from('tap'), to4(TAP));
      const p = expectPacket(n1(), [out4(TAP), gre({ key: OKEY, proto: 0x6558 }), ether({ src: l.address, dst: PEER_MAC }), ...inner4(TAP, s, Buffer.from('tap'))], { ignore: ['ipv4.id'] });
      assert.equal(build(p).length, 20 + 8 + 14 + 20 + 8 + 3);
    });
  });
});

describe('gre input', () => {
  nets.it('plain gre from the remote is delivered; the device counts the inner bytes', (t) => {
    if (skipped(t, PLAIN)) return;
    withSock(sock4(PLAIN), (s) => {
      const st = nets.rt.stats(PLAIN.dev);
      inject(n1(), greIn(PLAIN, s, {}, 'in plain'));
      assert.equal(recvOrNull(s, 2000), 'in plain');
      assert.deepEqual(delta(st, PLAIN.dev), { rx_packets: 1n, rx_bytes: BigInt(20 + 8 + 8) });
    });
  });

  nets.it('a key on a keyless tunnel, or the output key on a keyed one: no tunnel matches, ICMP port unreachable to the remote quoting the packet', (t) => {
    if (skipped(t, FULL)) return;
    const n = n1();
    for (const [tn, g] of [[PLAIN, { key: 5 }], [FULL, { c: true, key: OKEY, seq: 1 }]] as const) {
      withSock(sock4(tn), (s) => {
        const st = nets.rt.stats(tn.dev);
        const pkt = greIn(tn, s, g, 'wrong key');
        inject(n, pkt);
        expectPacket(n, [ipv4({ src: n.addr4, dst: R(tn.i), tos: 0xc0, ttl: 64 }), icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_PORT_UNREACH }), ...pkt], { ignore: ['ipv4.id'] });
        assert.equal(recvOrNull(s), null);
        assert.deepEqual(delta(st, tn.dev), {});
      });
    }
  });

  nets.it('ikey, icsum, iseq: seq 10 delivered; seq 10 again is behind (rx_fifo_errors 1, rx_errors 1); seq 11 delivered; seq 20 (a gap) delivered', (t) => {
    if (skipped(t, FULL)) return;
    withSock(sock4(FULL), (s) => {
      const st = nets.rt.stats(FULL.dev);
      const send = (seq: number): string | null => {
        inject(n1(), greIn(FULL, s, { c: true, key: IKEY, seq }, `seq ${seq}`));
        return recvOrNull(s);
      };
      assert.equal(send(10), 'seq 10');
      assert.equal(send(10), null);
      assert.deepEqual(delta(st, FULL.dev), { rx_packets: 1n, rx_bytes: 34n, rx_errors: 1n, rx_fifo_errors: 1n });
      assert.equal(send(11), 'seq 11');
      assert.equal(send(20), 'seq 20');
      assert.deepEqual(delta(st, FULL.dev), { rx_packets: 3n, rx_bytes: 102n, rx_errors: 1n, rx_fifo_errors: 1n });
    });
  });

  nets.it('iseq: a packet without a sequence number is dropped (rx_fifo_errors 1, rx_errors 1)', (t) => {
    if (skipped(t, FULL)) return;
    withSock(sock4(FULL), (s) => {
      const st = nets.rt.stats(FULL.dev);
      inject(n1(), greIn(FULL, s, { c: true, key: IKEY }, 'no seq'));
      assert.equal(recvOrNull(s), null);
      assert.deepEqual(delta(st, FULL.dev), { rx_errors: 1n, rx_fifo_errors: 1n });
    });
  });

  nets.it('icsum: a packet without the checksum flag is dropped (rx_crc_errors 1, rx_errors 1); a checksum on a plain tunnel likewise', (t) => {
    if (skipped(t, FULL)) return;
    for (const [tn, g] of [[FULL, { key: IKEY, seq: 1000 }], [PLAIN, { c: true }]] as const) {
      withSock(sock4(tn), (s) => {
        const st = nets.rt.stats(tn.dev);
        inject(n1(), greIn(tn, s, g, 'csum flag'));
        assert.equal(recvOrNull(s), null);
        assert.deepEqual(delta(st, tn.dev), { rx_errors: 1n, rx_crc_errors: 1n });
      });
    }
  });

  nets.it('a wrong GRE checksum: dropped before the tunnel lookup — not delivered, no ICMP, no counter on the device', (t) => {
    if (skipped(t, FULL)) return;
    const n = n1();
    withSock(sock4(FULL), (s) => {
      const st = nets.rt.stats(FULL.dev);
      // The right checksum sits after the outer header and the GRE flags/protocol word.
      const right = build(greIn(FULL, s, { c: true, key: IKEY, seq: 5000 }, 'bad csum')).readUInt16BE(20 + 4);
      inject(n, greIn(FULL, s, { c: true, key: IKEY, seq: 5000, checksum: right ^ 0x0101 }, 'bad csum'));
      assert.equal(recvOrNull(s), null);
      expectNone(n, { timeoutMs: 100 });
      assert.deepEqual(delta(st, FULL.dev), {});
    });
  });
});

describe('gre path MTU', () => {
  for (const [name, hlen] of [['plain', 4], ['C|K|S', 16]] as const) {
    const limit = 1400 - 20 - hlen;
    nets.it(`${name}: frag-needed 1400 for the outer path; the next ${limit + 1}-byte inner DF datagram gets frag-needed ${limit} back; ${limit - 1} and ${limit} leave (outer 1400 at most); ${limit + 1} is EMSGSIZE`, (t) => {
      const tn = hlen === 4 ? PMTU_PLAIN : PMTU_FULL;
      if (skipped(t, tn)) return;
      const n = n1();
      withSock(sock4(tn), (s) => {
        s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
        const outerGre = (): Gre => (hlen === 4 ? gre({ proto: ETH_P_IP }) : gre({ c: true, k: true, s: true, key: OKEY, proto: ETH_P_IP }));
        const ignore = ['ipv4.id', 'gre.checksum', 'gre.seq'];
        s.sendTo(payload(1000), to4(tn));
        const sent = expectPacket(n, [out4(tn), outerGre(), ...inner4(tn, s, payload(1000))], { ignore });
        inject(n, [ipv4({ src: n.router.ip4, dst: n.addr4 }), icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_FRAG_NEEDED, mtu: 1400 }), ...sent]);
        sleep(50);
        s.sendTo(payload(limit + 1 - 28), to4(tn));
        const { error } = s.recvError({ timeoutMs: 1000 });
        assert.deepEqual({ code: error.code, origin: error.origin, icmpType: error.icmpType, icmpCode: error.icmpCode, info: error.info }, {
          code: 'EMSGSIZE', origin: K.SO_EE_ORIGIN_ICMP, icmpType: ICMP_DEST_UNREACH, icmpCode: ICMP_FRAG_NEEDED, info: limit,
        });
        for (const size of [limit - 1, limit]) {
          s.sendTo(payload(size - 28), to4(tn));
          const p = expectPacket(n, [out4(tn), outerGre(), ...inner4(tn, s, payload(size - 28))], { ignore });
          assert.equal(build(p).length, size + 20 + hlen);
        }
        assert.throws(() => s.sendTo(payload(limit + 1 - 28), to4(tn)), errnoIs('EMSGSIZE'));
      });
    });
  }
});

describe('ip6gre', () => {
  nets.it('okey, oseq, encaplimit 4: MTU 1440 (1500 − 40 − 8 − 12); outer IPv6 with the encapsulation limit option, GRE K|S, output key, sequence 0 then 1, protocol 0x86dd; hop limit inherited', (t) => {
    if (skipped(t, G6)) return;
    const n = n1();
    assert.equal(nets.rt.link(G6.dev).mtu, 1440);
    const s = udpSocket(6);
    withSock(s, () => {
      s.setOption(K.SOL_IPV6, K.IPV6_UNICAST_HOPS, 30);
      s.bind({ address: IN6(G6.i), port: nextPort++ });
      for (const seq of [0, 1]) {
        s.sendTo(Buffer.from(`v6 ${seq}`), { address: PEER6(G6.i), port: DPORT });
        expectPacket(n, [
          ipv6({ src: n.addr6, dst: R6(0x51), hlim: 30, nh: 60 }),
          destOpts({ nh: 47, options: [{ kind: 'option', code: 4, data: Buffer.from([4]) }, { kind: 'padN', n: 1 }] }),
          gre({ key: OKEY, seq, proto: ETH_P_IPV6 }),
          ipv6({ src: IN6(G6.i), dst: PEER6(G6.i), hlim: 30 }),
          udp({ sport: port(s), dport: DPORT }),
          raw(`v6 ${seq}`),
        ]);
      }
    });
  });

  nets.it('ip6gre input with the input key is delivered; with the output key it is not', (t) => {
    if (skipped(t, G6)) return;
    const n = n1();
    const s = udpSocket(6);
    withSock(s, () => {
      s.bind({ address: IN6(G6.i), port: nextPort++ });
      const pkt = (key: number, text: string): Layer[] => [
        ipv6({ src: R6(0x51), dst: n.addr6 }), gre({ key }), ipv6({ src: PEER6(G6.i), dst: IN6(G6.i) }), udp({ sport: DPORT, dport: port(s) }), raw(text),
      ];
      const st = nets.rt.stats(G6.dev);
      inject(n, pkt(IKEY, 'ikey'));
      assert.equal(recvOrNull(s, 2000), 'ikey');
      inject(n, pkt(OKEY, 'okey'));
      assert.equal(recvOrNull(s), null);
      assert.deepEqual(delta(st, G6.dev), { rx_packets: 1n, rx_bytes: BigInt(40 + 8 + 4) });
    });
  });
});
