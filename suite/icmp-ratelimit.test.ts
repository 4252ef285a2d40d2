// ICMP and ICMPv6 rate limiting with the limiter on (the other files turn it off), counted on the
// wire: bursts of N provoking packets sent back to back from one host, and how many answers
// come out. Two limiters (net/ipv4/icmp.c, net/ipv6/icmp.c, net/ipv4/inetpeer.c):
//
//   per host   inet_peer_xrlim_allow: a token bucket per destination of the error, in jiffies:
//              each message costs icmp_ratelimit (net.ipv6.icmp.ratelimit, shifted right by
//              (128 - plen) >> 5 for the route's prefix length), the bucket holds
//              XRLIM_BURST_FACTOR (6) messages, and a new peer starts with 60 s of tokens
//              (inet_getpeer: rate_last = jiffies - 60 * HZ).
//   global     icmp_global_allow: icmp_msgs_per_sec credits a second, up to icmp_msgs_burst,
//              shared by ICMP and ICMPv6; 6.1 takes 0-2 credits at random per message sent
//              (icmp_global_consume), so only its edges are exact: no credit, and one refill.
//
// Only types in icmp_ratemask (net.ipv6.icmp.ratemask) pass either limiter. A burst takes far
// less than one token's worth of time (1 s here) in real time and none in simulated time, so the
// counts are exact in both; the one case that waits for tokens to come back waits 1.5 tokens.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, type Network } from '../src/lib/networks.js';
import { inject, readAll } from '../src/lib/expect.js';
import { mibCounters } from '../src/lib/mib.js';
import { withSysctl } from '../src/lib/sysctl.js';
import {
  icmp,
  icmpv6,
  ipv4,
  ipv6,
  raw,
  udp,
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_EXC_TTL,
  ICMP_FRAG_NEEDED,
  ICMP_TIME_EXCEEDED,
  ICMP_ECHOREPLY,
  ICMP_PORT_UNREACH,
  ICMP_TIMESTAMP,
  ICMP_TIMESTAMPREPLY,
  ICMPV6_DEST_UNREACH,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_PARAMPROB,
  ICMPV6_PORT_UNREACH,
  type Layer,
} from '../src/lib/packet/index.js';

// net2 only carries forwarded traffic (the PMTU and TTL cases).
const nets = useNetworks({ count: 2 });
const CLOSED_PORT = 9;
/** The rule sending errors back to the senders (see forward-icmp.test.ts: errors carry no mark). */
const RETURN_PRIO = 50;
/** IPv4 senders behind net1's router. */
const SENDERS4 = '192.0.2.64/26';
/** IPv6 senders behind the router, reached through a /112, a /64 and the default route. */
const SENDERS6 = { 112: '2001:db8:1:ff::/112', 64: '2001:db8:1:fe::/64', 0: '2001:db8:77::/64' } as const;
type Plen = keyof typeof SENDERS6;
/** The defaults (net/ipv4/icmp.c icmp_sk_init): 1 s a token, 6 tokens. */
const BURST = 6;
/** A destination behind net2's router; net2's MTU is lowered to SMALL_MTU for the PMTU case. */
const TRANSIT4 = '203.0.113.7';
const SMALL_MTU = 1280;

let count4 = 0;
function sender4(): string {
  const h = 65 + count4++;
  if (h > 126) throw new Error('out of IPv4 senders');
  return `192.0.2.${h}`;
}
let count6 = 0;
function sender6(plen: Plen = 112): string {
  return `${SENDERS6[plen].split('::/')[0]}::${(++count6).toString(16)}`;
}

before(() => {
  const a = nets.net(1);
  nets.addRule({ family: 'inet', priority: RETURN_PRIO, dst: SENDERS4, table: a.table });
  nets.rt.addRoute({ dst: SENDERS6[112], gateway: a.router.ll, dev: a.ifname, table: a.table });
  nets.rt.addRoute({ dst: SENDERS6[64], gateway: a.router.ll, dev: a.ifname, table: a.table });
  for (const p of Object.values(SENDERS6)) nets.addRule({ family: 'inet6', priority: RETURN_PRIO, dst: p, table: a.table });
  // Transit from net1 to TRANSIT4 leaves through net2 (used with ip_forward on).
  nets.addRule({ family: 'inet', priority: RETURN_PRIO + 1, iif: a.ifname, dst: `${TRANSIT4}/32`, table: nets.net(2).table });
});

type Probe = 'port4' | 'echo4' | 'timestamp4' | 'ttl4' | 'pmtu4' | 'port6' | 'echo6' | 'nexthdr6';

