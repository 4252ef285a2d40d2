// ESP in transport and tunnel mode on the wire, each direction, with our own transforms
// (AES-GCM): transport over IPv4 and IPv6, tunnel with every inner × outer pair (4in4, 6in4,
// 4in6, 6in6). What the kernel sends is opened and matched field by field (outer header,
// sequence number, inner packet, padding, next header); what we send must be delivered, and in
// tunnel mode only when an inbound policy accepts it. The tunnel header's fields in every mode
// of the SA flags that shape them (DSCP, ECN, DF, TTL, flow label, on encapsulation and
// decapsulation), TFC padding at its edge, and the trailer checks on input (pad length at the
// edge, dummy packets).
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { inject, nextPacket } from '../src/lib/expect.js';
import { isNetlinkError } from '../src/lib/netlink/core.js';
import { openXfrm, type SaSpec, type Xfrm } from '../src/lib/netlink/xfrm.js';
import { findCmsg, udpSocket, type IpVersion, type Socket } from '../src/lib/socket.js';
import { K } from '../src/lib/sys/index.js';
import { espTransform, openEsp, sealEsp, xfrmStats, xfrmStatsDelta, type EspTransform, saUnsupported } from '../src/lib/ipsec/index.js';
import { assertMatch, build, echoReply4, echoRequest4, esp, ipv4, ipv6, layer, parse, raw, udp, type Layer } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });
let x: Xfrm;
let skip: string | undefined;

/** Inner peers behind the gateways REMOTE4 / REMOTE6. */
const PEER4 = '203.0.113.77';
const PEER6 = '2001:db8:ff::77';
const gw = (v: IpVersion): string => (v === 4 ? REMOTE4 : REMOTE6);
const peer = (v: IpVersion): string => (v === 4 ? PEER4 : PEER6);
const local = (n: Network, v: IpVersion): string => (v === 4 ? n.addr4 : n.addr6);

const gcm = (tag: number): NonNullable<SaSpec['aead']> => ({ name: 'rfc4106(gcm(aes))', key: Buffer.alloc(20, tag), icvLen: 128 });

before(() => {
  x = openXfrm();
  skip = saUnsupported(x, { mode: 'tunnel', aead: gcm(1) }, 'ESP tunnel mode with rfc4106(gcm(aes))');
  // The fixture routes by mark; a tunnel's outer route lookup carries none (only an SA output
  // mark gives it one), and neither do the kernel's ICMP replies: route the gateways by address.
  const n = nets.net(1);
  nets.addRule({ family: 'inet', priority: 90, dst: `${REMOTE4}/32`, table: n.table });
  nets.addRule({ family: 'inet6', priority: 90, dst: `${REMOTE6}/128`, table: n.table });
});

function skipped(t: TestContext): boolean {
  if (skip) t.skip(skip);
  return skip !== undefined;
}

function fresh(): void {
  x.flushPolicies();
  x.flushSas();
}

let nextSpi = 0x100;

interface Pair {
  out: SaSpec;
  in: SaSpec;
  trOut: EspTransform;
  trIn: EspTransform;
}

/** An SA pair between our address and the gateway, with policies for the inner flow in both directions. */
function setUp(n: Network, mode: 'transport' | 'tunnel', inner: IpVersion, outer: IpVersion, sa: Partial<SaSpec> = {}, opts: { inPolicy?: boolean } = {}): Pair {
  const reqid = nextSpi;
  // A tunnel SA's selector is the inner family's: with the outer one, inner packets of the other family do not match it.
  const sel = { family: inner };
  const out: SaSpec = { src: local(n, outer), dst: gw(outer), spi: nextSpi++, mode, reqid, aead: gcm(2), sel, ...sa };
  const inn: SaSpec = { src: gw(outer), dst: local(n, outer), spi: nextSpi++, mode, reqid, aead: gcm(3), sel, ...sa };
  x.addSa(out);
  x.addSa(inn);
  const remote = mode === 'tunnel' ? peer(inner) : gw(inner);
  const bits = inner === 4 ? 32 : 128;
  const tmpl = (src: string, dst: string) => [{ src, dst, proto: 'esp' as const, mode, reqid, family: outer }];
  x.addPolicy({ dir: 'out', sel: { src: `${local(n, inner)}/${bits}`, dst: `${remote}/${bits}` }, tmpls: tmpl(local(n, outer), gw(outer)) });
  if (opts.inPolicy ?? true) x.addPolicy({ dir: 'in', sel: { src: `${remote}/${bits}`, dst: `${local(n, inner)}/${bits}` }, tmpls: tmpl(gw(outer), local(n, outer)) });
  return { out, in: inn, trOut: espTransform(out), trIn: espTransform(inn) };
}

