// xfrm (IPsec) client: SAs, SPI allocation, policies, per-socket policies (include/uapi/linux/xfrm.h).
import * as sys from '../sys/index.js';
import { bytesToIp, ipFamily, ipToBytes, parsePrefix } from '../addr.js';
import { attrs, attrSet, nla, type AttrBuf } from './attr.js';
import { openNetlink, type Netlink, type NetlinkOptions } from './core.js';
import type { NlMessage } from './message.js';
import { flagNames, flagsValue, nameOf, valueOf } from '../names.js';
import { familyName, type FamilyName } from './rt-structs.js';
import { AF_INET, AF_INET6, SOL_IP, SOL_IPV6 } from '../include/linux/socket.js';
import { IPPROTO_AH, IPPROTO_COMP, IPPROTO_ESP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IP_XFRM_POLICY } from '../include/uapi/linux/in.js';
import { IPPROTO_DSTOPTS, IPPROTO_ICMPV6, IPPROTO_ROUTING, IPV6_XFRM_POLICY } from '../include/uapi/linux/in6.js';
import { NETLINK_XFRM, NLM_F } from '../include/uapi/linux/netlink.js';
import { TCP_ENCAP_ESPINTCP, UDP_ENCAP_ESPINUDP, UDP_ENCAP_ESPINUDP_NON_IKE, UDP_ENCAP_TYPE } from '../include/uapi/linux/udp.js';
import { XFRMA, XFRM_INF, XFRM_MODE, XFRM_MSG, XFRM_POLICY_ACTION, XFRM_POLICY_DIR, XFRM_POLICY_TYPE, XFRM_SA_XFLAG, XFRM_SHARE, XFRM_STATE } from '../include/uapi/linux/xfrm.js';
import {
  xfrmAlgo, xfrmAlgoAead, xfrmAlgoAuth, xfrmEncapTmpl, xfrmLifetimeCfg, xfrmMark, xfrmReplayState, xfrmReplayStateEsn,
  xfrmSelector, xfrmUserTmpl, xfrmUserpolicyId, xfrmUserpolicyInfo, xfrmUsersaFlush, xfrmUsersaId, xfrmUsersaInfo, xfrmUserspiInfo,
} from './xfrm-structs.js';

export * from './xfrm-structs.js';
export { XFRMNLGRP } from '../include/uapi/linux/xfrm.js';

export type XfrmProto = 'esp' | 'ah' | 'comp' | 'route2' | 'hao' | number;
export type XfrmMode = 'transport' | 'tunnel' | 'beet' | 'routeoptimization' | 'in_trigger';

const PROTOS: Record<string, number> = { esp: IPPROTO_ESP, ah: IPPROTO_AH, comp: IPPROTO_COMP, route2: IPPROTO_ROUTING, hao: IPPROTO_DSTOPTS };
const protoValue = (p: XfrmProto | undefined): number => (p === undefined ? IPPROTO_ESP : typeof p === 'number' ? p : (PROTOS[p] ?? 0));
const protoName = (n: number): XfrmProto => (Object.entries(PROTOS).find(([, v]) => v === n)?.[0] as XfrmProto | undefined) ?? n;
const L4: Record<string, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, icmp: IPPROTO_ICMP, ipv6_icmp: IPPROTO_ICMPV6, icmpv6: IPPROTO_ICMPV6, esp: IPPROTO_ESP, any: 0 };

export interface SelectorSpec {
  /** Prefixes; default any of the family. */
  src?: string;
  dst?: string;
  family?: FamilyName | 4 | 6;
  /** 'tcp', 'udp', 'icmp', 'ipv6-icmp' or a number; default any. */
  proto?: string | number;
  sport?: number;
  dport?: number;
  ifindex?: number;
  user?: number;
}

export interface Selector {
  family: FamilyName;
  src: string;
  dst: string;
  proto: number;
  sport: number;
  sportMask: number;
  dport: number;
  dportMask: number;
  ifindex: number;
  user: number;
}

