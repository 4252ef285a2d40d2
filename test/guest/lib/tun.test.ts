// tun/tap against the real kernel. Frames are built by hand here on purpose: this file tests
// the core library alone, not the packet library.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTap, openTun, type TunDevice } from '../../../src/lib/tun.js';
import { formatMac, ip4ToBytes, ip6ToBytes, parseMac } from '../../../src/lib/addr.js';
import { withRoute } from '../../../src/lib/netlink/route.js';
import { enterNewNetns } from '../../../src/lib/netns.js';
import { udpSocket, packetSocket } from '../../../src/lib/socket.js';
import { sysctl } from '../../../src/lib/sysctl.js';
import { K, errnoIs } from '../../../src/lib/sys/index.js';

let leave: () => void = () => {};
before(() => {
  leave = enterNewNetns();
});
after(() => leave());

/** Add an address and wait until it is usable (IPv6: out of the tentative state). */
const addAddress = (dev: string, address: string): void => withRoute((rt) => rt.addAddress({ dev, address }, { usable: true }));

const TAP_MAC = '02:00:00:00:00:01';
const PEER_MAC = '02:00:00:00:00:02';

function checksum(...parts: Uint8Array[]): number {
  const b = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] ?? 0) * 256 + (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ether(dst: string, src: string, type: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(14);
  parseMac(dst).copy(h, 0);
  parseMac(src).copy(h, 6);
  h.writeUInt16BE(type, 12);
  return Buffer.concat([h, payload]);
}

function arp(op: number, sha: string, spa: string, tha: string, tpa: string): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 0); // ARPHRD_ETHER
  b.writeUInt16BE(K.ETH_P_IP, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(op, 6);
  parseMac(sha).copy(b, 8);
  ip4ToBytes(spa).copy(b, 14);
  parseMac(tha).copy(b, 18);
  ip4ToBytes(tpa).copy(b, 24);
  return b;
}

function ipv4(src: string, dst: string, proto: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h[8] = 64;
  h[9] = proto;
  ip4ToBytes(src).copy(h, 12);
  ip4ToBytes(dst).copy(h, 16);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}

function icmp4(type: number, code: number, rest: Uint8Array): Buffer {
  const b = Buffer.concat([Buffer.from([type, code, 0, 0]), rest]);
  b.writeUInt16BE(checksum(b), 2);
  return b;
}

function ipv6Icmp(src: string, dst: string, icmp: Buffer): Buffer {
  const s = ip6ToBytes(src);
  const d = ip6ToBytes(dst);
  const pseudo = Buffer.alloc(8);
  pseudo.writeUInt32BE(icmp.length, 0);
  pseudo[7] = K.IPPROTO_ICMPV6;
  icmp.writeUInt16BE(0, 2);
  icmp.writeUInt16BE(checksum(s, d, pseudo, icmp), 2);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(icmp.length, 4);
  h[6] = K.IPPROTO_ICMPV6;
  h[7] = 255;
  s.copy(h, 8);
  d.copy(h, 24);
  return Buffer.concat([h, icmp]);
}

const ethType = (f: Buffer): number => f.readUInt16BE(12);