/** The packet that provokes one answer of the probe's kind from the guest. */
function provoke(n: Network, kind: Probe, src: string, i: number): Layer[] {
  switch (kind) {
    case 'port4':
      return [ipv4({ src, dst: n.addr4 }), udp({ sport: 5000 + i, dport: CLOSED_PORT }), raw('rl')];
    case 'echo4':
      return [ipv4({ src, dst: n.addr4 }), icmp({ icmpType: ICMP_ECHO, code: 0, id: 0x77, seq: i }), raw('rl')];
    case 'timestamp4':
      return [ipv4({ src, dst: n.addr4 }), icmp({ icmpType: ICMP_TIMESTAMP, code: 0, id: 0x78, seq: i }), raw(Buffer.alloc(12))];
    case 'ttl4':
      return [ipv4({ src, dst: TRANSIT4, ttl: 1 }), udp({ sport: 5000 + i, dport: CLOSED_PORT }), raw('rl')];
    case 'pmtu4':
      return [ipv4({ src, dst: TRANSIT4, df: true }), udp({ sport: 5000 + i, dport: CLOSED_PORT }), raw(Buffer.alloc(SMALL_MTU))];
    case 'port6':
      return [ipv6({ src, dst: n.addr6 }), udp({ sport: 5000 + i, dport: CLOSED_PORT }), raw('rl')];
    case 'echo6':
      return [ipv6({ src, dst: n.addr6 }), icmpv6({ icmpType: ICMPV6_ECHO_REQUEST, code: 0, id: 0x77, seq: i }), raw('rl')];
    case 'nexthdr6':
      // No protocol 253 (RFC 3692 experimental): parameter problem, unrecognised next header.
      return [ipv6({ src, dst: n.addr6, nh: 253 }), raw('rl-rl-rl')];
  }
}

/** The answer each probe provokes: [family, ICMP type, code]. */
const ANSWER: Record<Probe, [4 | 6, number, number]> = {
  port4: [4, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH],
  echo4: [4, ICMP_ECHOREPLY, 0],
  timestamp4: [4, ICMP_TIMESTAMPREPLY, 0],
  ttl4: [4, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL],
  pmtu4: [4, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED],
  port6: [6, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH],
  echo6: [6, ICMPV6_ECHO_REPLY, 0],
  nexthdr6: [6, ICMPV6_PARAMPROB, 1],
};

function isAnswer(p: Layer[], kind: Probe, to: string): boolean {
  const [v, type, code] = ANSWER[kind];
  const ip = p.find((l) => l.type === (v === 4 ? 'ipv4' : 'ipv6'));
  const ic = p.find((l) => l.type === (v === 4 ? 'icmp' : 'icmpv6'));
  if (!ip || !ic || (ip.type !== 'ipv4' && ip.type !== 'ipv6') || (ic.type !== 'icmp' && ic.type !== 'icmpv6')) return false;
  return ip.dst === to && ic.icmpType === type && ic.code === code;
}

/** Several bursts back to back (no read in between), then how many answers each sender got. */
function bursts(list: readonly { kind: Probe; src: string; n: number }[]): number[] {
  const a = nets.net(1);
  for (const b of list) for (let i = 0; i < b.n; i++) inject(a, provoke(a, b.kind, b.src, i));
  const got = readAll(a, { timeoutMs: 200, skipNoise: true });
  return list.map((b) => got.filter((x) => isAnswer(x.packet, b.kind, b.src)).length);
}

const burst = (kind: Probe, src: string, n: number): number => bursts([{ kind, src, n }])[0]!;

/** Counters: Icmp.OutRateLimitGlobal / OutRateLimitHost (snmp), Icmp6OutRateLimitHost (snmp6). */
function limited(): { global: number; host4: number; host6: number } {
  const s = mibCounters('snmp');
  const s6 = mibCounters('snmp6');
  const get = (m: Map<string, number>, k: string): number => {
    const v = m.get(k);
    if (v === undefined) throw new Error(`no counter ${k}`);
    return v;
  };
  return { global: get(s, 'Icmp.OutRateLimitGlobal'), host4: get(s, 'Icmp.OutRateLimitHost'), host6: get(s6, 'Icmp6OutRateLimitHost') };
}

function delta(fn: () => void): { global: number; host4: number; host6: number } {
  const b = limited();
  fn();
  const e = limited();
  return { global: e.global - b.global, host4: e.host4 - b.host4, host6: e.host6 - b.host6 };
}