export interface Mark { value: number; mask: number }

export interface SaSpec {
  src: string;
  dst: string;
  proto?: XfrmProto;
  spi: number;
  mode?: XfrmMode;
  reqid?: number;
  replayWindow?: number;
  /** XFRM_STATE_* names: ['esn', 'af_unspec', 'noecn'...] */
  flags?: readonly string[];
  sel?: SelectorSpec;
  /** Keys as Buffers (or hex strings). truncLen (bits) sends XFRMA_ALG_AUTH_TRUNC. */
  auth?: { name: string; key: Buffer | string; truncLen?: number };
  crypt?: { name: string; key: Buffer | string };
  aead?: { name: string; key: Buffer | string; icvLen: number };
  comp?: { name: string };
  encap?: { type?: 'espinudp' | 'espinudp-nonike' | 'espintcp' | number; sport: number; dport: number; oa?: string };
  mark?: Mark;
  /** XFRMA_SET_MARK / XFRMA_SET_MARK_MASK: the mark put on packets after transformation. */
  outputMark?: Mark;
  ifId?: number;
  replay?: { oseq?: number; seq?: number; bitmap?: number };
  /** bmpLen (32-bit words) defaults to what the window needs. */
  replayEsn?: { oseq?: number; seq?: number; oseqHi?: number; seqHi?: number; replayWindow: number; bmpLen?: number };
  lifetime?: Partial<ReturnType<typeof xfrmLifetimeCfg.decode>>;
  /** XFRMA_SA_EXTRA_FLAGS (XFRM_SA_XFLAG_*). */
  extraFlags?: readonly ('dont_encap_dscp' | 'oseq_may_wrap')[];
  /** XFRMA_TFCPAD: pad tunnel-mode payloads to this many bytes. */
  tfcPad?: number;
}

export interface Sa {
  family: FamilyName;
  src: string;
  dst: string;
  proto: XfrmProto;
  spi: number;
  mode: string | number;
  reqid: number;
  replayWindow: number;
  flags: string[];
  sel: Selector;
  seq: number;
  auth?: { name: string; key: Buffer; truncLen?: number };
  crypt?: { name: string; key: Buffer };
  aead?: { name: string; key: Buffer; icvLen: number };
  comp?: { name: string };
  encap?: { type: string | number; sport: number; dport: number; oa: string };
  mark?: Mark;
  outputMark?: Mark;
  ifId?: number;
  replay?: { oseq: number; seq: number; bitmap: number };
  replayEsn?: { oseq: number; seq: number; oseqHi: number; seqHi: number; replayWindow: number; bmpLen: number };
  extraFlags?: string[];
  tfcPad?: number;
  lifetime: ReturnType<typeof xfrmLifetimeCfg.decode>;
  current: { bytes: bigint; packets: bigint; addTime: bigint; useTime: bigint };
  stats: { replayWindow: number; replay: number; integrityFailed: number };
}

export interface TmplSpec {
  src?: string;
  dst?: string;
  proto?: XfrmProto;
  spi?: number;
  mode?: XfrmMode;
  reqid?: number;
  share?: 'any' | 'session' | 'user' | 'unique';
  optional?: boolean;
  family?: FamilyName | 4 | 6;
}

export interface Tmpl {
  family: FamilyName;
  src: string;
  dst: string;
  proto: XfrmProto;
  spi: number;
  mode: string | number;
  reqid: number;
  share: string | number;
  optional: boolean;
  aalgos: number;
  ealgos: number;
  calgos: number;
}

export interface PolicySpec {
  dir: 'in' | 'out' | 'fwd';
  sel: SelectorSpec;
  priority?: number;
  action?: 'allow' | 'block';
  index?: number;
  tmpls?: readonly TmplSpec[];
  mark?: Mark;
  ifId?: number;
  type?: 'main' | 'sub';
  flags?: readonly ('localok' | 'icmp')[];
  /** Soft and hard limits; a policy uses only the time ones (XFRM_MSG_POLEXPIRE). */
  lifetime?: Partial<ReturnType<typeof xfrmLifetimeCfg.decode>>;
}

