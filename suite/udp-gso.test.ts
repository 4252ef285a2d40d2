// UDP segmentation offload (UDP_SEGMENT), UDP GRO (UDP_GRO) and checksum offload, seen from a tap
// with a virtio_net_hdr. Facts from Linux 6.1:
// - udp_send_skb (net/ipv4/udp.c; udp_v6_send_skb alike): with a gso_size, headers plus
//   min(payload, gso_size) above the path MTU is EMSGSIZE; a payload above gso_size *
//   UDP_MAX_SEGMENTS (128 in 6.1, include/linux/udp.h) is EINVAL; so is sk_no_check_tx; a route
//   whose device cannot checksum (ip_summed not CHECKSUM_PARTIAL) is EIO. A payload up to gso_size
//   is one plain datagram.
// - A tap has NETIF_F_HW_CSUM only after TUNSETOFFLOAD with TUN_F_CSUM (tun_net_fix_features), and
//   never NETIF_F_GSO_UDP_L4: 6.1 has no TUN_F_USO4/6 nor VIRTIO_NET_HDR_GSO_UDP_L4 (both 6.2), so
//   the stack segments in software (__udp_gso_segment) and the tap reads segments, each with
//   NEEDS_CSUM (csum_start at the UDP header, csum_offset 6) and the pseudo-header sum in the
//   checksum field; IPv4 ids count up from the first segment (inet_gso_segment).
// - set_offload (drivers/net/tun.c) refuses any flag it does not know and TSO/UFO flags without
//   TUN_F_CSUM; virtio_net_hdr_to_skb (include/linux/virtio_net.h) refuses gso_type 5.
// - On input, tun honours NEEDS_CSUM (skb_partial_csum_set: the checksum is then not verified)
//   and ignores DATA_VALID: a wrong checksum without NEEDS_CSUM is dropped and counted.
// - UDP GRO (udp4/6_gro_receive) coalesces same-size segments of one flow for a socket with
//   UDP_GRO, through NAPI (IFF_NAPI); recvmsg gives one payload and a UDP_GRO cmsg with gso_size.
//   A train ends at UDP_GRO_CNT_MAX (64) segments, and a segment without a checksum is never held.
import { describe } from 'node:test';
import { writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { isNoise } from '../src/lib/expect.js';
import { udpSocket, type Socket } from '../src/lib/socket.js';
import { K, errnoIs } from '../src/lib/sys/index.js';
import { clockTicks } from '../src/lib/sys/calls.js';
import { counterDelta, ipCounters } from '../src/lib/counters.js';
import { TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_UFO } from '../src/lib/include/uapi/linux/if_tun.js';
import {
  build, completeChecksum, diff, ether, formatDiff, ip4ToBytes, ip6ToBytes, ipv4, ipv6, parse, pseudoSum, raw, udp,
  VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_UDP_L4,
  type Layer, type VirtioNetHdr,
} from '../src/lib/packet/index.js';

// The file's own namespace (freshNetns false): the agent's /sys then shows net1 (gro_flush_timeout).
const nets = useNetworks({ count: 1, freshNetns: false, tap: { vnetHdr: true, napi: true } });

const SPORT = 5300;
const DPORT = 6300;
/** include/linux/udp.h, 6.1 (64 before 5.x). */
const UDP_MAX_SEGMENTS = 128;
const DEV_MTU = 1500;

type V = 4 | 6;
const IPH = { 4: 20, 6: 40 } as const;

function payload(size: number, seed = 0): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + seed + 7) & 0xff));
}

function remote(v: V): string {
  return v === 4 ? REMOTE4 : REMOTE6;
}

function local(n: Network, v: V): string {
  return v === 4 ? n.addr4 : n.addr6;
}

/** A socket bound to SPORT, connected to the remote through net1. */
function sock(n: Network, v: V): Socket<'inet' | 'inet6'> {
  const s = udpSocket(v);
  s.setMark(n.mark);
  s.bind({ address: local(n, v), port: SPORT });
  s.connect({ address: remote(v), port: DPORT });
  return s;
}

function u16cmsg(value: number, bytes = 2): { kind: 'raw'; level: number; type: number; data: Buffer } {
  const data = Buffer.alloc(bytes);
  data.writeUIntLE(value, 0, bytes);
  return { kind: 'raw', level: K.SOL_UDP, type: K.UDP_SEGMENT, data };
}

interface Read { hdr: VirtioNetHdr; frame: Buffer }