function sock(n: Network, v: IpVersion): Socket<'inet'> | Socket<'inet6'> {
  const s: Socket<'inet'> | Socket<'inet6'> = v === 4 ? udpSocket(4) : udpSocket(6);
  s.setMark(n.mark);
  return s;
}

/** The first ESP packet with this SPI on the wire, as an IP-level buffer. */
function espOut(n: Network, spi: number): Buffer {
  return nextPacket(n, (p) => layer(p, 'esp')?.spi === spi, { what: `ESP with SPI 0x${spi.toString(16)}` }).frame.subarray(14);
}

const outerIp = (n: Network, v: IpVersion, f: Partial<{ tos: number; df: boolean; ttl: number; fl: number }> = {}): Layer =>
  v === 4 ? ipv4({ src: n.addr4, dst: REMOTE4, ttl: f.ttl ?? 64, df: f.df ?? false, tos: f.tos ?? 0 }) : ipv6({ src: n.addr6, dst: REMOTE6, hlim: f.ttl ?? 64, fl: f.fl ?? 0, tc: f.tos ?? 0 });

const fromGw = (n: Network, v: IpVersion, tos = 0): Layer => (v === 4 ? ipv4({ src: REMOTE4, dst: n.addr4, tos }) : ipv6({ src: REMOTE6, dst: n.addr6, tc: tos }));

const fromPeer = (n: Network, v: IpVersion, tos = 0): Layer => (v === 4 ? ipv4({ src: PEER4, dst: n.addr4, ttl: 50, tos }) : ipv6({ src: PEER6, dst: n.addr6, hlim: 50, tc: tos }));

const COMBOS: [IpVersion, IpVersion][] = [[4, 4], [6, 4], [4, 6], [6, 6]];

describe('transport mode', () => {
  for (const v of [4, 6] as const) {
    nets.it(`IPv${v}: the kernel's UDP leaves as ESP with the original header, sequence 1 then 2, next header 17, padding 1, 2, 3...`, (t) => {
      if (skipped(t)) return;
      fresh();
      const n = nets.net(1);
      const p = setUp(n, 'transport', v, v);
      const s = sock(n, v);
      try {
        s.bind(v === 4 ? `${n.addr4}:0` : `[${n.addr6}]:0`);
        for (const seq of [1, 2]) {
          const payload = Buffer.from(`transport v${v} #${seq}`);
          s.sendTo(payload, v === 4 ? `${REMOTE4}:6000` : `[${REMOTE6}]:6000`);
          const ip = espOut(n, p.out.spi);
          assert.equal(ip.length, (v === 4 ? 20 : 40) + p.trOut.wireLength(8 + payload.length));
          const { packet, esp: o } = openEsp(parse(ip, 'ip'), p.trOut);
          assertMatch(packet, [outerIp(n, v, { df: true }), esp({ spi: p.out.spi, seq, nullCipher: { padding: p.trOut.padding(8 + payload.length) } }), udp({ sport: s.localAddress().port, dport: 6000 }), raw(payload)], { ignore: ['ipv4.id'] });
          assert.equal(o.nextHeader, 17);
        }
      } finally {
        s.close();
      }
    });

    nets.it(`IPv${v}: our ESP is opened and its UDP delivered to the socket, from the peer's address and port`, (t) => {
      if (skipped(t)) return;
      fresh();
      const n = nets.net(1);
      const p = setUp(n, 'transport', v, v);
      const r = sock(n, v);
      try {
        r.bind(v === 4 ? `${n.addr4}:6001` : `[${n.addr6}]:6001`);
        inject(n, sealEsp([fromGw(n, v), esp({ spi: p.in.spi, seq: 1 }), udp({ sport: 4242, dport: 6001 }), raw(`in v${v}`)], p.trIn));
        const got = r.recvFrom({ timeoutMs: 1000 });
        assert.equal(got.data.toString(), `in v${v}`);
        assert.deepEqual([got.from?.address, got.from?.port], [gw(v), 4242]);
        assert.equal(x.getSa({ dst: local(n, v), spi: p.in.spi }).current.packets, 1n);
      } finally {
        r.close();
      }
    });
  }

  nets.it('IPv4 ping through the SA pair: our ESP echo request, the kernel\'s ESP echo reply, opened and matched', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    const p = setUp(n, 'transport', 4, 4);
    inject(n, sealEsp([fromGw(n, 4), esp({ spi: p.in.spi, seq: 1 }), echoRequest4({ id: 0x77, seq: 5 }), raw('ping over esp')], p.trIn));
    const { packet } = openEsp(parse(espOut(n, p.out.spi), 'ip'), p.trOut);
    assertMatch(packet, [ipv4({ src: n.addr4, dst: REMOTE4, ttl: 64 }), esp({ spi: p.out.spi, seq: 1, nullCipher: {} }), echoReply4({ id: 0x77, seq: 5 }), raw('ping over esp')], { ignore: ['ipv4.id', 'esp.nullCipher', 'ipv4.df'] });
  });

  nets.it('TFC padding is refused outside tunnel mode (EINVAL)', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    assert.throws(() => x.addSa({ src: n.addr4, dst: REMOTE4, spi: nextSpi++, mode: 'transport', aead: gcm(4), tfcPad: 100 }), (e: unknown) => isNetlinkError(e, 'EINVAL'));
  });
});

