/** IPv6 extension headers: ipv6ExtBytes() and the packets suite/exthdr.test.ts sends, byte for byte against scapy. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  build, destOpts, echoRequest6, hopByHop, ipv6, ipv6ExtBytes, parse, raw, routing, srh, udp, type Ipv6Ext, type Layer,
} from '../../../src/lib/packet/index.js';
import { scapyAvailable, scapyBytes } from './scapy-oracle.js';

const haveScapy = scapyAvailable();
const A = '2001:db8:ff::31', B = '2001:db8:1::9';
const I6 = `IPv6(src='2001:db8:ff::17',dst='2001:db8:1::2')`;
const ip6 = (): Layer => ipv6({ src: '2001:db8:ff::17', dst: '2001:db8:1::2' });
const unk = (otype: number, n: number): string => `HBHOptUnknown(otype=${otype},optdata=b'\\x00'*${n})`;
const opt = (code: number, n: number) => ({ kind: 'option', code, data: Buffer.alloc(n) }) as const;

/** One header alone: [ours, scapy expression] (scapy's autopad=0 where the options already fill it). */
const HEADERS: [string, Ipv6Ext, number, string][] = [
  ['hop-by-hop: router alert + unknown, padded', hopByHop({ options: [{ kind: 'routerAlert', value: 0 }, opt(0x1e, 2)] }), 0x77,
    `IPv6ExtHdrHopByHop(nh=0x77,options=[RouterAlert(value=0),${unk(0x1e, 2)}])`],
  ['destination options: PadN of 2 then an action-10 option', destOpts({ options: [{ kind: 'padN', n: 2 }, opt(0x9e, 2)] }), 17,
    `IPv6ExtHdrDestOpt(nh=17,options=[PadN(optdata=b'\\x00'*2),${unk(0x9e, 2)}])`],
  ['destination options: eight Pad1 then an option (autopad off)', destOpts({ options: [...Array.from({ length: 8 }, () => ({ kind: 'pad1' }) as const), opt(0x1e, 4)] }), 58,
    `IPv6ExtHdrDestOpt(nh=58,autopad=0,options=[Pad1()]*8+[${unk(0x1e, 4)}])`],
  ['destination options: PadN with a non-zero byte', destOpts({ options: [{ kind: 'option', code: 1, data: Buffer.from([0, 0, 1, 0]) }] }), 58,
    `IPv6ExtHdrDestOpt(nh=58,autopad=0,options=[PadN(optdata=b'\\x00\\x00\\x01\\x00')])`],
  ['routing type 0, segments left 1', routing({ routingType: 0, addresses: [A] }), 58,
    `IPv6ExtHdrRouting(nh=58,type=0,segleft=1,addresses=['${A}'])`],
  ['routing type 2 (mobility)', routing({ routingType: 2, addresses: [B] }), 0,
    `IPv6ExtHdrRouting(nh=0,type=2,segleft=1,addresses=['${B}'])`],
  ['segment routing, two segments', srh({ segments: ['::', A], segmentsLeft: 1 }), 0,
    `IPv6ExtHdrSegmentRouting(nh=0,segleft=1,addresses=['::','${A}'])`],
];

/** Whole packets the suite injects. */
const PACKETS: [string, Layer[], string][] = [
  ['jumbo option not at 4n+2', [ip6(), hopByHop({ options: [{ kind: 'pad1' }, { kind: 'jumbo', length: 65536 }, { kind: 'pad1' }] }), echoRequest6({ id: 1, seq: 2 })],
    `${I6}/IPv6ExtHdrHopByHop(autopad=0,options=[Pad1(),Jumbo(jumboplen=65536),Pad1(),PadN(optdata=b'\\x00'*4)])/ICMPv6EchoRequest(id=1,seq=2)`],
  ['hbh, dst, rh0 (segments left 0), dst, udp', [ip6(), hopByHop(), destOpts({ options: [opt(0x1e, 1)] }), routing({ routingType: 0, addresses: [A], segmentsLeft: 0 }), destOpts(), udp({ sport: 5000, dport: 7401 }), raw('x')],
    `${I6}/IPv6ExtHdrHopByHop()/IPv6ExtHdrDestOpt(options=[${unk(0x1e, 1)}])/IPv6ExtHdrRouting(type=0,segleft=0,addresses=['${A}'])/IPv6ExtHdrDestOpt()/UDP(sport=5000,dport=7401)/Raw(b'x')`],
  ['dst opts then hop-by-hop (out of place)', [ip6(), destOpts({ nh: 0 }), hopByHop(), echoRequest6({ id: 1, seq: 3 })],
    `${I6}/IPv6ExtHdrDestOpt(nh=0)/IPv6ExtHdrHopByHop()/ICMPv6EchoRequest(id=1,seq=3)`],
];

describe('extension headers built like scapy builds them', { skip: haveScapy ? false : 'python3-scapy not installed' }, () => {
  const theirs = haveScapy ? scapyBytes([...HEADERS.map((h) => h[3]), ...PACKETS.map((p) => p[2])]) : [];
  HEADERS.forEach(([name, l, nh], i) => {
    it(`ipv6ExtBytes: ${name}`, () => assert.equal(ipv6ExtBytes(l, nh).toString('hex'), theirs[i]));
  });
  PACKETS.forEach(([name, layers], i) => {
    it(`packet: ${name}`, () => {
      const bytes = build(layers);
      assert.equal(bytes.toString('hex'), theirs[HEADERS.length + i]);
      assert.equal(build(parse(bytes, 'ip')).toString('hex'), bytes.toString('hex'));
    });
  });
});

describe('extension header builders', () => {
  it('reject fields their header does not have', () => {
    const loose = (fn: (f: object) => Layer, f: object): (() => Layer) => () => fn(f);
    assert.throws(loose(hopByHop as (f: object) => Layer, { option: [] }), /hopByHop\(\): no field 'option'/);
    assert.throws(loose(destOpts as (f: object) => Layer, { opts: [] }), /destOpts\(\): no field 'opts'/);
    assert.throws(loose(routing as (f: object) => Layer, { segleft: 1 }), /routing\(\): no field 'segleft'/);
    assert.throws(loose(srh as (f: object) => Layer, { segments: [], segleft: 1 }), /srh\(\): no field 'segleft'/);
  });
  it('ipv6ExtBytes keeps a next header the layer sets', () => {
    assert.equal(ipv6ExtBytes(destOpts({ nh: 6 }), 17)[0], 6);
    assert.equal(ipv6ExtBytes(destOpts(), 17).toString('hex'), '1100010400000000');
  });
});
