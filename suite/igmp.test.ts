// IPv4 multicast: IGMP on the wire and the socket API that drives it. Facts from net/ipv4/igmp.c:
// - Reports (igmp_send_report, igmpv3_newpack) have TOS 0xc0, TTL 1, DF, IP id 0 (DF and no
//   socket: ip_select_ident_segs) and a router alert option. v3 reports go to 224.0.0.22, v1/v2
//   reports to the group, v2 leaves to 224.0.0.2; v1 has no leave.
// - A v3 state change (join, leave, source or filter-mode change) is reported robustness-variable
//   times (in_dev->mr_qrv, 2 by default, then the last query's QRV) at random intervals below
//   conf/<dev>/igmpv3_unsolicited_report_interval; v1/v2 unsolicited reports likewise with
//   igmpv2_unsolicited_report_interval. The fixture shortens both to 50 ms so either time mode
//   sees the repeats quickly; counts are exact, timing is not asserted.
// - A v1 query (8 bytes, code 0) or v2 query (8 bytes, code != 0) switches the interface into
//   that version's compatibility mode for qrv * qi + qri (260 s): each such case has a network
//   of its own. force_igmp_version 1/2 forces the version; 3 forces nothing (v2/v1 queries still
//   switch), 0 is the default.
// - Memberships per socket are capped by igmp_max_memberships, sources per group by igmp_max_msf
//   (ENOBUFS past the limit).
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject, readAll } from '../src/lib/expect.js';
import { udpSocket, type Socket } from '../src/lib/socket.js';
import { K, errnoIs } from '../src/lib/sys/index.js';
import { withSysctl } from '../src/lib/sysctl.js';
import { groupFilter, groupReq, groupSourceReq, ipMsfilter, mreqn, mreqSource, parseGroupFilter, parseIpMsfilter } from '../src/lib/mcast.js';
import { ip4ToBytes, multicastMac } from '../src/lib/addr.js';
import {
  IGMP_HOST_LEAVE_MESSAGE, IGMP_HOST_MEMBERSHIP_QUERY, IGMP_HOST_MEMBERSHIP_REPORT, IGMPV2_HOST_MEMBERSHIP_REPORT, IGMPV3_ALLOW_NEW_SOURCES,
  IGMPV3_BLOCK_OLD_SOURCES, IGMPV3_CHANGE_TO_EXCLUDE, IGMPV3_CHANGE_TO_INCLUDE, IGMPV3_HOST_MEMBERSHIP_REPORT, IGMPV3_MODE_IS_EXCLUDE,
  IGMPV3_MODE_IS_INCLUDE, ether, igmp, ipv4, raw, udp, type IgmpRecord, type Layer,
} from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 4 });

const ALL_HOSTS = '224.0.0.1';
const ALL_ROUTERS = '224.0.0.2';
const V3_ROUTERS = '224.0.0.22';
const G1 = '239.0.2.1';
const G2 = '239.0.2.2';
const PORT = 5500;
/** Interval sysctls (ms) the fixture sets: random delays below this between repeats. */
const INTERVAL = 50;
/** Quiet period that proves no further repeat comes (several intervals). */
const QUIET = 250;

before(() => {
  for (const n of nets.all) {
    nets.sysctl(`net.ipv4.conf.${n.ifname}.igmpv3_unsolicited_report_interval`, INTERVAL);
    nets.sysctl(`net.ipv4.conf.${n.ifname}.igmpv2_unsolicited_report_interval`, INTERVAL);
  }
});