describe('tunnel mode, every inner and outer family', () => {
  for (const [inner, outer] of COMBOS) {
    const name = `${inner}in${outer}`;
    nets.it(`${name}: the kernel tunnels UDP to the peer: outer header to the gateway, inner packet whole, next header ${inner === 4 ? 4 : 41}`, (t) => {
      if (skipped(t)) return;
      fresh();
      const n = nets.net(1);
      const p = setUp(n, 'tunnel', inner, outer);
      const s = sock(n, inner);
      try {
        s.bind(inner === 4 ? `${n.addr4}:0` : `[${n.addr6}]:0`);
        const payload = Buffer.from(`tunnel ${name}`);
        s.sendTo(payload, inner === 4 ? `${PEER4}:6100` : `[${PEER6}]:6100`);
        const ip = espOut(n, p.out.spi);
        const innerLen = (inner === 4 ? 20 : 40) + 8 + payload.length;
        assert.equal(ip.length, (outer === 4 ? 20 : 40) + p.trOut.wireLength(innerLen));
        const { packet, esp: o } = openEsp(parse(ip, 'ip'), p.trOut);
        const innerIp = inner === 4 ? ipv4({ src: n.addr4, dst: PEER4, ttl: 64, df: true }) : ipv6({ src: n.addr6, dst: PEER6, hlim: 64 });
        // DF on an IPv4 outer header: copied from an IPv4 inner one; an IPv6 one counts as DF (xfrm6_extract_header).
        assertMatch(packet, [outerIp(n, outer, { df: true }), esp({ spi: p.out.spi, seq: 1, nullCipher: { padding: p.trOut.padding(innerLen) } }), innerIp, udp({ sport: s.localAddress().port, dport: 6100 }), raw(payload)], { ignore: ['ipv4.id'] });
        assert.equal(o.nextHeader, inner === 4 ? 4 : 41);
      } finally {
        s.close();
      }
    });

    nets.it(`${name}: our tunnelled UDP from the peer is decapsulated and delivered with the peer's address`, (t) => {
      if (skipped(t)) return;
      fresh();
      const n = nets.net(1);
      const p = setUp(n, 'tunnel', inner, outer);
      const r = sock(n, inner);
      try {
        r.bind(inner === 4 ? `${n.addr4}:6101` : `[${n.addr6}]:6101`);
        inject(n, sealEsp([fromGw(n, outer), esp({ spi: p.in.spi, seq: 1 }), fromPeer(n, inner), udp({ sport: 4343, dport: 6101 }), raw(`from peer ${name}`)], p.trIn));
        const got = r.recvFrom({ timeoutMs: 1000 });
        assert.equal(got.data.toString(), `from peer ${name}`);
        assert.deepEqual([got.from?.address, got.from?.port], [peer(inner), 4343]);
      } finally {
        r.close();
      }
    });

    nets.it(`${name}: without an inbound policy the decapsulated packet is dropped and counted XfrmInNoPols`, (t) => {
      if (skipped(t)) return;
      fresh();
      const n = nets.net(1);
      const p = setUp(n, 'tunnel', inner, outer, {}, { inPolicy: false });
      const r = sock(n, inner);
      try {
        r.bind(inner === 4 ? `${n.addr4}:6102` : `[${n.addr6}]:6102`);
        const st = xfrmStats()!;
        inject(n, sealEsp([fromGw(n, outer), esp({ spi: p.in.spi, seq: 1 }), fromPeer(n, inner), udp({ sport: 1, dport: 6102 }), raw('no policy')], p.trIn));
        assert.throws(() => r.recv({ timeoutMs: 50 }), (e: unknown) => (e as { code?: string }).code === 'EAGAIN');
        assert.deepEqual(xfrmStatsDelta(st), { XfrmInNoPols: 1 });
        assert.equal(x.getSa({ dst: local(n, outer), spi: p.in.spi }).current.packets, 1n, 'the SA itself accepted it');
      } finally {
        r.close();
      }
    });
  }

  nets.it('4in4: a peer outside the inbound policy\'s selector is dropped (XfrmInNoPols) even though the SA opens it', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    const p = setUp(n, 'tunnel', 4, 4);
    const r = sock(n, 4);
    try {
      r.bind(`${n.addr4}:6103`);
      const st = xfrmStats()!;
      inject(n, sealEsp([fromGw(n, 4), esp({ spi: p.in.spi, seq: 1 }), ipv4({ src: '203.0.113.78', dst: n.addr4 }), udp({ sport: 1, dport: 6103 }), raw('stranger')], p.trIn));
      assert.throws(() => r.recv({ timeoutMs: 50 }), (e: unknown) => (e as { code?: string }).code === 'EAGAIN');
      assert.deepEqual(xfrmStatsDelta(st), { XfrmInNoPols: 1 });
    } finally {
      r.close();
    }
  });

  nets.it('4in4: clear UDP from the peer, which the inbound policy says must come through the tunnel, is dropped (XfrmInTmplMismatch)', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    setUp(n, 'tunnel', 4, 4);
    const r = sock(n, 4);
    try {
      r.bind(`${n.addr4}:6104`);
      const st = xfrmStats()!;
      inject(n, [fromPeer(n, 4), udp({ sport: 1, dport: 6104 }), raw('in the clear')]);
      assert.throws(() => r.recv({ timeoutMs: 50 }), (e: unknown) => (e as { code?: string }).code === 'EAGAIN');
      assert.deepEqual(xfrmStatsDelta(st), { XfrmInTmplMismatch: 1 });
    } finally {
      r.close();
    }
  });

  nets.it('sequence numbers count per SA: two tunnels interleaved each go 1, 2, 3', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    const a = setUp(n, 'tunnel', 4, 4);
    const b = setUp(n, 'tunnel', 6, 6);
    const s4 = sock(n, 4);
    const s6 = sock(n, 6);
    try {
      const seqs: string[] = [];
      for (let i = 0; i < 3; i++) {
        s4.sendTo(Buffer.from('a'), `${PEER4}:6110`);
        seqs.push(`a${layer(parse(espOut(n, a.out.spi), 'ip'), 'esp')!.seq}`);
        s6.sendTo(Buffer.from('b'), `[${PEER6}]:6110`);
        seqs.push(`b${layer(parse(espOut(n, b.out.spi), 'ip'), 'esp')!.seq}`);
      }
      assert.deepEqual(seqs, ['a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
    } finally {
      s4.close();
      s6.close();
    }
  });
});