// First in the file, on the namespace's untouched global bucket (credit 0, never refilled):
// these cases depend on no ICMP error having been sent before them.
describe('global limit (icmp_msgs_per_sec, icmp_msgs_burst), on a fresh bucket', () => {
  nets.it('icmp_msgs_per_sec=0: the empty bucket never refills: no limited error of either family, echo replies still go', () => {
    withSysctl({ 'net.ipv4.icmp_msgs_per_sec': 0 }, () => {
      let got: number[] = [];
      const d = delta(() => {
        got = bursts([
          { kind: 'port4', src: sender4(), n: 3 },
          { kind: 'port6', src: sender6(), n: 3 },
          { kind: 'echo4', src: sender4(), n: 3 },
        ]);
      });
      assert.deepEqual(got, [0, 0, 3], 'port unreachables v4, v6; echo replies');
      // ICMPv6 is refused by the same global bucket and counted in the IPv4 Icmp counter.
      assert.deepEqual(d, { global: 6, host4: 0, host6: 0 });
    });
  });

  nets.it('icmp_msgs_per_sec=1, icmp_msgs_burst=0: one refill lets exactly one error through, then none within the second', () => {
    withSysctl({ 'net.ipv4.icmp_msgs_per_sec': 1, 'net.ipv4.icmp_msgs_burst': 0 }, () => {
      let got: number[] = [];
      const d = delta(() => {
        got = bursts([
          { kind: 'port4', src: sender4(), n: 4 },
          { kind: 'port6', src: sender6(), n: 3 },
        ]);
      });
      assert.deepEqual(got, [1, 0]);
      assert.deepEqual(d, { global: 6, host4: 0, host6: 0 });
    });
  });
});

describe('IPv4 per-host limit (icmp_ratelimit)', () => {
  before(() => {
    // Enough global credit that only the per-host buckets decide from here on (the first
    // error after ≥ 20 ms refills it: readAll above waited 200 ms).
    nets.sysctl('net.ipv4.icmp_msgs_per_sec', 100000);
    nets.sysctl('net.ipv4.icmp_msgs_burst', 100000);
  });

  for (const n of [BURST - 1, BURST, BURST + 1]) {
    const want = Math.min(n, BURST);
    nets.it(`a burst of ${n} datagrams to a closed port: ${want} port unreachables, OutRateLimitHost +${n - want} (XRLIM_BURST_FACTOR ${BURST})`, () => {
      let got = -1;
      const d = delta(() => {
        got = burst('port4', sender4(), n);
      });
      assert.equal(got, want);
      assert.deepEqual(d, { global: 0, host4: n - want, host6: 0 });
    });
  }

  nets.it('each host has its own bucket: a second sender gets its 6 after the first used up its own', () => {
    assert.deepEqual(
      bursts([
        { kind: 'port4', src: sender4(), n: BURST + 2 },
        { kind: 'port4', src: sender4(), n: BURST + 2 },
      ]),
      [BURST, BURST],
    );
  });

  nets.it('icmp_ratelimit=0: no per-host limit (8 of 8)', () => {
    withSysctl({ 'net.ipv4.icmp_ratelimit': 0 }, () => {
      assert.equal(burst('port4', sender4(), 8), 8);
    });
  });

  // A new peer's bucket holds min(60 s, 6 × icmp_ratelimit) of tokens (ms rounded up to jiffies).
  for (const [ms, want] of [
    [10000, 6],
    [10010, 5],
    [12000, 5],
    [20000, 3],
  ] as const) {
    nets.it(`icmp_ratelimit=${ms}: a new host's first burst gets ${want} (60 s of tokens at creation)`, () => {
      withSysctl({ 'net.ipv4.icmp_ratelimit': ms }, () => {
        assert.equal(burst('port4', sender4(), 7), want);
      });
    });
  }

  nets.it('tokens come back with time: 1.5 intervals after the bucket ran dry, exactly one more error', () => {
    const src = sender4();
    assert.equal(burst('port4', src, BURST + 1), BURST);
    // 1.5 s with the default 1 s a token (under time-travel the guest's clock jumps there).
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
    assert.equal(burst('port4', src, 3), 1);
  });
});

describe('IPv4 icmp_ratemask (default 0x1818: types 3, 4, 11, 12)', () => {
  const cases: { what: string; kind: Probe; mask: number; want: number }[] = [
    { what: 'type 3 cleared: port unreachables unlimited', kind: 'port4', mask: 0x1810, want: 8 },
    { what: 'default: echo replies (type 0) unlimited', kind: 'echo4', mask: 0x1818, want: 8 },
    { what: 'bit 0 set: echo replies limited', kind: 'echo4', mask: 0x1819, want: BURST },
    { what: 'default: timestamp replies (type 14) unlimited', kind: 'timestamp4', mask: 0x1818, want: 8 },
    { what: 'bit 14 set: timestamp replies limited', kind: 'timestamp4', mask: 0x1818 | (1 << 14), want: BURST },
  ];
  for (const c of cases) {
    nets.it(`icmp_ratemask=0x${c.mask.toString(16)}, ${c.what}: ${c.want} of 8`, () => {
      withSysctl({ 'net.ipv4.icmp_ratemask': c.mask }, () => {
        let got = -1;
        const d = delta(() => {
          got = burst(c.kind, sender4(), 8);
        });
        assert.equal(got, c.want);
        assert.equal(d.host4, 8 - c.want, 'OutRateLimitHost');
      });
    });
  }
});