/** A second and third host on net N's subnet, as multicast sources. */
function src(n: Network, i: number): string {
  const b = ip4ToBytes(n.addr4);
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]! + 8 + i}`;
}

const isIgmp = (p: Layer[]): boolean => p.some((l) => l.type === 'igmp');

/** The IP header of every report the kernel sends from net n to dst. */
function reportIp(n: Network, dst: string): Layer {
  return ipv4({ src: n.addr4, dst, tos: 0xc0, ttl: 1, df: true, id: 0, options: [{ kind: 'routerAlert', value: 0 }] });
}

function v3(n: Network, records: IgmpRecord[]): Layer[] {
  return [reportIp(n, V3_ROUTERS), igmp({ igmpType: IGMPV3_HOST_MEMBERSHIP_REPORT, records })];
}

function rec(recordType: number, group: string, sources: string[] = []): IgmpRecord {
  return { recordType, group, sources };
}

/** Exactly `count` copies of the report, then nothing more from IGMP. */
function expectReports(n: Network, report: Layer[], count: number): void {
  for (let i = 0; i < count; i++) expectPacket(n, report, { timeoutMs: 2000 });
  expectNone(n, { timeoutMs: QUIET, match: isIgmp });
}

/** Wait until IGMP has been quiet for QUIET ms (after changes a case does not check on the wire). */
function settle(n: Network): void {
  for (let i = 0; i < 20 && readAll(n, { timeoutMs: QUIET }).some((a) => isIgmp(a.packet)); i++);
}

function sock(): Socket<'inet'> {
  return udpSocket(4);
}

function join(s: Socket<'inet'>, n: Network, group: string): void {
  s.setOption(K.SOL_IP, K.IP_ADD_MEMBERSHIP, mreqn(group, { ifindex: n.ifindex }));
}

function leave(s: Socket<'inet'>, n: Network, group: string): void {
  s.setOption(K.SOL_IP, K.IP_DROP_MEMBERSHIP, mreqn(group, { ifindex: n.ifindex }));
}

/** A query from the router: v1 (code 0), v2 (8 bytes), or v3 (with `v3`). */
function query(n: Network, f: { dst?: string; code: number; group?: string; v3?: { qrv?: number; sources?: string[] } }): void {
  const dst = f.dst ?? ALL_HOSTS;
  const q = f.v3
    ? igmp({ igmpType: IGMP_HOST_MEMBERSHIP_QUERY, code: f.code, group: f.group ?? '0.0.0.0', qrv: f.v3.qrv ?? 2, qqic: 125, sources: f.v3.sources ?? [] })
    : igmp({ igmpType: IGMP_HOST_MEMBERSHIP_QUERY, code: f.code, group: f.group ?? '0.0.0.0' });
  inject(n, [ether({ src: n.router.mac, dst: multicastMac(dst) }), ipv4({ src: n.router.ip4, dst, ttl: 1, tos: 0xc0, options: [{ kind: 'routerAlert', value: 0 }] }), q]);
}

/** A UDP datagram from `from` to the group arriving on net n. */
function mcastIn(n: Network, from: string, group: string, data: string): void {
  inject(n, [ether({ src: n.router.mac, dst: multicastMac(group) }), ipv4({ src: from, dst: group, ttl: 8 }), udp({ sport: 4000, dport: PORT }), raw(data)]);
}

function received(s: Socket<'inet'>): string | null {
  try {
    return s.recv({ timeoutMs: 200 }).toString();
  } catch (e) {
    if (errnoIs('EAGAIN')(e)) return null;
    throw e;
  }
}

function bound(opts: { all?: 0 | 1 } = {}): Socket<'inet'> {
  const s = sock();
  s.setOption(K.SOL_SOCKET, K.SO_REUSEADDR, 1);
  if (opts.all !== undefined) s.setOption(K.SOL_IP, K.IP_MULTICAST_ALL, opts.all);
  s.bind(`0.0.0.0:${PORT}`);
  return s;
}

describe('IGMPv3 state-change reports (the default)', () => {
  nets.it('IP_ADD_MEMBERSHIP: CHANGE_TO_EXCLUDE {} for the group, to 224.0.0.22, exactly twice (robustness variable 2)', () => {
    const n = nets.net(1);
    const s = sock();
    try {
      join(s, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
    } finally {
      s.close();
    }
    expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
  });

  nets.it('IP_DROP_MEMBERSHIP: CHANGE_TO_INCLUDE {} twice; dropping it again is EADDRNOTAVAIL', () => {
    const n = nets.net(1);
    const s = sock();
    try {
      join(s, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
      leave(s, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
      assert.throws(() => leave(s, n, G1), errnoIs('EADDRNOTAVAIL'));
    } finally {
      s.close();
    }
  });

  nets.it('a second socket joining the same group sends nothing; only the last leave reports', () => {
    const n = nets.net(1);
    const [a, b] = [sock(), sock()];
    try {
      join(a, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
      join(b, n, G1);
      expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      assert.throws(() => join(b, n, G1), errnoIs('EADDRINUSE'));
      leave(a, n, G1);
      expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      leave(b, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
    } finally {
      a.close();
      b.close();
    }
  });

  nets.it('MCAST_JOIN_GROUP / MCAST_LEAVE_GROUP (group_req) report like IP_ADD/DROP_MEMBERSHIP', () => {
    const n = nets.net(1);
    const s = sock();
    try {
      s.setOption(K.SOL_IP, K.MCAST_JOIN_GROUP, groupReq(n.ifindex, G2));
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G2)]), 2);
      s.setOption(K.SOL_IP, K.MCAST_LEAVE_GROUP, groupReq(n.ifindex, G2));
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G2)]), 2);
    } finally {
      s.close();
    }
  });

  nets.it('a link-local group (224.0.0.251) is reported while igmp_link_local_mcast_reports=1 (default), not with 0', () => {
    const n = nets.net(1);
    const LL = '224.0.0.251';
    const s = sock();
    try {
      join(s, n, LL);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, LL)]), 2);
      leave(s, n, LL);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, LL)]), 2);
      withSysctl({ 'net.ipv4.igmp_link_local_mcast_reports': 0 }, () => {
        join(s, n, LL);
        expectNone(n, { timeoutMs: QUIET, match: isIgmp });
        leave(s, n, LL);
        expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      });
    } finally {
      s.close();
    }
  });
});

describe('IGMPv3 source filters', () => {
  nets.it('IP_ADD_SOURCE_MEMBERSHIP (INCLUDE): ALLOW_NEW_SOURCES {S} twice; dropping the last source: BLOCK_OLD_SOURCES {S} twice', () => {
    const n = nets.net(1);
    const S = src(n, 1);
    const s = sock();
    try {
      s.setOption(K.SOL_IP, K.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(G1, n.addr4, S));
      expectReports(n, v3(n, [rec(IGMPV3_ALLOW_NEW_SOURCES, G1, [S])]), 2);
      s.setOption(K.SOL_IP, K.IP_DROP_SOURCE_MEMBERSHIP, mreqSource(G1, n.addr4, S));
      expectReports(n, v3(n, [rec(IGMPV3_BLOCK_OLD_SOURCES, G1, [S])]), 2);
    } finally {
      s.close();
    }
  });

  nets.it('MCAST_JOIN_SOURCE_GROUP then a second source: ALLOW_NEW_SOURCES of the new source only', () => {
    const n = nets.net(1);
    const [S1, S2] = [src(n, 1), src(n, 2)];
    const s = sock();
    try {
      s.setOption(K.SOL_IP, K.MCAST_JOIN_SOURCE_GROUP, groupSourceReq(n.ifindex, G1, S1));
      expectReports(n, v3(n, [rec(IGMPV3_ALLOW_NEW_SOURCES, G1, [S1])]), 2);
      s.setOption(K.SOL_IP, K.MCAST_JOIN_SOURCE_GROUP, groupSourceReq(n.ifindex, G1, S2));
      expectReports(n, v3(n, [rec(IGMPV3_ALLOW_NEW_SOURCES, G1, [S2])]), 2);
      assert.throws(() => s.setOption(K.SOL_IP, K.MCAST_JOIN_SOURCE_GROUP, groupSourceReq(n.ifindex, G1, S2)), errnoIs('EADDRNOTAVAIL'));
    } finally {
      s.close();
    }
    // Deleted sources are listed last-deleted first: ip_mc_del1_src pushes each onto the tomb list.
    expectReports(n, v3(n, [rec(IGMPV3_BLOCK_OLD_SOURCES, G1, [S2, S1])]), 2);
  });

  nets.it('IP_BLOCK_SOURCE on an EXCLUDE join: BLOCK_OLD_SOURCES {S}; IP_UNBLOCK_SOURCE: ALLOW_NEW_SOURCES {S}', () => {
    const n = nets.net(1);
    const S = src(n, 1);
    const s = sock();
    try {
      join(s, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
      s.setOption(K.SOL_IP, K.IP_BLOCK_SOURCE, mreqSource(G1, n.addr4, S));
      expectReports(n, v3(n, [rec(IGMPV3_BLOCK_OLD_SOURCES, G1, [S])]), 2);
      s.setOption(K.SOL_IP, K.IP_UNBLOCK_SOURCE, mreqSource(G1, n.addr4, S));
      expectReports(n, v3(n, [rec(IGMPV3_ALLOW_NEW_SOURCES, G1, [S])]), 2);
      leave(s, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
    } finally {
      s.close();
    }
  });

  nets.it('IP_MSFILTER EXCLUDE {} -> INCLUDE {S1,S2}: CHANGE_TO_INCLUDE {S1,S2}; getsockopt reads the filter back', () => {
    const n = nets.net(1);
    const [S1, S2] = [src(n, 1), src(n, 2)];
    const s = sock();
    try {
      join(s, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
      s.setOption(K.SOL_IP, K.IP_MSFILTER, ipMsfilter(G1, n.addr4, { fmode: K.MCAST_INCLUDE, sources: [S1, S2] }));
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1, [S1, S2])]), 2);
      const got = parseIpMsfilter(s.getOption(K.SOL_IP, K.IP_MSFILTER, ipMsfilter(G1, n.addr4, { fmode: 0, sources: [], numsrc: 4 })));
      assert.deepEqual(got, { fmode: K.MCAST_INCLUDE, numsrc: 2, sources: [S1, S2] });
      const gf = parseGroupFilter(s.getOption(K.SOL_IP, K.MCAST_MSFILTER, groupFilter(n.ifindex, G1, { fmode: 0, sources: [], numsrc: 4 })));
      assert.deepEqual(gf, { fmode: K.MCAST_INCLUDE, numsrc: 2, sources: [S1, S2] });
    } finally {
      s.close();
    }
    expectReports(n, v3(n, [rec(IGMPV3_BLOCK_OLD_SOURCES, G1, [S2, S1])]), 2);
  });

  nets.it('MCAST_MSFILTER INCLUDE {S1} -> EXCLUDE {S2}: CHANGE_TO_EXCLUDE {S2}', () => {
    const n = nets.net(1);
    const [S1, S2] = [src(n, 1), src(n, 2)];
    const s = sock();
    try {
      s.setOption(K.SOL_IP, K.MCAST_JOIN_SOURCE_GROUP, groupSourceReq(n.ifindex, G1, S1));
      expectReports(n, v3(n, [rec(IGMPV3_ALLOW_NEW_SOURCES, G1, [S1])]), 2);
      s.setOption(K.SOL_IP, K.MCAST_MSFILTER, groupFilter(n.ifindex, G1, { fmode: K.MCAST_EXCLUDE, sources: [S2] }));
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1, [S2])]), 2);
    } finally {
      s.close();
    }
    expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
  });

  nets.it('delivery follows the source filter: INCLUDE {S1} gets S1 only, EXCLUDE {S1} gets S2 only', () => {
    const n = nets.net(1);
    const [S1, S2] = [src(n, 1), src(n, 2)];
    const s = bound();
    try {
      s.setOption(K.SOL_IP, K.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(G1, n.addr4, S1));
      mcastIn(n, S1, G1, 'inc-s1');
      mcastIn(n, S2, G1, 'inc-s2');
      assert.equal(received(s), 'inc-s1');
      assert.equal(received(s), null);
      s.setOption(K.SOL_IP, K.IP_MSFILTER, ipMsfilter(G1, n.addr4, { fmode: K.MCAST_EXCLUDE, sources: [S1] }));
      mcastIn(n, S1, G1, 'exc-s1');
      mcastIn(n, S2, G1, 'exc-s2');
      assert.equal(received(s), 'exc-s2');
      assert.equal(received(s), null);
    } finally {
      s.close();
    }
    settle(n);
  });
});

describe('limits', () => {
  nets.it('igmp_max_memberships=3: a socket joins 2 and 3 groups, the 4th is ENOBUFS; another socket still joins', () => {
    const n = nets.net(1);
    const [a, b] = [sock(), sock()];
    try {
      withSysctl({ 'net.ipv4.igmp_max_memberships': 3 }, () => {
        join(a, n, '239.0.3.1');
        join(a, n, '239.0.3.2');
        join(a, n, '239.0.3.3');
        assert.throws(() => join(a, n, '239.0.3.4'), errnoIs('ENOBUFS'));
        join(b, n, '239.0.3.4');
      });
    } finally {
      a.close();
      b.close();
    }
    settle(n);
  });

  nets.it('igmp_max_msf=3: 3 sources per group, the 4th is ENOBUFS; IP_MSFILTER with 3 sources works, with 4 is ENOBUFS', () => {
    const n = nets.net(1);
    const s = sock();
    const S = [1, 2, 3, 4].map((i) => src(n, i));
    try {
      withSysctl({ 'net.ipv4.igmp_max_msf': 3 }, () => {
        for (const x of S.slice(0, 3)) s.setOption(K.SOL_IP, K.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(G2, n.addr4, x));
        assert.throws(() => s.setOption(K.SOL_IP, K.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(G2, n.addr4, S[3]!)), errnoIs('ENOBUFS'));
        s.setOption(K.SOL_IP, K.IP_MSFILTER, ipMsfilter(G2, n.addr4, { fmode: K.MCAST_INCLUDE, sources: S.slice(1, 4) }));
        assert.throws(() => s.setOption(K.SOL_IP, K.IP_MSFILTER, ipMsfilter(G2, n.addr4, { fmode: K.MCAST_INCLUDE, sources: S })), errnoIs('ENOBUFS'));
      });
    } finally {
      s.close();
    }
    settle(n);
  });
});

describe('IGMPv3 queries', () => {
  nets.it('a general query: one current-state report, MODE_IS_EXCLUDE {} for each joined group', () => {
    const n = nets.net(1);
    const s = sock();
    try {
      join(s, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
      query(n, { code: 1, v3: {} });
      expectReports(n, v3(n, [rec(IGMPV3_MODE_IS_EXCLUDE, G1)]), 1);
      leave(s, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
    } finally {
      s.close();
    }
  });

  nets.it('a group-specific query: a report for that group only; a query for a group not joined: nothing', () => {
    const n = nets.net(1);
    const [a, b] = [sock(), sock()];
    try {
      join(a, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
      b.setOption(K.SOL_IP, K.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(G2, n.addr4, src(n, 1)));
      expectReports(n, v3(n, [rec(IGMPV3_ALLOW_NEW_SOURCES, G2, [src(n, 1)])]), 2);
      query(n, { dst: G2, code: 1, group: G2, v3: {} });
      expectReports(n, v3(n, [rec(IGMPV3_MODE_IS_INCLUDE, G2, [src(n, 1)])]), 1);
      query(n, { dst: '239.0.2.9', code: 1, group: '239.0.2.9', v3: {} });
      expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      leave(a, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
    } finally {
      a.close();
      b.close();
    }
    expectReports(n, v3(n, [rec(IGMPV3_BLOCK_OLD_SOURCES, G2, [src(n, 1)])]), 2);
  });

  nets.it('a group-and-source query for {S1,S2} of an INCLUDE {S1} group: MODE_IS_INCLUDE {S1}', () => {
    const n = nets.net(1);
    const [S1, S2] = [src(n, 1), src(n, 2)];
    const s = sock();
    try {
      s.setOption(K.SOL_IP, K.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(G1, n.addr4, S1));
      expectReports(n, v3(n, [rec(IGMPV3_ALLOW_NEW_SOURCES, G1, [S1])]), 2);
      query(n, { dst: G1, code: 1, group: G1, v3: { sources: [S1, S2] } });
      expectReports(n, v3(n, [rec(IGMPV3_MODE_IS_INCLUDE, G1, [S1])]), 1);
    } finally {
      s.close();
    }
    expectReports(n, v3(n, [rec(IGMPV3_BLOCK_OLD_SOURCES, G1, [S1])]), 2);
  });

  nets.it('a query\'s QRV becomes the robustness variable: QRV 3 -> three reports per change; QRV 0 -> igmp_qrv (2)', () => {
    const n = nets.net(1);
    const s = sock();
    try {
      query(n, { code: 1, v3: { qrv: 3 } });
      expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      join(s, n, G2);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G2)]), 3);
      leave(s, n, G2);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G2)]), 3);
      query(n, { code: 1, v3: { qrv: 0 } });
      expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      join(s, n, G2);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G2)]), 2);
    } finally {
      s.close();
    }
    expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G2)]), 2);
  });
});

describe('older versions: force_igmp_version and compatibility mode', () => {
  const v2report = (n: Network, g: string): Layer[] => [reportIp(n, g), igmp({ igmpType: IGMPV2_HOST_MEMBERSHIP_REPORT, group: g })];
  const v1report = (n: Network, g: string): Layer[] => [reportIp(n, g), igmp({ igmpType: IGMP_HOST_MEMBERSHIP_REPORT, group: g })];
  const v2leave = (n: Network, g: string): Layer[] => [reportIp(n, ALL_ROUTERS), igmp({ igmpType: IGMP_HOST_LEAVE_MESSAGE, group: g })];

  nets.it('force_igmp_version=2: two v2 reports to the group; the leave goes once to 224.0.0.2', () => {
    const n = nets.net(2);
    const s = sock();
    try {
      withSysctl({ [`net.ipv4.conf.${n.ifname}.force_igmp_version`]: 2 }, () => {
        join(s, n, G1);
        expectReports(n, v2report(n, G1), 2);
        leave(s, n, G1);
        expectReports(n, v2leave(n, G1), 1);
      });
    } finally {
      s.close();
    }
  });

  // RFC 2236 §3: only the host that reported last sends a leave. Hearing another host's report
  // stops the group timer and clears im->reporter (igmp_heard_report, igmp_stop_timer).
  nets.it('force_igmp_version=2: after another host\'s v2 report for the group, the leave is not sent', () => {
    const n = nets.net(2);
    const s = sock();
    try {
      withSysctl({ [`net.ipv4.conf.${n.ifname}.force_igmp_version`]: 2 }, () => {
        join(s, n, G1);
        expectPacket(n, v2report(n, G1), { timeoutMs: 2000 });
        inject(n, [ether({ src: n.router.mac, dst: multicastMac(G1) }), ipv4({ src: src(n, 1), dst: G1, ttl: 1, tos: 0xc0, options: [{ kind: 'routerAlert', value: 0 }] }),
          igmp({ igmpType: IGMPV2_HOST_MEMBERSHIP_REPORT, group: G1 })]);
        settle(n);
        leave(s, n, G1);
        expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      });
    } finally {
      s.close();
    }
  });

  nets.it('force_igmp_version=1: two v1 reports to the group; no leave message', () => {
    const n = nets.net(2);
    const s = sock();
    try {
      withSysctl({ [`net.ipv4.conf.${n.ifname}.force_igmp_version`]: 1 }, () => {
        join(s, n, G1);
        expectReports(n, v1report(n, G1), 2);
        leave(s, n, G1);
        expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      });
    } finally {
      s.close();
    }
  });

  nets.it('force_igmp_version=3 and 0: v3 reports', () => {
    const n = nets.net(2);
    const s = sock();
    try {
      for (const v of [3, 0]) {
        withSysctl({ [`net.ipv4.conf.${n.ifname}.force_igmp_version`]: v }, () => {
          join(s, n, G1);
          expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
          leave(s, n, G1);
          expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
        });
      }
    } finally {
      s.close();
    }
  });

  nets.it('a v2 query (8 bytes, code 1): a v2 report for the joined group, then v2 reports and a v2 leave for later changes; v3 and group-specific v2 queries answered in v2', () => {
    const n = nets.net(3);
    const s = sock();
    try {
      join(s, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
      query(n, { code: 1 });
      expectReports(n, v2report(n, G1), 1);
      join(s, n, G2);
      expectReports(n, v2report(n, G2), 2);
      leave(s, n, G2);
      expectReports(n, v2leave(n, G2), 1);
      // A v3 query does not end v2 mode; it is answered with a v2 report.
      query(n, { code: 1, v3: {} });
      expectReports(n, v2report(n, G1), 1);
      // A v2 group-specific query for a group left: nothing; for the joined one: its report.
      query(n, { dst: G2, code: 1, group: G2 });
      expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      query(n, { dst: G1, code: 1, group: G1 });
      expectReports(n, v2report(n, G1), 1);
    } finally {
      s.close();
    }
    expectReports(n, v2leave(n, G1), 1);
  });

  nets.it('force_igmp_version=3 does not hold off a v2 querier: after a v2 query, v2 reports', () => {
    const n = nets.net(4);
    const s = sock();
    try {
      withSysctl({ [`net.ipv4.conf.${n.ifname}.force_igmp_version`]: 3 }, () => {
        query(n, { code: 1 });
        expectNone(n, { timeoutMs: QUIET, match: isIgmp });
        join(s, n, G1);
        expectReports(n, v2report(n, G1), 2);
        leave(s, n, G1);
        expectReports(n, v2leave(n, G1), 1);
      });
    } finally {
      s.close();
    }
  });

  nets.it('a v1 query (8 bytes, code 0): later joins send v1 reports and leaves send nothing; the next v1 query is answered with a v1 report', () => {
    const n = nets.net(4);
    const s = sock();
    try {
      query(n, { code: 0 });
      expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      join(s, n, G2);
      expectReports(n, v1report(n, G2), 2);
      leave(s, n, G2);
      expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      // A v1 query has no max response time: the answer comes within IGMP_QUERY_RESPONSE_INTERVAL (10 s).
      join(s, n, G1);
      expectReports(n, v1report(n, G1), 2);
      query(n, { code: 0 });
      expectPacket(n, v1report(n, G1), { timeoutMs: 11_000 });
      expectNone(n, { timeoutMs: QUIET, match: isIgmp });
      leave(s, n, G1);
      expectNone(n, { timeoutMs: QUIET, match: isIgmp });
    } finally {
      s.close();
    }
  });
});

describe('sending to a group', () => {
  /**
   * What a send to G1:PORT puts on net n's wire. The IPv4 id is hashed (__ip_select_ident): the
   * socket is unconnected and IP_PMTUDISC_WANT lets the kernel fragment it (skb->ignore_df).
   */
  const out = (n: Network, s: Socket<'inet'>, ttl: number, data: string): Layer[] =>
    [ipv4({ src: n.addr4, dst: G1, ttl, df: true }), udp({ sport: s.localAddress().port, dport: PORT }), raw(data)];

  function sender(n: Network): Socket<'inet'> {
    const s = sock();
    s.setOption(K.SOL_IP, K.IP_MULTICAST_IF, mreqn('0.0.0.0', { ifindex: n.ifindex }));
    s.bind('0.0.0.0:0');
    return s;
  }

  nets.it('IP_MULTICAST_TTL: 1 by default; 255; -1 restores 1; 256 and -2 are EINVAL', () => {
    const n = nets.net(1);
    const s = sender(n);
    try {
      assert.equal(s.getIntOption(K.SOL_IP, K.IP_MULTICAST_TTL), 1);
      s.sendTo(Buffer.from('ttl-default'), `${G1}:${PORT}`);
      expectPacket(n, out(n, s, 1, 'ttl-default'), { ignore: ['ipv4.id'] });
      s.setOption(K.SOL_IP, K.IP_MULTICAST_TTL, 255);
      s.sendTo(Buffer.from('ttl-255'), `${G1}:${PORT}`);
      expectPacket(n, out(n, s, 255, 'ttl-255'), { ignore: ['ipv4.id'] });
      s.setOption(K.SOL_IP, K.IP_MULTICAST_TTL, -1);
      assert.equal(s.getIntOption(K.SOL_IP, K.IP_MULTICAST_TTL), 1);
      assert.throws(() => s.setOption(K.SOL_IP, K.IP_MULTICAST_TTL, 256), errnoIs('EINVAL'));
      assert.throws(() => s.setOption(K.SOL_IP, K.IP_MULTICAST_TTL, -2), errnoIs('EINVAL'));
      assert.equal(s.getIntOption(K.SOL_IP, K.IP_MULTICAST_TTL), 1);
    } finally {
      s.close();
    }
  });

  // ip_mc_output drops TTL 0 after looping it back, but the route only uses ip_mc_output when the
  // host is a member on that interface (RTCF_LOCAL in __mkroute_output); otherwise ip_output
  // sends it with TTL 0.
  nets.it('IP_MULTICAST_TTL 0: with a local member the datagram is looped back and kept off the wire; with none it leaves with TTL 0', () => {
    const n = nets.net(1);
    const s = sender(n);
    const member = bound();
    try {
      s.setOption(K.SOL_IP, K.IP_MULTICAST_TTL, 0);
      s.sendTo(Buffer.from('ttl0-alone'), `${G1}:${PORT}`);
      expectPacket(n, out(n, s, 0, 'ttl0-alone'), { ignore: ['ipv4.id'] });
      join(member, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
      s.sendTo(Buffer.from('ttl0-member'), `${G1}:${PORT}`);
      assert.equal(received(member), 'ttl0-member');
      expectNone(n, { match: (p) => p.some((l) => l.type === 'udp') });
    } finally {
      s.close();
      member.close();
    }
    expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
  });

  nets.it('IP_MULTICAST_LOOP: a local member receives our datagram by default (1), not with 0; the wire gets it either way', () => {
    const n = nets.net(1);
    const s = sender(n);
    const member = bound();
    try {
      join(member, n, G1);
      expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
      assert.equal(s.getIntOption(K.SOL_IP, K.IP_MULTICAST_LOOP), 1);
      s.sendTo(Buffer.from('loop-on'), `${G1}:${PORT}`);
      expectPacket(n, out(n, s, 1, 'loop-on'), { ignore: ['ipv4.id'] });
      assert.equal(received(member), 'loop-on');
      s.setOption(K.SOL_IP, K.IP_MULTICAST_LOOP, 0);
      s.sendTo(Buffer.from('loop-off'), `${G1}:${PORT}`);
      expectPacket(n, out(n, s, 1, 'loop-off'), { ignore: ['ipv4.id'] });
      assert.equal(received(member), null);
    } finally {
      s.close();
      member.close();
    }
    expectReports(n, v3(n, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
  });

  nets.it('IP_MULTICAST_IF by address picks net2, by index (ip_mreqn) net3; nothing leaves on the others', () => {
    const [n1, n2, n3] = [nets.net(1), nets.net(2), nets.net(3)];
    const s = sock();
    try {
      s.bind('0.0.0.0:0');
      s.setOption(K.SOL_IP, K.IP_MULTICAST_IF, ip4ToBytes(n2.addr4));
      s.sendTo(Buffer.from('by-addr'), `${G1}:${PORT}`);
      expectPacket(n2, out(n2, s, 1, 'by-addr'), { ignore: ['ipv4.id'] });
      s.setOption(K.SOL_IP, K.IP_MULTICAST_IF, mreqn('0.0.0.0', { ifindex: n3.ifindex }));
      s.sendTo(Buffer.from('by-index'), `${G1}:${PORT}`);
      expectPacket(n3, out(n3, s, 1, 'by-index'), { ignore: ['ipv4.id'] });
      for (const n of [n1, n2]) expectNone(n, { timeoutMs: 100, match: (p) => p.some((l) => l.type === 'udp') });
      expectNone(n3, { timeoutMs: 100, match: (p) => p.some((l) => l.type === 'udp') });
      assert.throws(() => s.setOption(K.SOL_IP, K.IP_MULTICAST_IF, ip4ToBytes('192.0.2.99')), errnoIs('EADDRNOTAVAIL'));
    } finally {
      s.close();
    }
  });
});

describe('receiving from a group', () => {
  nets.it('a datagram to a group nobody joined on that network is not delivered; once joined on net1 it is, but not one arriving on net2', () => {
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const s = bound();
    try {
      mcastIn(n1, src(n1, 1), G2, 'not-joined');
      assert.equal(received(s), null);
      join(s, n1, G2);
      expectReports(n1, v3(n1, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G2)]), 2);
      mcastIn(n2, src(n2, 1), G2, 'wrong-net');
      assert.equal(received(s), null);
      mcastIn(n1, src(n1, 1), G2, 'joined');
      assert.equal(received(s), 'joined');
    } finally {
      s.close();
    }
    expectReports(n1, v3(n1, [rec(IGMPV3_CHANGE_TO_INCLUDE, G2)]), 2);
  });

  nets.it('IP_MULTICAST_ALL=1 (default): a socket on the port that joined nothing, or joined on another network, receives; with 0 it does not', () => {
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const member = bound();
    const [idle, elsewhere] = [bound(), bound()];
    const [idle0, elsewhere0] = [bound({ all: 0 }), bound({ all: 0 })];
    try {
      assert.equal(idle.getIntOption(K.SOL_IP, K.IP_MULTICAST_ALL), 1);
      join(member, n1, G1);
      expectReports(n1, v3(n1, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
      join(elsewhere, n2, G1);
      join(elsewhere0, n2, G1);
      expectReports(n2, v3(n2, [rec(IGMPV3_CHANGE_TO_EXCLUDE, G1)]), 2);
      mcastIn(n1, src(n1, 1), G1, 'to-all');
      assert.equal(received(member), 'to-all');
      assert.equal(received(idle), 'to-all');
      assert.equal(received(elsewhere), 'to-all');
      assert.equal(received(idle0), null);
      assert.equal(received(elsewhere0), null);
    } finally {
      for (const x of [member, idle, elsewhere, idle0, elsewhere0]) x.close();
    }
    expectReports(n1, v3(n1, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
    expectReports(n2, v3(n2, [rec(IGMPV3_CHANGE_TO_INCLUDE, G1)]), 2);
  });
});
