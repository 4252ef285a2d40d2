// Routes: RTM_NEWROUTE/DELROUTE/GETROUTE payloads and decoded route objects (rtnetlink.h).
import { ipFamily, ipToBytes, parsePrefix } from '../addr.js';
import { attrs, attrSet, nla, parseAttrs, type AttrBuf } from './attr.js';
import type { NlMessage } from './message.js';
import { flagNames, flagsValue, nameOf, valueOf } from '../names.js';
import { familyName, familyValue, rtmsg, rtnexthop, tableName, tableValue, type FamilyName, type TableId } from './rt-structs.js';
import { AF_INET } from '../include/linux/socket.js';
import { RTA, RTAX, RTM_F, RTN, RTNH_F, RTPROT, RT_SCOPE, RT_TABLE } from '../include/uapi/linux/rtnetlink.js';

export type Metrics = Partial<Record<Lowercase<Exclude<keyof typeof RTAX, 'UNSPEC' | 'CC_ALGO'>>, number>> & { cc_algo?: string };

export interface NextHop {
  gateway?: string;
  oif?: number;
  /** Weight as `ip` shows it (rtnh_hops + 1). */
  weight: number;
  flags: string[];
}

export interface Route {
  family: FamilyName;
  /** 'default' or 'prefix/len'. */
  dst: string;
  src?: string;
  table: TableId;
  /** 'unicast', 'local', 'unreachable', 'blackhole', 'prohibit'... */
  type: string | number;
  /** 'kernel', 'boot', 'static', 'ra'... */
  protocol: string | number;
  /** 'universe', 'link', 'host'... */
  scope: string | number;
  tos: number;
  flags: string[];
  gateway?: string;
  oif?: number;
  iif?: number;
  prefsrc?: string;
  priority?: number;
  metrics?: Metrics;
  multipath?: NextHop[];
  mark?: number;
  uid?: number;
  /** RTA_PREF for IPv6 router preference. */
  pref?: number;
  expires?: number;
}

export interface RouteSpec {
  /** 'default', 'a.b.c.d/len', 'x::/len'. */
  dst: string;
  /** Family for 'default' (ignored otherwise): 'inet' (default) or 'inet6'. */
  family?: FamilyName | 4 | 6;
  src?: string;
  table?: TableId;
  type?: string | number;
  protocol?: string | number;
  scope?: string | number;
  tos?: number;
  gateway?: string;
  oif?: number;
  prefsrc?: string;
  priority?: number;
  metrics?: Metrics;
  multipath?: readonly { gateway?: string; oif?: number; weight?: number }[];
  /** RTNH_F_* names, e.g. ['onlink']. */
  flags?: readonly string[];
}

export interface RouteQuery {
  to: string;
  from?: string;
  iif?: number;
  oif?: number;
  mark?: number;
  uid?: number;
  tos?: number;
  ipProto?: number;
  sport?: number;
  dport?: number;
  table?: TableId;
  /** RTM_F_FIB_MATCH: return the matching FIB entry instead of the resolved route. */
  fibMatch?: boolean;
  /** RTM_F_LOOKUP_TABLE: report the table the lookup matched in (rules applied) rather than 'main'. */
  lookupTable?: boolean;
}

function dstPrefix(s: { dst: string; family?: FamilyName | 4 | 6 }): { family: number; bytes?: Buffer; len: number } {
  if (s.dst === 'default') return { family: familyValue(s.family ?? 'inet'), len: 0 };
  const p = parsePrefix(s.dst);
  return { family: p.family, bytes: p.bytes, len: p.len };
}

function encodeMetrics(m: Metrics): Buffer {
  const list: AttrBuf[] = Object.entries(m).map(([k, v]) => {
    const t = valueOf(RTAX, k, 'route metric');
    return t === RTAX.CC_ALGO ? nla.str(t, String(v)) : nla.u32(t, Number(v));
  });
  return nla.nest(RTA.METRICS, list);
}

