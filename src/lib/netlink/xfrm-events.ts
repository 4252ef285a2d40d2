// xfrm beyond SAs and policies (include/uapi/linux/xfrm.h): the notifications the kernel sends
// to key managers (EXPIRE, POLEXPIRE, ACQUIRE, MAPPING, MIGRATE, NEWAE), SA migration, SAD/SPD
// counts, async-event queries and the default policy. Requests go through an open Xfrm handle;
// notifications arrive on one opened with the matching XFRMNLGRP groups:
//
//   const ev = openXfrm({ groups: [XFRMNLGRP.EXPIRE] });
//   const { sa, hard } = decodeExpire(ev.nl.waitFor((m) => m.type === XFRM_MSG.EXPIRE, 3000));
import { bytesToIp, ipFamily, ipToBytes } from '../addr.js';
import { attrs, attrSet, nla } from './attr.js';
import { parseAck, type NlMessage } from './message.js';
import { NetlinkError } from './error.js';
import { nameOf, valueOf } from '../names.js';
import { familyName, type FamilyName } from './rt-structs.js';
import { AF_INET, AF_INET6 } from '../include/linux/socket.js';
import { IPPROTO_AH, IPPROTO_COMP, IPPROTO_ESP } from '../include/uapi/linux/in.js';
import { NLM_F, NLMSG } from '../include/uapi/linux/netlink.js';
import { UDP_ENCAP_ESPINUDP } from '../include/uapi/linux/udp.js';
import { XFRMA, XFRM_MODE, XFRM_MSG, XFRM_POLICY_DIR, XFRM_POLICY_TYPE } from '../include/uapi/linux/xfrm.js';
import { struct } from './layout.js';
import {
  decodePolicy, decodeSa, decodeSelector, encodeSa, encodeSelector, xfrmEncapTmpl, xfrmId, xfrmMark, xfrmReplayState, xfrmReplayStateEsn,
  xfrmLifetimeCur, xfrmSelector, xfrmUsersaId, xfrmUserpolicyId, xfrmUserpolicyInfo, xfrmUsersaInfo,
  type Mark, type Policy, type Sa, type Selector, type SelectorSpec, type Xfrm, type XfrmMode, type XfrmProto,
} from './xfrm.js';

export { XFRM_MSG } from '../include/uapi/linux/xfrm.js';

const addr = { bytes: 16, align: 4 } as const;

export const xfrmUserExpire = struct({ state: xfrmUsersaInfo, hard: 'u8' });
export const xfrmUserPolexpire = struct({ pol: xfrmUserpolicyInfo, hard: 'u8' });
export const xfrmUserAcquire = struct({
  id: xfrmId, saddr: addr, sel: xfrmSelector, policy: xfrmUserpolicyInfo, aalgos: 'u32', ealgos: 'u32', calgos: 'u32', seq: 'u32',
});
export const xfrmUserMigrate = struct({
  oldDaddr: addr, oldSaddr: addr, newDaddr: addr, newSaddr: addr, proto: 'u8', mode: 'u8', reserved: 'u16', reqid: 'u32',
  oldFamily: 'u16', newFamily: 'u16',
});
export const xfrmUserKmaddress = struct({ local: addr, remote: addr, reserved: 'u32', family: 'u16' });
export const xfrmUserMapping = struct({ id: xfrmUsersaId, reqid: 'u32', oldSaddr: addr, newSaddr: addr, oldSport: 'be16', newSport: 'be16' });
export const xfrmAeventId = struct({ saId: xfrmUsersaId, saddr: addr, flags: 'u32', reqid: 'u32' });
export const xfrmuSpdinfo = struct({ incnt: 'u32', outcnt: 'u32', fwdcnt: 'u32', inscnt: 'u32', outscnt: 'u32', fwdscnt: 'u32' });
export const xfrmuHinfo = struct({ cnt: 'u32', mcnt: 'u32' });
export const xfrmUserpolicyDefault = struct({ in: 'u8', fwd: 'u8', out: 'u8' });