export interface Policy {
  dir: string | number;
  sel: Selector;
  priority: number;
  index: number;
  action: string | number;
  flags: string[];
  share: string | number;
  tmpls: Tmpl[];
  mark?: Mark;
  ifId?: number;
  type?: string | number;
  lifetime: ReturnType<typeof xfrmLifetimeCfg.decode>;
}

const keyBytes = (k: Buffer | string): Buffer => (Buffer.isBuffer(k) ? k : Buffer.from(k.replace(/^0x/, ''), 'hex'));
const nameField = (s: string): Buffer => {
  const b = Buffer.alloc(64);
  b.write(s, 'utf8');
  return b;
};
const cstr = (b: Buffer): string => b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)).toString();
const noLimits = (): ReturnType<typeof xfrmLifetimeCfg.decode> => ({
  softByteLimit: XFRM_INF, hardByteLimit: XFRM_INF, softPacketLimit: XFRM_INF, hardPacketLimit: XFRM_INF,
  softAddExpiresSeconds: 0n, hardAddExpiresSeconds: 0n, softUseExpiresSeconds: 0n, hardUseExpiresSeconds: 0n,
});

function famOf(f: FamilyName | 4 | 6 | undefined, ...addrs: (string | undefined)[]): number {
  if (f === 'inet' || f === 4) return AF_INET;
  if (f === 'inet6' || f === 6) return AF_INET6;
  const a = addrs.find((x) => x !== undefined);
  return a ? ipFamily(a) : AF_INET;
}

function l4(p: string | number | undefined): number {
  if (p === undefined) return 0;
  if (typeof p === 'number') return p;
  const v = L4[p.toLowerCase().replace('-', '_')];
  if (v === undefined) throw new RangeError(`unknown selector protocol '${p}'`);
  return v;
}

export function encodeSelector(s: SelectorSpec = {}): ReturnType<typeof xfrmSelector.decode> {
  const family = famOf(s.family, s.src, s.dst);
  const src = s.src ? parsePrefix(s.src) : undefined;
  const dst = s.dst ? parsePrefix(s.dst) : undefined;
  const b16 = (p: ReturnType<typeof parsePrefix> | undefined): Buffer => {
    const b = Buffer.alloc(16);
    p?.bytes.copy(b);
    return b;
  };
  return {
    daddr: b16(dst), saddr: b16(src),
    dport: s.dport ?? 0, dportMask: s.dport !== undefined ? 0xffff : 0,
    sport: s.sport ?? 0, sportMask: s.sport !== undefined ? 0xffff : 0,
    family, prefixlenD: dst?.len ?? 0, prefixlenS: src?.len ?? 0, proto: l4(s.proto),
    ifindex: s.ifindex ?? 0, user: s.user ?? 0,
  };
}

export function decodeSelector(s: ReturnType<typeof xfrmSelector.decode>): Selector {
  return {
    family: familyName(s.family),
    src: `${bytesToIp(s.saddr, s.family)}/${s.prefixlenS}`,
    dst: `${bytesToIp(s.daddr, s.family)}/${s.prefixlenD}`,
    proto: s.proto,
    sport: s.sport,
    sportMask: s.sportMask,
    dport: s.dport,
    dportMask: s.dportMask,
    ifindex: s.ifindex,
    user: s.user,
  };
}

const addr16 = (a: string | undefined): Buffer => {
  const b = Buffer.alloc(16);
  if (a) ipToBytes(a).copy(b);
  return b;
};

