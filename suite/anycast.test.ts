// IPv6 anycast membership (net/ipv6/anycast.c): the join rules for a host, the neighbour
// advertisement an anycast address gets (override flag clear), and the regression that once
// crashed kernels: a device going away while a socket still holds an anycast address on it.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks } from '../src/lib/networks.js';
import { expectPacket, inject } from '../src/lib/expect.js';
import { udpSocket, type Socket } from '../src/lib/socket.js';
import { errnoIs, K } from '../src/lib/sys/index.js';
import { ipv6_mreq } from '../src/lib/uapi.js';
import { ip6ToBytes, multicastMac, solicitedNode } from '../src/lib/addr.js';
import { openTap } from '../src/lib/tun.js';
import { ether, ipv6, ndOpt, neighborAdvert, neighborSolicit } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });

function join(s: Socket<'inet6'>, addr: string, ifindex: number, leave = false): void {
  s.setOption(K.SOL_IPV6, leave ? K.IPV6_LEAVE_ANYCAST : K.IPV6_JOIN_ANYCAST, ipv6_mreq.pack({ multiaddr: ip6ToBytes(addr), ifindex }));
}

describe('anycast join rules (host)', () => {
  nets.it('an address inside an on-link prefix can be joined and left; leaving twice gives ENOENT', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    join(s, `2001:db8:${n.id}::a1`, n.ifindex);
    join(s, `2001:db8:${n.id}::a1`, n.ifindex, true);
    assert.throws(() => join(s, `2001:db8:${n.id}::a1`, n.ifindex, true), errnoIs('ENOENT'));
    s.close();
  });

  nets.it('an address outside every on-link prefix is refused on a host (EADDRNOTAVAIL)', () => {
    const s = udpSocket(6);
    assert.throws(() => join(s, '2001:db8:ff::a2', nets.net(1).ifindex), errnoIs('EADDRNOTAVAIL'));
    s.close();
  });

  nets.it('a multicast address or one of our own unicast addresses is refused (EINVAL)', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    assert.throws(() => join(s, 'ff02::1234', n.ifindex), errnoIs('EINVAL'));
    assert.throws(() => join(s, n.addr6, n.ifindex), errnoIs('EINVAL'));
    s.close();
  });

  nets.it('joining the same address twice on one socket is counted: two leaves, the third ENOENT', () => {
    // __ipv6_dev_ac_inc() bumps aca_users for an existing address; each join is its own record.
    const n = nets.net(1);
    const s = udpSocket(6);
    join(s, `2001:db8:${n.id}::a3`, n.ifindex);
    join(s, `2001:db8:${n.id}::a3`, n.ifindex);
    join(s, `2001:db8:${n.id}::a3`, n.ifindex, true);
    join(s, `2001:db8:${n.id}::a3`, n.ifindex, true);
    assert.throws(() => join(s, `2001:db8:${n.id}::a3`, n.ifindex, true), errnoIs('ENOENT'));
    s.close();
  });
});

describe('anycast on the wire', () => {
  nets.it('an NS for a joined anycast address gets a solicited NA without the override flag', () => {
    const n = nets.net(1);
    const ac = `2001:db8:${n.id}::a4`;
    const peerMac = '02:00:00:cc:00:01';
    const peer = `2001:db8:${n.id}::c1`;
    const s = udpSocket(6);
    join(s, ac, n.ifindex);
    try {
      const snm = solicitedNode(ac);
      inject(n, [ether({ src: peerMac, dst: multicastMac(snm) }), ipv6({ src: peer, dst: snm, hlim: 255 }), neighborSolicit({ target: ac, options: [ndOpt.srcLladdr(peerMac)] })]);
      // RFC 4861 7.2.7: anycast answers never override. The anycast address is not one of our
      // unicast addresses, so ndisc_send_na() picks a source by the usual selection: addr6.
      expectPacket(n, [
        ether({ src: n.mac, dst: peerMac }),
        ipv6({ src: n.addr6, dst: peer, hlim: 255 }),
        neighborAdvert({ flags: 'S', target: ac, options: [ndOpt.tgtLladdr(n.mac)] }),
      ], { timeoutMs: 1500 });
    } finally {
      s.close();
    }
  });
});

describe('regression: device removal with an anycast address joined', () => {
  nets.it('a tap removed while a socket holds anycast on it; the socket then leaves and closes cleanly', () => {
    const tap = openTap({ name: 'ac0', mac: '02:00:00:dd:00:01' });
    nets.rt.addAddress({ dev: tap.name, address: '2001:db8:99::1/64', flags: ['nodad'] });
    const s = udpSocket(6);
    join(s, '2001:db8:99::a', tap.ifindex);
    tap.close(); // unregisters the device with the membership still held
    // The socket keeps its record; leaving drops it without touching the vanished device
    // (ipv6_sock_ac_drop finds no device by index), and a second leave finds nothing.
    join(s, '2001:db8:99::a', tap.ifindex, true);
    assert.throws(() => join(s, '2001:db8:99::a', tap.ifindex, true), errnoIs('ENOENT'));
    s.close();
    // The kernel is still fine: a new device with the same name works.
    const again = openTap({ name: 'ac0' });
    assert.ok(again.ifindex > 0);
    again.close();
  });
});