/** enum xfrm_ae_ftype_t: what a NEWAE carries and why it was sent. */
export const XFRM_AE = { RTHR: 1, RVAL: 2, LVAL: 4, ETHR: 8, CR: 16, CE: 32, CU: 64 } as const;
/** XFRMA_SAD_* and XFRMA_SPD_* (enum xfrm_sadattr_type_t, xfrm_spdattr_type_t). */
export const XFRMA_SAD = { CNT: 1, HINFO: 2 } as const;
export const XFRMA_SPD = { INFO: 1, HINFO: 2, IPV4_HTHRESH: 3, IPV6_HTHRESH: 4 } as const;
/** XFRM_USERPOLICY_* for the default policy. */
export const XFRM_USERPOLICY = { UNSPEC: 0, BLOCK: 1, ACCEPT: 2 } as const;

const PROTOS: Record<string, number> = { esp: IPPROTO_ESP, ah: IPPROTO_AH, comp: IPPROTO_COMP };
const protoValue = (p: XfrmProto | undefined): number => (p === undefined ? IPPROTO_ESP : typeof p === 'number' ? p : (PROTOS[p] ?? 0));
const protoName = (n: number): XfrmProto => (Object.entries(PROTOS).find(([, v]) => v === n)?.[0] as XfrmProto | undefined) ?? n;
const addr16 = (a: string | undefined): Buffer => {
  const b = Buffer.alloc(16);
  if (a) ipToBytes(a).copy(b);
  return b;
};
const fam = (f: number): FamilyName => familyName(f);

/** XFRM_MSG_EXPIRE: an SA reached a soft limit (hard false) or a hard one (hard true; it is gone). */
export function decodeExpire(m: NlMessage): { sa: Sa; hard: boolean } {
  const hard = m.payload.readUInt8(xfrmUserExpire.offsets['hard']!) !== 0;
  // Attributes (mark, if_id) follow the whole struct, not the SA info inside it.
  const body = Buffer.concat([m.payload.subarray(0, xfrmUsersaInfo.size), m.payload.subarray(xfrmUserExpire.size)]);
  return { sa: decodeSa({ ...m, payload: body }), hard };
}

/** XFRM_MSG_POLEXPIRE: a policy's lifetime ran out. */
export function decodePolexpire(m: NlMessage): { policy: Policy; hard: boolean } {
  const hard = m.payload.readUInt8(xfrmUserPolexpire.offsets['hard']!) !== 0;
  // decodePolicy reads the policy info at the start and attributes after it; here they follow the whole struct.
  const body = Buffer.concat([m.payload.subarray(0, xfrmUserpolicyInfo.size), m.payload.subarray(xfrmUserPolexpire.size)]);
  return { policy: decodePolicy({ ...m, payload: body }), hard };
}

export interface Acquire {
  family: FamilyName;
  /** The template's SA: destination, source, protocol (spi 0). */
  dst: string;
  src: string;
  proto: XfrmProto;
  spi: number;
  /** The flow that triggered the acquire, as a /32 or /128 selector. */
  sel: Selector;
  policy: { dir: string | number; priority: number; index: number; sel: Selector };
  aalgos: number;
  ealgos: number;
  calgos: number;
  seq: number;
}

/** XFRM_MSG_ACQUIRE: outbound traffic matched a policy whose template has no SA. */
export function decodeAcquire(m: NlMessage): Acquire {
  const a = xfrmUserAcquire.decode(m.payload);
  const family = a.sel.family || a.policy.sel.family;
  return {
    family: fam(family),
    dst: bytesToIp(a.id.daddr, family),
    src: bytesToIp(a.saddr, family),
    proto: protoName(a.id.proto),
    spi: a.id.spi,
    sel: decodeSelector(a.sel),
    policy: { dir: nameOf(XFRM_POLICY_DIR, a.policy.dir), priority: a.policy.priority, index: a.policy.index, sel: decodeSelector(a.policy.sel) },
    aalgos: a.aalgos,
    ealgos: a.ealgos,
    calgos: a.calgos,
    seq: a.seq,
  };
}