function encapType(t: NonNullable<SaSpec['encap']>['type']): number {
  if (t === undefined || t === 'espinudp') return UDP_ENCAP_ESPINUDP;
  if (t === 'espinudp-nonike') return UDP_ENCAP_ESPINUDP_NON_IKE;
  if (t === 'espintcp') return TCP_ENCAP_ESPINTCP;
  return t;
}

function saAttrs(s: SaSpec): AttrBuf[] {
  const out: AttrBuf[] = [];
  if (s.auth) {
    const key = keyBytes(s.auth.key);
    out.push(
      s.auth.truncLen !== undefined
        ? nla.bytes(XFRMA.ALG_AUTH_TRUNC, Buffer.concat([xfrmAlgoAuth.encode({ name: nameField(s.auth.name), keyLen: key.length * 8, truncLen: s.auth.truncLen }), key]))
        : nla.bytes(XFRMA.ALG_AUTH, Buffer.concat([xfrmAlgo.encode({ name: nameField(s.auth.name), keyLen: key.length * 8 }), key])),
    );
  }
  if (s.crypt) {
    const key = keyBytes(s.crypt.key);
    out.push(nla.bytes(XFRMA.ALG_CRYPT, Buffer.concat([xfrmAlgo.encode({ name: nameField(s.crypt.name), keyLen: key.length * 8 }), key])));
  }
  if (s.aead) {
    const key = keyBytes(s.aead.key);
    out.push(nla.bytes(XFRMA.ALG_AEAD, Buffer.concat([xfrmAlgoAead.encode({ name: nameField(s.aead.name), keyLen: key.length * 8, icvLen: s.aead.icvLen }), key])));
  }
  if (s.comp) out.push(nla.bytes(XFRMA.ALG_COMP, xfrmAlgo.encode({ name: nameField(s.comp.name), keyLen: 0 })));
  if (s.encap) {
    out.push(nla.bytes(XFRMA.ENCAP, xfrmEncapTmpl.encode({ type: encapType(s.encap.type), sport: s.encap.sport, dport: s.encap.dport, oa: addr16(s.encap.oa) })));
  }
  if (s.mark) out.push(nla.bytes(XFRMA.MARK, xfrmMark.encode({ v: s.mark.value, m: s.mark.mask })));
  if (s.outputMark) {
    out.push(nla.u32(XFRMA.SET_MARK, s.outputMark.value), nla.u32(XFRMA.SET_MARK_MASK, s.outputMark.mask));
  }
  if (s.ifId !== undefined) out.push(nla.u32(XFRMA.IF_ID, s.ifId));
  if (s.replay) out.push(nla.bytes(XFRMA.REPLAY_VAL, xfrmReplayState.encode({ oseq: 0, seq: 0, bitmap: 0, ...s.replay })));
  if (s.replayEsn) {
    const w = s.replayEsn.replayWindow;
    const bmpLen = s.replayEsn.bmpLen ?? Math.ceil(w / 32);
    out.push(nla.bytes(XFRMA.REPLAY_ESN_VAL, Buffer.concat([
      xfrmReplayStateEsn.encode({ oseq: 0, seq: 0, oseqHi: 0, seqHi: 0, ...s.replayEsn, bmpLen }),
      Buffer.alloc(bmpLen * 4),
    ])));
  }
  if (s.extraFlags) out.push(nla.u32(XFRMA.SA_EXTRA_FLAGS, flagsValue(XFRM_SA_XFLAG, s.extraFlags as string[], 'SA extra flag')));
  if (s.tfcPad !== undefined) out.push(nla.u32(XFRMA.TFCPAD, s.tfcPad));
  return out;
}