function encodeMultipath(hops: NonNullable<RouteSpec['multipath']>): Buffer {
  const parts = hops.map((h) => {
    const sub = attrs([h.gateway !== undefined && nla.ip(RTA.GATEWAY, h.gateway)]);
    const head = rtnexthop.encode({ len: rtnexthop.size + sub.length, hops: (h.weight ?? 1) - 1, ifindex: h.oif ?? 0 });
    return Buffer.concat([head, sub]);
  });
  return nla.bytes(RTA.MULTIPATH, Buffer.concat(parts));
}

/** RTM_NEWROUTE / RTM_DELROUTE body. Tables above 255 go in RTA_TABLE as iproute2 does. */
export function encodeRoute(s: RouteSpec, forDelete = false): Buffer {
  const d = dstPrefix(s);
  const table = tableValue(s.table);
  // A delete without a type matches any type, as `ip route del` does.
  const type = s.type === undefined ? (forDelete ? RTN.UNSPEC : RTN.UNICAST) : valueOf(RTN, s.type, 'route type');
  const src = s.src !== undefined ? parsePrefix(s.src) : undefined;
  const localish = type === RTN.LOCAL || type === RTN.NAT;
  const scope =
    s.scope !== undefined
      ? valueOf(RT_SCOPE, s.scope, 'scope')
      : forDelete
        ? RT_SCOPE.NOWHERE
        : localish
          ? RT_SCOPE.HOST
          : s.gateway === undefined && s.multipath === undefined && type === RTN.UNICAST && d.family === AF_INET
            ? RT_SCOPE.LINK
            : RT_SCOPE.UNIVERSE;
  return Buffer.concat([
    rtmsg.encode({
      family: d.family,
      dstLen: d.len,
      srcLen: src?.len ?? 0,
      tos: s.tos ?? 0,
      table: table < 256 ? table : RT_TABLE.UNSPEC,
      protocol: s.protocol === undefined ? (forDelete ? 0 : RTPROT.BOOT) : valueOf(RTPROT, s.protocol, 'protocol'),
      scope,
      type,
      flags: flagsValue(RTNH_F, s.flags as string[] | undefined, 'route flag'),
    }),
    // Attribute order as iproute2 emits it, so requests compare byte for byte with `ip route`.
    attrs([
      d.bytes !== undefined && nla.bytes(RTA.DST, d.bytes),
      src !== undefined && nla.bytes(RTA.SRC, src.bytes),
      s.gateway !== undefined && nla.ip(RTA.GATEWAY, s.gateway),
      s.oif !== undefined && nla.u32(RTA.OIF, s.oif),
      s.prefsrc !== undefined && nla.ip(RTA.PREFSRC, s.prefsrc),
      s.priority !== undefined && nla.u32(RTA.PRIORITY, s.priority),
      s.metrics !== undefined && encodeMetrics(s.metrics),
      s.multipath !== undefined && encodeMultipath(s.multipath),
      table >= 256 && nla.u32(RTA.TABLE, table),
    ]),
  ]);
}

/** RTM_GETROUTE doit body ('ip route get'). */
export function encodeRouteQuery(q: RouteQuery): Buffer {
  const fam = ipFamily(q.to);
  const full = fam === AF_INET ? 32 : 128;
  return Buffer.concat([
    rtmsg.encode({
      family: fam,
      dstLen: full,
      srcLen: q.from !== undefined ? full : 0,
      tos: q.tos ?? 0,
      flags: (q.fibMatch ? RTM_F.FIB_MATCH : 0) | (q.lookupTable ? RTM_F.LOOKUP_TABLE : 0),
    }),
    attrs([
      nla.bytes(RTA.DST, ipToBytes(q.to)),
      q.from !== undefined && nla.bytes(RTA.SRC, ipToBytes(q.from)),
      q.iif !== undefined && nla.u32(RTA.IIF, q.iif),
      q.oif !== undefined && nla.u32(RTA.OIF, q.oif),
      q.mark !== undefined && nla.u32(RTA.MARK, q.mark),
      q.uid !== undefined && nla.u32(RTA.UID, q.uid),
      q.table !== undefined && nla.u32(RTA.TABLE, tableValue(q.table)),
      q.ipProto !== undefined && nla.u8(RTA.IP_PROTO, q.ipProto),
      q.sport !== undefined && nla.be16(RTA.SPORT, q.sport),
      q.dport !== undefined && nla.be16(RTA.DPORT, q.dport),
    ]),
  ]);
}

