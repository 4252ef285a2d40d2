// Reassembly from the wire: fragments of UDP datagrams injected on net1 from a peer behind the
// router, in order, reversed, duplicated, contained in what already arrived, and overlapping;
// the reassembly timeout and its ICMP error; ipfrag_high_thresh at its edge; the counters;
// IPv6 atomic fragments and the malformed fragments RFC 8200 answers with a parameter problem.
// Facts from net/ipv4/inet_fragment.c (inet_frag_queue_insert), ip_fragment.c, ipv6/reassembly.c.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject, nextPacket } from '../src/lib/expect.js';
import { udpSocket, type Socket } from '../src/lib/socket.js';
import { K, errnoIs } from '../src/lib/sys/index.js';
import { withSysctl } from '../src/lib/sysctl.js';
import { counterDelta, fragQueues, ipCounters } from '../src/lib/counters.js';
import {
  build, diff, formatDiff, fragment, fragment4, fragment6, icmp, icmpv6, ipv4, ipv6, layer, raw, show, udp,
  ICMP_EXC_FRAGTIME, ICMP_TIME_EXCEEDED, ICMPV6_EXC_FRAGTIME, ICMPV6_HDR_FIELD, ICMPV6_HDR_INCOMP, ICMPV6_PARAMPROB, ICMPV6_TIME_EXCEED,
  IPPROTO_UDP, type Layer,
} from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });

/** The sending peer behind net1's router; a rule by destination sends our ICMP errors back there. */
const PEER4 = '203.0.113.7';
const PEER6 = '2001:db8:ff::7';
const SPORT = 4000;
/** ECN codepoints in the TOS / traffic class byte (RFC 3168). */
const ECT0 = 0x02;
const CE = 0x03;
/** ipfrag_time / ip6frag_time for the timeout cases, seconds (sysctl granularity). */
const FRAG_TIME = 2;

const V4 = ['Ip.ReasmReqds', 'Ip.ReasmOKs', 'Ip.ReasmFails', 'Ip.ReasmTimeout', 'IpExt.ReasmOverlaps'] as const;
const V6 = ['Ip6ReasmReqds', 'Ip6ReasmOKs', 'Ip6ReasmFails', 'Ip6ReasmTimeout'] as const;

before(() => {
  const n = nets.net(1);
  nets.addRule({ family: 'inet', priority: 50, dst: `${PEER4}/32`, table: n.table });
  nets.addRule({ family: 'inet6', priority: 50, dst: `${PEER6}/128`, table: n.table });
  // Every timeout case expects its own error: no per-destination rate limit in between.
  nets.sysctl('net.ipv4.icmp_ratelimit', 0);
  nets.sysctl('net.ipv6.icmp.ratelimit', 0);
  // Short queue lifetimes: the timeout cases wait for them, and a queue a case leaves behind
  // (the malformed-fragment cases) is gone before the next case reads a counter.
  nets.sysctl('net.ipv4.ipfrag_time', FRAG_TIME);
  nets.sysctl('net.ipv6.ip6frag_time', FRAG_TIME);
});

let nextPort = 9000;
/** A UDP socket on the wildcard address, on a port of its own. */
function listener4(): { s: Socket<'inet'>; port: number } {
  const port = nextPort++;
  const s = udpSocket(4);
  s.bind({ address: '0.0.0.0', port });
  return { s, port };
}

function listener6(): { s: Socket<'inet6'>; port: number } {
  const port = nextPort++;
  const s = udpSocket(6);
  s.bind({ address: '::', port });
  return { s, port };
}

/** Payload bytes that differ from position to position, so a misplaced piece shows. */
function pattern(size: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + seed) & 0xff));
}

function dgram4(n: Network, port: number, id: number, data: Buffer): Layer[] {
  return [ipv4({ src: PEER4, dst: n.addr4, id }), udp({ sport: SPORT, dport: port }), raw(data)];
}

function dgram6(n: Network, port: number, data: Buffer): Layer[] {
  return [ipv6({ src: PEER6, dst: n.addr6 }), udp({ sport: SPORT, dport: port }), raw(data)];
}