/** Sends one datagram through a fresh 4in4 (or 6in6/6in4) tunnel and returns the outer and inner IP layers. */
function tunnelOnce(n: Network, inner: IpVersion, outer: IpVersion, sa: Partial<SaSpec>, prep: (s: Socket<'inet'> | Socket<'inet6'>) => void, payload = Buffer.from('hdr')): { outer: Layer; inner: Layer; innerLen: number; espPayload: number; tfc: Buffer; wireLen: number; p: Pair } {
  const p = setUp(n, 'tunnel', inner, outer, sa);
  const s = sock(n, inner);
  try {
    prep(s);
    s.sendTo(payload, inner === 4 ? `${PEER4}:6200` : `[${PEER6}]:6200`);
    const ip = espOut(n, p.out.spi);
    const { packet, esp: o } = openEsp(parse(ip, 'ip'), p.trOut);
    const innerL = packet[2]!;
    const tfc = packet.find((l) => l.type === 'padding');
    return { outer: packet[0]!, inner: innerL, innerLen: build(packet.slice(2).filter((l) => l.type !== 'padding')).length, espPayload: o.payload.length, tfc: tfc?.type === 'padding' ? Buffer.from(tfc.data) : Buffer.alloc(0), wireLen: ip.length, p };
  } finally {
    s.close();
  }
}