export interface Mapping {
  dst: string;
  spi: number;
  proto: XfrmProto;
  reqid: number;
  oldSrc: string;
  newSrc: string;
  oldSport: number;
  newSport: number;
}

/** XFRM_MSG_MAPPING: a NAT-T peer's address or port changed (km_new_mapping()). */
export function decodeMapping(m: NlMessage): Mapping {
  const v = xfrmUserMapping.decode(m.payload);
  return {
    dst: bytesToIp(v.id.daddr, v.id.family),
    spi: v.id.spi,
    proto: protoName(v.id.proto),
    reqid: v.reqid,
    oldSrc: bytesToIp(v.oldSaddr, v.id.family),
    newSrc: bytesToIp(v.newSaddr, v.id.family),
    oldSport: v.oldSport,
    newSport: v.newSport,
  };
}

export interface Migration {
  oldDst: string;
  oldSrc: string;
  newDst: string;
  newSrc: string;
  proto?: XfrmProto;
  mode?: XfrmMode;
  reqid?: number;
}

export interface MigrateRequest {
  /** The policy whose templates move, found by its exact selector and direction. */
  sel: SelectorSpec;
  dir: 'in' | 'out' | 'fwd';
  type?: 'main' | 'sub';
  migrations: readonly Migration[];
  kmaddress?: { local: string; remote: string };
  encap?: { type?: 'espinudp'; sport: number; dport: number; oa?: string };
  ifId?: number;
}

function encodeMigration(mg: Migration): Buffer {
  return xfrmUserMigrate.encode({
    oldDaddr: addr16(mg.oldDst), oldSaddr: addr16(mg.oldSrc), newDaddr: addr16(mg.newDst), newSaddr: addr16(mg.newSrc),
    proto: protoValue(mg.proto), mode: mg.mode === undefined ? XFRM_MODE.TRANSPORT : valueOf(XFRM_MODE, mg.mode, 'xfrm mode'),
    reqid: mg.reqid ?? 0, oldFamily: ipFamily(mg.oldDst), newFamily: ipFamily(mg.newDst),
  });
}

/** XFRM_MSG_MIGRATE body: the policy id, XFRMA_MIGRATE (one xfrm_user_migrate per SA), options. */
export function encodeMigrate(r: MigrateRequest): Buffer {
  return Buffer.concat([
    xfrmUserpolicyId.encode({ sel: encodeSelector(r.sel), index: 0, dir: valueOf(XFRM_POLICY_DIR, r.dir, 'policy direction') }),
    attrs([
      nla.bytes(XFRMA.MIGRATE, Buffer.concat(r.migrations.map(encodeMigration))),
      r.type !== undefined && nla.bytes(XFRMA.POLICY_TYPE, Buffer.from([valueOf(XFRM_POLICY_TYPE, r.type), 0, 0, 0, 0, 0])),
      r.kmaddress !== undefined && nla.bytes(XFRMA.KMADDRESS, xfrmUserKmaddress.encode({ local: addr16(r.kmaddress.local), remote: addr16(r.kmaddress.remote), family: ipFamily(r.kmaddress.local) })),
      r.encap !== undefined && nla.bytes(XFRMA.ENCAP, xfrmEncapTmpl.encode({ type: UDP_ENCAP_ESPINUDP, sport: r.encap.sport, dport: r.encap.dport, oa: addr16(r.encap.oa) })),
      r.ifId !== undefined && nla.u32(XFRMA.IF_ID, r.ifId),
    ]),
  ]);
}

/**
 * XFRM_MSG_EXPIRE sent by a key manager (xfrm_add_sa_expire()): the kernel notifies every
 * listener as if the SA had reached a soft or hard limit, and deletes it when hard. The SA is
 * found by destination, SPI, protocol, family and mark.
 */