/** 8 + 64 bytes of UDP in three IPv4 fragments of 24 bytes each. */
const frags4 = (n: Network, port: number, id: number, data = pattern(64, id)): Layer[][] => fragment4(dgram4(n, port, id, data), 20 + 24);
/** 8 + 64 bytes of UDP in three IPv6 fragments of 24 bytes each. */
const frags6 = (n: Network, port: number, id: number, data = pattern(64, id)): Layer[][] => fragment6(dgram6(n, port, data), 40 + 8 + 24, id);

/** A datagram's UDP bytes (header and data) to cut pieces from by hand. */
interface Whole { id: number; port: number; data: Buffer; udp: Buffer }

function whole4(n: Network, port: number, id: number): Whole {
  const data = pattern(64, id);
  return { id, port, data, udp: build(dgram4(n, port, id, data)).subarray(20) };
}

function whole6(n: Network, port: number, id: number): Whole {
  const data = pattern(64, id);
  return { id, port, data, udp: build(dgram6(n, port, data)).subarray(40) };
}

/** IPv4 fragment carrying UDP bytes [from, to) of the datagram. */
function piece4(n: Network, w: Whole, from: number, to: number, mf: boolean, tos = 0): Layer[] {
  return [ipv4({ src: PEER4, dst: n.addr4, id: w.id, tos, fragOffset: from / 8, mf, protocol: IPPROTO_UDP }), raw(w.udp.subarray(from, to))];
}

/** IPv6 fragment carrying UDP bytes [from, to) of the datagram. */
function piece6(n: Network, w: Whole, from: number, to: number, m: boolean, tc = 0): Layer[] {
  return [ipv6({ src: PEER6, dst: n.addr6, tc }), fragment({ nh: IPPROTO_UDP, offset: from / 8, m, id: w.id }), raw(w.udp.subarray(from, to))];
}

function send(n: Network, list: readonly Layer[][]): void {
  for (const f of list) inject(n, f);
}

/** The socket receives exactly `data` from the peer. */
function expectDatagram(s: Socket<'inet'> | Socket<'inet6'>, data: Buffer, peer: string): void {
  const r = s.recvFrom({ timeoutMs: 1000 });
  assert.equal(r.data.toString('hex'), data.toString('hex'));
  assert.deepEqual(r.from && { address: r.from.address, port: r.from.port }, { address: peer, port: SPORT });
}

function expectNothing(s: Socket<'inet'> | Socket<'inet6'>, ms = 200): void {
  assert.throws(() => s.recvFrom({ timeoutMs: ms }), errnoIs('EAGAIN'), 'a datagram was delivered');
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The time exceeded (fragment reassembly time) error to the peer, quoting the first fragment
 * whole: from our address, precedence "internetwork control" (icmp_send), TTL 64; the outer IP
 * id is hashed (__ip_select_ident) and read from the packet.
 */
function expectTimeExceeded4(n: Network, first: Layer[], timeoutMs: number): void {
  const got = nextPacket(n, (p) => p.some((l) => l.type === 'icmp'), { timeoutMs, what: 'ICMP time exceeded' });
  const id = layer(got.packet, 'ipv4')!.id;
  const want = [ipv4({ src: n.addr4, dst: PEER4, tos: 0xc0, ttl: 64, id }), icmp({ icmpType: ICMP_TIME_EXCEEDED, code: ICMP_EXC_FRAGTIME }), raw(build(first))];
  const d = diff(got.frame.subarray(14), want);
  assert.equal(d.length, 0, `the ICMP error differs in:\n${formatDiff(d)}\ngot:\n${show(got.packet)}`);
}

function expectTimeExceeded6(n: Network, first: Layer[], timeoutMs: number): void {
  expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6, hlim: 64 }), icmpv6({ icmpType: ICMPV6_TIME_EXCEED, code: ICMPV6_EXC_FRAGTIME }), raw(build(first))], { timeoutMs });
}

const isIcmp = (p: Layer[]): boolean => p.some((l) => l.type === 'icmp' || l.type === 'icmpv6');

