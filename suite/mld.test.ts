// IPv6 multicast: MLD on the wire and the socket API that drives it. Facts from net/ipv6/mcast.c:
// - Reports leave from the link-local address with hop limit 1 and a hop-by-hop header holding a
//   router alert (value 0, MLD) and a 0-byte PadN (igmp6_send, mld_newpack). MLDv2 reports go
//   to ff02::16, MLDv1 reports to the group, MLDv1 done messages to ff02::2.
// - An MLDv2 state change is reported idev->mc_qrv times (2) at random intervals below
//   conf/<dev>/mldv2_unsolicited_report_interval; an MLDv1 join sends one report at once and one
//   more below mldv1_unsolicited_report_interval (igmp6_join_group). The fixture shortens both to
//   50 ms; counts are exact, timing is not asserted.
// - force_mld_version 1 forces v1, 2 forces v2 and ignores v1 queries (mld_process_v1), 0 is the
//   default (v2 until an MLDv1 query, 24 bytes, switches the interface to v1 for a while).
// - Sources per group and socket are capped by mld_max_msf (a global sysctl, 64, not visible in a
//   namespace): the 65th is ENOBUFS.
// The kernel's own reports (solicited-node groups) are background noise: the fixture waits until
// MLD is quiet before the first case, and each case reads with skipNoise off.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject, readAll } from '../src/lib/expect.js';
import { udpSocket, type Socket } from '../src/lib/socket.js';
import { K, errnoIs } from '../src/lib/sys/index.js';
import { withSysctl } from '../src/lib/sysctl.js';
import { groupFilter, groupReq, groupSourceReq, mreq6, parseGroupFilter } from '../src/lib/mcast.js';
import { multicastMac, solicitedNode } from '../src/lib/addr.js';
import {
  ICMPV6_MGM_QUERY, ICMPV6_MGM_REDUCTION, ICMPV6_MGM_REPORT, ICMPV6_MLD2_REPORT, MLD2_ALLOW_NEW_SOURCES, MLD2_BLOCK_OLD_SOURCES,
  MLD2_CHANGE_TO_EXCLUDE, MLD2_CHANGE_TO_INCLUDE, MLD2_MODE_IS_EXCLUDE, ether, hopByHop, icmpv6, ipv6, raw, udp, type Layer, type MldRecord,
} from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 2 });

const ALL_NODES = 'ff02::1';
const ALL_ROUTERS = 'ff02::2';
const V2_ROUTERS = 'ff02::16';
const G1 = 'ff05::db8:1';
const G2 = 'ff05::db8:2';
const PORT = 5600;
const INTERVAL = 50;
const QUIET = 250;

const isMld = (p: Layer[]): boolean => p.some((l) => l.type === 'icmpv6' && [130, 131, 132, 143].includes(l.icmpType));
/** Frames of MLD that name `group` (v1 messages, or a v2 record). */
const mentions = (group: string) => (p: Layer[]): boolean =>
  p.some((l) => l.type === 'icmpv6' && (l.mcastAddr === group || (l.records ?? []).some((r) => r.mcastAddr === group)));

/** Wait until MLD has been quiet for `quietMs` (after changes a case does not check on the wire). */
function settle(n: Network, quietMs = QUIET): void {
  for (let i = 0; i < 20 && readAll(n, { timeoutMs: quietMs }).some((a) => isMld(a.packet)); i++);
}

before(() => {
  for (const n of nets.all) {
    nets.sysctl(`net.ipv6.conf.${n.ifname}.mldv2_unsolicited_report_interval`, INTERVAL);
    nets.sysctl(`net.ipv6.conf.${n.ifname}.mldv1_unsolicited_report_interval`, INTERVAL);
  }
  // The setup's own joins (solicited-node groups) were scheduled with the default 1 s interval.
  for (const n of nets.all) settle(n, 1100);
});

const RA = hopByHop({ options: [{ kind: 'routerAlert', value: 0 }, { kind: 'padN', n: 0 }] });