describe('tap', () => {
  it('creates a device with our name and MAC, and close removes it', () => {
    const tap = openTap({ name: 'ntlib%d', mac: TAP_MAC });
    assert.match(tap.name, /^ntlib\d+$/);
    assert.equal(tap.mac(), TAP_MAC);
    assert.equal(tap.ifindex, withRoute((rt) => rt.index(tap.name)));
    assert.ok(tap.isUp());
    tap.setUp(false);
    assert.ok(!tap.isUp());
    tap.close();
    tap.close(); // idempotent
    assert.throws(() => withRoute((rt) => rt.index(tap.name)), errnoIs('ENODEV'));
  });

  it('read times out with null when the kernel sends nothing', () => {
    const tap = openTap({ up: false });
    try {
      const t0 = Date.now();
      assert.equal(tap.read({ timeoutMs: 100 }), null);
      assert.ok(Date.now() - t0 >= 90);
    } finally {
      tap.close();
    }
  });

  describe('IPv4 over a tap', () => {
    let tap: TunDevice;
    // Created in a hook, not the describe body, so it lands in the namespace entered above.
    before(() => {
      tap = openTap({ name: 'ntarp0', mac: TAP_MAC });
      addAddress(tap.name, '192.0.2.1/24');
    });
    after(() => tap.close());

    it('the kernel resolves a neighbour: we read its ARP request', () => {
      const s = udpSocket(4);
      try {
        tap.drain();
        s.sendTo(Buffer.from('x'), '192.0.2.2:9');
        const f = tap.readMatching((fr) => ethType(fr) === K.ETH_P_ARP, { timeoutMs: 3000 });
        assert.ok(f, 'ARP request seen');
        assert.equal(formatMac(f.subarray(0, 6)), 'ff:ff:ff:ff:ff:ff');
        const a = f.subarray(14);
        assert.equal(a.readUInt16BE(6), 1, 'request');
        assert.equal(formatMac(a.subarray(8, 14)), TAP_MAC);
        assert.deepEqual([...a.subarray(14, 18)], [192, 0, 2, 1]);
        assert.deepEqual([...a.subarray(24, 28)], [192, 0, 2, 2]);
      } finally {
        s.close();
      }
    });

    it('the kernel answers an ARP request we write', () => {
      tap.drain();
      tap.write(ether('ff:ff:ff:ff:ff:ff', PEER_MAC, K.ETH_P_ARP, arp(1, PEER_MAC, '192.0.2.2', '00:00:00:00:00:00', '192.0.2.1')));
      const f = tap.readMatching((fr) => ethType(fr) === K.ETH_P_ARP && fr.readUInt16BE(20) === 2, { timeoutMs: 3000 });
      assert.ok(f, 'ARP reply seen');
      assert.equal(formatMac(f.subarray(0, 6)), PEER_MAC);
      const a = f.subarray(14);
      assert.equal(formatMac(a.subarray(8, 14)), TAP_MAC);
      assert.deepEqual([...a.subarray(14, 18)], [192, 0, 2, 1]);
      assert.deepEqual([...a.subarray(24, 28)], [192, 0, 2, 2]);
    });

    it('an ICMP error we inject reaches the error queue with its offender', () => {
      const s = udpSocket(4);
      try {
        s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
        s.connect('192.0.2.3:53');
        tap.drain();
        s.send(Buffer.from('query'));
        // Answer the ARP for 192.0.2.3, then catch the datagram itself.
        const req = tap.readMatching((fr) => ethType(fr) === K.ETH_P_ARP, { timeoutMs: 3000 });
        assert.ok(req, 'ARP for 192.0.2.3');
        tap.write(ether(TAP_MAC, PEER_MAC, K.ETH_P_ARP, arp(2, PEER_MAC, '192.0.2.3', TAP_MAC, '192.0.2.1')));
        const udp = tap.readMatching((fr) => ethType(fr) === K.ETH_P_IP && fr[14 + 9] === K.IPPROTO_UDP, {
          timeoutMs: 3000,
        });
        assert.ok(udp, 'datagram left through the tap');
        const ip = udp.subarray(14);
        // Host unreachable from a router 192.0.2.2, quoting the header and 8 bytes.
        const quote = ip.subarray(0, 28);
        const err = ipv4('192.0.2.2', '192.0.2.1', K.IPPROTO_ICMP, icmp4(3, 1, Buffer.concat([Buffer.alloc(4), quote])));
        tap.write(ether(TAP_MAC, PEER_MAC, K.ETH_P_IP, err));
        const m = s.recvError({ timeoutMs: 3000 });
        assert.equal(m.error.code, 'EHOSTUNREACH');
        assert.equal(m.error.origin, K.SO_EE_ORIGIN_ICMP);
        assert.deepEqual([m.error.icmpType, m.error.icmpCode], [3, 1]);
        assert.equal(m.error.offender?.family, 'inet');
        assert.equal(m.error.offender?.address, '192.0.2.2', 'offender is the router, not the destination');
      } finally {
        s.close();
      }
    });
  });

  it('IPv6: the kernel answers a neighbour solicitation with an advertisement', () => {
    const tap = openTap({ name: 'ntnd0', mac: TAP_MAC, up: false });
    try {
      sysctl.set(`net.ipv6.conf.${tap.name}.accept_dad`, 0); // address usable at once
      tap.setUp(true);
      addAddress(tap.name, '2001:db8::1/64');
      // addAddress waited for 2001:db8::1; the link-local one may still be tentative.
      // (An NS from a unicast source for a tentative target is ignored, RFC 4862 5.4.3.)
      withRoute((rt) => rt.waitAddressUsable(tap.name, 'fe80::ff:fe00:1', 3000));
      tap.drain();
      const target = ip6ToBytes('2001:db8::1');
      const ns = Buffer.concat([
        Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]),
        target,
        Buffer.from([1, 1]), // source link-layer address option
        parseMac(PEER_MAC),
      ]);
      const solicited = 'ff02::1:ff00:1';
      tap.write(ether('33:33:ff:00:00:01', PEER_MAC, K.ETH_P_IPV6, ipv6Icmp('2001:db8::2', solicited, ns)));
      const f = tap.readMatching(
        (fr) => ethType(fr) === K.ETH_P_IPV6 && fr[14 + 6] === K.IPPROTO_ICMPV6 && fr[14 + 40] === 136,
        { timeoutMs: 3000 },
      );
      assert.ok(f, 'neighbour advertisement seen');
      assert.equal(formatMac(f.subarray(0, 6)), PEER_MAC);
      const ip = f.subarray(14);
      assert.equal(ip.subarray(24, 40).toString('hex'), ip6ToBytes('2001:db8::2').toString('hex'));
      const na = ip.subarray(40);
      assert.ok(na[4]! & 0x40, 'solicited flag');
      assert.equal(na.subarray(8, 24).toString('hex'), target.toString('hex'));

      // Link-local addresses need a scope id: by interface name in text, or by index.
      const ll = 'fe80::ff:fe00:1'; // EUI-64 from TAP_MAC, usable at once with accept_dad=0
      const a = udpSocket(6);
      const b = udpSocket(6);
      try {
        a.bind(`[${ll}%${tap.name}]:0`);
        assert.equal(a.localAddress().scopeId, tap.ifindex);
        assert.equal(a.localAddress().address, ll);
        assert.throws(() => b.bind(`[${ll}]:0`), errnoIs('EINVAL'), 'no scope id');
        b.bind({ address: ll, port: 0, scopeId: tap.ifindex });
      } finally {
        a.close();
        b.close();
      }
    } finally {
      tap.close();
    }
  });
});