describe('IPv4 reassembly', () => {
  nets.it('three fragments in order: one datagram; ReasmReqds +3, ReasmOKs +1', () => {
    const n = nets.net(1);
    const { s, port } = listener4();
    try {
      const c = ipCounters();
      send(n, frags4(n, port, 0x101));
      expectDatagram(s, pattern(64, 0x101), PEER4);
      assert.deepEqual(counterDelta(c, ipCounters(), V4), { 'Ip.ReasmReqds': 3, 'Ip.ReasmOKs': 1, 'Ip.ReasmFails': 0, 'Ip.ReasmTimeout': 0, 'IpExt.ReasmOverlaps': 0 });
    } finally {
      s.close();
    }
  });

  nets.it('in reverse order: the same datagram', () => {
    const n = nets.net(1);
    const { s, port } = listener4();
    try {
      send(n, frags4(n, port, 0x102).reverse());
      expectDatagram(s, pattern(64, 0x102), PEER4);
    } finally {
      s.close();
    }
  });

  nets.it('two datagrams interleaved, told apart by their IP id: both whole', () => {
    const n = nets.net(1);
    const { s, port } = listener4();
    try {
      const a = frags4(n, port, 0x103), b = frags4(n, port, 0x104);
      send(n, [a[0]!, b[2]!, a[2]!, b[0]!, b[1]!, a[1]!]);
      expectDatagram(s, pattern(64, 0x104), PEER4);
      expectDatagram(s, pattern(64, 0x103), PEER4);
    } finally {
      s.close();
    }
  });

  nets.it('a duplicate fragment is dropped alone: one datagram, no failure counted', () => {
    const n = nets.net(1);
    const { s, port } = listener4();
    try {
      const f = frags4(n, port, 0x105);
      const c = ipCounters();
      send(n, [f[0]!, f[1]!, f[1]!, f[2]!]);
      expectDatagram(s, pattern(64, 0x105), PEER4);
      expectNothing(s);
      assert.deepEqual(counterDelta(c, ipCounters(), V4), { 'Ip.ReasmReqds': 4, 'Ip.ReasmOKs': 1, 'Ip.ReasmFails': 0, 'Ip.ReasmTimeout': 0, 'IpExt.ReasmOverlaps': 0 });
    } finally {
      s.close();
    }
  });

  nets.it('a fragment inside data already queued is a duplicate: its different bytes are ignored', () => {
    const n = nets.net(1);
    const { s, port } = listener4();
    try {
      const w = whole4(n, port, 0x106);
      const c = ipCounters();
      // [8, 24) with other contents lies inside the run [0, 48): IPFRAG_DUP, dropped alone.
      send(n, [piece4(n, w, 0, 48, true), piece4(n, { ...w, udp: Buffer.alloc(72, 0xee) }, 8, 24, true), piece4(n, w, 48, 72, false)]);
      expectDatagram(s, w.data, PEER4);
      assert.deepEqual(counterDelta(c, ipCounters(), V4), { 'Ip.ReasmReqds': 3, 'Ip.ReasmOKs': 1, 'Ip.ReasmFails': 0, 'Ip.ReasmTimeout': 0, 'IpExt.ReasmOverlaps': 0 });
    } finally {
      s.close();
    }
  });

  nets.it('a fragment spanning two that arrived in order (one run) is a duplicate too', () => {
    const n = nets.net(1);
    const { s, port } = listener4();
    try {
      const w = whole4(n, port, 0x109);
      send(n, [piece4(n, w, 0, 24, true), piece4(n, w, 24, 48, true), piece4(n, { ...w, udp: Buffer.alloc(72, 0xee) }, 16, 32, true), piece4(n, w, 48, 72, false)]);
      expectDatagram(s, w.data, PEER4);
    } finally {
      s.close();
    }
  });

  nets.it('the same fragment spanning two that arrived out of order (two runs) overlaps: dropped', () => {
    const n = nets.net(1);
    const { s, port } = listener4();
    try {
      const w = whole4(n, port, 0x10a);
      const c = ipCounters();
      // [24, 48) then [0, 24): two runs (fragrun_create); [16, 32) straddles them.
      send(n, [piece4(n, w, 24, 48, true), piece4(n, w, 0, 24, true), piece4(n, w, 16, 32, true)]);
      assert.deepEqual(counterDelta(c, ipCounters(), V4), { 'Ip.ReasmReqds': 3, 'Ip.ReasmOKs': 0, 'Ip.ReasmFails': 1, 'Ip.ReasmTimeout': 0, 'IpExt.ReasmOverlaps': 1 });
      assert.equal(fragQueues(4).inuse, 0, 'the queue is gone');
      expectNothing(s);
    } finally {
      s.close();
    }
  });

  nets.it('overlapping fragments: the whole datagram is dropped (ReasmFails, ReasmOverlaps +1); the id is free again', () => {
    const n = nets.net(1);
    const { s, port } = listener4();
    try {
      const w = whole4(n, port, 0x107);
      const c = ipCounters();
      // [0, 32) then [24, 72): the second would complete the datagram if overlaps were merged.
      send(n, [piece4(n, w, 0, 32, true), piece4(n, w, 24, 72, false)]);
      expectNothing(s);
      assert.deepEqual(counterDelta(c, ipCounters(), V4), { 'Ip.ReasmReqds': 2, 'Ip.ReasmOKs': 0, 'Ip.ReasmFails': 1, 'Ip.ReasmTimeout': 0, 'IpExt.ReasmOverlaps': 1 });
      assert.equal(fragQueues(4).inuse, 0, 'the queue is gone');
      send(n, frags4(n, port, 0x107, w.data));
      expectDatagram(s, w.data, PEER4);
    } finally {
      s.close();
    }
  });

  nets.it('a second last fragment with another end: the datagram is dropped (ReasmFails +1)', () => {
    const n = nets.net(1);
    const { s, port } = listener4();
    try {
      const w = whole4(n, port, 0x108);
      const c = ipCounters();
      // [48, 72) ends the datagram at 72; then [48, 64) claims to end it at 64.
      send(n, [piece4(n, w, 48, 72, false), piece4(n, w, 48, 64, false)]);
      assert.deepEqual(counterDelta(c, ipCounters(), V4), { 'Ip.ReasmReqds': 2, 'Ip.ReasmOKs': 0, 'Ip.ReasmFails': 1, 'Ip.ReasmTimeout': 0, 'IpExt.ReasmOverlaps': 0 });
      assert.equal(fragQueues(4).inuse, 0, 'the queue is gone');
      send(n, [piece4(n, w, 0, 24, true), piece4(n, w, 24, 48, true)]);
      expectNothing(s);
      send(n, [piece4(n, w, 48, 72, false)]);
      expectDatagram(s, w.data, PEER4);
    } finally {
      s.close();
    }
  });

  nets.it('ECN: ECT(0) fragments with one CE are delivered marked CE (IP_RECVTOS 0x03)', () => {
    const n = nets.net(1);
    const { s, port } = listener4();
    try {
      s.setOption(K.SOL_IP, K.IP_RECVTOS, 1);
      const w = whole4(n, port, 0x10b);
      send(n, [piece4(n, w, 0, 24, true, ECT0), piece4(n, w, 24, 48, true, CE), piece4(n, w, 48, 72, false, ECT0)]);
      const m = s.recvMsg({ timeoutMs: 1000 });
      assert.equal(m.data.toString('hex'), w.data.toString('hex'));
      assert.deepEqual(m.control.filter((c) => c.kind === 'tos'), [{ kind: 'tos', value: CE }]);
    } finally {
      s.close();
    }
  });

  nets.it('ECN: ECT(0) and Not-ECT fragments of one datagram are an invalid mix: dropped (ReasmFails +1)', () => {
    const n = nets.net(1);
    const { s, port } = listener4();
    try {
      const w = whole4(n, port, 0x10c);
      const c = ipCounters();
      send(n, [piece4(n, w, 0, 24, true, ECT0), piece4(n, w, 24, 48, true, 0), piece4(n, w, 48, 72, false, ECT0)]);
      expectNothing(s);
      assert.deepEqual(counterDelta(c, ipCounters(), V4), { 'Ip.ReasmReqds': 3, 'Ip.ReasmOKs': 0, 'Ip.ReasmFails': 1, 'Ip.ReasmTimeout': 0, 'IpExt.ReasmOverlaps': 0 });
      assert.equal(fragQueues(4).inuse, 0);
    } finally {
      s.close();
    }
  });
});