const tosOf = (l: Layer): number => (l.type === 'ipv4' ? l.tos : l.type === 'ipv6' ? l.tc : -1);

describe('the tunnel header, in each mode of the flags that shape it', () => {
  nets.it('DSCP and ECN are copied from the inner header by default (EF, ECT(0) -> 0xba)', (t) => {
    if (skipped(t)) return;
    fresh();
    const got = tunnelOnce(nets.net(1), 4, 4, {}, (s) => s.setOption(K.SOL_IP, K.IP_TOS, 0xba));
    assert.deepEqual([tosOf(got.inner), tosOf(got.outer)], [0xba, 0xba]);
  });

  nets.it('XFRM_SA_XFLAG_DONT_ENCAP_DSCP: the outer DSCP is 0, the ECN bits still follow the inner header', (t) => {
    if (skipped(t)) return;
    fresh();
    const got = tunnelOnce(nets.net(1), 4, 4, { extraFlags: ['dont_encap_dscp'] }, (s) => s.setOption(K.SOL_IP, K.IP_TOS, 0xba));
    assert.deepEqual([tosOf(got.inner), tosOf(got.outer)], [0xba, 0x02]);
  });

  nets.it('ECN on encapsulation: Not-ECT, ECT(1), ECT(0) copied; CE becomes ECT(0) outside', (t) => {
    if (skipped(t)) return;
    const got = [0, 1, 2, 3].map((ecn) => {
      fresh();
      return tosOf(tunnelOnce(nets.net(1), 4, 4, {}, (s) => s.setOption(K.SOL_IP, K.IP_TOS, 0x20 | ecn)).outer);
    });
    assert.deepEqual(got, [0x20, 0x21, 0x22, 0x22]);
  });

  nets.it('XFRM_STATE_NOECN: the outer ECN bits are 0 whatever the inner ones', (t) => {
    if (skipped(t)) return;
    const got = [1, 2, 3].map((ecn) => {
      fresh();
      return tosOf(tunnelOnce(nets.net(1), 4, 4, { flags: ['noecn'] }, (s) => s.setOption(K.SOL_IP, K.IP_TOS, 0x20 | ecn)).outer);
    });
    assert.deepEqual(got, [0x20, 0x20, 0x20]);
  });

  nets.it('6in6: the traffic class and the flow label are copied to the outer header', (t) => {
    if (skipped(t)) return;
    fresh();
    nets.sysctl('net.ipv6.auto_flowlabels', 1);
    try {
      const got = tunnelOnce(nets.net(1), 6, 6, {}, (s) => s.setOption(K.SOL_IPV6, K.IPV6_TCLASS, 0xb9));
      const inner = got.inner.type === 'ipv6' ? got.inner : undefined;
      const outer = got.outer.type === 'ipv6' ? got.outer : undefined;
      assert.ok(inner && outer);
      assert.notEqual(inner.fl, 0, 'auto_flowlabels gave the inner packet a label');
      assert.deepEqual([outer.tc, outer.fl], [0xb9, inner.fl]);
    } finally {
      nets.sysctl('net.ipv6.auto_flowlabels', 0);
    }
  });

  nets.it('DF: copied from the inner IPv4 header (IP_PMTUDISC_DO sets it, _DONT clears it); XFRM_STATE_NOPMTUDISC always clears it', (t) => {
    if (skipped(t)) return;
    const df = (flags: SaSpec['flags'], pmtu: number): boolean => {
      fresh();
      const o = tunnelOnce(nets.net(1), 4, 4, { flags }, (s) => s.setOption(K.SOL_IP, K.IP_MTU_DISCOVER, pmtu)).outer;
      return o.type === 'ipv4' && o.df;
    };
    const IP_PMTUDISC_DONT = 0, IP_PMTUDISC_DO = 2;
    assert.deepEqual([df([], IP_PMTUDISC_DO), df([], IP_PMTUDISC_DONT), df(['nopmtudisc'], IP_PMTUDISC_DO)], [true, false, false]);
  });

  nets.it('6in4: DF is clear for an inner IPv6 packet of up to 1280 bytes (the IPv6 minimum MTU), set above', (t) => {
    if (skipped(t)) return;
    // xfrm4_tunnel_encap_add() means to leave DF clear for small IPv6 packets (small_ipv6), but
    // xfrm4_prepare_output() sets skb->protocol to ETH_P_IP before calling it, so in 6.1 the
    // condition never holds and DF is set at every size.
    t.todo('6.1: the small_ipv6 test in xfrm4_tunnel_encap_add() sees ETH_P_IP, never ETH_P_IPV6');
    const df = (innerLen: number): [number, boolean] => {
      fresh();
      const got = tunnelOnce(nets.net(1), 6, 4, {}, () => undefined, Buffer.alloc(innerLen - 48, 0x61));
      return [got.innerLen, got.outer.type === 'ipv4' && got.outer.df];
    };
    assert.deepEqual([df(1279), df(1280), df(1281)], [[1279, false], [1280, false], [1281, true]]);
  });

  nets.it('the outer TTL is the route\'s (ip_default_ttl), not the inner packet\'s', (t) => {
    if (skipped(t)) return;
    fresh();
    nets.sysctl('net.ipv4.ip_default_ttl', 100);
    try {
      const got = tunnelOnce(nets.net(1), 4, 4, {}, (s) => s.setOption(K.SOL_IP, K.IP_TTL, 5));
      assert.deepEqual([got.inner.type === 'ipv4' && got.inner.ttl, got.outer.type === 'ipv4' && got.outer.ttl], [5, 100]);
    } finally {
      nets.sysctl('net.ipv4.ip_default_ttl', 64);
    }
  });

  nets.it('TFC padding pads the inner packet with zeros to XFRMA_TFCPAD: none at its length - 1 or its length, one byte at + 1', (t) => {
    if (skipped(t)) return;
    const payload = Buffer.from('tfc padding edge');
    const innerLen = 20 + 8 + payload.length;
    const got = [innerLen - 1, innerLen, innerLen + 1].map((pad) => {
      fresh();
      const r = tunnelOnce(nets.net(1), 4, 4, { tfcPad: pad }, () => undefined, payload);
      const tfc = r.espPayload - innerLen;
      assert.equal(r.wireLen, 20 + r.p.trOut.wireLength(innerLen + tfc));
      assert.deepEqual(r.tfc, Buffer.alloc(tfc), 'TFC padding is zeros after the inner packet');
      return tfc;
    });
    assert.deepEqual(got, [0, 0, 1]);
  });
});

