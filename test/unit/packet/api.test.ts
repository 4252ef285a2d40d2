/** compare, describe, reply, pcap and address helpers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  answerNeighbor, arp, assertMatch, build, ndOpt, neighborSolicit, canonicalIpv6, decodeEspNull, diff, echoRequest6, esp, ether, igmp, ipv4, ipv6, layer, LINKTYPE_RAW, matches, parse,
  raw, readPcap, reply, show, summary, tcp, udp, writePcap, formatDiff, type Layer,
} from '../../../src/lib/packet/index.js';

const syn = (): Layer[] => [
  ether({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }),
  ipv6({ src: '2001:db8::1', dst: '2001:db8::2', fl: 0x1234 }),
  tcp({ sport: 40000, dport: 80, seq: 100, flags: 'S', options: [{ kind: 'mss', value: 1460 }] }),
];

describe('addresses', () => {
  it('IPv6 text is canonical (RFC 5952)', () => {
    assert.equal(canonicalIpv6('2001:0DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(canonicalIpv6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(canonicalIpv6('::ffff:c000:201'), '::ffff:192.0.2.1'); // RFC 5952 section 5, as inet_ntop
    assert.equal(canonicalIpv6('::'), '::');
    assert.equal(canonicalIpv6('1:2:3:4:5:6:7:8'), '1:2:3:4:5:6:7:8');
    assert.equal(canonicalIpv6('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.throws(() => canonicalIpv6('2001:db8::1::2'), RangeError);
    assert.throws(() => canonicalIpv6('2001:db8:::1'), RangeError);
    assert.throws(() => ipv4({ src: '192.0.2.300' }) && build([ipv4({ src: '192.0.2.300' })]), RangeError);
  });
});

describe('compare', () => {
  it('matches itself, with auto fields checked for correctness', () => {
    const b = build(syn());
    assert.ok(matches(b, syn()));
    assertMatch(parse(b), syn());
  });

  it('names layer and field on mismatch', () => {
    const got = build(syn());
    const want = syn();
    want[2] = tcp({ sport: 40000, dport: 80, seq: 100, flags: 'SA', options: [{ kind: 'mss', value: 1460 }] });
    assert.deepEqual(diff(got, want).map((d) => `${d.layer}.${d.field}`), ['tcp.flags']);
    assert.throws(() => assertMatch(got, want), /tcp\.flags \(layer 2\): expected SA, got S/);
  });

  it('ignores don\'t-care fields, including whole subtrees and wildcards', () => {
    const got = build(syn());
    const want: Layer[] = [syn()[0]!, ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), tcp({ sport: 40000, dport: 80, seq: 100, flags: 'S', window: 1 })];
    assert.deepEqual(diff(got, want).map((d) => `${d.layer}.${d.field}`).sort(), ['ipv6.fl', 'tcp.options.length', 'tcp.window']);
    assert.ok(matches(got, want, { ignore: ['ipv6.fl', 'tcp.options', 'tcp.window'] }));
    assert.ok(!matches(got, want, { ignore: ['ipv6.fl', 'tcp.options'] }));
  });

  it('a corrupted checksum is reported unless ignored', () => {
    const b = build(syn());
    b[b.length - 8]! ^= 0xff; // inside the TCP header: checksum no longer right
    const d = diff(b, syn());
    assert.ok(d.some((x) => x.layer === 'tcp' && x.field === 'checksum'), JSON.stringify(d));
    const wrong = syn();
    wrong[2] = { ...(wrong[2] as Extract<Layer, { type: 'tcp' }>), checksum: 0xdead };
    assert.ok(matches(build(wrong), wrong), 'an explicit wrong checksum is expected as given');
    assert.ok(!matches(build(syn()), wrong));
  });

  it('a checksum whose sum is zero verifies as 0x0000 or 0xffff (one\'s complement has two zeros), except UDP\'s', () => {
    // A SYN whose TCP checksum comes out 0x0000: the kernel was seen writing 0xffff there.
    const mk = (seq: number, checksum?: number): Layer[] => [
      ipv4({ src: '198.51.100.2', dst: '203.0.113.1', id: 1 }),
      tcp({ sport: 39660, dport: 9999, seq, flags: 'S', ...(checksum !== undefined ? { checksum } : {}) }),
    ];
    const tcpSum = (seq: number) => (parse(build(mk(seq)), 'ip')[1] as Extract<Layer, { type: 'tcp' }>).checksum;
    let seq = 0;
    while (tcpSum(seq) !== 0) seq++;
    assert.deepEqual(diff(build(mk(seq, 0xffff)), mk(seq)), []);
    assert.deepEqual(diff(build(mk(seq, 0x0001)), mk(seq)).map((d) => `${d.layer}.${d.field}`), ['tcp.checksum'], 'other values still differ');
    // UDP over IPv4: 0 is "no checksum", not the other zero.
    const u = (checksum?: number): Layer[] => [ipv4({ src: '192.0.2.1', dst: '192.0.2.2', id: 5 }), udp({ sport: 1, dport: 2, ...(checksum !== undefined ? { checksum } : {}) })];
    let port = 0;
    const udpSum = (p: Layer[]) => (parse(build(p), 'ip')[1] as Extract<Layer, { type: 'udp' }>).checksum;
    for (; port < 65536; port++) if (udpSum([u()[0]!, udp({ sport: port, dport: 2 })]) === 0xffff) break;
    const uz = (checksum?: number): Layer[] => [u()[0]!, udp({ sport: port, dport: 2, ...(checksum !== undefined ? { checksum } : {}) })];
    assert.deepEqual(diff(build(uz(0)), uz()).map((d) => `${d.layer}.${d.field}`), ['udp.checksum']);
  });

  it('"*.field" ignores a field in every layer; a layer name ignores the whole layer', () => {
    const got = build([ipv4({ src: '192.0.2.1', dst: '192.0.2.2', id: 5 }), udp({ sport: 1, dport: 2, checksum: 0x1234 })]);
    const want = [ipv4({ src: '192.0.2.1', dst: '192.0.2.2', id: 5, checksum: 1 }), udp({ sport: 1, dport: 2 })];
    assert.deepEqual(diff(got, want).map((d) => `${d.layer}.${d.field}`).sort(), ['ipv4.checksum', 'udp.checksum']);
    assert.ok(matches(got, want, { ignore: ['*.checksum'] }));
    assert.ok(matches(got, want, { ignore: ['ipv4', 'udp.checksum'] }));
  });

  it('null-cipher ESP is compared layer by layer', () => {
    const mk = (dport: number): Layer[] => [ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), esp({ spi: 1, seq: 1, nullCipher: {} }), udp({ sport: 1, dport }), raw('x')];
    const d = diff(decodeEspNull(parse(build(mk(2)), 'ip'))!, mk(3));
    assert.deepEqual(d.map((x) => `${x.layer}.${x.field}`).sort(), ['udp.dport']);
  });

  it('a long payload diff shows where the bytes differ, not the first 64', () => {
    const data = Buffer.alloc(1400, 0x61);
    const other = Buffer.from(data);
    other[812] = 0x7a;
    other[900] = 0x7a;
    const want: Layer[] = [ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), udp({ sport: 1, dport: 2 }), raw(data)];
    const got = build([want[0]!, want[1]!, raw(other)]);
    const msg = formatDiff(diff(got, want));
    assert.match(msg, /raw\.data \(layer 2\): 1400 bytes, 2 differ, the first at byte 812: expected …6161616161616161\[61\]6161/);
    assert.match(msg, /got …6161616161616161\[7a\]6161/);
    const short = formatDiff(diff(build([want[0]!, want[1]!, raw(data.subarray(0, 1000))]), want));
    assert.match(short, /expected 1400 bytes, got 1000, the first at byte 1000: expected …6161616161616161\[61\]/);
    assert.match(short, /got …6161616161616161\[end\]/);
  });

  it('reports missing and extra layers', () => {
    const d = diff(build([...syn(), raw('data')]), syn());
    assert.deepEqual(d.filter((x) => x.field === '').map((x) => [x.index, x.expected, x.actual]), [[3, '(none)', 'raw']]);
  });
});

describe('describe', () => {
  it('one line and multi-line', () => {
    const s = summary(parse(build(syn())));
    assert.equal(s, 'Ether 02:00:00:00:00:01 > 02:00:00:00:00:02 | IPv6 2001:db8::1 > 2001:db8::2 hlim 64 fl 0x1234 | TCP 40000 > 80 [S] seq 100 ack 0 win 8192 <mss 1460>');
    const m = show(parse(build(syn()))).split('\n');
    assert.equal(m.length, 3);
    assert.match(m[2]!, /^tcp +sport=40000 dport=80 seq=100 .*checksum=0x[0-9a-f]+ .*options=\[\{kind: mss, value: 1460\}\]/);
  });
});

describe('reply', () => {
  it('SYN gets a SYN-ACK acking seq+1, addresses and ports swapped', () => {
    const r = reply(parse(build(syn())), { seq: 5000 });
    const t = layer(r, 'tcp')!;
    assert.deepEqual([t.sport, t.dport, t.seq, t.ack, t.flags], [80, 40000, 5000, 101, 'SA']);
    assert.equal(layer(r, 'ipv6')!.src, '2001:db8::2');
    assert.equal(layer(r, 'ether')!.dst, '02:00:00:00:00:01');
  });

  it('data and FIN advance the ack; replies to ACKs take their ack as seq', () => {
    const p = [ipv4({ src: '192.0.2.1', dst: '192.0.2.2' }), tcp({ seq: 0xfffffffe, ack: 77, flags: 'FPA' }), raw('abc')];
    const t = layer(reply(parse(build(p), 'ip')), 'tcp')!;
    assert.deepEqual([t.seq, t.ack, t.flags], [77, (0xfffffffe + 4) >>> 0, 'A']);
  });

  it('echo request gets an echo reply with the same payload; UDP ports swap', () => {
    const r = reply([ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), echoRequest6({ id: 3, seq: 4 }), raw('xyz')]);
    assert.deepEqual(r.map((l) => l.type), ['ipv6', 'icmpv6', 'raw']);
    assert.deepEqual([layer(r, 'icmpv6')!.icmpType, layer(r, 'icmpv6')!.id, layer(r, 'icmpv6')!.seq], [129, 3, 4]);
    const u = layer(reply([ipv4({ src: '192.0.2.1', dst: '192.0.2.2' }), udp({ sport: 1, dport: 2 })]), 'udp')!;
    assert.deepEqual([u.sport, u.dport], [2, 1]);
  });
});

describe('answerNeighbor', () => {
  const MAC = '02:00:00:00:00:09';
  it('answers an ARP request', () => {
    const req = [ether({ src: '02:00:00:00:00:01' }), arp({ op: 1, senderMac: '02:00:00:00:00:01', senderIp: '192.0.2.1', targetIp: '192.0.2.9' })];
    assertMatch(build(answerNeighbor(req, MAC)!), [
      ether({ src: MAC, dst: '02:00:00:00:00:01' }),
      arp({ op: 2, senderMac: MAC, senderIp: '192.0.2.9', targetMac: '02:00:00:00:00:01', targetIp: '192.0.2.1' }),
    ]);
  });
  it('answers a solicitation, and a DAD probe to all-nodes without S', () => {
    const ns = (src: string): Layer[] => [ether({ src: '02:00:00:00:00:01', dst: '33:33:ff:00:00:09' }), ipv6({ src, dst: 'ff02::1:ff00:9', hlim: 255 }), neighborSolicit({ target: '2001:db8::9', options: [ndOpt.srcLladdr('02:00:00:00:00:01')] })];
    const na = answerNeighbor(ns('2001:db8::1'), MAC)!;
    assert.equal(summary(na), `Ether ${MAC} > 02:00:00:00:00:01 | IPv6 2001:db8::9 > 2001:db8::1 hlim 255 | ICMPv6 type 136 code 0 target 2001:db8::9 opts tgtLladdr`);
    assert.equal(layer(na, 'icmpv6')!.flags, 'SO');
    const dad = answerNeighbor(ns('::'), MAC)!;
    assert.deepEqual([layer(dad, 'ipv6')!.dst, layer(dad, 'icmpv6')!.flags, layer(dad, 'ether')!.dst], ['ff02::1', 'O', '33:33:00:00:00:01']);
    assert.equal(answerNeighbor([ipv6(), echoRequest6()], MAC), undefined);
  });
});

describe('esp null cipher', () => {
  it('decodeEspNull opens what the null-cipher trailer wrote', () => {
    const p: Layer[] = [ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), esp({ spi: 1, seq: 2, nullCipher: { icv: Buffer.alloc(12, 7) } }), udp({ sport: 1, dport: 2 }), raw('hello')];
    const b = build(p);
    const parsed = parse(b, 'ip');
    assert.deepEqual(parsed.map((l) => l.type), ['ipv6', 'esp', 'raw']);
    const opened = decodeEspNull(parsed, 12)!;
    assert.deepEqual(opened.map((l) => l.type), ['ipv6', 'esp', 'udp', 'raw']);
    assert.equal(build(opened).toString('hex'), b.toString('hex'));
    assert.deepEqual(diff(opened, p), []);
    assert.equal(decodeEspNull(parsed.slice(0, 1)), undefined);
  });
});

describe('pcap', () => {
  it('round-trips records, and reads big-endian nanosecond files', () => {
    const a = build([ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), echoRequest6()]);
    const f = readPcap(writePcap([{ data: a, timeUs: 1_500_000 }, { data: a.subarray(0, 10), timeUs: 2, origLen: a.length }], LINKTYPE_RAW))!;
    assert.equal(f.linktype, LINKTYPE_RAW);
    assert.deepEqual(f.records.map((r) => [r.timeUs, r.origLen, Buffer.from(r.data).toString('hex')]), [[1_500_000, a.length, a.toString('hex')], [2, a.length, a.subarray(0, 10).toString('hex')]]);
    const be = Buffer.alloc(24 + 16 + 2);
    be.writeUInt32BE(0xa1b23c4d, 0); be.writeUInt16BE(2, 4); be.writeUInt16BE(4, 6); be.writeUInt32BE(65535, 16); be.writeUInt32BE(1, 20);
    be.writeUInt32BE(3, 24); be.writeUInt32BE(5000, 28); be.writeUInt32BE(2, 32); be.writeUInt32BE(2, 36); be[40] = 0xab; be[41] = 0xcd;
    const g = readPcap(be)!;
    assert.deepEqual([g.linktype, g.records[0]!.timeUs, Buffer.from(g.records[0]!.data).toString('hex')], [1, 3_000_005, 'abcd']);
    assert.equal(readPcap(Buffer.from('nonsense')), undefined);
    assert.equal(readPcap(be.subarray(0, 41))!.records.length, 0);
  });
});

describe('builders', () => {
  it('reject a field their layer does not have (bundling does not type-check), and accept a parsed layer spread back in', () => {
    // The cast stands for a test bundled without type checking.
    const unchecked = ipv4 as (f: object) => Layer;
    assert.throws(() => unchecked({ dontFragment: true }), { name: 'TypeError', message: /^ipv4\(\): no field 'dontFragment'; its fields are .*\bdf\b.*ls\('ipv4'\)/ });
    assert.throws(() => (tcp as (f: object) => Layer)({ sport: 1, flag: 'S' }), /tcp\(\): no field 'flag'/);
    const parsed = parse(build(syn()));
    const t = parsed.find((l) => l.type === 'tcp');
    assert.ok(t?.type === 'tcp');
    assert.deepEqual(tcp({ ...t }), t);
  });

  it('igmp(): rejects a field of another version\'s spelling (maddr, gaddr); a parsed v3 report spreads back in', () => {
    const unchecked = igmp as (f: object) => Layer;
    assert.throws(() => unchecked({ igmpType: 0x16, gaddr: '239.1.2.3' }), /igmp\(\): no field 'gaddr'/);
    const report = [ipv4({ src: '192.0.2.1', dst: '224.0.0.22' }), igmp({ igmpType: 0x22, records: [{ recordType: 4, group: '239.1.2.3', sources: ['192.0.2.9'] }] })];
    const back = parse(build(report), 'ip').find((l) => l.type === 'igmp');
    assert.ok(back?.type === 'igmp');
    assert.deepEqual(igmp({ ...back }), back);
  });
});