/** The next non-noise frame with its virtio_net_hdr, or null. */
function readVnet(n: Network, timeoutMs = 1000): Read | null {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = n.tap.readVnet({ timeoutMs: Math.max(0, deadline - Date.now()) });
    if (r === null) return null;
    n.captured.push({ dir: 'out', data: Buffer.from(r.frame), timeUs: Date.now() * 1000 });
    if (!isNoise(parse(r.frame, 'ether'))) return r;
  }
}

function noneVnet(n: Network): void {
  const r = readVnet(n, 100);
  assert.equal(r, null, r ? `expected nothing on the wire, got ${r.frame.length} bytes` : '');
}

/** The folded, uncomplemented pseudo-header sum the kernel leaves for NEEDS_CSUM. */
function partialSum(v: V, src: string, dst: string, udpLen: number): number {
  let s = v === 4 ? pseudoSum(ip4ToBytes(src), ip4ToBytes(dst), 17, udpLen) : pseudoSum(ip6ToBytes(src), ip6ToBytes(dst), 17, udpLen);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The datagram as it must be on the wire, from IP. */
function datagram(n: Network, v: V, data: Buffer, id: number, df = true): Layer[] {
  const ip = v === 4 ? ipv4({ src: n.addr4, dst: REMOTE4, ttl: 64, df, id }) : ipv6({ src: n.addr6, dst: REMOTE6, hlim: 64 });
  return [ip, udp({ sport: SPORT, dport: DPORT }), raw(data)];
}

/**
 * Read the segments of `data` cut at `size`: each one exactly as expected once its checksum is
 * completed, its virtio_net_hdr NEEDS_CSUM at the UDP header, its checksum field the
 * pseudo-header sum. IPv4: PMTUDISC_WANT sets DF only when the whole datagram fits the MTU
 * (__ip_make_skb looks at the GSO skb, not its segments), and the segments' ids count up from the
 * first (inet_gso_segment).
 */
function expectSegments(n: Network, v: V, data: Buffer, size: number): number {
  let first = -1;
  const count = Math.max(1, Math.ceil(data.length / size));
  for (let i = 0; i < count; i++) {
    const r = readVnet(n);
    assert.ok(r, `segment ${i + 1} of ${count} did not arrive`);
    const start = 14 + IPH[v];
    assert.deepEqual(r.hdr, { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_NONE, hdrLen: 0, gsoSize: 0, csumStart: start, csumOffset: 6 }, `segment ${i + 1}: virtio_net_hdr`);
    const chunk = data.subarray(i * size, (i + 1) * size);
    assert.equal(r.frame.readUInt16BE(start + 6), partialSum(v, local(n, v), remote(v), 8 + chunk.length), `segment ${i + 1}: the checksum field holds the pseudo-header sum`);
    if (v === 4 && i === 0) first = r.frame.readUInt16BE(14 + 4);
    const got = completeChecksum(r.frame, start, 6).subarray(14);
    const want = datagram(n, v, chunk, v === 4 ? (first + i) & 0xffff : 0, IPH[v] + 8 + data.length <= DEV_MTU);
    const d = diff(got, want);
    assert.equal(d.length, 0, `segment ${i + 1} of ${count} differs in:\n${formatDiff(d)}`);
  }
  return first;
}

const offloads = (n: Network, flags: number): void => n.tap.setOffload(flags);

for (const v of [4, 6] as const) {
  const maxGso = DEV_MTU - IPH[v] - 8;
  describe(`IPv${v}: UDP_SEGMENT on the wire (tap with TUN_F_CSUM)`, () => {
    nets.it('by setsockopt: 3500 bytes at gso_size 1000 leave as 1000, 1000, 1000 and 500 (IPv4: no DF, ids consecutive), then 2000 as two', () => {
      const n = nets.net(1);
      offloads(n, TUN_F_CSUM);
      const s = sock(n, v);
      try {
        s.setOption(K.SOL_UDP, K.UDP_SEGMENT, 1000);
        assert.equal(s.getIntOption(K.SOL_UDP, K.UDP_SEGMENT), 1000);
        const data = payload(3500);
        assert.equal(s.send(data), 3500);
        expectSegments(n, v, data, 1000);
        noneVnet(n);
        s.send(payload(2000, 1));
        expectSegments(n, v, payload(2000, 1), 1000);
      } finally {
        s.close();
      }
    });

    nets.it('by cmsg: UDP_SEGMENT 1000 in sendmsg overrides the socket\'s 500; a 4-byte cmsg is EINVAL', () => {
      const n = nets.net(1);
      offloads(n, TUN_F_CSUM);
      const s = sock(n, v);
      try {
        s.setOption(K.SOL_UDP, K.UDP_SEGMENT, 500);
        const data = payload(2001);
        assert.equal(s.sendMsg({ data, control: [u16cmsg(1000)] }), 2001);
        expectSegments(n, v, data, 1000);
        assert.throws(() => s.sendMsg({ data, control: [u16cmsg(1000, 4)] }), errnoIs('EINVAL'));
        noneVnet(n);
        // Without the cmsg the socket's 500 applies.
        s.send(data.subarray(0, 1200));
        expectSegments(n, v, data.subarray(0, 1200), 500);
      } finally {
        s.close();
      }
    });

    nets.it(`segments: ${UDP_MAX_SEGMENTS - 1} and ${UDP_MAX_SEGMENTS} (the last 1 byte, then full) leave; one byte more than ${UDP_MAX_SEGMENTS} full ones is EINVAL`, () => {
      const n = nets.net(1);
      offloads(n, TUN_F_CSUM);
      const s = sock(n, v);
      try {
        s.setOption(K.SOL_UDP, K.UDP_SEGMENT, 100);
        for (const len of [(UDP_MAX_SEGMENTS - 1) * 100, (UDP_MAX_SEGMENTS - 1) * 100 + 1, UDP_MAX_SEGMENTS * 100]) {
          const data = payload(len, len);
          assert.equal(s.send(data), len);
          expectSegments(n, v, data, 100);
        }
        assert.throws(() => s.send(payload(UDP_MAX_SEGMENTS * 100 + 1)), errnoIs('EINVAL'));
        noneVnet(n);
      } finally {
        s.close();
      }
    });

    nets.it(`gso_size against the MTU: ${maxGso} segments, ${maxGso + 1} is EMSGSIZE unless the payload fits one segment`, () => {
      const n = nets.net(1);
      offloads(n, TUN_F_CSUM);
      const s = sock(n, v);
      try {
        s.setOption(K.SOL_UDP, K.UDP_SEGMENT, maxGso);
        const two = payload(2 * maxGso);
        s.send(two);
        expectSegments(n, v, two, maxGso);
        s.setOption(K.SOL_UDP, K.UDP_SEGMENT, maxGso + 1);
        assert.throws(() => s.send(payload(2 * maxGso)), errnoIs('EMSGSIZE'));
        assert.throws(() => s.send(payload(maxGso + 1)), errnoIs('EMSGSIZE'));
        noneVnet(n);
        // Up to gso_size the datagram is not GSO: headers + payload within the MTU is what counts.
        const one = payload(maxGso);
        assert.equal(s.send(one), maxGso);
        expectSegments(n, v, one, maxGso + 1);
        s.setOption(K.SOL_UDP, K.UDP_SEGMENT, 60000);
        s.send(payload(1000, 3));
        expectSegments(n, v, payload(1000, 3), 60000);
      } finally {
        s.close();
      }
    });

    nets.it('a tap without TUN_F_CSUM cannot checksum: UDP_SEGMENT is EIO, a plain datagram leaves checksummed (flags 0)', () => {
      const n = nets.net(1);
      offloads(n, 0);
      const s = sock(n, v);
      try {
        s.setOption(K.SOL_UDP, K.UDP_SEGMENT, 1000);
        assert.throws(() => s.send(payload(3000)), errnoIs('EIO'));
        assert.throws(() => s.send(payload(500)), errnoIs('EIO'));
        noneVnet(n);
        s.setOption(K.SOL_UDP, K.UDP_SEGMENT, 0);
        const data = payload(500);
        s.send(data);
        const r = readVnet(n);
        assert.ok(r);
        assert.deepEqual(r.hdr, { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 });
        const d = diff(r.frame.subarray(14), datagram(n, v, data, r.frame.readUInt16BE(18)));
        assert.equal(d.length, 0, formatDiff(d));
      } finally {
        s.close();
        offloads(n, TUN_F_CSUM);
      }
    });
  });
}

describe('UDP_SEGMENT refusals', () => {
  nets.it('setsockopt UDP_SEGMENT 65535 is taken, 65536 and -1 are EINVAL', () => {
    const s = udpSocket(4);
    try {
      s.setOption(K.SOL_UDP, K.UDP_SEGMENT, 65535);
      assert.equal(s.getIntOption(K.SOL_UDP, K.UDP_SEGMENT), 65535);
      assert.throws(() => s.setOption(K.SOL_UDP, K.UDP_SEGMENT, 65536), errnoIs('EINVAL'));
      assert.throws(() => s.setOption(K.SOL_UDP, K.UDP_SEGMENT, -1), errnoIs('EINVAL'));
      assert.equal(s.getIntOption(K.SOL_UDP, K.UDP_SEGMENT), 65535);
    } finally {
      s.close();
    }
  });

  for (const v of [4, 6] as const) {
    const opt = v === 4 ? { name: 'SO_NO_CHECK', level: K.SOL_SOCKET, opt: K.SO_NO_CHECK } : { name: 'UDP_NO_CHECK6_TX', level: K.SOL_UDP, opt: K.UDP_NO_CHECK6_TX };
    nets.it(`IPv${v}: ${opt.name} with UDP_SEGMENT is EINVAL; alone, a datagram leaves with checksum 0 and no NEEDS_CSUM; off again, in checksummed segments`, () => {
      const n = nets.net(1);
      offloads(n, TUN_F_CSUM);
      const s = sock(n, v);
      try {
        s.setOption(K.SOL_UDP, K.UDP_SEGMENT, 1000);
        s.setOption(opt.level, opt.opt, 1);
        assert.throws(() => s.send(payload(1500)), errnoIs('EINVAL'));
        assert.throws(() => s.send(payload(500)), errnoIs('EINVAL'));
        noneVnet(n);
        s.setOption(K.SOL_UDP, K.UDP_SEGMENT, 0);
        s.send(payload(500));
        const r = readVnet(n);
        assert.ok(r);
        assert.deepEqual(r.hdr, { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 });
        const d = diff(r.frame.subarray(14), [datagram(n, v, payload(500), v === 4 ? r.frame.readUInt16BE(18) : 0)[0]!, udp({ sport: SPORT, dport: DPORT, checksum: 0 }), raw(payload(500))]);
        assert.equal(d.length, 0, formatDiff(d));
        s.setOption(opt.level, opt.opt, 0);
        s.setOption(K.SOL_UDP, K.UDP_SEGMENT, 1000);
        s.send(payload(1500));
        expectSegments(n, v, payload(1500), 1000);
      } finally {
        s.close();
      }
    });
  }
});

describe('TUNSETOFFLOAD and the virtio_net_hdr on input', () => {
  nets.it('set_offload: CSUM alone, with TSO4/TSO6/ECN/UFO, and 0 are taken; TSO/UFO without CSUM, and 6.2\'s USO4 (0x20), are EINVAL', () => {
    const n = nets.net(1);
    try {
      for (const ok of [0, TUN_F_CSUM, TUN_F_CSUM | TUN_F_TSO4, TUN_F_CSUM | TUN_F_TSO6 | TUN_F_TSO_ECN, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO]) n.tap.setOffload(ok);
      // TSO_ECN needs TSO4 or TSO6; every flag needs CSUM.
      for (const bad of [TUN_F_TSO4, TUN_F_UFO, TUN_F_CSUM | TUN_F_TSO_ECN, 0x20, TUN_F_CSUM | 0x20, TUN_F_CSUM | 0x40]) {
        assert.throws(() => n.tap.setOffload(bad), errnoIs('EINVAL'), `flags 0x${bad.toString(16)}`);
      }
    } finally {
      n.tap.setOffload(TUN_F_CSUM);
    }
  });

  for (const v of [4, 6] as const) {
    const frameOf = (n: Network, data: Buffer, checksum?: number): Buffer => {
      const ip = v === 4 ? ipv4({ src: REMOTE4, dst: n.addr4, ttl: 64 }) : ipv6({ src: REMOTE6, dst: n.addr6, hlim: 64 });
      return build([ether({ src: n.router.mac, dst: n.mac }), ip, udp({ sport: DPORT, dport: SPORT, ...(checksum === undefined ? {} : { checksum }) }), raw(data)]);
    };
    const listener = (n: Network): Socket<'inet' | 'inet6'> => {
      const s = udpSocket(v);
      s.bind({ address: local(n, v), port: SPORT });
      return s;
    };
    const csumCounters = v === 4 ? ['Udp.InCsumErrors', 'Udp.InErrors', 'Udp.InDatagrams'] : ['Udp6InCsumErrors', 'Udp6InErrors', 'Udp6InDatagrams'];

    nets.it(`IPv${v}: NEEDS_CSUM with the pseudo-header sum only is accepted; the same bytes without it are a checksum error, DATA_VALID does not help`, () => {
      const n = nets.net(1);
      const s = listener(n);
      try {
        const data = payload(300, v);
        const good = frameOf(n, data);
        const start = 14 + IPH[v];
        const partial = Buffer.from(good);
        partial.writeUInt16BE(partialSum(v, remote(v), local(n, v), 308), start + 6);
        const before = ipCounters();
        n.tap.writeVnet({ flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: start, csumOffset: 6 }, partial);
        assert.deepEqual(s.recv({ timeoutMs: 1000 }), data);
        assert.deepEqual(Object.values(counterDelta(before, ipCounters(), csumCounters)), [0, 0, 1]);
        const mid = ipCounters();
        n.tap.writeVnet({}, partial);
        n.tap.writeVnet({ flags: VIRTIO_NET_HDR_F_DATA_VALID }, partial);
        // recvmsg finds the bad checksums (csum_copy_err) and counts them in the socket's family's
        // MIB. No poll before it: udp_poll's first_packet_length would drop them first and, in
        // 6.1, count them in the IPv4 Udp MIB whatever the family.
        assert.throws(() => s.recv({ flags: K.MSG_DONTWAIT }), errnoIs('EAGAIN'));
        const after = ipCounters();
        assert.deepEqual(Object.values(counterDelta(mid, after, csumCounters)), [2, 2, 0], JSON.stringify(Object.fromEntries(Object.entries(after).filter(([k, x]) => x !== mid[k]).map(([k, x]) => [k, x - (mid[k] ?? 0)]))));
        // The full checksum without any flag is of course fine.
        n.tap.writeVnet({}, good);
        assert.deepEqual(s.recv({ timeoutMs: 1000 }), data);
      } finally {
        s.close();
      }
    });

    nets.it(`IPv${v}: a virtio_net_hdr with 6.2's gso_type UDP_L4 (5) is EINVAL on write; NEEDS_CSUM beyond the frame is EINVAL`, () => {
      const n = nets.net(1);
      const s = listener(n);
      try {
        const start = 14 + IPH[v];
        const f = frameOf(n, payload(3000, 9));
        assert.throws(() => n.tap.writeVnet({ flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_UDP_L4, hdrLen: start + 8, gsoSize: 1000, csumStart: start, csumOffset: 6 }, f), errnoIs('EINVAL'));
        assert.throws(() => n.tap.writeVnet({ flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: f.length - 4, csumOffset: 6 }, f), errnoIs('EINVAL'));
        assert.throws(() => s.recv({ flags: K.MSG_DONTWAIT }), errnoIs('EAGAIN'));
      } finally {
        s.close();
      }
    });
  }
});

/** net/ipv4/udp_offload.c (6.1): a GRO train is complete at this many segments. */
const UDP_GRO_CNT_MAX = 64;

/**
 * Wait (spinning, at most ~1000 times(2) calls) for the clock tick to change, so that what follows
 * starts at the beginning of a jiffy (HZ is USER_HZ, 100, in both kernels). With time-travel the
 * clock stands still while the guest is busy and the wait gives up at once in effect.
 */
function tickStart(): number {
  const t0 = clockTicks();
  for (let i = 0; i < 1000; i++) {
    const t = clockTicks();
    if (t !== t0) return t;
  }
  return t0;
}

describe('UDP_GRO: segments written to a NAPI tap, coalesced for the socket', () => {
  /**
   * Write the segments (sizes) of one flow, IPv4 with DF and consecutive ids as GSO makes them,
   * and return every datagram the socket reads: payload and its UDP_GRO cmsg (null without one).
   * GRO holds a train until gro_flush_timeout (set here); napi_complete_done still flushes what
   * is older than a jiffy, so the train is written from the start of a jiffy, and one that still
   * crosses a jiffy boundary is written again (at most 10 times) rather than judged.
   */
  function receive(n: Network, v: V, gro: boolean, sizes: readonly number[], checksum?: number): { data: Buffer; gso: number | null }[] {
    const sysfs = `/sys/class/net/${n.ifname}/gro_flush_timeout`;
    const s = udpSocket(v);
    try {
      s.bind({ address: local(n, v), port: SPORT });
      s.setOption(K.SOL_UDP, K.UDP_GRO, gro ? 1 : 0);
      assert.equal(s.getIntOption(K.SOL_UDP, K.UDP_GRO), gro ? 1 : 0);
      // 20 ms: longer than a jiffy (HZ 100), so within one jiffy only the train's end flushes it.
      writeFileSync(sysfs, '20000000');
      const frames = sizes.map((len, i) => {
        const ip = v === 4 ? ipv4({ src: REMOTE4, dst: n.addr4, ttl: 64, df: true, id: 0x100 + i }) : ipv6({ src: REMOTE6, dst: n.addr6, hlim: 64 });
        return build([ether({ src: n.router.mac, dst: n.mac }), ip, udp({ sport: DPORT, dport: SPORT, ...(checksum === undefined ? {} : { checksum }) }), raw(payload(len, i))]);
      });
      for (let attempt = 1; ; attempt++) {
        const j0 = tickStart();
        for (const f of frames) n.write(f);
        const j1 = clockTicks();
        const got: { data: Buffer; gso: number | null }[] = [];
        for (;;) {
          let m;
          try {
            m = s.recvMsg({ timeoutMs: got.length === 0 ? 1000 : 50 });
          } catch (e) {
            if (errnoIs('EAGAIN')(e)) break;
            throw e;
          }
          const c = m.control.filter((x) => x.kind === 'raw' && x.level === K.SOL_UDP && x.type === K.UDP_GRO);
          assert.ok(c.length <= 1 && m.control.length === c.length, `unexpected control messages: ${JSON.stringify(m.control)}`);
          const cm = c[0];
          got.push({ data: m.data, gso: cm && cm.kind === 'raw' ? cm.data.readInt32LE(0) : null });
        }
        if (j0 === j1 || attempt === 10) return got;
      }
    } finally {
      writeFileSync(sysfs, '0');
      s.close();
    }
  }

  const concat = (sizes: readonly number[], from: number, to: number): Buffer => Buffer.concat(sizes.slice(from, to).map((len, i) => payload(len, from + i)));

  for (const v of [4, 6] as const) {
    nets.it(`IPv${v}: UDP_GRO on: 1000, 1000, 500 arrive as one 2500-byte datagram with UDP_GRO 1000`, () => {
      const sizes = [1000, 1000, 500];
      assert.deepEqual(receive(nets.net(1), v, true, sizes), [{ data: concat(sizes, 0, 3), gso: 1000 }]);
    });

    nets.it(`IPv${v}: UDP_GRO off: the same segments arrive as three datagrams without a cmsg`, () => {
      const sizes = [1000, 1000, 500];
      assert.deepEqual(receive(nets.net(1), v, false, sizes), sizes.map((_, i) => ({ data: concat(sizes, i, i + 1), gso: null })));
    });

    nets.it(`IPv${v}: a shorter segment ends the train, a longer one starts another: 1000, 500, 1000 give 1500 (UDP_GRO 1000) and a plain 1000`, () => {
      const sizes = [1000, 500, 1000];
      assert.deepEqual(receive(nets.net(1), v, true, sizes), [{ data: concat(sizes, 0, 2), gso: 1000 }, { data: concat(sizes, 2, 3), gso: null }]);
    });

    if (v === 4) {
      nets.it('IPv4: segments without a UDP checksum (0) are not coalesced: three datagrams without a cmsg', () => {
        const sizes = [1000, 1000, 500];
        assert.deepEqual(receive(nets.net(1), v, true, sizes, 0), sizes.map((_, i) => ({ data: concat(sizes, i, i + 1), gso: null })));
      });
    }

    nets.it(`IPv${v}: ${UDP_GRO_CNT_MAX - 1} and ${UDP_GRO_CNT_MAX} segments coalesce whole; the ${UDP_GRO_CNT_MAX + 1}th starts a new datagram`, () => {
      for (const count of [UDP_GRO_CNT_MAX - 1, UDP_GRO_CNT_MAX]) {
        const sizes = Array.from({ length: count }, () => 100);
        assert.deepEqual(receive(nets.net(1), v, true, sizes), [{ data: concat(sizes, 0, count), gso: 100 }], `${count} segments`);
      }
      const sizes = Array.from({ length: UDP_GRO_CNT_MAX + 1 }, () => 100);
      assert.deepEqual(receive(nets.net(1), v, true, sizes), [{ data: concat(sizes, 0, UDP_GRO_CNT_MAX), gso: 100 }, { data: concat(sizes, UDP_GRO_CNT_MAX, UDP_GRO_CNT_MAX + 1), gso: null }]);
    });
  }
});