function v2(n: Network, records: MldRecord[]): Layer[] {
  return [ipv6({ src: n.ll6, dst: V2_ROUTERS, hlim: 1 }), RA, icmpv6({ icmpType: ICMPV6_MLD2_REPORT, records })];
}

function v1(n: Network, type: number, group: string): Layer[] {
  return [ipv6({ src: n.ll6, dst: type === ICMPV6_MGM_REDUCTION ? ALL_ROUTERS : group, hlim: 1 }), RA, icmpv6({ icmpType: type, mcastAddr: group })];
}

function rec(recordType: number, mcastAddr: string, sources: string[] = []): MldRecord {
  return { recordType, mcastAddr, sources };
}

/** Exactly `count` copies of the report, then nothing more about the group. */
function expectReports(n: Network, report: Layer[], count: number, group: string): void {
  for (let i = 0; i < count; i++) expectPacket(n, report, { timeoutMs: 2000, skipNoise: false });
  expectNone(n, { timeoutMs: QUIET, skipNoise: false, match: mentions(group) });
}

function join(s: Socket<'inet6'>, n: Network, group: string): void {
  s.setOption(K.SOL_IPV6, K.IPV6_ADD_MEMBERSHIP, mreq6(group, n.ifindex));
}

function leave(s: Socket<'inet6'>, n: Network, group: string): void {
  s.setOption(K.SOL_IPV6, K.IPV6_DROP_MEMBERSHIP, mreq6(group, n.ifindex));
}

/** An MLD query from the router's link-local address: v1 (24 bytes) or v2. */
function query(n: Network, f: { dst?: string; group?: string; v2?: boolean }): void {
  const dst = f.dst ?? ALL_NODES;
  const q = f.v2
    ? icmpv6({ icmpType: ICMPV6_MGM_QUERY, maxDelay: 100, mcastAddr: f.group ?? '::', qrv: 2, qqic: 125, sources: [] })
    : icmpv6({ icmpType: ICMPV6_MGM_QUERY, maxDelay: 100, mcastAddr: f.group ?? '::' });
  inject(n, [ether({ src: n.router.mac, dst: multicastMac(dst) }), ipv6({ src: n.router.ll, dst, hlim: 1 }), RA, q]);
}

function mcastIn(n: Network, from: string, group: string, data: string): void {
  inject(n, [ether({ src: n.router.mac, dst: multicastMac(group) }), ipv6({ src: from, dst: group, hlim: 8 }), udp({ sport: 4000, dport: PORT }), raw(data)]);
}

function received(s: Socket<'inet6'>): string | null {
  try {
    return s.recv({ timeoutMs: 200 }).toString();
  } catch (e) {
    if (errnoIs('EAGAIN')(e)) return null;
    throw e;
  }
}

function bound(opts: { all?: 0 | 1 } = {}): Socket<'inet6'> {
  const s = udpSocket(6);
  s.setOption(K.SOL_SOCKET, K.SO_REUSEADDR, 1);
  if (opts.all !== undefined) s.setOption(K.SOL_IPV6, K.IPV6_MULTICAST_ALL, opts.all);
  s.bind(`[::]:${PORT}`);
  return s;
}

/** Sources on net n's prefix. */
const src = (n: Network, i: number): string => `2001:db8:${n.id}::${(0x100 + i).toString(16)}`;

