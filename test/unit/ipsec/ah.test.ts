// AH on the wire (src/lib/ipsec/ah.ts) against scapy's independent AH (scapy.layers.ipsec): the
// same packet sealed by both must be byte for byte equal, and ours must open scapy's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ahTransform, openAh, sealAh, setIpv4Byte } from '../../../src/lib/ipsec/index.js';
import { ipv4, ipv6, raw, udp } from '../../../src/lib/packet/index.js';
import { SCAPY_PYTHON, scapyAvailable } from '../packet/scapy-oracle.js';

const PY = `
import sys, json, warnings
warnings.filterwarnings('ignore')
from scapy.all import IP, IPv6, UDP, Raw
from scapy.layers.ipsec import SecurityAssociation, AH
out = []
for c in json.load(sys.stdin):
    sa = SecurityAssociation(AH, spi=c['spi'], auth_algo=c['algo'], auth_key=bytes.fromhex(c['key']))
    if c['v'] == 4:
        ip = IP(src='192.0.2.1', dst='192.0.2.2', tos=0x10, ttl=33, id=0x1234, flags='DF')
    else:
        ip = IPv6(src='2001:db8::1', dst='2001:db8::2', tc=0x10, fl=0x12345, hlim=33)
    p = ip.__class__(bytes(ip / UDP(sport=1000, dport=2000) / Raw(b'ah oracle payload')))
    out.append(bytes(sa.encrypt(p, seq_num=c['seq'])).hex())
print(json.dumps(out))
`;

interface Case { v: 4 | 6; algo: string; name: string; trunc: number; flags: string[]; hdrLen: number }
const CASES: Case[] = [
  // scapy pads IPv4's AH to 4 bytes: the kernel's layout with XFRM_STATE_ALIGN4.
  { v: 4, algo: 'SHA2-256-128', name: 'hmac(sha256)', trunc: 128, flags: ['align4'], hdrLen: 28 },
  { v: 4, algo: 'HMAC-SHA1-96', name: 'hmac(sha1)', trunc: 96, flags: [], hdrLen: 24 },
  { v: 6, algo: 'SHA2-256-128', name: 'hmac(sha256)', trunc: 128, flags: [], hdrLen: 32 },
  { v: 6, algo: 'HMAC-SHA1-96', name: 'hmac(sha1)', trunc: 96, flags: [], hdrLen: 24 },
];
const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const SPI = 0x1234abcd;
const SEQ = 7;

const ours = (c: Case) => {
  const t = ahTransform({ spi: SPI, dst: c.v === 4 ? '192.0.2.2' : '2001:db8::2', auth: { name: c.name, key: KEY, truncLen: c.trunc }, flags: c.flags });
  const ip = c.v === 4
    ? ipv4({ src: '192.0.2.1', dst: '192.0.2.2', tos: 0x10, ttl: 33, id: 0x1234, df: true })
    : ipv6({ src: '2001:db8::1', dst: '2001:db8::2', tc: 0x10, fl: 0x12345, hlim: 33 });
  return { t, bytes: sealAh([ip, udp({ sport: 1000, dport: 2000 }), raw('ah oracle payload')], t, { seq: SEQ }) };
};

describe('AH against scapy', { skip: scapyAvailable() ? false : 'scapy is not installed' }, () => {
  const theirs = (): string[] => JSON.parse(execFileSync(SCAPY_PYTHON, ['-c', PY], {
    input: JSON.stringify(CASES.map((c) => ({ v: c.v, algo: c.algo, key: KEY.toString('hex'), spi: SPI, seq: SEQ }))),
    encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'],
  })) as string[];
  let answers: string[] | undefined;
  for (const [i, c] of CASES.entries()) {
    it(`IPv${c.v} ${c.name} ${c.trunc}${c.flags.length ? ' align4' : ''}: the same bytes; ours opens scapy's`, () => {
      answers ??= theirs();
      const { t, bytes } = ours(c);
      assert.equal(t.hdrLen, c.hdrLen);
      assert.equal(bytes.toString('hex'), answers[i]);
      const o = openAh(Buffer.from(answers[i]!, 'hex'), t);
      assert.deepEqual([o.verified, o.nextHeader, o.hdrLenField, o.spi, o.seq, o.reserved], [true, 17, c.hdrLen / 4 - 2, SPI, SEQ, 0]);
      assert.equal(Buffer.from(o.payloadBytes.subarray(8)).toString(), 'ah oracle payload');
    });
  }
});

describe('AH ICV coverage', () => {
  const c = CASES[0]!;
  it('IPv4: tos, ttl, flags and checksum are mutable; the ID, addresses and payload are not', () => {
    const { t, bytes } = ours(c);
    assert.ok(openAh(setIpv4Byte(bytes, 1, 0xfc), t).verified, 'tos');
    assert.ok(openAh(setIpv4Byte(bytes, 8, 1), t).verified, 'ttl');
    assert.ok(openAh(setIpv4Byte(bytes, 6, 0), t).verified, 'flags');
    assert.ok(!openAh(setIpv4Byte(bytes, 5, 0x35), t).verified, 'id');
    assert.ok(!openAh(setIpv4Byte(bytes, 15, 3), t).verified, 'source');
    const p = Buffer.from(bytes);
    p[p.length - 1]! ^= 1;
    assert.ok(!openAh(p, t).verified, 'payload');
  });
  it('IPv6: traffic class, flow label and hop limit are mutable; the source address is not', () => {
    const { t, bytes } = ours(CASES[2]!);
    const m = Buffer.from(bytes);
    m[0] = 0x6f; m[1] = 0xff; m[3] = 0; m[7] = 1;
    assert.ok(openAh(m, t).verified);
    const s = Buffer.from(bytes);
    s[23] = s[23]! ^ 1;
    assert.ok(!openAh(s, t).verified, 'source');
  });
  it('refuses a truncation longer than the digest, and an SA without auth', () => {
    assert.throws(() => ahTransform({ spi: 1, dst: '192.0.2.2', auth: { name: 'hmac(sha256)', key: KEY, truncLen: 264 } }), /at most 256/);
    assert.throws(() => ahTransform({ spi: 1, dst: '192.0.2.2' }), /needs an auth algorithm/);
  });
});