describe('IPv6 reassembly', () => {
  const ok6 = (reqds: number, oks: number, fails: number): Record<string, number> => ({ Ip6ReasmReqds: reqds, Ip6ReasmOKs: oks, Ip6ReasmFails: fails, Ip6ReasmTimeout: 0 });

  nets.it('three fragments in order: one datagram; Ip6ReasmReqds +3, Ip6ReasmOKs +1', () => {
    const n = nets.net(1);
    const { s, port } = listener6();
    try {
      const c = ipCounters();
      send(n, frags6(n, port, 0x201));
      expectDatagram(s, pattern(64, 0x201), PEER6);
      assert.deepEqual(counterDelta(c, ipCounters(), V6), ok6(3, 1, 0));
    } finally {
      s.close();
    }
  });

  nets.it('in reverse order: the same datagram', () => {
    const n = nets.net(1);
    const { s, port } = listener6();
    try {
      send(n, frags6(n, port, 0x202).reverse());
      expectDatagram(s, pattern(64, 0x202), PEER6);
    } finally {
      s.close();
    }
  });

  nets.it('two datagrams interleaved, told apart by their fragment id: both whole', () => {
    const n = nets.net(1);
    const { s, port } = listener6();
    try {
      const a = frags6(n, port, 0x203), b = frags6(n, port, 0x204);
      send(n, [a[0]!, b[2]!, a[2]!, b[0]!, b[1]!, a[1]!]);
      expectDatagram(s, pattern(64, 0x204), PEER6);
      expectDatagram(s, pattern(64, 0x203), PEER6);
    } finally {
      s.close();
    }
  });

  nets.it('an exact duplicate is ignored, not an overlap (RFC 5722 errata 3089): one datagram', () => {
    const n = nets.net(1);
    const { s, port } = listener6();
    try {
      const f = frags6(n, port, 0x205);
      const c = ipCounters();
      send(n, [f[0]!, f[1]!, f[1]!, f[2]!]);
      expectDatagram(s, pattern(64, 0x205), PEER6);
      expectNothing(s);
      assert.deepEqual(counterDelta(c, ipCounters(), V6), ok6(4, 1, 0));
    } finally {
      s.close();
    }
  });

  nets.it('a fragment inside data already queued is a duplicate: its different bytes are ignored', () => {
    const n = nets.net(1);
    const { s, port } = listener6();
    try {
      const w = whole6(n, port, 0x206);
      send(n, [piece6(n, w, 0, 48, true), piece6(n, { ...w, udp: Buffer.alloc(72, 0xee) }, 8, 24, true), piece6(n, w, 48, 72, false)]);
      expectDatagram(s, w.data, PEER6);
    } finally {
      s.close();
    }
  });

  nets.it('overlapping fragments drop the whole datagram (RFC 5722): Ip6ReasmFails +1; the id is free again', () => {
    const n = nets.net(1);
    const { s, port } = listener6();
    try {
      const w = whole6(n, port, 0x207);
      const c = ipCounters();
      send(n, [piece6(n, w, 0, 32, true), piece6(n, w, 24, 72, false)]);
      expectNothing(s);
      assert.deepEqual(counterDelta(c, ipCounters(), V6), ok6(2, 0, 1));
      assert.equal(fragQueues(6).inuse, 0, 'the queue is gone');
      send(n, frags6(n, port, 0x207, w.data));
      expectDatagram(s, w.data, PEER6);
    } finally {
      s.close();
    }
  });

  nets.it('an overlap after a first fragment and a duplicate: still the whole datagram dropped, later fragments start afresh', () => {
    const n = nets.net(1);
    const { s, port } = listener6();
    try {
      const w = whole6(n, port, 0x208);
      send(n, [piece6(n, w, 0, 24, true), piece6(n, w, 0, 24, true), piece6(n, w, 16, 40, true)]);
      assert.equal(fragQueues(6).inuse, 0, 'the queue is gone');
      // Had [0, 24) survived, these two would complete the datagram.
      send(n, [piece6(n, w, 24, 48, true), piece6(n, w, 48, 72, false)]);
      expectNothing(s);
      send(n, [piece6(n, w, 0, 24, true)]);
      expectDatagram(s, w.data, PEER6);
    } finally {
      s.close();
    }
  });

  nets.it('an atomic fragment (offset 0, M clear) is delivered at once, apart from a queue with its id (RFC 6946)', () => {
    const n = nets.net(1);
    const { s, port } = listener6();
    try {
      const w = whole6(n, port, 0x209);
      const c = ipCounters();
      send(n, [piece6(n, w, 0, 24, true)]);
      const atomic = pattern(20, 0x99);
      inject(n, [ipv6({ src: PEER6, dst: n.addr6 }), fragment({ id: 0x209 }), udp({ sport: SPORT, dport: port }), raw(atomic)]);
      expectDatagram(s, atomic, PEER6);
      assert.equal(fragQueues(6).inuse, 1, 'the pending queue is untouched');
      send(n, [piece6(n, w, 24, 48, true), piece6(n, w, 48, 72, false)]);
      expectDatagram(s, w.data, PEER6);
      // The atomic fragment counts as a request and an OK of its own (ipv6_frag_rcv).
      assert.deepEqual(counterDelta(c, ipCounters(), V6), ok6(4, 2, 0));
    } finally {
      s.close();
    }
  });

  nets.it('ECN: ECT(0) fragments with one CE are delivered marked CE (IPV6_RECVTCLASS 0x03)', () => {
    const n = nets.net(1);
    const { s, port } = listener6();
    try {
      s.setOption(K.SOL_IPV6, K.IPV6_RECVTCLASS, 1);
      const w = whole6(n, port, 0x20c);
      send(n, [piece6(n, w, 0, 24, true, ECT0), piece6(n, w, 24, 48, true, CE), piece6(n, w, 48, 72, false, ECT0)]);
      const m = s.recvMsg({ timeoutMs: 1000 });
      assert.equal(m.data.toString('hex'), w.data.toString('hex'));
      assert.deepEqual(m.control.filter((c) => c.kind === 'tclass'), [{ kind: 'tclass', value: CE }]);
    } finally {
      s.close();
    }
  });

  nets.it('ECN: ECT(0) and Not-ECT fragments of one datagram are an invalid mix: dropped (Ip6ReasmFails +1)', () => {
    const n = nets.net(1);
    const { s, port } = listener6();
    try {
      const w = whole6(n, port, 0x20d);
      const c = ipCounters();
      send(n, [piece6(n, w, 0, 24, true, ECT0), piece6(n, w, 24, 48, true, 0), piece6(n, w, 48, 72, false, ECT0)]);
      expectNothing(s);
      assert.deepEqual(counterDelta(c, ipCounters(), V6), ok6(3, 0, 1));
      assert.equal(fragQueues(6).inuse, 0);
    } finally {
      s.close();
    }
  });
});