describe('IPv6 error queue through a tap', () => {
  it('an ICMPv6 error from a router reaches IPV6_RECVERR with the router as offender', () => {
    const tap = openTap({ name: 'nterr6', mac: TAP_MAC, up: false });
    const s = udpSocket(6);
    try {
      sysctl.set(`net.ipv6.conf.${tap.name}.accept_dad`, 0);
      tap.setUp(true);
      addAddress(tap.name, '2001:db8:6::1/64');
      s.setOption(K.SOL_IPV6, K.IPV6_RECVERR, 1);
      s.connect('[2001:db8:6::3]:53');
      tap.drain();
      s.send(Buffer.from('query'));
      // The kernel resolves 2001:db8:6::3 first: answer its NS with an NA carrying our MAC.
      const isIcmp6 = (fr: Buffer, type: number): boolean =>
        ethType(fr) === K.ETH_P_IPV6 && fr[14 + 6] === K.IPPROTO_ICMPV6 && fr[14 + 40] === type;
      const ns = tap.readMatching((fr) => isIcmp6(fr, 135), { timeoutMs: 3000 });
      assert.ok(ns, 'neighbour solicitation for the destination');
      const na = Buffer.concat([
        Buffer.from([136, 0, 0, 0, 0x60, 0, 0, 0]), // solicited + override
        ip6ToBytes('2001:db8:6::3'),
        Buffer.from([2, 1]), // target link-layer address option
        parseMac(PEER_MAC),
      ]);
      tap.write(ether(TAP_MAC, PEER_MAC, K.ETH_P_IPV6, ipv6Icmp('2001:db8:6::3', '2001:db8:6::1', na)));
      const udp = tap.readMatching((fr) => ethType(fr) === K.ETH_P_IPV6 && fr[14 + 6] === K.IPPROTO_UDP, {
        timeoutMs: 3000,
      });
      assert.ok(udp, 'datagram left through the tap');
      // Address unreachable (type 1 code 3) from router 2001:db8:6::2, quoting the datagram.
      const quote = udp.subarray(14);
      const err = Buffer.concat([Buffer.from([1, 3, 0, 0, 0, 0, 0, 0]), quote]);
      tap.write(ether(TAP_MAC, PEER_MAC, K.ETH_P_IPV6, ipv6Icmp('2001:db8:6::2', '2001:db8:6::1', err)));
      const m = s.recvError({ timeoutMs: 3000 });
      assert.equal(m.error.code, 'EHOSTUNREACH');
      assert.equal(m.error.origin, K.SO_EE_ORIGIN_ICMP6);
      assert.deepEqual([m.error.icmpType, m.error.icmpCode], [1, 3]);
      assert.equal(m.error.offender?.family, 'inet6');
      assert.equal(m.error.offender?.address, '2001:db8:6::2', 'offender is the router, not the destination');
    } finally {
      s.close();
      tap.close();
    }
  });
});

