// Fragmentation on output: UDP datagrams sent through a route with an MTU below the link's, in
// every IP_MTU_DISCOVER / IPV6_MTU_DISCOVER mode, at the route MTU and the device MTU minus one,
// equal and plus one. What goes on the wire is checked whole: one packet with or without DF, or
// the exact fragments (sizes, offsets, MF, one shared id), or EMSGSIZE and nothing.
// The modes, from include/net/ip.h and net/ipv4/ip_output.c (__ip_append_data, __ip_make_skb):
// - DONT and WANT may fragment (ip_sk_ignore_df) at the route MTU; WANT sets DF on what fits.
// - DO sets DF and refuses what does not fit the route MTU.
// - PROBE, INTERFACE and OMIT ignore the route's MTU and use the device's (ip_sk_use_pmtu);
//   PROBE sets DF, INTERFACE refuses beyond the device MTU, OMIT fragments at it.
// - An unconnected socket's DF packet gets IP id 0 unless the socket lets it be fragmented
//   (ip_select_ident_segs); otherwise the id is hashed, and every fragment shares it.
// IPv6 has no DF: DONT and WANT fragment, the rest as IPv4 (ip6_setup_cork, __ip6_append_data).
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, nextPacket } from '../src/lib/expect.js';
import { udpSocket } from '../src/lib/socket.js';
import { K, errnoIs } from '../src/lib/sys/index.js';
import { counterDelta, ipCounters } from '../src/lib/counters.js';
import { diff, formatDiff, fragment4, fragment6, ipv4, ipv6, layer, raw, show, udp, type Layer } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });

/** Destinations behind net1's router through routes with an MTU of their own. */
const OUT4 = '203.0.113.130';
const OUT6 = '2001:db8:ff:1::1';
const ROUTE_MTU4 = 1000;
const ROUTE_MTU6 = 1280;
const DEV_MTU = 1500;
const SPORT = 5000;
const DPORT = 6000;

before(() => {
  const n = nets.net(1);
  // Removed with the tap at teardown.
  nets.rt.addRoute({ dst: '203.0.113.128/25', table: n.table, gateway: n.router.ip4, oif: n.ifindex, metrics: { mtu: ROUTE_MTU4 } });
  nets.rt.addRoute({ dst: '2001:db8:ff:1::/64', family: 'inet6', table: n.table, gateway: n.router.ll, oif: n.ifindex, metrics: { mtu: ROUTE_MTU6 } });
});

type Outcome =
  /** One packet; `idZero`: IPv4 id 0 (else hashed). */
  | { kind: 'single'; df: boolean; idZero: boolean }
  | { kind: 'fragments'; mtu: number }
  | { kind: 'emsgsize' };

const single = (df: boolean, idZero = false): Outcome => ({ kind: 'single', df, idZero });
const frags = (mtu: number): Outcome => ({ kind: 'fragments', mtu });
const EMSGSIZE: Outcome = { kind: 'emsgsize' };

interface Mode { name: string; v4value: number; v6value: number; v4: Record<number, Outcome>; v6: Record<number, Outcome> }