describe('reassembly timeout', () => {
  const T = FRAG_TIME * 1000;

  for (const v of [4, 6] as const) {
    const names = v === 4 ? V4.slice(0, 4) : V6;
    const fails = (timeout: number): Record<string, number> => Object.fromEntries(names.map((k, i) => [k, [1, 0, timeout, timeout][i]!]));

    nets.it(`IPv${v}: only the first fragment: time exceeded (reassembly) quoting it, after ${FRAG_TIME} s and not before`, () => {
      const n = nets.net(1);
      const port = nextPort++;
      const first = v === 4 ? frags4(n, port, 0x301)[0]! : frags6(n, port, 0x301)[0]!;
      const c = ipCounters();
      inject(n, first);
      expectNone(n, { timeoutMs: T - 500, match: isIcmp });
      if (v === 4) expectTimeExceeded4(n, first, 1500);
      else expectTimeExceeded6(n, first, 1500);
      assert.deepEqual(counterDelta(c, ipCounters(), names), fails(1));
    });

    nets.it(`IPv${v}: only a later fragment: the queue expires (ReasmFails, ReasmTimeout +1) without an ICMP error`, () => {
      const n = nets.net(1);
      const port = nextPort++;
      const c = ipCounters();
      inject(n, v === 4 ? frags4(n, port, 0x302)[1]! : frags6(n, port, 0x302)[1]!);
      expectNone(n, { timeoutMs: T + 800, match: isIcmp });
      assert.equal(fragQueues(v).inuse, 0, 'the queue expired');
      assert.deepEqual(counterDelta(c, ipCounters(), names), fails(1));
    });

    nets.it(`IPv${v}: completed ${FRAG_TIME - 0.5} s after the first fragment: delivered, no error`, () => {
      const n = nets.net(1);
      const { s, port } = v === 4 ? listener4() : listener6();
      try {
        const f = v === 4 ? frags4(n, port, 0x303) : frags6(n, port, 0x303);
        inject(n, f[0]!);
        sleepMs(T - 500);
        send(n, f.slice(1));
        expectDatagram(s, pattern(64, 0x303), v === 4 ? PEER4 : PEER6);
        expectNone(n, { timeoutMs: 800, match: isIcmp });
      } finally {
        s.close();
      }
    });

    nets.it(`IPv${v}: the timer starts with the queue: a first fragment arriving later still expires ${FRAG_TIME} s after the queue began`, () => {
      const n = nets.net(1);
      const port = nextPort++;
      const f = v === 4 ? frags4(n, port, 0x304) : frags6(n, port, 0x304);
      inject(n, f[2]!);
      sleepMs(T - 800);
      inject(n, f[0]!);
      // Expiry is due 800 ms from now; a timer restarted by this fragment would take T.
      if (v === 4) expectTimeExceeded4(n, f[0]!, 1400);
      else expectTimeExceeded6(n, f[0]!, 1400);
    });
  }
});

