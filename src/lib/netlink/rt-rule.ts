// Policy routing rules: RTM_NEWRULE/DELRULE/GETRULE payloads and decoded rules (fib_rules.h).
import { bytesToIp, parsePrefix } from '../addr.js';
import { attrs, attrSet, nla } from './attr.js';
import type { NlMessage } from './message.js';
import { flagNames, nameOf, valueOf } from '../names.js';
import { familyName, familyValue, fibRuleHdr, portRange, tableName, tableValue, uidRange, type FamilyName, type TableId } from './rt-structs.js';
import { FIB_RULE, FRA, FR_ACT } from '../include/uapi/linux/fib_rules.js';
import { RTPROT, RT_TABLE } from '../include/uapi/linux/rtnetlink.js';

export interface Rule {
  family: FamilyName;
  priority?: number;
  /** 'to_tbl' (lookup), 'goto', 'nop', 'blackhole', 'unreachable', 'prohibit'. */
  action: string | number;
  table?: TableId;
  src?: string;
  dst?: string;
  tos: number;
  fwmark?: number;
  fwmask?: number;
  iif?: string;
  oif?: string;
  uidRange?: { start: number; end: number };
  ipProto?: number;
  sport?: { start: number; end: number };
  dport?: { start: number; end: number };
  goto?: number;
  suppressPrefixlen?: number;
  suppressIfgroup?: number;
  l3mdev?: number;
  protocol?: string | number;
  /** FIB_RULE_* names: ['INVERT'] for `not`. */
  flags: string[];
}

export interface RuleSpec {
  family?: FamilyName | 4 | 6;
  priority?: number;
  /** Default 'to_tbl' when a table is given. */
  action?: string | number;
  table?: TableId;
  src?: string;
  dst?: string;
  tos?: number;
  fwmark?: number;
  fwmask?: number;
  iif?: string;
  oif?: string;
  uidRange?: { start: number; end: number };
  ipProto?: number;
  sport?: number | { start: number; end: number };
  dport?: number | { start: number; end: number };
  goto?: number;
  suppressPrefixlen?: number;
  protocol?: string | number;
  invert?: boolean;
}

const range = (r: number | { start: number; end: number }): { start: number; end: number } =>
  typeof r === 'number' ? { start: r, end: r } : r;

/** RTM_NEWRULE / RTM_DELRULE body; attribute order matches `ip rule add fwmark .. uidrange .. iif .. table .. priority ..`. */
export function encodeRule(s: RuleSpec): Buffer {
  const src = s.src !== undefined ? parsePrefix(s.src) : undefined;
  const dst = s.dst !== undefined ? parsePrefix(s.dst) : undefined;
  const family = src?.family ?? dst?.family ?? familyValue(s.family ?? 'inet');
  const table = s.table === undefined ? undefined : tableValue(s.table);
  const action = s.action !== undefined ? valueOf(FR_ACT, s.action, 'rule action') : table !== undefined ? FR_ACT.TO_TBL : s.goto !== undefined ? FR_ACT.GOTO : FR_ACT.UNSPEC;
  return Buffer.concat([
    fibRuleHdr.encode({
      family,
      dstLen: dst?.len ?? 0,
      srcLen: src?.len ?? 0,
      tos: s.tos ?? 0,
      table: table !== undefined && table < 256 ? table : RT_TABLE.UNSPEC,
      action,
      flags: s.invert ? FIB_RULE.INVERT : 0,
    }),
    attrs([
      src !== undefined && nla.bytes(FRA.SRC, src.bytes),
      dst !== undefined && nla.bytes(FRA.DST, dst.bytes),
      s.fwmark !== undefined && nla.u32(FRA.FWMARK, s.fwmark),
      s.fwmask !== undefined && nla.u32(FRA.FWMASK, s.fwmask),
      s.uidRange !== undefined && nla.bytes(FRA.UID_RANGE, uidRange.encode(s.uidRange)),
      s.iif !== undefined && nla.str(FRA.IIFNAME, s.iif),
      s.oif !== undefined && nla.str(FRA.OIFNAME, s.oif),
      s.ipProto !== undefined && nla.u8(FRA.IP_PROTO, s.ipProto),
      s.sport !== undefined && nla.bytes(FRA.SPORT_RANGE, portRange.encode(range(s.sport))),
      s.dport !== undefined && nla.bytes(FRA.DPORT_RANGE, portRange.encode(range(s.dport))),
      s.goto !== undefined && nla.u32(FRA.GOTO, s.goto),
      s.suppressPrefixlen !== undefined && nla.u32(FRA.SUPPRESS_PREFIXLEN, s.suppressPrefixlen),
      s.protocol !== undefined && nla.u8(FRA.PROTOCOL, valueOf(RTPROT, s.protocol, 'protocol')),
      table !== undefined && table >= 256 && nla.u32(FRA.TABLE, table),
      s.priority !== undefined && nla.u32(FRA.PRIORITY, s.priority),
    ]),
  ]);
}

export function encodeRuleDump(family?: FamilyName | 4 | 6): Buffer {
  return fibRuleHdr.encode({ family: familyValue(family) });
}

export function decodeRule(m: NlMessage): Rule {
  const h = fibRuleHdr.decode(m.payload);
  const a = attrSet(m.payload, fibRuleHdr.size);
  const r: Rule = {
    family: familyName(h.family),
    action: nameOf(FR_ACT, h.action),
    tos: h.tos,
    flags: flagNames(FIB_RULE, h.flags),
  };
  const set = <K extends keyof Rule>(k: K, v: Rule[K] | undefined): void => {
    if (v !== undefined) r[k] = v;
  };
  set('priority', a.u32(FRA.PRIORITY));
  const table = a.u32(FRA.TABLE) ?? h.table;
  if (table !== 0) r.table = tableName(table);
  const src = a.get(FRA.SRC);
  if (src) r.src = `${bytesToIp(src, h.family)}/${h.srcLen}`;
  const dst = a.get(FRA.DST);
  if (dst) r.dst = `${bytesToIp(dst, h.family)}/${h.dstLen}`;
  set('fwmark', a.u32(FRA.FWMARK));
  set('fwmask', a.u32(FRA.FWMASK));
  set('iif', a.str(FRA.IIFNAME));
  set('oif', a.str(FRA.OIFNAME));
  const uid = a.get(FRA.UID_RANGE);
  if (uid) r.uidRange = uidRange.decode(uid);
  set('ipProto', a.u8(FRA.IP_PROTO));
  const sp = a.get(FRA.SPORT_RANGE);
  if (sp) r.sport = portRange.decode(sp);
  const dp = a.get(FRA.DPORT_RANGE);
  if (dp) r.dport = portRange.decode(dp);
  set('goto', a.u32(FRA.GOTO));
  const sp2 = a.u32(FRA.SUPPRESS_PREFIXLEN);
  if (sp2 !== undefined && sp2 !== 0xffffffff) r.suppressPrefixlen = sp2;
  const sig = a.u32(FRA.SUPPRESS_IFGROUP);
  if (sig !== undefined && sig !== 0xffffffff) r.suppressIfgroup = sig;
  set('l3mdev', a.u8(FRA.L3MDEV));
  const proto = a.u8(FRA.PROTOCOL);
  if (proto !== undefined) r.protocol = nameOf(RTPROT, proto);
  return r;
}
