// rtnetlink against the real kernel, with iproute2 as the witness in both directions.
// Runs in the UML guest or on the host in a fresh netns (see preamble): needs veth only;
// dummy/vti/xfrm links are exercised when the kernel has them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { openRoute, RTNLGRP, type Rtnl } from '../../../src/lib/netlink/route.js';
import { isNetlinkError } from '../../../src/lib/netlink/core.js';
import { canCreate, ip, ipError, ipJson, kernelText } from './ip.js';

const A = 'nlt0';
const B = 'nlt1';
let rt: Rtnl;

interface IpLink { ifindex: number; ifname: string; mtu: number; address: string; flags: string[]; operstate: string }
interface IpAddrInfo { family: string; local: string; prefixlen: number; nodad?: boolean; tentative?: boolean; scope: string }
interface IpRoute { dst: string; gateway?: string; dev?: string; metric?: number; type?: string; table?: string; metrics?: Record<string, number>[]; protocol?: string; scope?: string }
interface IpRule { priority: number; src?: string; srclen?: number; table?: string; fwmark?: string; iif?: string; uid_start?: number; uid_end?: number; action?: string }
interface IpNeigh { dst: string; dev: string; lladdr?: string; state: string[] }

before(() => {
  rt = openRoute();
  rt.addLink({ name: A, kind: 'veth', peer: { name: B } });
  rt.setLink(A, { up: true });
  rt.setLink(B, { up: true });
  rt.addAddress({ dev: A, address: '192.0.2.1/24' });
  rt.addAddress({ dev: B, address: '192.0.2.2/24' });
});

after(() => {
  try {
    rt.deleteLink(A);
  } finally {
    rt.close();
  }
});