export function expireSa(x: Xfrm, id: { src: string; dst: string; spi: number; proto?: XfrmProto; mark?: Mark }, hard: boolean): void {
  const sa = encodeSa({ ...id, mode: 'transport' });
  const body = Buffer.alloc(xfrmUserExpire.size);
  sa.copy(body, 0, 0, xfrmUsersaInfo.size);
  body.writeUInt8(hard ? 1 : 0, xfrmUserExpire.offsets['hard']!);
  x.nl.request(XFRM_MSG.EXPIRE, Buffer.concat([body, sa.subarray(xfrmUsersaInfo.size)]));
}

/** Moves the SAs and the policy's templates to new addresses (XFRM_MSG_MIGRATE, CONFIG_XFRM_MIGRATE). */
export function migrate(x: Xfrm, r: MigrateRequest): void {
  x.nl.request(XFRM_MSG.MIGRATE, encodeMigrate(r));
}

export interface MigrateEvent {
  sel: Selector;
  dir: string | number;
  migrations: Required<Migration>[];
  kmaddress?: { local: string; remote: string };
}

/** The XFRM_MSG_MIGRATE notification (XFRMNLGRP_MIGRATE) km_migrate() sends after a migration. */
export function decodeMigrate(m: NlMessage): MigrateEvent {
  const id = xfrmUserpolicyId.decode(m.payload);
  const a = attrSet(m.payload, xfrmUserpolicyId.size);
  const list = a.get(XFRMA.MIGRATE) ?? Buffer.alloc(0);
  const migrations: Required<Migration>[] = [];
  for (let off = 0; off + xfrmUserMigrate.size <= list.length; off += xfrmUserMigrate.size) {
    const v = xfrmUserMigrate.decode(list, off);
    migrations.push({
      oldDst: bytesToIp(v.oldDaddr, v.oldFamily), oldSrc: bytesToIp(v.oldSaddr, v.oldFamily),
      newDst: bytesToIp(v.newDaddr, v.newFamily), newSrc: bytesToIp(v.newSaddr, v.newFamily),
      proto: protoName(v.proto), mode: nameOf(XFRM_MODE, v.mode) as XfrmMode, reqid: v.reqid,
    });
  }
  const ev: MigrateEvent = { sel: decodeSelector(id.sel), dir: nameOf(XFRM_POLICY_DIR, id.dir), migrations };
  const km = a.get(XFRMA.KMADDRESS);
  if (km) {
    const k = xfrmUserKmaddress.decode(km);
    ev.kmaddress = { local: bytesToIp(k.local, k.family), remote: bytesToIp(k.remote, k.family) };
  }
  return ev;
}

export interface SadInfo {
  /** SAs in this namespace. */
  count: number;
  hashBuckets: number;
  maxBuckets: number;
}

/** XFRM_MSG_GETSADINFO. */
export function sadInfo(x: Xfrm): SadInfo {
  const m = x.nl.get(XFRM_MSG.GETSADINFO, Buffer.alloc(4));
  const a = attrSet(m.payload, 4);
  const h = xfrmuHinfo.decode(a.get(XFRMA_SAD.HINFO) ?? Buffer.alloc(8));
  return { count: a.u32(XFRMA_SAD.CNT) ?? 0, hashBuckets: h.cnt, maxBuckets: h.mcnt };
}

export interface SpdInfo {
  /** Policies by direction; the socket counts are per-socket policies. */
  in: number;
  out: number;
  fwd: number;
  inSocket: number;
  outSocket: number;
  fwdSocket: number;
  hashBuckets: number;
  maxBuckets: number;
  /** Prefix lengths above which policies are hashed (XFRMA_SPD_IPV4/IPV6_HTHRESH). */
  ipv4Thresh?: { lbits: number; rbits: number };
  ipv6Thresh?: { lbits: number; rbits: number };
}

