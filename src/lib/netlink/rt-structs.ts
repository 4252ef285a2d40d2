// Fixed headers of rtnetlink messages (include/uapi/linux/rtnetlink.h, if_addr.h, fib_rules.h,
// neighbour.h, if_link.h), and naming helpers shared by the rt-* modules.
import { struct } from './layout.js';
import { AF_BRIDGE, AF_INET, AF_INET6, AF_MPLS, AF_UNSPEC } from '../include/linux/socket.js';
import { RTNL_FAMILY_IP6MR, RTNL_FAMILY_IPMR, RT_TABLE } from '../include/uapi/linux/rtnetlink.js';


export const ifinfomsg = struct({ family: 'u8', pad: 'u8', type: 'u16', index: 's32', flags: 'u32', change: 'u32' });
export const ifaddrmsg = struct({ family: 'u8', prefixlen: 'u8', flags: 'u8', scope: 'u8', index: 'u32' });
export const rtmsg = struct({
  family: 'u8', dstLen: 'u8', srcLen: 'u8', tos: 'u8', table: 'u8', protocol: 'u8', scope: 'u8', type: 'u8', flags: 'u32',
});
/** struct fib_rule_hdr: same shape as rtmsg with res1/res2/action in place of protocol/scope/type. */
export const fibRuleHdr = struct({
  family: 'u8', dstLen: 'u8', srcLen: 'u8', tos: 'u8', table: 'u8', res1: 'u8', res2: 'u8', action: 'u8', flags: 'u32',
});
export const ndmsg = struct({ family: 'u8', pad1: 'u8', pad2: 'u16', ifindex: 's32', state: 'u16', flags: 'u8', type: 'u8' });
export const ifStatsMsg = struct({ family: 'u8', pad1: 'u8', pad2: 'u16', ifindex: 'u32', filterMask: 'u32' });
export const ifaCacheinfo = struct({ preferred: 'u32', valid: 'u32', cstamp: 'u32', tstamp: 'u32' });
export const ndaCacheinfo = struct({ confirmed: 'u32', used: 'u32', updated: 'u32', refcnt: 'u32' });
/** struct rtnexthop (RTA_MULTIPATH entries), followed by its own attributes. */
export const rtnexthop = struct({ len: 'u16', flags: 'u8', hops: 'u8', ifindex: 's32' });
export const uidRange = struct({ start: 'u32', end: 'u32' });
export const portRange = struct({ start: 'u16', end: 'u16' });

/** struct rtnl_link_stats64 field order (include/uapi/linux/if_link.h, 6.1). */
export const LINK_STATS64_FIELDS = [
  'rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes', 'rx_errors', 'tx_errors', 'rx_dropped', 'tx_dropped',
  'multicast', 'collisions', 'rx_length_errors', 'rx_over_errors', 'rx_crc_errors', 'rx_frame_errors',
  'rx_fifo_errors', 'rx_missed_errors', 'tx_aborted_errors', 'tx_carrier_errors', 'tx_fifo_errors',
  'tx_heartbeat_errors', 'tx_window_errors', 'rx_compressed', 'tx_compressed', 'rx_nohandler', 'rx_otherhost_dropped',
] as const;
export type LinkStats = Partial<Record<(typeof LINK_STATS64_FIELDS)[number], bigint>>;

/** The counters that moved from `before` to `after`, by how much (unchanged ones left out). */
export function statsDelta(before: LinkStats, after: LinkStats): LinkStats {
  const out: LinkStats = {};
  for (const [k, v] of Object.entries(after) as [keyof LinkStats, bigint][]) if (v !== (before[k] ?? 0n)) out[k] = v - (before[k] ?? 0n);
  return out;
}

/** Decode as many u64 counters as the kernel sent (older kernels send fewer). */
export function decodeStats64(b: Buffer): LinkStats {
  const out: LinkStats = {};
  LINK_STATS64_FIELDS.forEach((f, i) => {
    if (b.length >= (i + 1) * 8) out[f] = b.readBigUInt64LE(i * 8);
  });
  return out;
}

export type FamilyName = 'inet' | 'inet6' | 'unspec' | 'bridge' | 'mpls' | 'ipmr' | 'ip6mr' | number;

export function familyName(f: number): FamilyName {
  switch (f) {
    case AF_INET: return 'inet';
    case AF_INET6: return 'inet6';
    case AF_UNSPEC: return 'unspec';
    case AF_BRIDGE: return 'bridge';
    case AF_MPLS: return 'mpls';
    case RTNL_FAMILY_IPMR: return 'ipmr';
    case RTNL_FAMILY_IP6MR: return 'ip6mr';
    default: return f;
  }
}

export function familyValue(f: FamilyName | 4 | 6 | undefined): number {
  if (f === undefined || f === 'unspec') return AF_UNSPEC;
  if (f === 'inet' || f === 4) return AF_INET;
  if (f === 'inet6' || f === 6) return AF_INET6;
  if (f === 'bridge') return AF_BRIDGE;
  if (f === 'mpls') return AF_MPLS;
  if (f === 'ipmr') return RTNL_FAMILY_IPMR;
  if (f === 'ip6mr') return RTNL_FAMILY_IP6MR;
  return f;
}

/** Table ids: reserved ones by name as `ip` prints them ('main', 'local', 'default'), others as numbers. */
export type TableId = 'main' | 'local' | 'default' | 'unspec' | number;

export function tableName(id: number): TableId {
  switch (id) {
    case RT_TABLE.MAIN: return 'main';
    case RT_TABLE.LOCAL: return 'local';
    case RT_TABLE.DEFAULT: return 'default';
    case RT_TABLE.UNSPEC: return 'unspec';
    default: return id;
  }
}

export function tableValue(t: TableId | undefined, dflt: number = RT_TABLE.MAIN): number {
  if (t === undefined) return dflt;
  if (typeof t === 'number') return t;
  const v = (RT_TABLE as Record<string, number>)[t.toUpperCase()];
  if (v === undefined) throw new RangeError(`unknown table '${t}'`);
  return v;
}