describe('IPv4 errors while forwarding: PMTU exempt, time exceeded by the mask', () => {
  const cases: { what: string; kind: Probe; mask: number; want: number }[] = [
    { what: 'fragmentation needed is never limited (icmpv4_mask_allow: PMTU discovery), though type 3 is in the mask', kind: 'pmtu4', mask: 0x1818, want: 8 },
    { what: 'time exceeded (type 11, in the default mask): limited', kind: 'ttl4', mask: 0x1818, want: BURST },
    { what: 'bit 11 cleared: time exceeded unlimited', kind: 'ttl4', mask: 0x1018, want: 8 },
  ];
  for (const c of cases) {
    nets.it(`icmp_ratemask=0x${c.mask.toString(16)}, ${c.what}: ${c.want} of 8`, () => {
      const b = nets.net(2);
      b.tap.setMtu(SMALL_MTU);
      try {
        withSysctl({ 'net.ipv4.ip_forward': 1, 'net.ipv4.icmp_ratemask': c.mask }, () => {
          let got = -1;
          const d = delta(() => {
            got = burst(c.kind, sender4(), 8);
          });
          assert.equal(got, c.want);
          assert.equal(d.host4, 8 - c.want, 'OutRateLimitHost');
        });
      } finally {
        b.tap.setMtu(1500);
      }
    });
  }
});

describe('ICMPv6 (net.ipv6.icmp.ratelimit, ratemask)', () => {
  for (const n of [BURST - 1, BURST, BURST + 1]) {
    const want = Math.min(n, BURST);
    nets.it(`a burst of ${n} (sender behind a /112): ${want} port unreachables, Icmp6OutRateLimitHost +${n - want}`, () => {
      let got = -1;
      const d = delta(() => {
        got = burst('port6', sender6(), n);
      });
      assert.equal(got, want);
      assert.deepEqual(d, { global: 0, host4: 0, host6: n - want });
    });
  }

  nets.it('each host has its own bucket', () => {
    assert.deepEqual(
      bursts([
        { kind: 'port6', src: sender6(), n: BURST + 2 },
        { kind: 'port6', src: sender6(), n: BURST + 2 },
      ]),
      [BURST, BURST],
    );
  });

  nets.it('net.ipv6.icmp.ratelimit=0: no per-host limit (8 of 8)', () => {
    withSysctl({ 'net.ipv6.icmp.ratelimit': 0 }, () => {
      assert.equal(burst('port6', sender6(), 8), 8);
    });
  });

  // tmo >>= (128 - plen) >> 5: 8000 jiffies behind a /112, 2000 behind a /64, 500 behind ::/0,
  // against a new peer's 6000 jiffies of tokens (capped at 6 × tmo).
  for (const [plen, want] of [
    [112, 0],
    [64, 3],
    [0, 6],
  ] as const) {
    nets.it(`ratelimit=80000 ms, sender behind a /${plen} route: ${want} of 7 (wider prefixes get a shorter interval)`, () => {
      withSysctl({ 'net.ipv6.icmp.ratelimit': 80000 }, () => {
        assert.equal(burst('port6', sender6(plen), 7), want);
      });
    });
  }

  const masks: { what: string; kind: Probe; mask: string; want: number }[] = [
    { what: 'default: echo replies (129) unlimited', kind: 'echo6', mask: '0-1,3-127', want: 8 },
    { what: '129 added: echo replies limited', kind: 'echo6', mask: '0-1,3-127,129', want: BURST },
    { what: '1 removed: port unreachables unlimited', kind: 'port6', mask: '0,3-127', want: 8 },
    { what: 'default: parameter problems (4) limited', kind: 'nexthdr6', mask: '0-1,3-127', want: BURST },
    { what: '4 removed: parameter problems unlimited', kind: 'nexthdr6', mask: '0-1,3,5-127', want: 8 },
  ];
  for (const c of masks) {
    nets.it(`ratemask=${c.mask}, ${c.what}: ${c.want} of 8`, () => {
      withSysctl({ 'net.ipv6.icmp.ratemask': c.mask }, () => {
        let got = -1;
        const d = delta(() => {
          got = burst(c.kind, sender6(), 8);
        });
        assert.equal(got, c.want);
        assert.equal(d.host6, 8 - c.want, 'Icmp6OutRateLimitHost');
      });
    });
  }
});