describe('ipfrag_high_thresh', () => {
  for (const v of [4, 6] as const) {
    const [hi, lo] = v === 4 ? ['net.ipv4.ipfrag_high_thresh', 'net.ipv4.ipfrag_low_thresh'] : ['net.ipv6.ip6frag_high_thresh', 'net.ipv6.ip6frag_low_thresh'];
    const fails = v === 4 ? 'Ip.ReasmFails' : 'Ip6ReasmFails';

    nets.it(`IPv${v}: a fragment is accepted while the queues hold exactly ${hi.split('.')[2]!} bytes`, () => {
      const n = nets.net(1);
      const { s, port } = v === 4 ? listener4() : listener6();
      try {
        const w = v === 4 ? whole4(n, port, 0x401) : whole6(n, port, 0x401);
        const p = v === 4 ? piece4 : piece6;
        inject(n, p(n, w, 0, 40, true));
        const { inuse, memory } = fragQueues(v);
        assert.equal(inuse, 1);
        withSysctl({ [lo]: 0, [hi]: memory }, () => inject(n, p(n, w, 40, 72, false)));
        expectDatagram(s, w.data, v === 4 ? PEER4 : PEER6);
      } finally {
        s.close();
      }
    });

    nets.it(`IPv${v}: one byte below what the queues hold, the next fragment is refused (ReasmFails +1); the queue stays`, () => {
      const n = nets.net(1);
      const { s, port } = v === 4 ? listener4() : listener6();
      try {
        const w = v === 4 ? whole4(n, port, 0x402) : whole6(n, port, 0x402);
        const p = v === 4 ? piece4 : piece6;
        inject(n, p(n, w, 0, 40, true));
        const { memory } = fragQueues(v);
        const c = ipCounters();
        withSysctl({ [lo]: 0, [hi]: memory - 1 }, () => inject(n, p(n, w, 40, 72, false)));
        expectNothing(s);
        assert.deepEqual(counterDelta(c, ipCounters(), [fails]), { [fails]: 1 });
        assert.deepEqual(fragQueues(v), { inuse: 1, memory }, 'the refused fragment was not queued');
        inject(n, p(n, w, 40, 72, false));
        expectDatagram(s, w.data, v === 4 ? PEER4 : PEER6);
      } finally {
        s.close();
      }
    });

    nets.it(`IPv${v}: ${hi.split('.')[2]!} 0 turns reassembly off: even a first fragment is refused`, () => {
      const n = nets.net(1);
      const { s, port } = v === 4 ? listener4() : listener6();
      try {
        const f = v === 4 ? frags4(n, port, 0x403) : frags6(n, port, 0x403);
        const c = ipCounters();
        withSysctl({ [lo]: 0, [hi]: 0 }, () => send(n, f));
        expectNothing(s);
        assert.deepEqual(counterDelta(c, ipCounters(), [fails]), { [fails]: 3 });
        assert.equal(fragQueues(v).inuse, 0);
      } finally {
        s.close();
      }
    });
  }
});