// Expected outcome by IP packet size: route MTU -1/0/+1, device MTU -1/0/+1 where the mode uses it.
const R4 = ROUTE_MTU4, R6 = ROUTE_MTU6, D = DEV_MTU;
const MODES: Mode[] = [
  {
    name: 'DONT', v4value: K.IP_PMTUDISC_DONT, v6value: K.IPV6_PMTUDISC_DONT,
    v4: { [R4 - 1]: single(false), [R4]: single(false), [R4 + 1]: frags(R4) },
    v6: { [R6 - 1]: single(false), [R6]: single(false), [R6 + 1]: frags(R6) },
  },
  {
    name: 'WANT', v4value: K.IP_PMTUDISC_WANT, v6value: K.IPV6_PMTUDISC_WANT,
    v4: { [R4 - 1]: single(true), [R4]: single(true), [R4 + 1]: frags(R4) },
    v6: { [R6 - 1]: single(false), [R6]: single(false), [R6 + 1]: frags(R6) },
  },
  {
    name: 'DO', v4value: K.IP_PMTUDISC_DO, v6value: K.IPV6_PMTUDISC_DO,
    v4: { [R4 - 1]: single(true, true), [R4]: single(true, true), [R4 + 1]: EMSGSIZE },
    v6: { [R6 - 1]: single(false), [R6]: single(false), [R6 + 1]: EMSGSIZE },
  },
  {
    name: 'PROBE', v4value: K.IP_PMTUDISC_PROBE, v6value: K.IPV6_PMTUDISC_PROBE,
    v4: { [R4 + 1]: single(true, true), [D - 1]: single(true, true), [D]: single(true, true), [D + 1]: EMSGSIZE },
    v6: { [R6 + 1]: single(false), [D - 1]: single(false), [D]: single(false), [D + 1]: EMSGSIZE },
  },
  {
    name: 'INTERFACE', v4value: K.IP_PMTUDISC_INTERFACE, v6value: K.IPV6_PMTUDISC_INTERFACE,
    v4: { [R4 + 1]: single(false), [D - 1]: single(false), [D]: single(false), [D + 1]: EMSGSIZE },
    v6: { [R6 + 1]: single(false), [D - 1]: single(false), [D]: single(false), [D + 1]: EMSGSIZE },
  },
  {
    name: 'OMIT', v4value: K.IP_PMTUDISC_OMIT, v6value: K.IPV6_PMTUDISC_OMIT,
    v4: { [R4 + 1]: single(false), [D - 1]: single(false), [D]: single(false), [D + 1]: frags(D) },
    v6: { [R6 + 1]: single(false), [D - 1]: single(false), [D]: single(false), [D + 1]: frags(D) },
  },
];

function payload(size: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 13 + 5) & 0xff));
}

/** What the wire must show, checked exactly; counters FragOKs/FragCreates/FragFails with it. */
function expectOutcome(n: Network, v: 4 | 6, datagram: Layer[], out: Outcome, send: () => number, size: number): void {
  const names = v === 4 ? ['Ip.FragOKs', 'Ip.FragCreates', 'Ip.FragFails'] : ['Ip6FragOKs', 'Ip6FragCreates', 'Ip6FragFails'];
  const c = ipCounters();
  if (out.kind === 'emsgsize') {
    assert.throws(send, errnoIs('EMSGSIZE'));
    expectNone(n, { timeoutMs: 100 });
    assert.deepEqual(Object.values(counterDelta(c, ipCounters(), names)), [0, 0, 0]);
    return;
  }
  assert.equal(send(), size - (v === 4 ? 28 : 48));
  if (out.kind === 'single') {
    const ip = layer(datagram, 'ipv4');
    if (ip) {
      ip.df = out.df;
      ip.id = 0;
    }
    // A non-zero IPv4 id is hashed per destination (__ip_select_ident): read, not predicted.
    const got = expectPacket(n, datagram, { ignore: v === 4 && !out.idZero ? ['ipv4.id'] : [] });
    if (v === 4 && !out.idZero) assert.notEqual(layer(got, 'ipv4')!.id, 0);
    assert.deepEqual(Object.values(counterDelta(c, ipCounters(), names)), [0, 0, 0]);
    return;
  }
  // Fragments: the first one tells the id (hashed for IPv4, random for IPv6); then every
  // fragment must be exactly the one our fragmenter cuts from the datagram with that id.
  const first = nextPacket(n, (p) => p.some((l) => l.type === 'udp'), { what: 'first fragment' });
  const expected = v === 4
    ? fragment4([{ ...layer(datagram, 'ipv4')!, df: false, id: layer(first.packet, 'ipv4')!.id }, ...datagram.slice(1)], out.mtu)
    : fragment6(datagram, out.mtu, layer(first.packet, 'fragment')?.id ?? 0);
  assert.ok(expected.length >= 2);
  const d = diff(first.frame.subarray(14), expected[0]!);
  assert.equal(d.length, 0, `the first fragment differs in:\n${formatDiff(d)}\ngot:\n${show(first.packet)}`);
  for (const f of expected.slice(1)) expectPacket(n, f);
  assert.deepEqual(Object.values(counterDelta(c, ipCounters(), names)), [1, expected.length, 0]);
}

function relative(size: number, route: number): string {
  const at = (base: number, what: string): string => (size === base ? what : size < base ? `${what} - ${base - size}` : `${what} + ${size - base}`);
  return Math.abs(size - route) <= 1 ? at(route, 'route MTU') : at(DEV_MTU, 'device MTU');
}

