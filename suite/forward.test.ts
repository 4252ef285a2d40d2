// Forwarding between fixture networks: packets arriving on network 1 routed out of network 2
// by an input-interface rule, with the TTL/hop limit decremented and the Ethernet header
// rewritten; nothing forwarded while forwarding is off; and the regression of an address
// removed from the outgoing interface while forwarding.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { ether, ipv4, ipv6, raw, udp } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 2 });
const BEHIND1_4 = '192.0.2.77'; // a host behind network 1's router
const BEHIND1_6 = '2001:db8:1:ff::77';

before(() => {
  const [a, b] = [nets.net(1), nets.net(2)];
  // Whatever arrives on net1 is routed with net2's table.
  nets.addRule({ family: 'inet', priority: 50, iif: a.ifname, table: b.table });
  nets.addRule({ family: 'inet6', priority: 50, iif: a.ifname, table: b.table });
});

function in4(a: Network, ttl: number, payload: string): Parameters<typeof inject>[1] {
  return [ether({ src: a.router.mac, dst: a.mac }), ipv4({ src: BEHIND1_4, dst: REMOTE4, ttl, id: 0x1234 }), udp({ sport: 1111, dport: 2222 }), raw(payload)];
}

describe('IPv4 forwarding', () => {
  nets.it('with ip_forward=0 a transit packet is not forwarded', () => {
    const [a, b] = [nets.net(1), nets.net(2)];
    nets.sysctl('net.ipv4.ip_forward', 0);
    inject(a, in4(a, 64, 'no'));
    expectNone(b, { timeoutMs: 150 });
  });

  nets.it('with ip_forward=1 it leaves on net2 to its router, TTL 63, the rest unchanged', () => {
    const [a, b] = [nets.net(1), nets.net(2)];
    nets.sysctl('net.ipv4.ip_forward', 1);
    inject(a, in4(a, 64, 'fwd'));
    expectPacket(b, [ether({ src: b.mac, dst: b.router.mac }), ipv4({ src: BEHIND1_4, dst: REMOTE4, ttl: 63, id: 0x1234 }), udp({ sport: 1111, dport: 2222 }), raw('fwd')]);
  });

  nets.it('a packet with TTL 1 is not forwarded', () => {
    const [a, b] = [nets.net(1), nets.net(2)];
    nets.sysctl('net.ipv4.ip_forward', 1);
    inject(a, in4(a, 1, 'ttl1'));
    expectNone(b, { timeoutMs: 150 });
  });

  nets.it('regression: removing the last address of the outgoing interface while forwarding disables IPv4 there', () => {
    const [a, b] = [nets.net(1), nets.net(2)];
    nets.sysctl('net.ipv4.ip_forward', 1);
    inject(a, in4(a, 64, 'before'));
    expectPacket(b, [ether({ src: b.mac, dst: b.router.mac }), ipv4({ src: BEHIND1_4, dst: REMOTE4, ttl: 63, id: 0x1234 }), udp({ sport: 1111, dport: 2222 }), raw('before')]);
    nets.rt.deleteAddress(b.ifindex, `${b.addr4}/${b.prefixLen4}`);
    try {
      // fib_inetaddr_event(): the last address gone, fib_disable_ip() flushes every IPv4 route
      // through the device (in every table) and its ARP entries, permanent ones included.
      assert.deepEqual(nets.rt.routes({ family: 'inet', table: b.table }).filter((r) => r.oif === b.ifindex), []);
      assert.equal(nets.rt.neighbours({ family: 'inet', dev: b.ifindex }).length, 0);
      inject(a, in4(a, 64, 'after'));
      expectNone(b, { timeoutMs: 150 });
    } finally {
      nets.rt.addAddress({ dev: b.ifindex, address: `${b.addr4}/${b.prefixLen4}` });
      nets.rt.addNeighbour({ dev: b.ifindex, dst: b.router.ip4, lladdr: b.router.mac, state: ['permanent'] });
      nets.rt.addRoute({ dst: b.subnet4, dev: b.ifindex, table: b.table, scope: 'link', prefsrc: b.addr4 });
      nets.rt.addRoute({ dst: 'default', dev: b.ifindex, table: b.table, gateway: b.router.ip4 });
    }
    // Restored by hand, forwarding works again.
    inject(a, in4(a, 64, 'again'));
    expectPacket(b, [ether({ src: b.mac, dst: b.router.mac }), ipv4({ src: BEHIND1_4, dst: REMOTE4, ttl: 63, id: 0x1234 }), udp({ sport: 1111, dport: 2222 }), raw('again')]);
  });

});

describe('IPv6 forwarding', () => {
  nets.it('with forwarding=1 a transit packet leaves on net2 with hop limit decremented', () => {
    const [a, b] = [nets.net(1), nets.net(2)];
    nets.sysctl('net/ipv6/conf/all/forwarding', 1);
    inject(a, [ether({ src: a.router.mac, dst: a.mac }), ipv6({ src: BEHIND1_6, dst: REMOTE6, hlim: 10 }), udp({ sport: 1111, dport: 2222 }), raw('fwd6')]);
    expectPacket(b, [ether({ src: b.mac, dst: b.router.mac }), ipv6({ src: BEHIND1_6, dst: REMOTE6, hlim: 9 }), udp({ sport: 1111, dport: 2222 }), raw('fwd6')]);
  });

  nets.it('with forwarding=0 it is dropped', () => {
    const [a, b] = [nets.net(1), nets.net(2)];
    nets.sysctl('net/ipv6/conf/all/forwarding', 0);
    inject(a, [ether({ src: a.router.mac, dst: a.mac }), ipv6({ src: BEHIND1_6, dst: REMOTE6, hlim: 10 }), udp({ sport: 1111, dport: 2222 }), raw('no6')]);
    expectNone(b, { timeoutMs: 150 });
  });
});
