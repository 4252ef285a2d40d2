/** fragment4/fragment6 against scapy's fragment()/fragment6(), defragment() and its refusals, and the comparer on first fragments. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build, defragment, diff, formatDiff, fragment, fragment4, fragment6, hopByHop, ipv4, ipv6, raw, udp, type Layer } from '../../../src/lib/packet/index.js';
import { scapyAvailable, scapyBytes } from './scapy-oracle.js';

const haveScapy = scapyAvailable();
const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => i & 0xff));
const v4 = (): Layer[] => [ipv4({ src: '192.0.2.1', dst: '198.51.100.2', id: 0x1234 }), udp({ sport: 1000, dport: 2000 }), raw(body)];
const v6 = (): Layer[] => [ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), udp({ sport: 1000, dport: 2000 }), raw(body)];
const hex = (p: readonly Layer[]): string => build(p).toString('hex');

describe('fragment4 and fragment6 agree with scapy', { skip: haveScapy ? false : 'python3-scapy not installed' }, () => {
  it('IPv4, MTU 1500 and 1006 (payload a multiple of 8 below the MTU)', () => {
    const data = `bytes(range(256))*11+bytes(range(184))`;
    const base = `IP(src='192.0.2.1',dst='198.51.100.2',id=0x1234)/UDP(sport=1000,dport=2000)/Raw(${data})`;
    for (const mtu of [1500, 1006]) {
      const ours = fragment4(v4(), mtu);
      // scapy's fragsize is the data per fragment, Linux's limit the whole fragment.
      const size = Math.floor((mtu - 20) / 8) * 8;
      const theirs = scapyBytes(ours.map((_, i) => `fragment(${base}, fragsize=${size})[${i}]`));
      assert.deepEqual(ours.map(hex), theirs);
    }
  });

  it('IPv6, MTU 1280 and 1500', () => {
    const data = `bytes(range(256))*11+bytes(range(184))`;
    const base = `IPv6(src='2001:db8::1',dst='2001:db8::2')/IPv6ExtHdrFragment(id=0xabcdef01)/UDP(sport=1000,dport=2000)/Raw(${data})`;
    for (const mtu of [1280, 1500]) {
      const ours = fragment6(v6(), mtu, 0xabcdef01);
      const theirs = scapyBytes(ours.map((_, i) => `fragment6(${base}, ${mtu})[${i}]`));
      assert.deepEqual(ours.map(hex), theirs);
    }
  });
});

describe('fragment4, fragment6, defragment', () => {
  it('IPv4 fragments: sizes, offsets, MF, and back in any order', () => {
    const f = fragment4(v4(), 1500);
    assert.deepEqual(f.map((p) => build(p).length), [1500, 1500, 68]);
    assert.deepEqual(f.map((p) => p[0]!.type === 'ipv4' && [p[0].fragOffset, p[0].mf]), [[0, true], [185, true], [370, false]]);
    assert.equal(hex(defragment([f[2]!, f[0]!, f[1]!])), hex(v4()));
    assert.equal(fragment4(v4(), 4000).length, 1);
  });

  it('IPv4: later fragments keep only copied options', () => {
    const p = [ipv4({ src: '192.0.2.1', dst: '192.0.2.2', options: [{ kind: 'routerAlert', value: 0 }, { kind: 'option', code: 7, data: Buffer.from([4, 0, 0, 0, 0, 0, 0, 0, 0]) }] }), raw(Buffer.alloc(100))];
    const f = fragment4(p, 80);
    assert.deepEqual(f.map((x) => x[0]!.type === 'ipv4' && x[0].options.length), [3, 1, 1]); // the first keeps the padding (eol) too
    assert.equal(hex(defragment(f)), hex(p));
  });

  it('IPv6: the hop-by-hop header is repeated, the rest cut in multiples of 8', () => {
    const p = [ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), hopByHop(), udp({ sport: 1, dport: 2 }), raw(body.subarray(0, 2000))];
    const f = fragment6(p, 1280, 7);
    assert.deepEqual(f.map((x) => x.map((l) => l.type)), [['ipv6', 'hopByHop', 'fragment', 'udp', 'raw'], ['ipv6', 'hopByHop', 'fragment', 'raw']]);
    assert.deepEqual(f.map((x) => build(x).length), [1280, 56 + 2008 - 1224]);
    assert.equal(hex(defragment([f[1]!, f[0]!])), hex(p));
  });

  it('defragment refuses overlaps, gaps, a missing last fragment, and mixed datagrams', () => {
    const f = fragment4(v4(), 1500);
    assert.throws(() => defragment([f[0]!, f[2]!]), /a gap from 1480 to 2960/);
    assert.throws(() => defragment([f[0]!, f[1]!]), /no last fragment/);
    assert.throws(() => defragment([f[0]!, f[0]!, f[1]!, f[2]!]), /overlaps/);
    const other = fragment4([ipv4({ src: '192.0.2.1', dst: '198.51.100.2', id: 0x1235 }), udp({ sport: 1000, dport: 2000 }), raw(body)], 1500);
    assert.throws(() => defragment([f[0]!, other[1]!, f[2]!]), /another datagram/);
    assert.throws(() => defragment([[ipv6(), udp(), raw(Buffer.alloc(8))]]), /without a fragment header/);
  });
});

describe('the comparer on a first fragment', () => {
  it('an upper layer written without len and checksum matches a first fragment; a wrong given one does not', () => {
    const first = fragment4(v4(), 1500)[0]!;
    const expected = [ipv4({ src: '192.0.2.1', dst: '198.51.100.2', id: 0x1234, mf: true }), udp({ sport: 1000, dport: 2000 }), raw(body.subarray(0, 1472))];
    const d = diff(build(first), expected);
    assert.equal(d.length, 0, formatDiff(d));
    assert.deepEqual(diff(build(first), [expected[0]!, udp({ sport: 1000, dport: 2000, len: 1480 }), expected[2]!]).map((x) => x.field), ['len']);
    const first6 = fragment6(v6(), 1280, 9)[0]!;
    const exp6 = [ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), fragment({ id: 9, m: true }), udp({ sport: 1000, dport: 2000 }), raw(body.subarray(0, 1224))];
    assert.equal(diff(build(first6), exp6).length, 0, formatDiff(diff(build(first6), exp6)));
  });
});