describe('decapsulation, in each mode of the flags that shape it', () => {
  /** Injects one tunnelled datagram with the given outer and inner TOS/traffic class; returns the TOS the socket sees. */
  function receivedTos(v: IpVersion, sa: Partial<SaSpec>, outerTos: number, innerTos: number): number {
    fresh();
    const n = nets.net(1);
    const p = setUp(n, 'tunnel', v, v, sa);
    const r = sock(n, v);
    try {
      r.bind(v === 4 ? `${n.addr4}:6300` : `[${n.addr6}]:6300`);
      if (v === 4) r.setOption(K.SOL_IP, K.IP_RECVTOS, 1);
      else r.setOption(K.SOL_IPV6, K.IPV6_RECVTCLASS, 1);
      inject(n, sealEsp([fromGw(n, v, outerTos), esp({ spi: p.in.spi, seq: 1 }), fromPeer(n, v, innerTos), udp({ sport: 1, dport: 6300 }), raw('tos')], p.trIn));
      const m = r.recvMsg({ timeoutMs: 1000 });
      return v === 4 ? (findCmsg(m.control, 'tos')?.value ?? -1) : (findCmsg(m.control, 'tclass')?.value ?? -1);
    } finally {
      r.close();
    }
  }

  for (const v of [4, 6] as const) {
    nets.it(`IPv${v}: the inner DSCP is kept by default and replaced by the outer one with XFRM_STATE_DECAP_DSCP`, (t) => {
      if (skipped(t)) return;
      assert.deepEqual([receivedTos(v, {}, 0xb8, 0x28), receivedTos(v, { flags: ['decap_dscp'] }, 0xb8, 0x28)], [0x28, 0xb8]);
    });

    nets.it(`IPv${v}: CE on the outer header marks an ECT inner packet CE, leaves a Not-ECT one alone; XFRM_STATE_NOECN ignores it`, (t) => {
      if (skipped(t)) return;
      assert.deepEqual([receivedTos(v, {}, 0x03, 0x02), receivedTos(v, {}, 0x03, 0x00), receivedTos(v, {}, 0x02, 0x01), receivedTos(v, { flags: ['noecn'] }, 0x03, 0x02)], [0x03, 0x00, 0x01, 0x02]);
    });
  }
});