describe('links', () => {
  it('creates a veth pair that ip sees, with its peer', () => {
    const [a] = ipJson<IpLink & { link: string }>('link', 'show', A);
    assert.ok(a);
    assert.equal(a.link, B);
    const mine = rt.link(A);
    assert.equal(mine.index, a.ifindex);
    assert.equal(mine.kind, 'veth');
    assert.equal(mine.address, a.address);
    assert.equal(mine.link, rt.index(B));
  });

  it('sets MTU, address, down and up; ip reads back the same', () => {
    rt.setLink(A, { mtu: 1400, address: '02:00:00:00:00:01' });
    let [a] = ipJson<IpLink>('link', 'show', A);
    assert.equal(a?.mtu, 1400);
    assert.equal(a?.address, '02:00:00:00:00:01');
    rt.setLink(A, { up: false });
    [a] = ipJson<IpLink>('link', 'show', A);
    assert.ok(!a?.flags.includes('UP'));
    assert.equal(rt.link(A).up, false);
    rt.setLink(A, { up: true, mtu: 1500 });
    [a] = ipJson<IpLink>('link', 'show', A);
    assert.ok(a?.flags.includes('UP'));
    assert.equal(rt.link(A).mtu, 1500);
  });

  it('reads what ip sets, and the dump contains the same links as ip link', () => {
    ip('link', 'set', B, 'mtu', '1280');
    assert.equal(rt.link(B).mtu, 1280);
    ip('link', 'set', B, 'mtu', '1500');
    const names = rt.links().map((l) => `${l.index}:${l.name}`).sort();
    const theirs = ipJson<IpLink>('link', 'show').map((l) => `${l.ifindex}:${l.ifname}`).sort();
    assert.deepEqual(names, theirs);
  });

  it('gives EINVAL with the kernel text for an MTU below the minimum', () => {
    assert.throws(() => rt.setLink(A, { mtu: 20 }), (e) => isNetlinkError(e, 'EINVAL') && /mtu less than device minimum/i.test(e.extack ?? ''));
  });

  it('gives ENODEV for a missing device', () => {
    assert.throws(() => rt.link('nlt-missing'), (e) => isNetlinkError(e, 'ENODEV'));
  });

  // Each kind is created by the library, checked with `ip -d link`, and deleted; kinds the
  // kernel lacks (no module) are skipped. A vti probe needs endpoints: one without them
  // collides with the fallback device ip_vti0.
  const kinds = [
    { kind: 'dummy', probe: [] as string[], spec: () => ({ name: 'nltd0', kind: 'dummy' }) as const },
    { kind: 'vti', probe: ['local', '192.0.2.1', 'remote', '192.0.2.8'], spec: () => ({ name: 'nltv0', kind: 'vti', local: '192.0.2.1', remote: '192.0.2.9', ikey: 5, okey: 6 }) as const },
    { kind: 'xfrm', probe: ['if_id', '9'], spec: () => ({ name: 'nltx0', kind: 'xfrm', ifId: 42, link: rt.index(A) }) as const },
  ];
  for (const k of kinds) {
    it(`adds and deletes a ${k.kind} link`, (t) => {
      if (!canCreate(k.kind, ...k.probe)) return t.skip(`kernel lacks ${k.kind} links`);
      const spec = k.spec();
      const l = rt.addLink(spec);
      const [j] = ipJson<{ linkinfo?: { info_kind: string; info_data?: Record<string, unknown> } }>('-d', 'link', 'show', spec.name);
      assert.equal(l.kind, k.kind);
      assert.equal(j?.linkinfo?.info_kind, k.kind);
      if (spec.kind === 'xfrm') {
        assert.equal(l.ifId, 42);
        // iproute2 prints if_id in hex in its JSON ("0x2a").
        assert.equal(Number(j?.linkinfo?.info_data?.if_id), 42);
      }
      if (spec.kind === 'vti') {
        assert.deepEqual({ local: l.vti?.local, remote: l.vti?.remote, ikey: l.vti?.ikey, okey: l.vti?.okey }, { local: '192.0.2.1', remote: '192.0.2.9', ikey: 5, okey: 6 });
        assert.equal(j?.linkinfo?.info_data?.remote, '192.0.2.9');
      }
      rt.deleteLink(spec.name);
      assert.throws(() => rt.link(spec.name), (e) => isNetlinkError(e, 'ENODEV'));
    });
  }

  it('reports interface statistics (RTM_GETSTATS) that bracket what ip -s reads', () => {
    // An unanswered ARP probe crosses the pair: tx on A, rx on B.
    rt.addNeighbour({ dev: A, dst: '192.0.2.99', state: ['incomplete'] }, { replace: true });
    // Background traffic (ND, MLD, ARP retries) keeps counting: read ours before and after ip's.
    const before = rt.stats(B);
    const [j] = ipJson<{ stats64: { rx: { packets: number; bytes: number }; tx: { packets: number; bytes: number } } }>('-s', 'link', 'show', B);
    const after = rt.stats(B);
    const within = (k: 'rx_packets' | 'rx_bytes' | 'tx_packets' | 'tx_bytes', theirs: number | undefined): void => {
      assert.ok(theirs !== undefined && Number(before[k]) <= theirs && theirs <= Number(after[k]), `${k}: ${before[k]} <= ${theirs} <= ${after[k]}`);
    };
    within('rx_packets', j?.stats64.rx.packets);
    within('rx_bytes', j?.stats64.rx.bytes);
    within('tx_packets', j?.stats64.tx.packets);
    within('tx_bytes', j?.stats64.tx.bytes);
    assert.ok((after.rx_packets ?? 0n) > 0n, 'B received traffic from A');
  });
});