describe('packet sockets', () => {
  it('see frames written to a tap, and send frames the tap reads', () => {
    const tap = openTap({ name: 'ntpkt0', mac: TAP_MAC });
    const ps = packetSocket('raw', K.ETH_P_ALL);
    try {
      ps.bind({ ifindex: tap.ifindex, protocol: K.ETH_P_ALL });
      tap.drain();
      const frame = ether(TAP_MAC, PEER_MAC, 0x88b5, Buffer.from('local experimental ethertype'));
      tap.write(frame);
      let got: ReturnType<typeof ps.recvFrom> | null = null;
      for (let i = 0; i < 20 && !got; i++) {
        const r = ps.recvFrom({ timeoutMs: 2000 });
        if (r.data.readUInt16BE(12) === 0x88b5) got = r;
      }
      assert.ok(got, 'frame seen on the packet socket');
      assert.equal(got.data.toString('hex'), frame.toString('hex'));
      assert.equal(got.from?.ifindex, tap.ifindex);
      assert.equal(got.from?.protocol, 0x88b5);
      assert.equal(got.from?.pkttype, K.PACKET_HOST);
      assert.equal(formatMac(got.from?.addr ?? Buffer.alloc(0)), PEER_MAC);

      const out = ether(PEER_MAC, TAP_MAC, 0x88b6, Buffer.from('from a packet socket'));
      ps.sendTo(out, { ifindex: tap.ifindex, protocol: 0x88b6 });
      const seen = tap.readMatching((f) => f.readUInt16BE(12) === 0x88b6, { timeoutMs: 2000 });
      assert.equal(seen?.toString('hex'), out.toString('hex'));
    } finally {
      ps.close();
      tap.close();
    }
  });
});

