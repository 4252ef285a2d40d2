// Router discovery (RFC 4861 6.3.4, RFC 4191): what an injected router advertisement changes
// (default route and its preference, hop limit, MTU, routes from route information options)
// and what the kernel ignores; the router solicitation it sends when a link comes up.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { useNetworks, routerAdvertisement, REMOTE6, type Network } from '../src/lib/networks.js';
import { expectPacket, inject } from '../src/lib/expect.js';
import { eui64Address } from '../src/lib/addr.js';
import { sysctl } from '../src/lib/sysctl.js';
import type { Route } from '../src/lib/netlink/route.js';
import { udpSocket } from '../src/lib/socket.js';
import {
  build, ether, ipv6, ndOpt, routerAdvert, routerSolicit, udp, raw, ICMPV6_ROUTER_PREF_HIGH, ICMPV6_ROUTER_PREF_LOW, ICMPV6_ROUTER_PREF_MEDIUM, type NdOption,
} from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 2 });

before(() => {
  // Network 1 learns default routes from advertisements into the main table for these tests.
  nets.sysctl(`net/ipv6/conf/${nets.net(1).ifname}/accept_ra_defrtr`, 1);
});

function ra(n: Network, f: { routerLifetime?: number; curHopLimit?: number; prf?: number; options?: NdOption[]; src?: string; hlim?: number }): Buffer {
  return build([
    ether({ src: n.router.mac, dst: '33:33:00:00:00:01' }),
    ipv6({ src: f.src ?? n.router.ll, dst: 'ff02::1', hlim: f.hlim ?? 255 }),
    routerAdvert({
      curHopLimit: f.curHopLimit ?? 0,
      routerLifetime: f.routerLifetime ?? 1800,
      prf: f.prf ?? 0,
      options: [ndOpt.srcLladdr(n.router.mac), ...(f.options ?? [])],
    }),
  ]);
}

function mainDefault(n: Network): Route | undefined {
  return nets.rt.routes({ family: 'inet6', table: 'main' }).find((r) => r.dst === 'default' && r.oif === n.ifindex);
}

function settle(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
}