describe('addresses', () => {
  it('adds IPv4 and IPv6 (nodad) addresses that ip shows with the same flags', () => {
    rt.addAddress({ dev: A, address: '198.51.100.1/26' });
    rt.addAddress({ dev: A, address: '2001:db8:1::1/64', flags: ['nodad'] });
    const [j] = ipJson<{ addr_info: IpAddrInfo[] }>('addr', 'show', 'dev', A);
    const v4 = j?.addr_info.find((x) => x.local === '198.51.100.1');
    const v6 = j?.addr_info.find((x) => x.local === '2001:db8:1::1');
    assert.equal(v4?.prefixlen, 26);
    assert.equal(v6?.prefixlen, 64);
    assert.equal(v6?.nodad, true);
    const mine = rt.addresses({ dev: A });
    const m6 = mine.find((x) => x.address === '2001:db8:1::1');
    assert.ok(m6?.flags.includes('NODAD'));
    assert.ok(m6?.flags.includes('PERMANENT'));
    assert.equal(m6?.usable, true);
  });

  it('reads addresses ip adds, identically to ip', () => {
    ip('addr', 'add', '203.0.113.5/28', 'dev', A, 'label', `${A}:x`);
    ip('-6', 'addr', 'add', '2001:db8:2::5/80', 'dev', A, 'nodad');
    const mine = rt.addresses({ dev: A });
    const [j] = ipJson<{ addr_info: (IpAddrInfo & { label?: string })[] }>('addr', 'show', 'dev', A);
    const theirs = (j?.addr_info ?? []).map((x) => `${x.local}/${x.prefixlen}`).sort();
    assert.deepEqual(mine.map((x) => x.prefix).sort(), theirs);
    const x = mine.find((a) => a.address === '203.0.113.5');
    assert.equal(x?.label, `${A}:x`);
    assert.equal(x?.broadcast, undefined);
  });

  it('refuses a duplicate IPv4 address with EEXIST and the kernel text', () => {
    assert.throws(() => rt.addAddress({ dev: A, address: '198.51.100.1/26' }), (e) => {
      assert.ok(isNetlinkError(e, 'EEXIST'));
      assert.equal(e.extack, kernelText(ipError('addr', 'add', '198.51.100.1/26', 'dev', A)));
      return true;
    });
  });

  it('waits until an IPv6 address has passed DAD', () => {
    rt.addAddress({ dev: A, address: '2001:db8:3::1/64' });
    const first = rt.addresses({ dev: A }).find((a) => a.address === '2001:db8:3::1');
    assert.ok(first);
    const t0 = Date.now();
    const a = rt.waitAddressUsable(A, '2001:db8:3::1', 15000);
    assert.equal(a.usable, true);
    assert.ok(!a.flags.includes('TENTATIVE'));
    const [j] = ipJson<{ addr_info: IpAddrInfo[] }>('addr', 'show', 'dev', A);
    assert.equal(j?.addr_info.find((x) => x.local === '2001:db8:3::1')?.tentative, undefined);
    // Either DAD was still running when we looked, or it had finished already.
    assert.ok(first.flags.includes('TENTATIVE') || Date.now() - t0 < 100);
  });

  it('deletes addresses, and ip no longer shows them', () => {
    rt.deleteAddress(A, '203.0.113.5/28');
    rt.deleteAddress(A, '2001:db8:2::5/80');
    const [j] = ipJson<{ addr_info: IpAddrInfo[] }>('addr', 'show', 'dev', A);
    assert.ok(!j?.addr_info.some((x) => x.local === '203.0.113.5' || x.local === '2001:db8:2::5'));
    assert.throws(() => rt.deleteAddress(A, '203.0.113.5/28'), (e) => isNetlinkError(e, 'EADDRNOTAVAIL'));
  });
});