describe('tap with a virtio_net_hdr (vnetHdr)', () => {
  it('read() and write() hide the header, readVnet() and writeVnet() carry it; TUNSETVNETHDRSZ sizes it', () => {
    for (const size of [undefined, 12]) {
      const tap = openTap({ name: 'ntvnet0', mac: TAP_MAC, vnetHdr: true, ...(size ? { vnetHdrSize: size } : {}) });
      const ps = packetSocket('raw', K.ETH_P_ALL);
      try {
        assert.equal(tap.vnetHdrSize, size ?? 10);
        ps.bind({ ifindex: tap.ifindex, protocol: K.ETH_P_ALL });
        tap.drain();
        // Out of the kernel: a packet socket's frame, no offload metadata (all-zero header).
        const out = ether(PEER_MAC, TAP_MAC, 0x88b6, Buffer.from('to the tap'));
        for (const viaVnet of [false, true]) {
          ps.sendTo(out, { ifindex: tap.ifindex, protocol: 0x88b6 });
          const match = (f: Buffer): boolean => f.length >= 14 && f.readUInt16BE(12) === 0x88b6;
          if (viaVnet) {
            let got = tap.readVnet({ timeoutMs: 2000 });
            while (got && !match(got.frame)) got = tap.readVnet({ timeoutMs: 2000 });
            assert.equal(got?.frame.toString('hex'), out.toString('hex'));
            assert.deepEqual(got?.hdr, { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, ...(size === 12 ? { numBuffers: 0 } : {}) });
          } else {
            assert.equal(tap.readMatching(match, { timeoutMs: 2000 })?.toString('hex'), out.toString('hex'));
          }
        }
        // Into the kernel, with and without a header of our own.
        const frame = ether(TAP_MAC, PEER_MAC, 0x88b5, Buffer.from('from the tap'));
        tap.write(frame);
        tap.writeVnet({}, frame);
        for (let n = 0; n < 2; n++) {
          let r = ps.recvFrom({ timeoutMs: 2000 });
          while (r.data.readUInt16BE(12) !== 0x88b5) r = ps.recvFrom({ timeoutMs: 2000 });
          assert.equal(r.data.toString('hex'), frame.toString('hex'));
        }
      } finally {
        ps.close();
        tap.close();
      }
    }
  });

  it('refuses a header below 10 bytes (EINVAL), vnetHdrSize without vnetHdr, and readVnet on a plain tap', () => {
    assert.throws(() => openTap({ name: 'ntvnet1', vnetHdr: true, vnetHdrSize: 9 }), errnoIs('EINVAL'));
    assert.throws(() => openTap({ name: 'ntvnet1', vnetHdrSize: 12 }), /vnetHdrSize needs vnetHdr: true/);
    const tap = openTap({ name: 'ntvnet1' });
    try {
      assert.equal(tap.vnetHdrSize, 0);
      assert.throws(() => tap.readVnet(), /readVnet needs a device opened with vnetHdr: true/);
    } finally {
      tap.close();
    }
    // The failed opens left no device behind.
    assert.throws(() => withRoute((rt) => rt.index('ntvnet1')));
  });
});

describe('tun', () => {
  it('the kernel answers an ICMP echo written to a tun device', () => {
    const tun = openTun({ name: 'nttun0' });
    try {
      addAddress(tun.name, '198.51.100.1/24');
      tun.drain();
      const echo = icmp4(8, 0, Buffer.from([0x12, 0x34, 0, 1, ...Buffer.from('tun')]));
      tun.write(ipv4('198.51.100.2', '198.51.100.1', K.IPPROTO_ICMP, echo));
      const p = tun.readMatching((pk) => pk[0] === 0x45 && pk[9] === K.IPPROTO_ICMP, { timeoutMs: 3000 });
      assert.ok(p, 'reply seen');
      assert.deepEqual([...p.subarray(12, 16)], [198, 51, 100, 1]);
      assert.deepEqual([...p.subarray(16, 20)], [198, 51, 100, 2]);
      assert.equal(p[20], 0, 'echo reply');
      assert.equal(p.subarray(24, 26).toString('hex'), '1234', 'id echoed');
      assert.equal(p.subarray(28).toString(), 'tun');
    } finally {
      tun.close();
    }
  });
});
