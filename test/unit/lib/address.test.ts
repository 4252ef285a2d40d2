import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressError, bytesToIp, bytesToIp6, canonicalIp, canonicalIpv6, canonicalMac, eui64, eui64Address, formatMac, ip4ToBytes, ip6ToBytes, ipFamily,
  ipToBytes, ipVersion, linkLocalAddress, multicastMac, parseLinkAddress, parseMac, parsePrefix, readIpv4, readIpv6, readMac, solicitedNode,
  writeIpv4, writeIpv6, writeMac,
} from '../../../src/lib/addr.js';
import { K } from '../../../src/lib/sys/index.js';
import { parseInetAddress } from '../../../src/lib/socket/address.js';
import { decodeSockAddr, encodeSockAddr, formatSockAddr, type SockAddr } from '../../../src/lib/socket/sockaddr.js';

describe('IP text and bytes', () => {
  it('parses IPv4 and rejects junk', () => {
    assert.equal(ip4ToBytes('192.0.2.1').toString('hex'), 'c0000201');
    for (const bad of ['192.0.2', '192.0.2.256', '1.2.3.4.5', 'a.b.c.d', '']) assert.throws(() => ip4ToBytes(bad));
  });

  it('parses IPv6 forms', () => {
    assert.equal(ip6ToBytes('2001:db8::1').toString('hex'), '20010db8000000000000000000000001');
    assert.equal(ip6ToBytes('::').toString('hex'), '0'.repeat(32));
    assert.equal(ip6ToBytes('::1').toString('hex'), '0'.repeat(31) + '1');
    assert.equal(ip6ToBytes('fe80::').toString('hex'), 'fe80' + '0'.repeat(28));
    assert.equal(ip6ToBytes('::ffff:192.0.2.1').toString('hex'), '00000000000000000000ffffc0000201');
    assert.equal(ip6ToBytes('1:2:3:4:5:6:7:8').toString('hex'), '00010002000300040005000600070008');
    assert.equal(ip6ToBytes('64:ff9b::198.51.100.7').toString('hex'), '0064ff9b0000000000000000c6336407');
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1:2:3:4:5:6:7::8', ':::']) {
      assert.throws(() => ip6ToBytes(bad), AddressError, bad);
    }
  });

  it('formats IPv6 per RFC 5952', () => {
    const f = (s: string): string => bytesToIp6(ip6ToBytes(s));
    assert.equal(f('2001:0DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(f('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // a single 0 is not compressed
    assert.equal(f('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1'); // the longest run
    assert.equal(f('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1'); // the first of equal runs
    assert.equal(f('::'), '::');
    assert.equal(f('::ffff:c000:201'), '::ffff:192.0.2.1');
    assert.equal(canonicalIp('2001:DB8::0:1'), '2001:db8::1');
  });
});

describe('parseInetAddress', () => {
  it('IPv4 text with and without port', () => {
    assert.deepEqual(parseInetAddress('192.0.2.1', 'inet'), { family: 'inet', address: '192.0.2.1', port: 0 });
    assert.deepEqual(parseInetAddress('192.0.2.1:53', 'inet'), { family: 'inet', address: '192.0.2.1', port: 53 });
    assert.throws(() => parseInetAddress('2001:db8::1', 'inet'), AddressError);
    assert.throws(() => parseInetAddress('192.0.2.1:70000', 'inet'), RangeError);
  });

  it('IPv6 text, brackets, numeric scope', () => {
    const a = parseInetAddress('[2001:db8::1]:53', 'inet6');
    assert.deepEqual(a, { family: 'inet6', address: '2001:db8::1', port: 53, flowinfo: 0, scopeId: 0 });
    assert.equal(parseInetAddress('2001:db8::1', 'inet6').port, 0);
    assert.equal(parseInetAddress('[fe80::1%7]:53', 'inet6').scopeId, 7);
    assert.equal(parseInetAddress('fe80::1%3', 'inet6').scopeId, 3);
    assert.equal(parseInetAddress({ address: 'fe80::1', port: 9, scopeId: 4 }, 'inet6').scopeId, 4);
  });

  it('maps IPv4 for inet6 sockets', () => {
    assert.equal(parseInetAddress('192.0.2.1:53', 'inet6').address, '::ffff:192.0.2.1');
    assert.equal(parseInetAddress({ address: '192.0.2.1', port: 1 }, 'inet6').address, '::ffff:192.0.2.1');
  });

  it('object port overrides a port in the text', () => {
    assert.equal(parseInetAddress({ address: '192.0.2.1', port: 80 }, 'inet').port, 80);
  });
});

describe('sockaddr encoding', () => {
  const cases: SockAddr[] = [
    { family: 'inet', address: '198.51.100.7', port: 8080 },
    { family: 'inet6', address: 'fe80::1', port: 53, flowinfo: 0x12345, scopeId: 3 },
    { family: 'inet6', address: '::ffff:203.0.113.9', port: 1, flowinfo: 0, scopeId: 0 },
    { family: 'netlink', pid: 1234, groups: 0x11 },
    { family: 'packet', protocol: 0x86dd, ifindex: 2, hatype: 1, pkttype: 0, addr: parseMac('02:00:00:00:00:01') },
    { family: 'unspec' },
  ];
  for (const c of cases) {
    it(`round-trips ${formatSockAddr(c)}`, () => {
      assert.deepEqual(decodeSockAddr(encodeSockAddr(c)), c);
    });
  }

  it('writes ports and addresses in network order', () => {
    const b = encodeSockAddr({ family: 'inet', address: '192.0.2.1', port: 0x1234 });
    assert.equal(b.toString('hex'), '0200' + '1234' + 'c0000201' + '0'.repeat(16));
    const nl = encodeSockAddr({ family: 'netlink', pid: 1, groups: 2 });
    assert.equal(nl.toString('hex'), '1000' + '0000' + '01000000' + '02000000');
  });

  it('decodes short and empty buffers sensibly', () => {
    assert.equal(decodeSockAddr(Buffer.alloc(0)), null);
    // The kernel may return fewer bytes than the struct (e.g. sockaddr_ll with halen 0).
    const ll = encodeSockAddr({ family: 'packet', protocol: 3, ifindex: 1, hatype: 772, pkttype: 0, addr: Buffer.alloc(0) });
    assert.equal(decodeSockAddr(ll.subarray(0, 12))?.family, 'packet');
    assert.throws(() => decodeSockAddr(Buffer.from([99, 0])), RangeError);
  });

  it('formats', () => {
    assert.equal(formatSockAddr({ family: 'inet6', address: 'fe80::1', port: 53, flowinfo: 0, scopeId: 2 }), '[fe80::1%2]:53');
    assert.equal(formatMac(parseMac('2:0:0:a:B:ff')), '02:00:00:0a:0b:ff');
    assert.throws(() => parseMac('02:00:00:00:00'), AddressError);
  });
});

describe('addr.ts: one codec for every layer', () => {
  it('rejects bad text with AddressError, naming the input', () => {
    for (const [fn, bad] of [[ip4ToBytes, '192.0.2.01'], [ip4ToBytes, '1.2.3.4 '], [ip6ToBytes, '2001:db8::1::2'], [parseMac, '02-00-00-00-00']] as const) {
      assert.throws(() => fn(bad), (e: unknown) => e instanceof AddressError && e instanceof RangeError && e.input === bad && e.message.includes(`'${bad}'`));
    }
    assert.throws(() => parsePrefix('192.0.2.0/33'), AddressError);
    assert.throws(() => parsePrefix('2001:db8::/129'), AddressError);
    assert.throws(() => ipVersion('example.org'), AddressError);
  });

  it('reads and writes in place for the packet codec', () => {
    const b = Buffer.alloc(26);
    writeIpv4('198.51.100.7', b, 0);
    writeIpv6('2001:db8::7', b, 4);
    writeMac('02:00:00:00:00:07', b, 20);
    assert.deepEqual([readIpv4(b, 0), readIpv6(b, 4), readMac(b, 20)], ['198.51.100.7', '2001:db8::7', '02:00:00:00:00:07']);
  });

  it('either family, prefixes, link-layer addresses of any length', () => {
    assert.equal(ipToBytes('192.0.2.1').length, 4);
    assert.equal(bytesToIp(ipToBytes('2001:db8::1')), '2001:db8::1');
    assert.equal(bytesToIp(Buffer.from('c0000201000000000000000000000000', 'hex'), K.AF_INET), '192.0.2.1', 'IPv4 in a 16-byte field');
    assert.equal(ipFamily('2001:db8::/64'), K.AF_INET6);
    assert.deepEqual(parsePrefix('198.51.100.0/24').len, 24);
    assert.equal(parsePrefix('2001:db8::1').len, 128);
    assert.equal(formatMac(parseLinkAddress('c0:00:02:01')), 'c0:00:02:01');
    assert.equal(canonicalMac('2:0:0:A:b:FF'), '02:00:00:0a:0b:ff');
    assert.equal(canonicalIpv6('::ffff:c000:201'), '::ffff:192.0.2.1');
  });

  it('derives IPv6 addresses from a MAC (EUI-64) and multicast groups from an address', () => {
    assert.equal(eui64('02:00:00:00:01:01').toString('hex'), '000000fffe000101');
    assert.equal(linkLocalAddress('02:00:00:00:01:01'), 'fe80::ff:fe00:101');
    assert.equal(eui64Address('2001:db8:1::/64', '02:00:00:00:01:01'), '2001:db8:1::ff:fe00:101');
    assert.equal(solicitedNode('2001:db8:1::ab:cdef'), 'ff02::1:ffab:cdef');
    assert.equal(solicitedNode('fe80::1'), 'ff02::1:ff00:1');
    assert.equal(multicastMac('ff02::1:ffab:cdef'), '33:33:ff:ab:cd:ef');
    assert.equal(multicastMac('224.129.2.3'), '01:00:5e:01:02:03', 'the low 23 bits');
  });
});