describe('routes', () => {
  it('adds routes in a table with metrics that ip shows identically', () => {
    rt.addRoute({ dst: '198.51.100.128/25', gateway: '192.0.2.2', dev: A, table: 100, metrics: { mtu: 1300, advmss: 1200 }, priority: 7 });
    rt.addRoute({ dst: '203.0.113.0/24', type: 'unreachable', table: 1000 });
    rt.addRoute({ dst: '2001:db8:99::/48', type: 'blackhole', family: 'inet6', table: 1000 });
    const [r] = ipJson<IpRoute>('route', 'show', 'table', '100');
    assert.equal(r?.dst, '198.51.100.128/25');
    assert.equal(r?.gateway, '192.0.2.2');
    assert.equal(r?.dev, A);
    assert.equal(r?.metric, 7);
    assert.deepEqual(r?.metrics, [{ mtu: 1300, advmss: 1200 }]);
    const u = ipJson<IpRoute>('route', 'show', 'table', '1000');
    assert.deepEqual(u.map((x) => [x.type, x.dst]), [['unreachable', '203.0.113.0/24']]);
    const b = ipJson<IpRoute>('-6', 'route', 'show', 'table', '1000');
    assert.deepEqual(b.map((x) => [x.type, x.dst]), [['blackhole', '2001:db8:99::/48']]);
  });

  it('reads routes ip adds, identically', () => {
    ip('route', 'add', 'prohibit', '198.51.100.64/26', 'table', '100', 'proto', 'static');
    ip('-6', 'route', 'add', '2001:db8:5::/64', 'via', '2001:db8:1::2', 'dev', A, 'table', '100', 'metric', '1024', 'mtu', '1400');
    const v4 = rt.routes({ family: 'inet', table: 100 });
    const p = v4.find((x) => x.dst === '198.51.100.64/26');
    assert.equal(p?.type, 'prohibit');
    assert.equal(p?.protocol, 'static');
    assert.equal(p?.table, 100);
    const v6 = rt.routes({ family: 'inet6', table: 100 }).find((x) => x.dst === '2001:db8:5::/64');
    assert.equal(v6?.gateway, '2001:db8:1::2');
    assert.equal(v6?.oif, rt.index(A));
    assert.equal(v6?.priority, 1024);
    assert.equal(v6?.metrics?.mtu, 1400);
    // Same set of destinations as ip, in the same order.
    assert.deepEqual(v4.map((x) => x.dst), ipJson<IpRoute>('route', 'show', 'table', '100').map((x) => (x.dst.includes('/') ? x.dst : `${x.dst}/32`)));
  });

  it('refuses a duplicate route with EEXIST and an unreachable gateway with the kernel text', () => {
    assert.throws(() => rt.addRoute({ dst: '198.51.100.128/25', gateway: '192.0.2.2', dev: A, table: 100, priority: 7 }), (e) => isNetlinkError(e, 'EEXIST'));
    assert.throws(
      () => rt.addRoute({ dst: '198.51.100.0/28', gateway: '203.0.113.77', table: 100 }),
      (e) =>
        isNetlinkError(e, 'ENETUNREACH') &&
        /invalid gateway/i.test(e.extack ?? '') &&
        e.extack === kernelText(ipError('route', 'add', '198.51.100.0/28', 'via', '203.0.113.77', 'table', '100')),
    );
  });

  it('resolves route get with mark, uid and iif through rules', () => {
    rt.addRule({ priority: 1000, fwmark: 0x42, table: 100 });
    rt.addRule({ priority: 1001, uidRange: { start: 4242, end: 4242 }, table: 100 });
    try {
      // Without the mark the main table has no route: the rules are what make it resolve.
      assert.throws(() => rt.getRoute({ to: '198.51.100.129' }), (e) => isNetlinkError(e, 'ENETUNREACH'));
      const marked = rt.getRoute({ to: '198.51.100.129', mark: 0x42, lookupTable: true });
      assert.equal(marked.table, 100);
      assert.equal(marked.gateway, '192.0.2.2');
      assert.equal(marked.mark, 0x42);
      const byUid = rt.getRoute({ to: '198.51.100.129', uid: 4242, lookupTable: true });
      assert.equal(byUid.table, 100);
      assert.equal(byUid.uid, 4242);
      const [j] = ipJson<IpRoute & { uid: number }>('route', 'get', '198.51.100.129', 'uid', '4242');
      assert.equal(j?.gateway, byUid.gateway);
      // iif: a packet arriving on B from a neighbour is a local delivery for 192.0.2.2, and one
      // claiming our own address as source is a martian (EINVAL), as `ip route get` reports.
      const input = rt.getRoute({ to: '192.0.2.2', from: '192.0.2.3', iif: B });
      assert.equal(input.type, 'local');
      assert.equal(input.iif, rt.index(B));
      const [k] = ipJson<IpRoute & { iif: string }>('route', 'get', '192.0.2.2', 'from', '192.0.2.3', 'iif', B);
      assert.deepEqual([k?.type, k?.iif], ['local', B]);
      assert.throws(() => rt.getRoute({ to: '192.0.2.2', from: '192.0.2.1', iif: B }), (e) => isNetlinkError(e, 'EINVAL'));
    } finally {
      rt.deleteRule({ priority: 1000, fwmark: 0x42, table: 100 });
      rt.deleteRule({ priority: 1001, uidRange: { start: 4242, end: 4242 }, table: 100 });
    }
  });

  it('deletes routes; deleting again gives ESRCH', () => {
    rt.deleteRoute({ dst: '203.0.113.0/24', table: 1000 });
    assert.equal(ipJson<IpRoute>('route', 'show', 'table', '1000').length, 0);
    assert.throws(() => rt.deleteRoute({ dst: '203.0.113.0/24', table: 1000 }), (e) => isNetlinkError(e, 'ESRCH'));
  });
});