describe('the ESP trailer on input', () => {
  /**
   * Sends one sealed datagram whose pad length byte claims `claim` ('honest': the real padding;
   * a number: that many bytes beyond the largest acceptable claim, which leaves one byte of
   * payload). Returns what the SA and the MIB counted and whether the datagram arrived.
   */
  function withPadLen(claim: 'honest' | number, nextHeader?: number): { packets: bigint; delta: Record<string, number>; delivered: boolean } {
    fresh();
    const n = nets.net(1);
    const p = setUp(n, 'transport', 4, 4);
    const r = sock(n, 4);
    try {
      r.bind(`${n.addr4}:6400`);
      const inner = build([udp({ sport: 1, dport: 6400 }), raw('pad length edge')]);
      const padding = p.trIn.padding(inner.length);
      const maxPad = inner.length + padding.length + 2 - 3;
      const st = xfrmStats()!;
      const padLen = claim === 'honest' ? padding.length : maxPad + claim;
      inject(n, sealEsp([fromGw(n, 4), esp({ spi: p.in.spi, seq: 1 }), udp({ sport: 1, dport: 6400 }), raw('pad length edge')], p.trIn, { padding, padLen, ...(nextHeader !== undefined ? { nextHeader } : {}) }));
      let delivered = true;
      try {
        r.recv({ timeoutMs: 50 });
      } catch {
        delivered = false;
      }
      return { packets: x.getSa({ dst: n.addr4, spi: p.in.spi }).current.packets, delta: xfrmStatsDelta(st), delivered };
    } finally {
      r.close();
    }
  }

  nets.it('a pad length leaving one byte of payload passes ESP; leaving none, or claiming one more, is XfrmInStateProtoError', (t) => {
    if (skipped(t)) return;
    const got = ['honest' as const, 0, 1, 2].map((c) => withPadLen(c));
    assert.deepEqual(got, [
      { packets: 1n, delta: {}, delivered: true },
      // ESP accepts it; the one byte left is no UDP header, so nothing reaches the socket.
      { packets: 1n, delta: {}, delivered: false },
      { packets: 0n, delta: { XfrmInStateProtoError: 1 }, delivered: false },
      { packets: 0n, delta: { XfrmInStateProtoError: 1 }, delivered: false },
    ]);
  });

  nets.it('padding bytes other than 1, 2, 3... are not checked: 0xff padding is delivered', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    const p = setUp(n, 'transport', 4, 4);
    const r = sock(n, 4);
    try {
      r.bind(`${n.addr4}:6401`);
      const inner = build([udp({ sport: 1, dport: 6401 }), raw('odd padding')]);
      inject(n, sealEsp([fromGw(n, 4), esp({ spi: p.in.spi, seq: 1 }), udp({ sport: 1, dport: 6401 }), raw('odd padding')], p.trIn, { padding: Buffer.alloc(p.trIn.padding(inner.length).length + 4, 0xff) }));
      assert.equal(r.recv({ timeoutMs: 1000 }).toString(), 'odd padding');
    } finally {
      r.close();
    }
  });

  nets.it('a dummy packet (next header 59, RFC 4303 §2.6) is discarded: not delivered, counted XfrmInStateProtoError', (t) => {
    if (skipped(t)) return;
    const got = withPadLen('honest', 59);
    assert.deepEqual([got.delivered, got.packets, got.delta], [false, 0n, { XfrmInStateProtoError: 1 }]);
  });
});