describe('MLDv2 state-change reports (the default)', () => {
  nets.it('IPV6_ADD_MEMBERSHIP: CHANGE_TO_EXCLUDE {} to ff02::16 twice; IPV6_DROP_MEMBERSHIP: CHANGE_TO_INCLUDE {} twice', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    try {
      join(s, n, G1);
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_EXCLUDE, G1)]), 2, G1);
      assert.throws(() => join(s, n, G1), errnoIs('EADDRINUSE'));
      leave(s, n, G1);
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_INCLUDE, G1)]), 2, G1);
      assert.throws(() => leave(s, n, G1), errnoIs('EADDRNOTAVAIL'));
    } finally {
      s.close();
    }
  });

  nets.it('MCAST_JOIN_SOURCE_GROUP: ALLOW_NEW_SOURCES {S} twice; MCAST_LEAVE_SOURCE_GROUP: BLOCK_OLD_SOURCES {S} twice', () => {
    const n = nets.net(1);
    const S = src(n, 1);
    const s = udpSocket(6);
    try {
      s.setOption(K.SOL_IPV6, K.MCAST_JOIN_SOURCE_GROUP, groupSourceReq(n.ifindex, G1, S));
      expectReports(n, v2(n, [rec(MLD2_ALLOW_NEW_SOURCES, G1, [S])]), 2, G1);
      s.setOption(K.SOL_IPV6, K.MCAST_LEAVE_SOURCE_GROUP, groupSourceReq(n.ifindex, G1, S));
      expectReports(n, v2(n, [rec(MLD2_BLOCK_OLD_SOURCES, G1, [S])]), 2, G1);
    } finally {
      s.close();
    }
  });

  nets.it('MCAST_BLOCK_SOURCE on an EXCLUDE join: BLOCK_OLD_SOURCES {S}; MCAST_UNBLOCK_SOURCE: ALLOW_NEW_SOURCES {S}', () => {
    const n = nets.net(1);
    const S = src(n, 1);
    const s = udpSocket(6);
    try {
      join(s, n, G1);
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_EXCLUDE, G1)]), 2, G1);
      s.setOption(K.SOL_IPV6, K.MCAST_BLOCK_SOURCE, groupSourceReq(n.ifindex, G1, S));
      expectReports(n, v2(n, [rec(MLD2_BLOCK_OLD_SOURCES, G1, [S])]), 2, G1);
      s.setOption(K.SOL_IPV6, K.MCAST_UNBLOCK_SOURCE, groupSourceReq(n.ifindex, G1, S));
      expectReports(n, v2(n, [rec(MLD2_ALLOW_NEW_SOURCES, G1, [S])]), 2, G1);
      leave(s, n, G1);
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_INCLUDE, G1)]), 2, G1);
    } finally {
      s.close();
    }
  });

  nets.it('MCAST_MSFILTER EXCLUDE {} -> INCLUDE {S}: CHANGE_TO_INCLUDE {S}; getsockopt reads the filter back', () => {
    const n = nets.net(1);
    const S = src(n, 1);
    const s = udpSocket(6);
    try {
      join(s, n, G1);
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_EXCLUDE, G1)]), 2, G1);
      s.setOption(K.SOL_IPV6, K.MCAST_MSFILTER, groupFilter(n.ifindex, G1, { fmode: K.MCAST_INCLUDE, sources: [S] }));
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_INCLUDE, G1, [S])]), 2, G1);
      const got = parseGroupFilter(s.getOption(K.SOL_IPV6, K.MCAST_MSFILTER, groupFilter(n.ifindex, G1, { fmode: 0, sources: [], numsrc: 2 })));
      assert.deepEqual(got, { fmode: K.MCAST_INCLUDE, numsrc: 1, sources: [S] });
    } finally {
      s.close();
    }
    expectReports(n, v2(n, [rec(MLD2_BLOCK_OLD_SOURCES, G1, [S])]), 2, G1);
  });

  nets.it('a group-specific MLDv2 query: one MODE_IS_EXCLUDE {} report for that group', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    try {
      s.setOption(K.SOL_IPV6, K.MCAST_JOIN_GROUP, groupReq(n.ifindex, G2));
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_EXCLUDE, G2)]), 2, G2);
      query(n, { dst: G2, group: G2, v2: true });
      expectReports(n, v2(n, [rec(MLD2_MODE_IS_EXCLUDE, G2)]), 1, G2);
      s.setOption(K.SOL_IPV6, K.MCAST_LEAVE_GROUP, groupReq(n.ifindex, G2));
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_INCLUDE, G2)]), 2, G2);
    } finally {
      s.close();
    }
  });

  // mld_send_report walks idev->mc_list, newest group first; ff02::1 and narrower scopes are
  // never reported (MAF_NOREPORT), so the host's own solicited-node group is the only other record.
  nets.it('a general MLDv2 query: one current-state report, MODE_IS_EXCLUDE {} for the group and the solicited-node group', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    try {
      join(s, n, G2);
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_EXCLUDE, G2)]), 2, G2);
      query(n, { v2: true });
      expectReports(n, v2(n, [rec(MLD2_MODE_IS_EXCLUDE, G2), rec(MLD2_MODE_IS_EXCLUDE, solicitedNode(n.addr6))]), 1, G2);
      leave(s, n, G2);
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_INCLUDE, G2)]), 2, G2);
    } finally {
      s.close();
    }
  });

  nets.it('mld_max_msf (64): a socket adds 64 sources to a group, the 65th is ENOBUFS', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    try {
      for (let i = 0; i < 64; i++) s.setOption(K.SOL_IPV6, K.MCAST_JOIN_SOURCE_GROUP, groupSourceReq(n.ifindex, G2, src(n, i)));
      assert.throws(() => s.setOption(K.SOL_IPV6, K.MCAST_JOIN_SOURCE_GROUP, groupSourceReq(n.ifindex, G2, src(n, 64))), errnoIs('ENOBUFS'));
    } finally {
      s.close();
    }
    settle(n);
  });

  nets.it('delivery follows the source filter: INCLUDE {S1} receives from S1, not from S2', () => {
    const n = nets.net(1);
    const [S1, S2] = [src(n, 1), src(n, 2)];
    const s = bound();
    try {
      s.setOption(K.SOL_IPV6, K.MCAST_JOIN_SOURCE_GROUP, groupSourceReq(n.ifindex, G1, S1));
      mcastIn(n, S1, G1, 'from-s1');
      mcastIn(n, S2, G1, 'from-s2');
      assert.equal(received(s), 'from-s1');
      assert.equal(received(s), null);
    } finally {
      s.close();
    }
    settle(n);
  });
});

