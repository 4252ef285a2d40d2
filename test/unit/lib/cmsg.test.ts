import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCmsgs, encodeCmsgs, findCmsg, splitCmsgs } from '../../../src/lib/socket/cmsg.js';
import { K } from '../../../src/lib/sys/index.js';
import { sock_extended_err, sockaddr_in, sockaddr_in6, cmsghdr, ip6_mtuinfo } from '../../../src/lib/uapi.js';
import { ip4ToBytes, ip6ToBytes } from '../../../src/lib/addr.js';

const hasGcc = spawnSync('gcc', ['--version']).status === 0;

/** Control bytes built by glibc's CMSG_* macros, for comparison. */
function cBuilt(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-cmsg-'));
  try {
    const src = `
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
int main(void) {
  union { char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
  memset(&u, 0, sizeof(u));
  struct msghdr m = { .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_IP; c->cmsg_type = IP_TTL; c->cmsg_len = CMSG_LEN(sizeof(int));
  int ttl = 7; memcpy(CMSG_DATA(c), &ttl, sizeof(ttl));
  c = CMSG_NXTHDR(&m, c);
  c->cmsg_level = SOL_IP; c->cmsg_type = IP_PKTINFO; c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
  struct in_pktinfo pi = { .ipi_ifindex = 3 }; inet_pton(AF_INET, "192.0.2.1", &pi.ipi_spec_dst);
  memcpy(CMSG_DATA(c), &pi, sizeof(pi));
  c = CMSG_NXTHDR(&m, c);
  c->cmsg_level = SOL_IPV6; c->cmsg_type = IPV6_TCLASS; c->cmsg_len = CMSG_LEN(sizeof(int));
  int tc = 0xb8; memcpy(CMSG_DATA(c), &tc, sizeof(tc));
  for (size_t i = 0; i < sizeof(u.buf); i++) printf("%02x", (unsigned char)u.buf[i]);
  return 0;
}`;
    writeFileSync(join(dir, 'c.c'), src);
    const cc = spawnSync('gcc', ['-o', join(dir, 'c'), join(dir, 'c.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    return Buffer.from(spawnSync(join(dir, 'c'), [], { encoding: 'utf8' }).stdout, 'hex');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('cmsg encoding', () => {
  it('matches glibc CMSG_* macros byte for byte', { skip: hasGcc ? false : 'gcc not installed' }, () => {
    const ours = encodeCmsgs([
      { kind: 'ttl', value: 7 },
      { kind: 'pktinfo', ifindex: 3, specDst: '192.0.2.1' },
      { kind: 'tclass', value: 0xb8 },
    ]);
    assert.equal(ours.toString('hex'), cBuilt().toString('hex'));
  });

  it('aligns each message to 8 bytes (CMSG_SPACE)', () => {
    const b = encodeCmsgs([{ kind: 'raw', level: 1, type: 2, data: Buffer.from([1, 2, 3]) }, { kind: 'hoplimit', value: 1 }]);
    assert.equal(b.length, 24 + 24);
    assert.equal(Number(cmsghdr.unpack(b).len), 16 + 3);
  });

  it('round-trips through split and decode', () => {
    const b = encodeCmsgs([
      { kind: 'pktinfo6', ifindex: 2, addr: '2001:db8::1' },
      { kind: 'hoplimit', value: 64 },
      { kind: 'ttl', value: 9 },
    ]);
    const msgs = decodeCmsgs(b);
    assert.deepEqual(msgs, [
      { kind: 'pktinfo6', ifindex: 2, addr: '2001:db8::1' },
      { kind: 'hoplimit', value: 64 },
      { kind: 'ttl', value: 9 },
    ]);
    assert.equal(findCmsg(msgs, 'hoplimit')?.value, 64);
    assert.equal(findCmsg(msgs, 'tclass'), undefined);
    assert.equal(splitCmsgs(b).length, 3);
  });

  it('decodes IP_TOS as the single byte the kernel sends', () => {
    const raw = Buffer.alloc(24);
    cmsghdr.packInto(raw, 0, { len: 17, level: K.SOL_IP, type: K.IP_TOS });
    raw[16] = 0x10;
    assert.deepEqual(decodeCmsgs(raw), [{ kind: 'tos', value: 0x10 }]);
  });

  it('decodes IPV6_RECVERR with its offender', () => {
    const ee = sock_extended_err.pack({ errno: 113, origin: K.SO_EE_ORIGIN_ICMP6, type: 1, code: 3, info: 0 });
    const off = sockaddr_in6.pack({ family: K.AF_INET6, addr: ip6ToBytes('2001:db8::fe') });
    const b = encodeCmsgs([{ kind: 'raw', level: K.SOL_IPV6, type: K.IPV6_RECVERR, data: Buffer.concat([ee, off]) }]);
    const e = findCmsg(decodeCmsgs(b), 'recverr');
    assert.ok(e);
    assert.equal(e.code, 'EHOSTUNREACH');
    assert.equal(e.origin, K.SO_EE_ORIGIN_ICMP6);
    assert.deepEqual([e.icmpType, e.icmpCode], [1, 3]);
    assert.deepEqual(e.offender, { family: 'inet6', address: '2001:db8::fe', port: 0, flowinfo: 0, scopeId: 0 });
  });

  it('recverr without an offender (AF_UNSPEC) gives null', () => {
    const ee = sock_extended_err.pack({ errno: 90, origin: K.SO_EE_ORIGIN_LOCAL });
    const b = encodeCmsgs([{ kind: 'raw', level: K.SOL_IP, type: K.IP_RECVERR, data: Buffer.concat([ee, Buffer.alloc(16)]) }]);
    const e = findCmsg(decodeCmsgs(b), 'recverr');
    assert.equal(e?.code, 'EMSGSIZE');
    assert.equal(e?.offender, null);
  });

  it('decodes IP_ORIGDSTADDR and IPV6_ORIGDSTADDR (a sockaddr_in / sockaddr_in6, include/uapi/linux/in.h, in6.h)', () => {
    const v4 = sockaddr_in.pack({ family: K.AF_INET, port: 5000, addr: ip4ToBytes('192.0.2.9') });
    const v6 = sockaddr_in6.pack({ family: K.AF_INET6, port: 5001, addr: ip6ToBytes('2001:db8::9') });
    const b = encodeCmsgs([
      { kind: 'raw', level: K.SOL_IP, type: K.IP_ORIGDSTADDR, data: v4 },
      { kind: 'raw', level: K.SOL_IPV6, type: K.IPV6_ORIGDSTADDR, data: v6 },
    ]);
    assert.deepEqual(decodeCmsgs(b), [
      { kind: 'origdst', address: { family: 'inet', address: '192.0.2.9', port: 5000 } },
      { kind: 'origdst', address: { family: 'inet6', address: '2001:db8::9', port: 5001, flowinfo: 0, scopeId: 0 } },
    ]);
  });

  it('decodes IPV6_PATHMTU (struct ip6_mtuinfo, include/uapi/linux/ipv6.h: sockaddr_in6 then u32 mtu)', () => {
    assert.equal(ip6_mtuinfo.size, 32);
    const d = ip6_mtuinfo.pack({ addr: { family: K.AF_INET6, port: 9, addr: ip6ToBytes('2001:db8:ff::1') }, mtu: 1280 });
    assert.equal(d.readUInt32LE(28), 1280);
    const b = encodeCmsgs([{ kind: 'raw', level: K.SOL_IPV6, type: K.IPV6_PATHMTU, data: d }]);
    assert.deepEqual(decodeCmsgs(b), [{ kind: 'pathmtu', address: { family: 'inet6', address: '2001:db8:ff::1', port: 9, flowinfo: 0, scopeId: 0 }, mtu: 1280 }]);
  });

  it('stops at a truncated header instead of reading past the buffer', () => {
    const b = encodeCmsgs([{ kind: 'ttl', value: 1 }]);
    assert.equal(splitCmsgs(b.subarray(0, 18)).length, 0);
    assert.equal(splitCmsgs(Buffer.concat([b, Buffer.alloc(8)])).length, 1);
  });
});