function outcomeText(o: Outcome, v: 4 | 6): string {
  switch (o.kind) {
    case 'emsgsize': return 'EMSGSIZE, nothing sent';
    case 'fragments': return `fragments of at most ${o.mtu} bytes`;
    case 'single': return v === 6 ? 'one packet' : `one packet, ${o.df ? 'DF' : 'no DF'}${o.df ? (o.idZero ? ', id 0' : ', hashed id') : ''}`;
  }
}

for (const v of [4, 6] as const) {
  const route = v === 4 ? ROUTE_MTU4 : ROUTE_MTU6;
  describe(`IPv${v} output through a route MTU of ${route} on a ${DEV_MTU}-byte link`, () => {
    for (const mode of MODES) {
      for (const [sizeText, out] of Object.entries(v === 4 ? mode.v4 : mode.v6)) {
        const size = Number(sizeText);
        nets.it(`${v === 4 ? 'IP' : 'IPV6'}_PMTUDISC_${mode.name}, ${size} bytes (${relative(size, route)}): ${outcomeText(out, v)}`, () => {
          const n = nets.net(1);
          const data = payload(size - (v === 4 ? 28 : 48));
          if (v === 4) {
            const s = udpSocket(4);
            try {
              s.setMark(n.mark);
              s.bind({ address: n.addr4, port: SPORT });
              s.setOption(K.SOL_IP, K.IP_MTU_DISCOVER, mode.v4value);
              const dgram = [ipv4({ src: n.addr4, dst: OUT4 }), udp({ sport: SPORT, dport: DPORT }), raw(data)];
              expectOutcome(n, 4, dgram, out, () => s.sendTo(data, { address: OUT4, port: DPORT }), size);
            } finally {
              s.close();
            }
          } else {
            const s = udpSocket(6);
            try {
              s.setMark(n.mark);
              s.bind({ address: n.addr6, port: SPORT });
              s.setOption(K.SOL_IPV6, K.IPV6_MTU_DISCOVER, mode.v6value);
              const dgram = [ipv6({ src: n.addr6, dst: OUT6 }), udp({ sport: SPORT, dport: DPORT }), raw(data)];
              expectOutcome(n, 6, dgram, out, () => s.sendTo(data, { address: OUT6, port: DPORT }), size);
            } finally {
              s.close();
            }
          }
        });
      }
    }
  });
}

describe('IPv4 ids on output', () => {
  nets.it('a connected IP_PMTUDISC_DO socket numbers its DF packets one by one (inet_id), not 0', () => {
    const n = nets.net(1);
    const s = udpSocket(4);
    try {
      s.setMark(n.mark);
      s.setOption(K.SOL_IP, K.IP_MTU_DISCOVER, K.IP_PMTUDISC_DO);
      s.connect({ address: OUT4, port: DPORT });
      const sport = s.localAddress().port;
      const ids = [0, 1].map((i) => {
        s.send(payload(10 + i));
        const got = expectPacket(n, [ipv4({ src: n.addr4, dst: OUT4, df: true }), udp({ sport, dport: DPORT }), raw(payload(10 + i))], { ignore: ['ipv4.id'] });
        return layer(got, 'ipv4')!.id;
      });
      assert.equal(ids[1], (ids[0]! + 1) & 0xffff, `ids ${ids.join(', ')}`);
    } finally {
      s.close();
    }
  });

  nets.it('two fragmented datagrams: each shares one id among its fragments, and the ids differ', () => {
    const n = nets.net(1);
    const s = udpSocket(4);
    try {
      s.setMark(n.mark);
      s.setOption(K.SOL_IP, K.IP_MTU_DISCOVER, K.IP_PMTUDISC_DONT);
      s.bind({ address: n.addr4, port: SPORT });
      const ids = [0, 1].map(() => {
        s.sendTo(payload(ROUTE_MTU4 + 400), { address: OUT4, port: DPORT });
        const first = nextPacket(n, (p) => p.some((l) => l.type === 'udp'), { what: 'first fragment' });
        const id = layer(first.packet, 'ipv4')!.id;
        const rest = fragment4([ipv4({ src: n.addr4, dst: OUT4, id }), udp({ sport: SPORT, dport: DPORT }), raw(payload(ROUTE_MTU4 + 400))], ROUTE_MTU4).slice(1);
        for (const f of rest) expectPacket(n, f);
        return id;
      });
      assert.notEqual(ids[0], ids[1]);
    } finally {
      s.close();
    }
  });
});