describe('MLDv1: force_mld_version and compatibility mode', () => {
  nets.it('force_mld_version=1: an MLDv1 report to the group twice; the leave sends one done to ff02::2', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    try {
      withSysctl({ [`net.ipv6.conf.${n.ifname}.force_mld_version`]: 1 }, () => {
        join(s, n, G1);
        expectReports(n, v1(n, ICMPV6_MGM_REPORT, G1), 2, G1);
        leave(s, n, G1);
        expectReports(n, v1(n, ICMPV6_MGM_REDUCTION, G1), 1, G1);
      });
    } finally {
      s.close();
    }
  });

  // RFC 2710 §4: only the last reporter sends a done; another node's report clears
  // MAF_LAST_REPORTER (__mld_report_work).
  nets.it('force_mld_version=1: after another node\'s MLDv1 report for the group, the leave sends no done', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    try {
      withSysctl({ [`net.ipv6.conf.${n.ifname}.force_mld_version`]: 1 }, () => {
        join(s, n, G1);
        expectPacket(n, v1(n, ICMPV6_MGM_REPORT, G1), { timeoutMs: 2000, skipNoise: false });
        inject(n, [ether({ src: n.router.mac, dst: multicastMac(G1) }), ipv6({ src: n.router.ll, dst: G1, hlim: 1 }), RA, icmpv6({ icmpType: ICMPV6_MGM_REPORT, mcastAddr: G1 })]);
        settle(n);
        leave(s, n, G1);
        expectNone(n, { timeoutMs: QUIET, skipNoise: false, match: mentions(G1) });
      });
    } finally {
      s.close();
    }
  });

  nets.it('force_mld_version=2 and 0: MLDv2 reports', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    try {
      for (const v of [2, 0]) {
        withSysctl({ [`net.ipv6.conf.${n.ifname}.force_mld_version`]: v }, () => {
          join(s, n, G1);
          expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_EXCLUDE, G1)]), 2, G1);
          leave(s, n, G1);
          expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_INCLUDE, G1)]), 2, G1);
        });
      }
    } finally {
      s.close();
    }
  });

  nets.it('force_mld_version=2 ignores an MLDv1 query: no answer, and joins stay MLDv2', () => {
    const n = nets.net(2);
    const s = udpSocket(6);
    try {
      withSysctl({ [`net.ipv6.conf.${n.ifname}.force_mld_version`]: 2 }, () => {
        join(s, n, G1);
        expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_EXCLUDE, G1)]), 2, G1);
        query(n, {});
        expectNone(n, { timeoutMs: QUIET, skipNoise: false, match: mentions(G1) });
        join(s, n, G2);
        expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_EXCLUDE, G2)]), 2, G2);
        leave(s, n, G2);
        expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_INCLUDE, G2)]), 2, G2);
        leave(s, n, G1);
        expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_INCLUDE, G1)]), 2, G1);
      });
    } finally {
      s.close();
    }
  });

  nets.it('an MLDv1 query (24 bytes): an MLDv1 report for the joined group, then MLDv1 reports and a done for later changes', () => {
    const n = nets.net(2);
    const s = udpSocket(6);
    try {
      join(s, n, G1);
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_EXCLUDE, G1)]), 2, G1);
      query(n, {});
      expectReports(n, v1(n, ICMPV6_MGM_REPORT, G1), 1, G1);
      join(s, n, G2);
      expectReports(n, v1(n, ICMPV6_MGM_REPORT, G2), 2, G2);
      leave(s, n, G2);
      expectReports(n, v1(n, ICMPV6_MGM_REDUCTION, G2), 1, G2);
    } finally {
      s.close();
    }
    settle(n);
  });
});