describe('rules', () => {
  it('adds fwmark, iif/oif, uid range and unreachable rules that ip shows', () => {
    rt.addRule({ priority: 2000, fwmark: 7, fwmask: 0xff, table: 100 });
    rt.addRule({ priority: 2001, iif: A, oif: B, table: 1000 });
    rt.addRule({ priority: 2002, uidRange: { start: 1000, end: 1999 }, table: 100 });
    rt.addRule({ priority: 2003, src: '198.51.100.0/24', action: 'unreachable' });
    const theirs = ipJson<IpRule & { oif?: string; fwmask?: string }>('rule', 'show').filter((r) => r.priority >= 2000 && r.priority < 3000);
    assert.deepEqual(
      theirs.map((r) => [r.priority, r.fwmark, r.fwmask, r.iif, r.oif, r.uid_start === undefined ? undefined : `${r.uid_start}-${r.uid_end}`, r.src, r.action ?? `lookup ${r.table}`]),
      [
        [2000, '0x7', '0xff', undefined, undefined, undefined, 'all', 'lookup 100'],
        [2001, undefined, undefined, A, B, undefined, 'all', 'lookup 1000'],
        [2002, undefined, undefined, undefined, undefined, '1000-1999', 'all', 'lookup 100'],
        [2003, undefined, undefined, undefined, undefined, undefined, '198.51.100.0', 'unreachable'],
      ],
    );
  });

  it('reads rules ip adds, identically', () => {
    ip('rule', 'add', 'priority', '2100', 'from', '192.0.2.0/25', 'to', '203.0.113.0/24', 'tos', '0x10', 'fwmark', '0x9/0xf', 'table', '4000');
    const r = rt.rules('inet').find((x) => x.priority === 2100);
    assert.deepEqual(
      r && { src: r.src, dst: r.dst, tos: r.tos, fwmark: r.fwmark, fwmask: r.fwmask, table: r.table, action: r.action },
      { src: '192.0.2.0/25', dst: '203.0.113.0/24', tos: 0x10, fwmark: 9, fwmask: 0xf, table: 4000, action: 'to_tbl' },
    );
    const mine = rt.rules('inet').map((x) => x.priority ?? 0);
    assert.deepEqual(mine, ipJson<IpRule>('rule', 'show').map((x) => x.priority));
  });

  it('refuses a duplicate rule with EEXIST', () => {
    assert.throws(() => rt.addRule({ priority: 2000, fwmark: 7, fwmask: 0xff, table: 100 }), (e) => isNetlinkError(e, 'EEXIST'));
  });

  it('deletes rules', () => {
    for (const p of [2000, 2001, 2002, 2003, 2100]) rt.deleteRule({ priority: p });
    assert.ok(!rt.rules('inet').some((r) => (r.priority ?? 0) >= 2000 && (r.priority ?? 0) < 3000));
    assert.throws(() => rt.deleteRule({ priority: 2000 }), (e) => isNetlinkError(e, 'ENOENT'));
  });
});