/**
 * RTM_GETROUTE dump body. Under strict checking the kernel filters by table, protocol, type and
 * oif itself (RTA_TABLE / rtm_* fields); without it filter the decoded list.
 */
export function encodeRouteDump(f: { family?: FamilyName | 4 | 6; table?: TableId; oif?: number; protocol?: string | number; type?: string | number } = {}): Buffer {
  const table = f.table === undefined ? undefined : tableValue(f.table);
  return Buffer.concat([
    rtmsg.encode({
      family: familyValue(f.family),
      table: table !== undefined && table < 256 ? table : 0,
      protocol: f.protocol === undefined ? 0 : valueOf(RTPROT, f.protocol, 'protocol'),
      type: f.type === undefined ? 0 : valueOf(RTN, f.type, 'route type'),
    }),
    attrs([table !== undefined && nla.u32(RTA.TABLE, table), f.oif !== undefined && nla.u32(RTA.OIF, f.oif)]),
  ]);
}

function decodeMultipath(b: Buffer, family: number): NextHop[] {
  const out: NextHop[] = [];
  let off = 0;
  while (off + rtnexthop.size <= b.length) {
    const h = rtnexthop.decode(b, off);
    if (h.len < rtnexthop.size) break;
    const a = attrSet(b, off + rtnexthop.size, off + h.len);
    const hop: NextHop = { weight: h.hops + 1, flags: flagNames(RTNH_F, h.flags) };
    const gw = a.ip(RTA.GATEWAY, family);
    if (gw !== undefined) hop.gateway = gw;
    if (h.ifindex) hop.oif = h.ifindex;
    out.push(hop);
    off += (h.len + 3) & ~3;
  }
  return out;
}

export function decodeRoute(m: NlMessage): Route {
  const h = rtmsg.decode(m.payload);
  const a = attrSet(m.payload, rtmsg.size);
  const fam = h.family;
  const dst = a.ip(RTA.DST, fam);
  const r: Route = {
    family: familyName(fam),
    dst: dst === undefined ? 'default' : `${dst}/${h.dstLen}`,
    table: tableName(a.u32(RTA.TABLE) ?? h.table),
    type: nameOf(RTN, h.type),
    protocol: nameOf(RTPROT, h.protocol),
    scope: nameOf(RT_SCOPE, h.scope),
    tos: h.tos,
    flags: [...flagNames(RTNH_F, h.flags & 0xff), ...flagNames(RTM_F, h.flags & ~0xff)],
  };
  const src = a.ip(RTA.SRC, fam);
  if (src !== undefined) r.src = `${src}/${h.srcLen}`;
  const set = <K extends keyof Route>(k: K, v: Route[K] | undefined): void => {
    if (v !== undefined) r[k] = v;
  };
  set('gateway', a.ip(RTA.GATEWAY, fam));
  set('oif', a.u32(RTA.OIF));
  set('iif', a.u32(RTA.IIF));
  set('prefsrc', a.ip(RTA.PREFSRC, fam));
  set('priority', a.u32(RTA.PRIORITY));
  set('mark', a.u32(RTA.MARK));
  set('uid', a.u32(RTA.UID));
  set('pref', a.u8(RTA.PREF));
  set('expires', a.u32(RTA.EXPIRES));
  const met = a.get(RTA.METRICS);
  if (met !== undefined) {
    const metrics: Metrics = {};
    for (const x of parseAttrs(met)) {
      const k = nameOf(RTAX, x.type);
      if (typeof k !== 'string') continue;
      if (x.type === RTAX.CC_ALGO) metrics.cc_algo = x.data.subarray(0, Math.max(0, x.data.indexOf(0))).toString();
      else if (x.data.length >= 4) (metrics as Record<string, number>)[k] = x.data.readUInt32LE(0);
    }
    r.metrics = metrics;
  }
  const mp = a.get(RTA.MULTIPATH);
  if (mp !== undefined) r.multipath = decodeMultipath(mp, fam);
  return r;
}