/** XFRM_MSG_NEWSA / UPDSA body. */
export function encodeSa(s: SaSpec): Buffer {
  const family = famOf(undefined, s.dst);
  return Buffer.concat([
    xfrmUsersaInfo.encode({
      sel: encodeSelector(s.sel ?? { family: family === AF_INET ? 'inet' : 'inet6' }),
      id: { daddr: addr16(s.dst), spi: s.spi, proto: protoValue(s.proto) },
      saddr: addr16(s.src),
      lft: { ...noLimits(), ...s.lifetime },
      reqid: s.reqid ?? 0,
      family,
      mode: s.mode === undefined ? XFRM_MODE.TRANSPORT : valueOf(XFRM_MODE, s.mode, 'xfrm mode'),
      replayWindow: s.replayWindow ?? 0,
      flags: flagsValue(XFRM_STATE, s.flags as string[] | undefined, 'SA flag'),
    }),
    attrs(saAttrs(s)),
  ]);
}

export interface SaId { dst: string; spi: number; proto?: XfrmProto; src?: string; mark?: Mark }

/** XFRM_MSG_DELSA / GETSA body. */
export function encodeSaId(id: SaId): Buffer {
  return Buffer.concat([
    xfrmUsersaId.encode({ daddr: addr16(id.dst), spi: id.spi, family: ipFamily(id.dst), proto: protoValue(id.proto) }),
    attrs([
      id.src !== undefined && nla.bytes(XFRMA.SRCADDR, addr16(id.src)),
      id.mark !== undefined && nla.bytes(XFRMA.MARK, xfrmMark.encode({ v: id.mark.value, m: id.mark.mask })),
    ]),
  ]);
}

function decodeMark(b: Buffer | undefined): Mark | undefined {
  if (!b) return undefined;
  const m = xfrmMark.decode(b);
  return { value: m.v, mask: m.m };
}

export function decodeSa(m: NlMessage, offset = 0): Sa {
  const h = xfrmUsersaInfo.decode(m.payload, offset);
  const a = attrSet(m.payload, offset + xfrmUsersaInfo.size);
  const sa: Sa = {
    family: familyName(h.family),
    src: bytesToIp(h.saddr, h.family),
    dst: bytesToIp(h.id.daddr, h.family),
    proto: protoName(h.id.proto),
    spi: h.id.spi,
    mode: nameOf(XFRM_MODE, h.mode),
    reqid: h.reqid,
    replayWindow: h.replayWindow,
    flags: flagNames(XFRM_STATE, h.flags),
    sel: decodeSelector(h.sel),
    seq: h.seq,
    lifetime: h.lft,
    current: h.curlft,
    stats: h.stats,
  };
  const auth = a.get(XFRMA.ALG_AUTH_TRUNC);
  if (auth) {
    const x = xfrmAlgoAuth.decode(auth);
    sa.auth = { name: cstr(x.name), key: Buffer.from(auth.subarray(xfrmAlgoAuth.size, xfrmAlgoAuth.size + x.keyLen / 8)), truncLen: x.truncLen };
  } else {
    const au = a.get(XFRMA.ALG_AUTH);
    if (au) {
      const x = xfrmAlgo.decode(au);
      sa.auth = { name: cstr(x.name), key: Buffer.from(au.subarray(xfrmAlgo.size, xfrmAlgo.size + x.keyLen / 8)) };
    }
  }
  const cr = a.get(XFRMA.ALG_CRYPT);
  if (cr) {
    const x = xfrmAlgo.decode(cr);
    sa.crypt = { name: cstr(x.name), key: Buffer.from(cr.subarray(xfrmAlgo.size, xfrmAlgo.size + x.keyLen / 8)) };
  }
  const ae = a.get(XFRMA.ALG_AEAD);
  if (ae) {
    const x = xfrmAlgoAead.decode(ae);
    sa.aead = { name: cstr(x.name), key: Buffer.from(ae.subarray(xfrmAlgoAead.size, xfrmAlgoAead.size + x.keyLen / 8)), icvLen: x.icvLen };
  }
  const co = a.get(XFRMA.ALG_COMP);
  if (co) sa.comp = { name: cstr(xfrmAlgo.decode(co).name) };
  const en = a.get(XFRMA.ENCAP);
  if (en) {
    const e = xfrmEncapTmpl.decode(en);
    sa.encap = { type: e.type === TCP_ENCAP_ESPINTCP ? 'espintcp' : nameOf(UDP_ENCAP_TYPE, e.type), sport: e.sport, dport: e.dport, oa: bytesToIp(e.oa, h.family) };
  }
  const mark = decodeMark(a.get(XFRMA.MARK));
  if (mark) sa.mark = mark;
  const sm = a.u32(XFRMA.SET_MARK);
  if (sm !== undefined) sa.outputMark = { value: sm, mask: a.u32(XFRMA.SET_MARK_MASK) ?? 0xffffffff };
  const ifId = a.u32(XFRMA.IF_ID);
  if (ifId !== undefined) sa.ifId = ifId;
  const rp = a.get(XFRMA.REPLAY_VAL);
  if (rp) sa.replay = xfrmReplayState.decode(rp);
  const esn = a.get(XFRMA.REPLAY_ESN_VAL);
  if (esn) {
    const e = xfrmReplayStateEsn.decode(esn);
    sa.replayEsn = { oseq: e.oseq, seq: e.seq, oseqHi: e.oseqHi, seqHi: e.seqHi, replayWindow: e.replayWindow, bmpLen: e.bmpLen };
  }
  const xf = a.u32(XFRMA.SA_EXTRA_FLAGS);
  if (xf !== undefined) sa.extraFlags = flagNames(XFRM_SA_XFLAG, xf);
  const tfc = a.u32(XFRMA.TFCPAD);
  if (tfc !== undefined) sa.tfcPad = tfc;
  return sa;
}