describe('sending to a group', () => {
  const out = (n: Network, s: Socket<'inet6'>, hlim: number, data: string): Layer[] =>
    [ipv6({ src: n.addr6, dst: G1, hlim }), udp({ sport: s.localAddress().port, dport: PORT }), raw(data)];

  function sender(n: Network): Socket<'inet6'> {
    const s = udpSocket(6);
    s.setOption(K.SOL_IPV6, K.IPV6_MULTICAST_IF, n.ifindex);
    s.bind('[::]:0');
    return s;
  }

  const isUdp = (p: Layer[]): boolean => p.some((l) => l.type === 'udp');

  nets.it('IPV6_MULTICAST_HOPS: 1 by default; 255; -1 restores 1; 256 and -2 are EINVAL', () => {
    const n = nets.net(1);
    const s = sender(n);
    try {
      assert.equal(s.getIntOption(K.SOL_IPV6, K.IPV6_MULTICAST_HOPS), 1);
      s.sendTo(Buffer.from('hops-default'), `[${G1}]:${PORT}`);
      expectPacket(n, out(n, s, 1, 'hops-default'));
      s.setOption(K.SOL_IPV6, K.IPV6_MULTICAST_HOPS, 255);
      s.sendTo(Buffer.from('hops-255'), `[${G1}]:${PORT}`);
      expectPacket(n, out(n, s, 255, 'hops-255'));
      s.setOption(K.SOL_IPV6, K.IPV6_MULTICAST_HOPS, -1);
      assert.equal(s.getIntOption(K.SOL_IPV6, K.IPV6_MULTICAST_HOPS), 1);
      assert.throws(() => s.setOption(K.SOL_IPV6, K.IPV6_MULTICAST_HOPS, 256), errnoIs('EINVAL'));
      assert.throws(() => s.setOption(K.SOL_IPV6, K.IPV6_MULTICAST_HOPS, -2), errnoIs('EINVAL'));
    } finally {
      s.close();
    }
  });

  // ip6_finish_output2 drops hop limit 0 only on the path that loops a copy back (loop on and a
  // member on the interface): with no member the datagram leaves with hop limit 0.
  nets.it('IPV6_MULTICAST_HOPS 0: with a local member the datagram is looped back and kept off the wire; with none it leaves with hop limit 0', () => {
    const n = nets.net(1);
    const s = sender(n);
    const member = bound();
    try {
      s.setOption(K.SOL_IPV6, K.IPV6_MULTICAST_HOPS, 0);
      s.sendTo(Buffer.from('hops0-alone'), `[${G1}]:${PORT}`);
      expectPacket(n, out(n, s, 0, 'hops0-alone'));
      join(member, n, G1);
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_EXCLUDE, G1)]), 2, G1);
      s.sendTo(Buffer.from('hops0-member'), `[${G1}]:${PORT}`);
      assert.equal(received(member), 'hops0-member');
      expectNone(n, { match: isUdp });
    } finally {
      s.close();
      member.close();
    }
    expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_INCLUDE, G1)]), 2, G1);
  });

  nets.it('IPV6_MULTICAST_LOOP: a local member receives our datagram by default (1), not with 0; the wire gets it either way', () => {
    const n = nets.net(1);
    const s = sender(n);
    const member = bound();
    try {
      join(member, n, G1);
      expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_EXCLUDE, G1)]), 2, G1);
      assert.equal(s.getIntOption(K.SOL_IPV6, K.IPV6_MULTICAST_LOOP), 1);
      s.sendTo(Buffer.from('loop-on'), `[${G1}]:${PORT}`);
      expectPacket(n, out(n, s, 1, 'loop-on'));
      assert.equal(received(member), 'loop-on');
      s.setOption(K.SOL_IPV6, K.IPV6_MULTICAST_LOOP, 0);
      s.sendTo(Buffer.from('loop-off'), `[${G1}]:${PORT}`);
      expectPacket(n, out(n, s, 1, 'loop-off'));
      assert.equal(received(member), null);
      assert.throws(() => s.setOption(K.SOL_IPV6, K.IPV6_MULTICAST_LOOP, 2), errnoIs('EINVAL'));
    } finally {
      s.close();
      member.close();
    }
    expectReports(n, v2(n, [rec(MLD2_CHANGE_TO_INCLUDE, G1)]), 2, G1);
  });

  nets.it('IPV6_MULTICAST_IF by index picks net2; nothing leaves on net1; an unknown index is ENODEV', () => {
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const s = sender(n2);
    try {
      assert.equal(s.getIntOption(K.SOL_IPV6, K.IPV6_MULTICAST_IF), n2.ifindex);
      s.sendTo(Buffer.from('by-index'), `[${G1}]:${PORT}`);
      expectPacket(n2, out(n2, s, 1, 'by-index'));
      expectNone(n1, { timeoutMs: 100, match: isUdp });
      assert.throws(() => s.setOption(K.SOL_IPV6, K.IPV6_MULTICAST_IF, 9999), errnoIs('ENODEV'));
    } finally {
      s.close();
    }
  });
});