describe('IPv6 malformed fragments', () => {
  nets.it('a non-last fragment whose length is not a multiple of 8: parameter problem at the payload length; the queue it opened expires empty, silently', () => {
    const n = nets.net(1);
    const w = whole6(n, nextPort++, 0x20a);
    const bad = piece6(n, w, 0, 20, true);
    const c = ipCounters();
    inject(n, bad);
    expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6, hlim: 64 }), icmpv6({ icmpType: ICMPV6_PARAMPROB, code: ICMPV6_HDR_FIELD, pointer: 4 }), raw(build(bad))]);
    // fq_find() made the queue before ip6_frag_queue() refused the fragment.
    assert.equal(fragQueues(6).inuse, 1);
    expectNone(n, { timeoutMs: FRAG_TIME * 1000 + 800, match: isIcmp });
    assert.equal(fragQueues(6).inuse, 0);
    assert.deepEqual(counterDelta(c, ipCounters(), [...V6, 'Ip6InHdrErrors']), { Ip6ReasmReqds: 1, Ip6ReasmOKs: 0, Ip6ReasmFails: 1, Ip6ReasmTimeout: 1, Ip6InHdrErrors: 1 });
  });

  nets.it('a first fragment that cuts the UDP header: parameter problem code 3 (headers incomplete), pointer 0, no queue', () => {
    const n = nets.net(1);
    const w = whole6(n, nextPort++, 0x20b);
    // 7 of the UDP header's 8 bytes (RFC 8200 4.5: the first fragment holds every header).
    const bad = [ipv6({ src: PEER6, dst: n.addr6 }), fragment({ nh: IPPROTO_UDP, m: true, id: w.id }), raw(w.udp.subarray(0, 7))];
    const c = ipCounters();
    inject(n, bad);
    expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6, hlim: 64 }), icmpv6({ icmpType: ICMPV6_PARAMPROB, code: ICMPV6_HDR_INCOMP, pointer: 0 }), raw(build(bad))]);
    assert.equal(fragQueues(6).inuse, 0);
    assert.deepEqual(counterDelta(c, ipCounters(), [...V6, 'Ip6InHdrErrors']), { Ip6ReasmReqds: 1, Ip6ReasmOKs: 0, Ip6ReasmFails: 0, Ip6ReasmTimeout: 0, Ip6InHdrErrors: 1 });
  });

  nets.it('a fragment reaching past 65535 bytes: parameter problem pointing at the fragment offset (42); its empty queue expires', () => {
    const n = nets.net(1);
    // Offset 8191 × 8 = 65528 plus 16 bytes ends at 65544 (ip6_frag_queue: end > IPV6_MAXPLEN).
    const bad = [ipv6({ src: PEER6, dst: n.addr6 }), fragment({ nh: IPPROTO_UDP, offset: 8191, id: 0x20e }), raw(pattern(16, 1))];
    const c = ipCounters();
    inject(n, bad);
    expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6, hlim: 64 }), icmpv6({ icmpType: ICMPV6_PARAMPROB, code: ICMPV6_HDR_FIELD, pointer: 42 }), raw(build(bad))]);
    assert.equal(fragQueues(6).inuse, 1);
    expectNone(n, { timeoutMs: FRAG_TIME * 1000 + 800, match: isIcmp });
    assert.equal(fragQueues(6).inuse, 0);
    assert.deepEqual(counterDelta(c, ipCounters(), [...V6, 'Ip6InHdrErrors']), { Ip6ReasmReqds: 1, Ip6ReasmOKs: 0, Ip6ReasmFails: 1, Ip6ReasmTimeout: 1, Ip6InHdrErrors: 1 });
  });
});