function encodeTmpl(t: TmplSpec, policyFamily: number): Buffer {
  const family = famOf(t.family, t.dst, t.src) || policyFamily;
  return xfrmUserTmpl.encode({
    id: { daddr: addr16(t.dst), spi: t.spi ?? 0, proto: protoValue(t.proto) },
    family,
    saddr: addr16(t.src),
    reqid: t.reqid ?? 0,
    mode: t.mode === undefined ? XFRM_MODE.TRANSPORT : valueOf(XFRM_MODE, t.mode, 'xfrm mode'),
    share: valueOf(XFRM_SHARE, t.share ?? 'any', 'share'),
    optional: t.optional ? 1 : 0,
    aalgos: 0xffffffff,
    ealgos: 0xffffffff,
    calgos: 0xffffffff,
  });
}

function policyInfo(p: PolicySpec): Buffer {
  return xfrmUserpolicyInfo.encode({
    sel: encodeSelector(p.sel),
    lft: { ...noLimits(), ...p.lifetime },
    priority: p.priority ?? 0,
    index: p.index ?? 0,
    dir: valueOf(XFRM_POLICY_DIR, p.dir, 'policy direction'),
    action: valueOf(XFRM_POLICY_ACTION, p.action ?? 'allow', 'policy action'),
    flags: flagsValue({ LOCALOK: 1, ICMP: 2 }, p.flags as string[] | undefined, 'policy flag'),
    share: XFRM_SHARE.ANY,
  });
}

/** XFRM_MSG_NEWPOLICY / UPDPOLICY body. */
export function encodePolicy(p: PolicySpec): Buffer {
  const fam = famOf(p.sel.family, p.sel.src, p.sel.dst);
  return Buffer.concat([
    policyInfo(p),
    attrs([
      p.tmpls && p.tmpls.length > 0 && nla.bytes(XFRMA.TMPL, Buffer.concat(p.tmpls.map((t) => encodeTmpl(t, fam)))),
      p.mark && nla.bytes(XFRMA.MARK, xfrmMark.encode({ v: p.mark.value, m: p.mark.mask })),
      p.ifId !== undefined && nla.u32(XFRMA.IF_ID, p.ifId),
      p.type !== undefined && nla.bytes(XFRMA.POLICY_TYPE, Buffer.from([valueOf(XFRM_POLICY_TYPE, p.type), 0, 0, 0, 0, 0])),
    ]),
  ]);
}

