/** The virtio_net_hdr codec against bytes from the struct layout and against gcc with the uapi header; completeChecksum against the packet builder's checksum. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  build, completeChecksum, decodeVnetHdr, encodeVnetHdr, ipv4, ipv6, pseudoSum, ip4ToBytes, ip6ToBytes, raw, udp,
  VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_UDP_L4,
} from '../../../src/lib/packet/index.js';

const hdr = { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_UDP_L4, hdrLen: 0x2a, gsoSize: 0x05dc, csumStart: 0x22, csumOffset: 6 };

describe('virtio_net_hdr', () => {
  it('encodes flags, gso_type and four little-endian u16s (10 bytes)', () => {
    assert.equal(encodeVnetHdr(hdr).toString('hex'), '01052a00dc0522000600');
  });

  it('big-endian (TUNSETVNETBE) and a 12-byte header with num_buffers', () => {
    assert.equal(encodeVnetHdr(hdr, { littleEndian: false }).toString('hex'), '0105002a05dc00220006');
    assert.equal(encodeVnetHdr({ ...hdr, numBuffers: 1 }, { size: 12 }).toString('hex'), '01052a00dc05220006000100');
    assert.equal(encodeVnetHdr({}, { size: 16 }).toString('hex'), '00'.repeat(16));
  });

  it('decodes what it encodes, in both byte orders', () => {
    for (const littleEndian of [true, false]) assert.deepEqual(decodeVnetHdr(encodeVnetHdr(hdr, { littleEndian }), { littleEndian }), hdr);
    assert.deepEqual(decodeVnetHdr(Buffer.from('01052a00dc052200060007000000', 'hex'), { size: 12 }), { ...hdr, numBuffers: 7 });
  });

  it('refuses sizes below 10, short buffers and out-of-range fields', () => {
    assert.throws(() => encodeVnetHdr({}, { size: 9 }), /size 9 is below 10/);
    assert.throws(() => decodeVnetHdr(Buffer.alloc(9)), /9 bytes, the header has 10/);
    assert.throws(() => encodeVnetHdr({ gsoSize: 0x10000 }), /gsoSize 65536 out of 0\.\.65535/);
    assert.throws(() => encodeVnetHdr({ flags: 256 }), /flags 256 out of 0\.\.255/);
    assert.throws(() => encodeVnetHdr({ numBuffers: 1 }), /numBuffers does not fit a 10-byte header/);
  });

  // The installed uapi headers (Debian 12's linux-libc-dev is 6.1): the struct has not changed.
  const gccSkip = !existsSync('/usr/include/linux/virtio_net.h')
    ? 'no /usr/include/linux/virtio_net.h (linux-libc-dev)'
    : spawnSync('gcc', ['--version']).status !== 0 ? 'gcc not installed' : false;
  it('matches struct virtio_net_hdr as gcc lays it out from <linux/virtio_net.h>', { skip: gccSkip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnet-'));
    try {
      // Fields set by name: the compiler, not our table, decides the offsets; x86 is little-endian.
      writeFileSync(join(dir, 'v.c'), [
        '#include <stdio.h>', '#include <linux/virtio_net.h>',
        'int main(void) { struct virtio_net_hdr h = {0}; unsigned char *p = (unsigned char *)&h;',
        '  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM; h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4; h.hdr_len = 0x2a;',
        '  h.gso_size = 0x05dc; h.csum_start = 0x22; h.csum_offset = 16;',
        '  for (unsigned i = 0; i < sizeof h; i++) printf("%02x", p[i]); return 0; }',
      ].join('\n'));
      const cc = spawnSync('gcc', ['-o', join(dir, 'v'), join(dir, 'v.c')], { encoding: 'utf8' });
      assert.equal(cc.status, 0, cc.stderr);
      const out = spawnSync(join(dir, 'v'), { encoding: 'utf8' }).stdout;
      assert.equal(out, encodeVnetHdr({ flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, hdrLen: 0x2a, gsoSize: 0x05dc, csumStart: 0x22, csumOffset: 16 }).toString('hex'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('completeChecksum turns a pseudo-header partial checksum into the full one (IPv4 and IPv6)', () => {
    const body = raw(Buffer.from(Array.from({ length: 333 }, (_, i) => (i * 7) & 0xff)));
    for (const [ip, src, dst, off] of [
      [ipv4({ src: '192.0.2.1', dst: '198.51.100.2' }), ip4ToBytes('192.0.2.1'), ip4ToBytes('198.51.100.2'), 20],
      [ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), ip6ToBytes('2001:db8::1'), ip6ToBytes('2001:db8::2'), 40],
    ] as const) {
      const full = build([ip, udp({ sport: 1, dport: 2 }), body]);
      const partial = Buffer.from(full);
      // The kernel leaves the folded, uncomplemented pseudo-header sum (~csum_tcpudp_magic(.., 0)).
      let s = pseudoSum(src, dst, 17, 8 + 333);
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      partial.writeUInt16BE(s, off + 6);
      assert.deepEqual(completeChecksum(partial, off, 6), full);
    }
    assert.throws(() => completeChecksum(Buffer.alloc(10), 4, 6), /checksum at 10 is beyond the 10-byte frame/);
  });
});