/** XFRM_MSG_GETSPDINFO. */
export function spdInfo(x: Xfrm): SpdInfo {
  const m = x.nl.get(XFRM_MSG.GETSPDINFO, Buffer.alloc(4));
  const a = attrSet(m.payload, 4);
  const i = xfrmuSpdinfo.decode(a.get(XFRMA_SPD.INFO) ?? Buffer.alloc(24));
  const h = xfrmuHinfo.decode(a.get(XFRMA_SPD.HINFO) ?? Buffer.alloc(8));
  const out: SpdInfo = { in: i.incnt, out: i.outcnt, fwd: i.fwdcnt, inSocket: i.inscnt, outSocket: i.outscnt, fwdSocket: i.fwdscnt, hashBuckets: h.cnt, maxBuckets: h.mcnt };
  const t4 = a.get(XFRMA_SPD.IPV4_HTHRESH);
  if (t4) out.ipv4Thresh = { lbits: t4[0]!, rbits: t4[1]! };
  const t6 = a.get(XFRMA_SPD.IPV6_HTHRESH);
  if (t6) out.ipv6Thresh = { lbits: t6[0]!, rbits: t6[1]! };
  return out;
}

export interface AeId {
  dst: string;
  spi: number;
  proto?: XfrmProto;
  src: string;
  reqid?: number;
  mark?: Mark;
}

export interface AsyncEvent {
  dst: string;
  spi: number;
  flags: number;
  replay?: { oseq: number; seq: number; bitmap: number };
  replayEsn?: { oseq: number; seq: number; oseqHi: number; seqHi: number; replayWindow: number; bmp: number[] };
  current?: { bytes: bigint; packets: bigint; addTime: bigint; useTime: bigint };
  /** XFRMA_REPLAY_THRESH and XFRMA_ETIMER_THRESH, when present. */
  replayThresh?: number;
  etimerThresh?: number;
}

/** XFRM_MSG_NEWAE (an answer to GETAE, or a notification on XFRMNLGRP_AEVENTS). */
export function decodeAevent(m: NlMessage): AsyncEvent {
  const id = xfrmAeventId.decode(m.payload);
  const a = attrSet(m.payload, xfrmAeventId.size);
  const ev: AsyncEvent = { dst: bytesToIp(id.saId.daddr, id.saId.family), spi: id.saId.spi, flags: id.flags };
  const rp = a.get(XFRMA.REPLAY_VAL);
  if (rp) ev.replay = xfrmReplayState.decode(rp);
  const esn = a.get(XFRMA.REPLAY_ESN_VAL);
  if (esn) {
    const e = xfrmReplayStateEsn.decode(esn);
    const bmp: number[] = [];
    for (let i = 0; i < e.bmpLen; i++) bmp.push(esn.readUInt32LE(xfrmReplayStateEsn.size + i * 4));
    ev.replayEsn = { oseq: e.oseq, seq: e.seq, oseqHi: e.oseqHi, seqHi: e.seqHi, replayWindow: e.replayWindow, bmp };
  }
  const lt = a.get(XFRMA.LTIME_VAL);
  if (lt) ev.current = xfrmLifetimeCur.decode(lt);
  const rt = a.u32(XFRMA.REPLAY_THRESH);
  if (rt !== undefined) ev.replayThresh = rt;
  const et = a.u32(XFRMA.ETIMER_THRESH);
  if (et !== undefined) ev.etimerThresh = et;
  return ev;
}

function encodeAeId(id: AeId, flags: number): Buffer {
  return Buffer.concat([
    xfrmAeventId.encode({
      saId: { daddr: addr16(id.dst), spi: id.spi, family: ipFamily(id.dst), proto: protoValue(id.proto) },
      saddr: addr16(id.src), flags, reqid: id.reqid ?? 0,
    }),
    attrs([id.mark !== undefined && nla.bytes(XFRMA.MARK, xfrmMark.encode({ v: id.mark.value, m: id.mark.mask }))]),
  ]);
}

/**
 * XFRM_MSG_GETAE: an SA's replay state and current lifetime. xfrm_get_ae() addresses its answer
 * to the request's nlmsg_pid, which our requests leave 0, so the answer is matched by sequence
 * number alone.
 */