export interface PolicyId { dir: 'in' | 'out' | 'fwd'; sel?: SelectorSpec; index?: number; mark?: Mark; ifId?: number }

/** XFRM_MSG_DELPOLICY / GETPOLICY body: by selector, or by index. */
export function encodePolicyId(id: PolicyId): Buffer {
  return Buffer.concat([
    xfrmUserpolicyId.encode({ sel: encodeSelector(id.sel ?? {}), index: id.index ?? 0, dir: valueOf(XFRM_POLICY_DIR, id.dir, 'policy direction') }),
    attrs([
      id.mark && nla.bytes(XFRMA.MARK, xfrmMark.encode({ v: id.mark.value, m: id.mark.mask })),
      id.ifId !== undefined && nla.u32(XFRMA.IF_ID, id.ifId),
    ]),
  ]);
}

function decodeTmpls(b: Buffer | undefined): Tmpl[] {
  const out: Tmpl[] = [];
  if (!b) return out;
  for (let off = 0; off + xfrmUserTmpl.size <= b.length; off += xfrmUserTmpl.size) {
    const t = xfrmUserTmpl.decode(b, off);
    out.push({
      family: familyName(t.family),
      src: bytesToIp(t.saddr, t.family),
      dst: bytesToIp(t.id.daddr, t.family),
      proto: protoName(t.id.proto),
      spi: t.id.spi,
      mode: nameOf(XFRM_MODE, t.mode),
      reqid: t.reqid,
      share: nameOf(XFRM_SHARE, t.share),
      optional: t.optional !== 0,
      aalgos: t.aalgos,
      ealgos: t.ealgos,
      calgos: t.calgos,
    });
  }
  return out;
}

export function decodePolicy(m: NlMessage): Policy {
  const h = xfrmUserpolicyInfo.decode(m.payload);
  const a = attrSet(m.payload, xfrmUserpolicyInfo.size);
  const p: Policy = {
    dir: nameOf(XFRM_POLICY_DIR, h.dir),
    sel: decodeSelector(h.sel),
    priority: h.priority,
    index: h.index,
    action: nameOf(XFRM_POLICY_ACTION, h.action),
    flags: flagNames({ LOCALOK: 1, ICMP: 2 }, h.flags),
    share: nameOf(XFRM_SHARE, h.share),
    tmpls: decodeTmpls(a.get(XFRMA.TMPL)),
    lifetime: h.lft,
  };
  const mark = decodeMark(a.get(XFRMA.MARK));
  if (mark) p.mark = mark;
  const ifId = a.u32(XFRMA.IF_ID);
  if (ifId !== undefined) p.ifId = ifId;
  const pt = a.get(XFRMA.POLICY_TYPE);
  if (pt) p.type = nameOf(XFRM_POLICY_TYPE, pt.readUInt8(0));
  return p;
}

export function xfrmTypeName(t: number): string {
  const n = nameOf(XFRM_MSG, t);
  return typeof n === 'string' ? `XFRM_MSG_${n.toUpperCase()}` : `xfrm type ${t}`;
}

export interface Xfrm {
  readonly nl: Netlink;
  addSa(s: SaSpec): void;
  updateSa(s: SaSpec): void;
  deleteSa(id: SaId): void;
  getSa(id: SaId): Sa;
  sas(): Sa[];
  flushSas(proto?: XfrmProto | 0): void;
  /** XFRM_MSG_ALLOCSPI: a larval SA with a kernel-chosen SPI in [min, max]. */
  allocSpi(s: { src: string; dst: string; proto?: XfrmProto; mode?: XfrmMode; reqid?: number; min?: number; max?: number }): Sa;
  addPolicy(p: PolicySpec): void;
  updatePolicy(p: PolicySpec): void;
  deletePolicy(id: PolicyId): void;
  getPolicy(id: PolicyId): Policy;
  policies(): Policy[];
  flushPolicies(type?: 'main' | 'sub'): void;
  close(): void;
}