describe('receiving from a group', () => {
  // Unlike IPv4 (ip_mc_sf_allow compares the interface), inet6_mc_check matches a socket's
  // membership by group address only: a socket that joined on net2 accepts the group from net1.
  nets.it('IPV6_MULTICAST_ALL=1 (default): a socket on the port that joined nothing receives; with 0 it does not, but one that joined the group on another network still does', () => {
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const member = bound();
    const [idle, elsewhere] = [bound(), bound()];
    const [idle0, elsewhere0] = [bound({ all: 0 }), bound({ all: 0 })];
    try {
      assert.equal(idle.getIntOption(K.SOL_IPV6, K.IPV6_MULTICAST_ALL), 1);
      join(member, n1, G1);
      join(elsewhere, n2, G1);
      join(elsewhere0, n2, G1);
      mcastIn(n1, src(n1, 1), G1, 'to-all');
      assert.equal(received(member), 'to-all');
      assert.equal(received(idle), 'to-all');
      assert.equal(received(elsewhere), 'to-all');
      assert.equal(received(idle0), null);
      assert.equal(received(elsewhere0), 'to-all');
      mcastIn(n1, src(n1, 1), G2, 'not-joined');
      assert.equal(received(idle), null);
    } finally {
      for (const x of [member, idle, elsewhere, idle0, elsewhere0]) x.close();
    }
    settle(n1);
    settle(n2);
  });
});