export function getAe(x: Xfrm, id: AeId): AsyncEvent {
  const seq = x.nl.send(XFRM_MSG.GETAE, 0, encodeAeId(id, XFRM_AE.RVAL | XFRM_AE.LVAL));
  const m = x.nl.waitFor((r) => r.seq === seq && (r.type === XFRM_MSG.NEWAE || r.type === NLMSG.ERROR), 5000);
  if (m.type === NLMSG.ERROR) {
    const ack = parseAck(m);
    if (ack.errno !== 0) throw new NetlinkError('XFRM_MSG_GETAE', ack);
  }
  return decodeAevent(m);
}

/**
 * XFRM_MSG_NEWAE: set an SA's replay notification threshold (packets) and/or timer (units of
 * 100 ms). xfrm_new_ae() insists on NLM_F_REPLACE.
 */
export function setAeThresholds(x: Xfrm, id: AeId, t: { replayThresh?: number; etimerThresh?: number }): void {
  const flags = (t.replayThresh !== undefined ? XFRM_AE.RTHR : 0) | (t.etimerThresh !== undefined ? XFRM_AE.ETHR : 0);
  x.nl.request(XFRM_MSG.NEWAE, Buffer.concat([
    encodeAeId(id, flags),
    attrs([
      t.replayThresh !== undefined && nla.u32(XFRMA.REPLAY_THRESH, t.replayThresh),
      t.etimerThresh !== undefined && nla.u32(XFRMA.ETIMER_THRESH, t.etimerThresh),
    ]),
  ]), { flags: NLM_F.REPLACE });
}

export type DefaultAction = 'block' | 'accept' | 'unspec';
export interface DefaultPolicy {
  in: DefaultAction;
  fwd: DefaultAction;
  out: DefaultAction;
}

const actionName = (v: number): DefaultAction => (v === XFRM_USERPOLICY.BLOCK ? 'block' : v === XFRM_USERPOLICY.ACCEPT ? 'accept' : 'unspec');
const actionValue = (a: DefaultAction | undefined): number => (a === 'block' ? XFRM_USERPOLICY.BLOCK : a === 'accept' ? XFRM_USERPOLICY.ACCEPT : XFRM_USERPOLICY.UNSPEC);

/** XFRM_MSG_GETDEFAULT (Linux 5.16+): what happens to traffic no policy matches. */
export function getDefaultPolicy(x: Xfrm): DefaultPolicy {
  const v = xfrmUserpolicyDefault.decode(x.nl.get(XFRM_MSG.GETDEFAULT, xfrmUserpolicyDefault.encode({})).payload);
  return { in: actionName(v.in), fwd: actionName(v.fwd), out: actionName(v.out) };
}

/** XFRM_MSG_SETDEFAULT; a direction left out (unspec) keeps its value. */
export function setDefaultPolicy(x: Xfrm, p: Partial<DefaultPolicy>): void {
  x.nl.request(XFRM_MSG.SETDEFAULT, xfrmUserpolicyDefault.encode({ in: actionValue(p.in), fwd: actionValue(p.fwd), out: actionValue(p.out) }));
}

/** An XFRM_MSG_FLUSHSA notification's protocol (0: all). */
export function decodeFlushSa(m: NlMessage): number {
  return m.payload.readUInt8(0);
}

/** The family of an address, as xfrm names it. */
export const xfrmFamily = (a: string): number => (ipFamily(a) === AF_INET6 ? AF_INET6 : AF_INET);

/** XFRM_MSG_DELSA as announced on XFRMNLGRP_SA: an SA id, then XFRMA_SA with the whole SA, then its attributes. */
export function decodeDelsaNotification(m: NlMessage): Sa {
  const a = attrSet(m.payload, xfrmUsersaId.size);
  const info = a.get(XFRMA.SA);
  if (!info) throw new Error('XFRM_MSG_DELSA notification without XFRMA_SA');
  const rest = m.payload.subarray(xfrmUsersaId.size + ((4 + info.length + 3) & ~3));
  return decodeSa({ ...m, payload: Buffer.concat([info, rest]) });
}