export function openXfrm(opts: Omit<NetlinkOptions, 'typeName'> = {}): Xfrm {
  const nl = openNetlink(NETLINK_XFRM, { strict: false, ...opts, typeName: xfrmTypeName });
  return {
    nl,
    addSa: (s) => void nl.request(XFRM_MSG.NEWSA, encodeSa(s), { flags: NLM_F.CREATE | NLM_F.EXCL }),
    updateSa: (s) => void nl.request(XFRM_MSG.UPDSA, encodeSa(s)),
    deleteSa: (id) => void nl.request(XFRM_MSG.DELSA, encodeSaId(id)),
    getSa: (id) => decodeSa(nl.get(XFRM_MSG.GETSA, encodeSaId(id))),
    sas: () => nl.dump(XFRM_MSG.GETSA, Buffer.alloc(0)).map((m) => decodeSa(m)),
    flushSas: (proto = 0) => void nl.request(XFRM_MSG.FLUSHSA, xfrmUsersaFlush.encode({ proto: proto === 0 ? 0 : protoValue(proto) })),
    allocSpi(s) {
      const info = xfrmUserspiInfo.encode({
        info: {
          sel: encodeSelector({ family: ipFamily(s.dst) === AF_INET ? 'inet' : 'inet6' }),
          id: { daddr: addr16(s.dst), spi: 0, proto: protoValue(s.proto) },
          saddr: addr16(s.src),
          lft: noLimits(),
          reqid: s.reqid ?? 0,
          family: ipFamily(s.dst),
          mode: s.mode === undefined ? XFRM_MODE.TRANSPORT : valueOf(XFRM_MODE, s.mode, 'xfrm mode'),
        },
        min: s.min ?? 0x100,
        max: s.max ?? 0x0fffffff,
      });
      return decodeSa(nl.get(XFRM_MSG.ALLOCSPI, info));
    },
    addPolicy: (p) => void nl.request(XFRM_MSG.NEWPOLICY, encodePolicy(p), { flags: NLM_F.CREATE | NLM_F.EXCL }),
    updatePolicy: (p) => void nl.request(XFRM_MSG.UPDPOLICY, encodePolicy(p)),
    deletePolicy: (id) => void nl.request(XFRM_MSG.DELPOLICY, encodePolicyId(id)),
    getPolicy: (id) => decodePolicy(nl.get(XFRM_MSG.GETPOLICY, encodePolicyId(id))),
    policies: () => nl.dump(XFRM_MSG.GETPOLICY, Buffer.alloc(0)).map(decodePolicy),
    flushPolicies: (type) =>
      void nl.request(XFRM_MSG.FLUSHPOLICY, type === undefined ? Buffer.alloc(0) : nla.bytes(XFRMA.POLICY_TYPE, Buffer.from([valueOf(XFRM_POLICY_TYPE, type), 0, 0, 0, 0, 0]))),
    close: () => nl.close(),
  };
}

/**
 * Per-socket policy (IP_XFRM_POLICY / IPV6_XFRM_POLICY): struct xfrm_userpolicy_info followed by
 * an array of struct xfrm_user_tmpl, no netlink attributes. Only dir 'in' or 'out' apply.
 */
export function encodeSocketPolicy(p: PolicySpec): Buffer {
  const fam = famOf(p.sel.family, p.sel.src, p.sel.dst);
  return Buffer.concat([policyInfo(p), ...(p.tmpls ?? []).map((t) => encodeTmpl(t, fam))]);
}

export function setSocketPolicy(fd: number, family: FamilyName | 4 | 6, p: PolicySpec): void {
  const v6 = family === 'inet6' || family === 6;
  sys.setsockopt(fd, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY, encodeSocketPolicy(p));
}