describe('neighbours', () => {
  it('adds, updates and deletes entries that ip sees; reads what ip adds', () => {
    rt.addNeighbour({ dev: A, dst: '192.0.2.50', lladdr: '02:00:00:00:00:50' });
    rt.addNeighbour({ dev: A, dst: '2001:db8:1::50', lladdr: '02:00:00:00:00:51', state: ['stale'] });
    let j = ipJson<IpNeigh>('neigh', 'show', 'dev', A);
    assert.deepEqual(j.find((n) => n.dst === '192.0.2.50')?.state, ['PERMANENT']);
    assert.equal(j.find((n) => n.dst === '2001:db8:1::50')?.lladdr, '02:00:00:00:00:51');
    assert.throws(() => rt.addNeighbour({ dev: A, dst: '192.0.2.50', lladdr: '02:00:00:00:00:50' }), (e) => isNetlinkError(e, 'EEXIST'));
    rt.addNeighbour({ dev: A, dst: '192.0.2.50', lladdr: '02:00:00:00:00:5a', state: ['reachable'] }, { replace: true });
    j = ipJson<IpNeigh>('neigh', 'show', 'dev', A);
    assert.equal(j.find((n) => n.dst === '192.0.2.50')?.lladdr, '02:00:00:00:00:5a');
    ip('neigh', 'add', '192.0.2.60', 'lladdr', '02:00:00:00:00:60', 'dev', A, 'nud', 'noarp');
    const mine = rt.neighbours({ dev: A });
    const n60 = mine.find((n) => n.dst === '192.0.2.60');
    assert.deepEqual([n60?.lladdr, n60?.state], ['02:00:00:00:00:60', ['NOARP']]);
    assert.deepEqual(
      // `ip neigh show` leaves out NOARP entries unless asked for them.
      mine.filter((n) => !n.state.includes('NOARP')).map((n) => n.dst).sort(),
      ipJson<IpNeigh>('neigh', 'show', 'dev', A).map((n) => n.dst).sort(),
    );
    assert.deepEqual(
      mine.filter((n) => n.state.includes('NOARP')).map((n) => n.dst).sort(),
      ipJson<IpNeigh>('neigh', 'show', 'dev', A, 'nud', 'noarp').map((n) => n.dst).sort(),
    );
    rt.deleteNeighbour(A, '192.0.2.60');
    rt.deleteNeighbour(A, '2001:db8:1::50');
    assert.ok(!ipJson<IpNeigh>('neigh', 'show', 'dev', A).some((n) => n.dst === '192.0.2.60'));
  });

  it('delivers state changes as notifications: ip neigh change, and the kernel failing resolution', async () => {
    const watch = openRoute({ groups: [RTNLGRP.NEIGH] });
    try {
      ip('neigh', 'replace', '192.0.2.50', 'lladdr', '02:00:00:00:00:5b', 'dev', A, 'nud', 'stale');
      const e = watch.waitEvent((x) => x.kind === 'neighbour' && x.neighbour.dst === '192.0.2.50', 3000);
      assert.equal(e.kind, 'neighbour');
      if (e.kind === 'neighbour') {
        assert.deepEqual(e.neighbour.state, ['STALE']);
        assert.equal(e.neighbour.lladdr, '02:00:00:00:00:5b');
      }
      // Nobody answers for 192.0.2.77 (B has no such address): the kernel creates an INCOMPLETE
      // entry, probes, and reports FAILED. Shorten the probe interval to keep this quick.
      writeFileSync(`/proc/sys/net/ipv4/neigh/${A}/retrans_time_ms`, '100');
      rt.addRoute({ dst: '192.0.2.77/32', dev: A, table: 'main' });
      const sock = createSocket('udp4');
      await new Promise<void>((res, rej) => sock.send(Buffer.from('x'), 9, '192.0.2.77', (err) => (err ? rej(err) : res())));
      sock.close();
      const failed = watch.waitEvent((x) => x.kind === 'neighbour' && x.neighbour.dst === '192.0.2.77' && x.neighbour.state.includes('FAILED'), 5000);
      assert.equal(failed.kind === 'neighbour' && failed.neighbour.index, rt.index(A));
    } finally {
      watch.close();
    }
  });
});