describe('router advertisements', () => {
  nets.it('an RA with a lifetime installs a default route via the router link-local, proto ra, medium preference', () => {
    const n = nets.net(1);
    inject(n, ra(n, { routerLifetime: 600 }));
    settle();
    const r = mainDefault(n);
    assert.equal(r?.gateway, n.router.ll);
    assert.equal(r?.protocol, 'ra');
    assert.equal(r?.pref, ICMPV6_ROUTER_PREF_MEDIUM);
  });

  nets.it('the router preference bits of the RA become the route preference (high, low)', () => {
    const n = nets.net(1);
    inject(n, ra(n, { prf: ICMPV6_ROUTER_PREF_HIGH }));
    settle();
    assert.equal(mainDefault(n)?.pref, ICMPV6_ROUTER_PREF_HIGH);
    inject(n, ra(n, { prf: ICMPV6_ROUTER_PREF_LOW }));
    settle();
    assert.equal(mainDefault(n)?.pref, ICMPV6_ROUTER_PREF_LOW);
  });

  nets.it('an RA with router lifetime 0 removes the default route', () => {
    const n = nets.net(1);
    inject(n, ra(n, {}));
    settle();
    assert.ok(mainDefault(n));
    inject(n, ra(n, { routerLifetime: 0 }));
    settle();
    assert.equal(mainDefault(n), undefined);
  });

  nets.it('an RA from a global (non link-local) source is ignored', () => {
    const n = nets.net(1);
    inject(n, ra(n, { routerLifetime: 0 }));
    settle();
    inject(n, ra(n, { src: n.router.ip6 }));
    settle();
    assert.equal(mainDefault(n), undefined);
  });

  nets.it('an RA with hop limit below 255 is ignored', () => {
    const n = nets.net(1);
    inject(n, ra(n, { routerLifetime: 0 }));
    settle();
    inject(n, ra(n, { hlim: 64 }));
    settle();
    assert.equal(mainDefault(n), undefined);
  });

  nets.it('accept_ra_defrtr=0 (the fixture default) learns no default route', () => {
    const n = nets.net(2);
    inject(n, ra(n, { routerLifetime: 1800 }));
    settle();
    assert.equal(mainDefault(n), undefined);
  });

  nets.it('the current hop limit of the RA becomes the interface hop limit used by outgoing packets', () => {
    const n = nets.net(1);
    const before = sysctl.get(`net/ipv6/conf/${n.ifname}/hop_limit`);
    inject(n, ra(n, { curHopLimit: 33 }));
    settle();
    try {
      assert.equal(sysctl.get(`net/ipv6/conf/${n.ifname}/hop_limit`), '33');
      const s = udpSocket(6);
      s.setMark(n.mark);
      s.sendTo(Buffer.from('h'), { address: REMOTE6, port: 9 });
      expectPacket(n, [ipv6({ src: n.addr6, dst: REMOTE6, hlim: 33 }), udp({ sport: s.localAddress().port, dport: 9 }), raw('h')]);
      s.close();
    } finally {
      sysctl.set(`net/ipv6/conf/${n.ifname}/hop_limit`, before);
    }
  });

  nets.it('an MTU option lowers the IPv6 MTU of the link; one above the link MTU is ignored', () => {
    const n = nets.net(1);
    inject(n, ra(n, { options: [ndOpt.mtu(1400)] }));
    settle();
    assert.equal(sysctl.get(`net/ipv6/conf/${n.ifname}/mtu`), '1400');
    inject(n, ra(n, { options: [ndOpt.mtu(9000)] }));
    settle();
    assert.equal(sysctl.get(`net/ipv6/conf/${n.ifname}/mtu`), '1400');
    sysctl.set(`net/ipv6/conf/${n.ifname}/mtu`, 1500);
  });

  nets.it('a route information option installs its route only up to accept_ra_rt_info_max_plen', (t) => {
    const n = nets.net(1);
    if (!existsSync(`/proc/sys/net/ipv6/conf/${n.ifname}/accept_ra_rt_info_max_plen`)) {
      t.skip('kernel built without CONFIG_IPV6_ROUTE_INFO');
      return;
    }
    const rio = ndOpt.routeInfo({ prefix: '2001:db8:77::', prefixLen: 48, prf: ICMPV6_ROUTER_PREF_HIGH, lifetime: 300 });
    const find = (): Route | undefined => nets.rt.routes({ family: 'inet6', table: 'main' }).find((r) => r.dst === '2001:db8:77::/48');
    inject(n, ra(n, { options: [rio] }));
    settle();
    assert.equal(find(), undefined, 'max_plen 0 (default) ignores it');
    nets.sysctl(`net/ipv6/conf/${n.ifname}/accept_ra_rt_info_max_plen`, 64);
    inject(n, ra(n, { options: [rio] }));
    settle();
    const r = find();
    assert.equal(r?.gateway, n.router.ll);
    assert.equal(r?.oif, n.ifindex);
    assert.equal(r?.protocol, 'ra');
    assert.equal(r?.pref, ICMPV6_ROUTER_PREF_HIGH);
    // Lifetime 0 withdraws it.
    inject(n, ra(n, { options: [{ ...rio, lifetime: 0 } as NdOption] }));
    settle();
    assert.equal(find(), undefined);
  });

  nets.it('accept_ra_rt_info_max_plen=48: route information for a /47 and a /48 is installed, a /49 is not', (t) => {
    const n = nets.net(1);
    if (!existsSync(`/proc/sys/net/ipv6/conf/${n.ifname}/accept_ra_rt_info_max_plen`)) {
      t.skip('kernel built without CONFIG_IPV6_ROUTE_INFO');
      return;
    }
    // ndisc_router_discovery() skips an option whose prefix_len > max_plen: the bound itself is in.
    nets.sysctl(`net/ipv6/conf/${n.ifname}/accept_ra_rt_info_max_plen`, 48);
    const prefixes = [['2001:db8:4e::', 47], ['2001:db8:50::', 48], ['2001:db8:51::', 49]] as const;
    const rios = (lifetime: number): NdOption[] =>
      prefixes.map(([prefix, prefixLen]) => ndOpt.routeInfo({ prefix, prefixLen, prf: ICMPV6_ROUTER_PREF_HIGH, lifetime }));
    const learnt = (): Route[] => nets.rt.routes({ family: 'inet6', table: 'main' })
      .filter((r) => prefixes.some(([p, l]) => r.dst === `${p}/${l}`))
      .sort((a, b) => a.dst.localeCompare(b.dst));
    inject(n, ra(n, { options: rios(300) }));
    settle();
    assert.deepEqual(learnt().map((r) => [r.dst, r.gateway, r.oif, r.protocol, r.pref]), [
      ['2001:db8:4e::/47', n.router.ll, n.ifindex, 'ra', ICMPV6_ROUTER_PREF_HIGH],
      ['2001:db8:50::/48', n.router.ll, n.ifindex, 'ra', ICMPV6_ROUTER_PREF_HIGH],
    ]);
    // Lifetime 0 withdraws them.
    inject(n, ra(n, { options: rios(0) }));
    settle();
    assert.deepEqual(learnt(), []);
  });

  nets.it('a second prefix in an RA adds a second SLAAC address', () => {
    const n = nets.net(1);
    const extra = `2001:db8:${n.id}:1::`;
    inject(n, routerAdvertisement({ router: n.router, prefix6: `${extra}/64` }));
    // Same interface identifier as the first SLAAC address (EUI-64 of the MAC).
    const want = eui64Address(`${extra}/64`, n.mac);
    nets.rt.waitAddressUsable(n.ifindex, want, 1000);
    const a = nets.rt.addresses({ family: 'inet6', dev: n.ifindex }).find((x) => x.address === want);
    assert.equal(a?.prefixlen, 64);
    assert.ok(!a?.flags.includes('PERMANENT'), 'autoconfigured, not permanent');
  });
});

describe('router solicitation', () => {
  nets.it('bringing a link up sends the exact RS from the link-local with our MAC', () => {
    // Last test of the file: taking net2 down flushes its addresses and routes.
    const n = nets.net(2);
    nets.sysctl(`net/ipv6/conf/${n.ifname}/router_solicitations`, 1);
    nets.sysctl(`net/ipv6/conf/${n.ifname}/router_solicitation_delay`, 0);
    n.tap.setUp(false);
    n.tap.setUp(true);
    expectPacket(n, [
      ether({ src: n.mac, dst: '33:33:00:00:00:02' }),
      ipv6({ src: n.ll6, dst: 'ff02::2', hlim: 255 }),
      routerSolicit({ options: [ndOpt.srcLladdr(n.mac)] }),
    ], { timeoutMs: 3000, skipNoise: false, ignore: [] });
  });
});
