/** ICMPv6 (RFC 4443), neighbour discovery (RFC 4861 and option RFCs) and MLD (RFC 2710, RFC 3810). */
import { ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMPV6_MGM_QUERY, ICMPV6_MGM_REDUCTION, ICMPV6_MGM_REPORT, ICMPV6_MLD2_REPORT, ICMPV6_PARAMPROB, ICMPV6_PKT_TOOBIG } from '../include/uapi/linux/icmpv6.js';
import {
  ND_OPT_MTU, ND_OPT_PREF64, ND_OPT_PREFIX_INFO, ND_OPT_RDNSS, ND_OPT_REDIRECT_HDR, ND_OPT_ROUTE_INFO, ND_OPT_SOURCE_LL_ADDR, ND_OPT_TARGET_LL_ADDR,
  NDISC_NEIGHBOUR_ADVERTISEMENT, NDISC_NEIGHBOUR_SOLICITATION, NDISC_REDIRECT, NDISC_ROUTER_ADVERTISEMENT, NDISC_ROUTER_SOLICITATION,
} from '../include/net/ndisc.js';
import { canonicalIpv6, canonicalMac, readIpv6, readMac, writeIpv6, writeMac } from '../addr.js';
import { checkFields } from './check-fields.js';

export type NdOption =
  /** Source link-layer address (RS, RA, NS). */
  | { kind: 'srcLladdr'; addr: string }
  /** Target link-layer address (NA, redirect). */
  | { kind: 'tgtLladdr'; addr: string }
  /** Prefix information (RA). flags: letters from "LAR" (on-link, autonomous, router address); reserved1: the 5 low flag bits. */
  | { kind: 'prefixInfo'; prefixLen: number; flags: string; reserved1: number; validLifetime: number; preferredLifetime: number; reserved2: number; prefix: string }
  /** Redirected header. data: the bytes after type and length (6 reserved bytes, then the quoted packet). */
  | { kind: 'redirectedHeader'; data: Uint8Array }
  /** Link MTU (RA). */
  | { kind: 'mtu'; mtu: number; reserved: number }
  /** Route information (RFC 4191). len (8-byte units) defaults to the shortest that holds prefixLen bits. reserved: the flag bits around prf. */
  | { kind: 'routeInfo'; prefixLen: number; prf: number; reserved: number; lifetime: number; prefix: string; len?: number }
  /** Recursive DNS servers (RFC 8106). */
  | { kind: 'rdnss'; reserved: number; lifetime: number; servers: string[] }
  /** NAT64 prefix (RFC 8781). scaledLifetime in units of 8 s (13 bits); plc: prefix length code (0=96 ... 5=32). */
  | { kind: 'pref64'; scaledLifetime: number; plc: number; prefix: string }
  /** Any other option: data after type/len, zero-padded to a multiple of 8 bytes. */
  | { kind: 'option'; code: number; data: Uint8Array }
  /** Undecodable bytes (zero or overlong length), written as they are. */
  | { kind: 'raw'; data: Uint8Array };

export interface MldRecord {
  recordType: number;
  auxLen?: number;
  nSources?: number;
  mcastAddr: string;
  sources: string[];
  aux?: Uint8Array;
}

/**
 * An ICMPv6 message (RFC 4443), neighbour discovery (RFC 4861) or MLD (RFC 2710, 3810), as one
 * flat layer: which optional fields are used depends on icmpType.
 * errors 1/3: unused; 2: mtu; 4: pointer (each 32 bits, then the quoted IPv6 packet as layers);
 * echo 128/129: id, seq; MLD 130-132: maxDelay, reserved, mcastAddr; an MLDv2 query (130) also has
 * resv (4 bits), sFlag, qrv, qqic, nSources, sources (present when `sources` is set, or parsed from
 * 28+ bytes); MLDv2 report 143: reserved, nRecords, records;
 * RS 133: reserved, options; RA 134: curHopLimit, flags ("MOHP"), prf, reserved (2 bits), routerLifetime,
 * reachableTime, retransTimer, options; NS 135: reserved, target, options; NA 136: flags ("RSO"),
 * reserved (29 bits), target, options; redirect 137: reserved, target, dest, options; others: unused.
 */
export interface Icmpv6 {
  type: 'icmpv6';
  /** ICMPV6_* or NDISC_* type. */
  icmpType: number;
  code: number;
  /** Computed when absent. */
  checksum?: number;
  /** Echo: identifier. */
  id?: number;
  /** Echo: sequence number. */
  seq?: number;
  /** Destination unreachable, time exceeded: the 32 unused bits. */
  unused?: number;
  /** Packet too big: the MTU. */
  mtu?: number;
  /** Parameter problem: offset of the bad byte. */
  pointer?: number;
  /** The reserved bits of MLD, MLDv2 report, RS, RA (2 bits), NS, NA (29 bits), redirect. */
  reserved?: number;
  /** MLD: maximum response delay (ms). */
  maxDelay?: number;
  /** MLD: the group. */
  mcastAddr?: string;
  /** MLDv2 report: number of records; computed when absent. */
  nRecords?: number;
  /** MLDv2 report: the records. */
  records?: MldRecord[];
  /** MLDv2 query: the 4 reserved bits. */
  resv?: number;
  /** MLDv2 query: suppress router-side processing. */
  sFlag?: boolean;
  /** MLDv2 query: querier's robustness variable. */
  qrv?: number;
  /** MLDv2 query: querier's query interval code. */
  qqic?: number;
  /** MLDv2 query: number of sources; computed when absent. */
  nSources?: number;
  /** MLDv2 query: the sources. */
  sources?: string[];
  /** RA: hop limit for hosts to use (0: unspecified). */
  curHopLimit?: number;
  /** RA: letters of 'MOHP' (managed, other, home agent, proxy); NA: of 'RSO' (router, solicited, override). */
  flags?: string;
  /** RA: default router preference (ICMPV6_ROUTER_PREF_*). */
  prf?: number;
  /** RA: seconds as a default router (0: not one). */
  routerLifetime?: number;
  /** RA: ms. */
  reachableTime?: number;
  /** RA: ms. */
  retransTimer?: number;
  /** NS, NA, redirect: the address asked about. */
  target?: string;
  /** Redirect: the destination redirected. */
  dest?: string;
  /** RS, RA, NS, NA, redirect: neighbour discovery options. */
  options?: NdOption[];
}

type Shape = 'unused' | 'mtu' | 'pointer' | 'echo' | 'mld' | 'mld2' | 'rs' | 'ra' | 'ns' | 'na' | 'redirect';

function shape(t: number): Shape {
  switch (t) {
    case ICMPV6_PKT_TOOBIG: return 'mtu';
    case ICMPV6_PARAMPROB: return 'pointer';
    case ICMPV6_ECHO_REQUEST: case ICMPV6_ECHO_REPLY: return 'echo';
    case ICMPV6_MGM_QUERY: case ICMPV6_MGM_REPORT: case ICMPV6_MGM_REDUCTION: return 'mld';
    case ICMPV6_MLD2_REPORT: return 'mld2';
    case NDISC_ROUTER_SOLICITATION: return 'rs';
    case NDISC_ROUTER_ADVERTISEMENT: return 'ra';
    case NDISC_NEIGHBOUR_SOLICITATION: return 'ns';
    case NDISC_NEIGHBOUR_ADVERTISEMENT: return 'na';
    case NDISC_REDIRECT: return 'redirect';
    default: return 'unused';
  }
}

/** Error messages carry as much of the offending IPv6 packet as fits; it is parsed as layers. */
export function icmpv6CarriesIp(t: number): boolean {
  return t >= 1 && t <= 4;
}

const RA_FLAGS = 'MOHP';
const RA_BITS = [0x80, 0x40, 0x20, 0x04];
const NA_FLAGS = 'RSO';
const NA_BITS = [0x80000000, 0x40000000, 0x20000000];
const PI_FLAGS = 'LAR';
const PI_BITS = [0x80, 0x40, 0x20];

function flagsToBits(flags: string, letters: string, bits: number[]): number {
  let v = 0;
  for (const c of flags) {
    const i = letters.indexOf(c);
    if (i < 0) throw new RangeError(`bad flag letter "${c}" (allowed: ${letters})`);
    v += bits[i]!;
  }
  return v;
}

function bitsToFlags(v: number, letters: string, bits: number[]): string {
  let s = '';
  for (let i = 0; i < letters.length; i++) if ((v & bits[i]!) !== 0) s += letters[i];
  return s;
}

export function icmpv6(f: Partial<Omit<Icmpv6, 'type'>> = {}): Icmpv6 {
  checkFields('icmpv6', f);
  const icmpType = f.icmpType ?? ICMPV6_ECHO_REQUEST;
  const l: Icmpv6 = { type: 'icmpv6', icmpType, code: f.code ?? 0 };
  if (f.checksum !== undefined) l.checksum = f.checksum;
  const opts = (): NdOption[] => (f.options ?? []).map(normaliseOption);
  switch (shape(icmpType)) {
    case 'unused': l.unused = f.unused ?? 0; break;
    case 'mtu': l.mtu = f.mtu ?? 1280; break;
    case 'pointer': l.pointer = f.pointer ?? 0; break;
    case 'echo': l.id = f.id ?? 0; l.seq = f.seq ?? 0; break;
    case 'mld':
      l.maxDelay = f.maxDelay ?? 0; l.reserved = f.reserved ?? 0; l.mcastAddr = canonicalIpv6(f.mcastAddr ?? '::');
      if (icmpType === ICMPV6_MGM_QUERY && f.sources !== undefined) {
        l.resv = f.resv ?? 0; l.sFlag = f.sFlag ?? false; l.qrv = f.qrv ?? 2; l.qqic = f.qqic ?? 125;
        if (f.nSources !== undefined) l.nSources = f.nSources;
        l.sources = f.sources.map(canonicalIpv6);
      }
      break;
    case 'mld2':
      l.reserved = f.reserved ?? 0;
      if (f.nRecords !== undefined) l.nRecords = f.nRecords;
      l.records = (f.records ?? []).map((r) => ({ ...r, mcastAddr: canonicalIpv6(r.mcastAddr), sources: r.sources.map(canonicalIpv6) }));
      break;
    case 'rs': l.reserved = f.reserved ?? 0; l.options = opts(); break;
    case 'ra':
      l.curHopLimit = f.curHopLimit ?? 0; l.flags = bitsToFlags(flagsToBits(f.flags ?? '', RA_FLAGS, RA_BITS), RA_FLAGS, RA_BITS);
      l.prf = f.prf ?? 0; l.reserved = f.reserved ?? 0; l.routerLifetime = f.routerLifetime ?? 1800;
      l.reachableTime = f.reachableTime ?? 0; l.retransTimer = f.retransTimer ?? 0; l.options = opts();
      break;
    case 'ns': l.reserved = f.reserved ?? 0; l.target = canonicalIpv6(f.target ?? '::'); l.options = opts(); break;
    case 'na':
      l.flags = bitsToFlags(flagsToBits(f.flags ?? '', NA_FLAGS, NA_BITS), NA_FLAGS, NA_BITS);
      l.reserved = f.reserved ?? 0; l.target = canonicalIpv6(f.target ?? '::'); l.options = opts();
      break;
    case 'redirect':
      l.reserved = f.reserved ?? 0; l.target = canonicalIpv6(f.target ?? '::'); l.dest = canonicalIpv6(f.dest ?? '::'); l.options = opts();
      break;
  }
  return l;
}

function normaliseOption(o: NdOption): NdOption {
  switch (o.kind) {
    case 'srcLladdr': case 'tgtLladdr': return { ...o, addr: canonicalMac(o.addr) };
    case 'prefixInfo': case 'routeInfo': case 'pref64': return { ...o, prefix: canonicalIpv6(o.prefix) };
    case 'rdnss': return { ...o, servers: o.servers.map(canonicalIpv6) };
    default: return o;
  }
}

type Fields = Partial<Omit<Icmpv6, 'type' | 'icmpType'>>;
function echo(icmpType: number, f: { id?: number; seq?: number; code?: number; checksum?: number }): Icmpv6 {
  const l: Icmpv6 = { type: 'icmpv6', icmpType, code: f.code ?? 0, id: f.id ?? 0, seq: f.seq ?? 0 };
  if (f.checksum !== undefined) l.checksum = f.checksum;
  return l;
}
export const echoRequest6 = (f: { id?: number; seq?: number; code?: number; checksum?: number } = {}): Icmpv6 => echo(ICMPV6_ECHO_REQUEST, f);
export const echoReply6 = (f: { id?: number; seq?: number; code?: number; checksum?: number } = {}): Icmpv6 => echo(ICMPV6_ECHO_REPLY, f);
export const routerSolicit = (f: Fields = {}): Icmpv6 => icmpv6({ ...f, icmpType: NDISC_ROUTER_SOLICITATION });
export const routerAdvert = (f: Fields = {}): Icmpv6 => icmpv6({ ...f, icmpType: NDISC_ROUTER_ADVERTISEMENT });
export const neighborSolicit = (f: Fields = {}): Icmpv6 => icmpv6({ ...f, icmpType: NDISC_NEIGHBOUR_SOLICITATION });
export const neighborAdvert = (f: Fields = {}): Icmpv6 => icmpv6({ ...f, icmpType: NDISC_NEIGHBOUR_ADVERTISEMENT });
export const redirect6 = (f: Fields = {}): Icmpv6 => icmpv6({ ...f, icmpType: NDISC_REDIRECT });

/** Option builders with the usual defaults. */
export const ndOpt = {
  srcLladdr: (addr: string): NdOption => ({ kind: 'srcLladdr', addr: canonicalMac(addr) }),
  tgtLladdr: (addr: string): NdOption => ({ kind: 'tgtLladdr', addr: canonicalMac(addr) }),
  prefixInfo: (f: { prefix: string; prefixLen?: number; flags?: string; validLifetime?: number; preferredLifetime?: number }): NdOption => ({
    kind: 'prefixInfo', prefixLen: f.prefixLen ?? 64, flags: f.flags ?? 'LA', reserved1: 0,
    validLifetime: f.validLifetime ?? 0xffffffff, preferredLifetime: f.preferredLifetime ?? 0xffffffff, reserved2: 0, prefix: canonicalIpv6(f.prefix),
  }),
  mtu: (mtu: number): NdOption => ({ kind: 'mtu', mtu, reserved: 0 }),
  routeInfo: (f: { prefix: string; prefixLen: number; prf?: number; lifetime?: number }): NdOption => ({
    kind: 'routeInfo', prefixLen: f.prefixLen, prf: f.prf ?? 0, reserved: 0, lifetime: f.lifetime ?? 0xffffffff, prefix: canonicalIpv6(f.prefix),
  }),
  rdnss: (servers: string[], lifetime = 0xffffffff): NdOption => ({ kind: 'rdnss', reserved: 0, lifetime, servers: servers.map(canonicalIpv6) }),
  pref64: (f: { prefix: string; scaledLifetime?: number; plc?: number }): NdOption => ({
    kind: 'pref64', scaledLifetime: f.scaledLifetime ?? 225, plc: f.plc ?? 0, prefix: canonicalIpv6(f.prefix),
  }),
};

function routeInfoLen(o: { prefixLen: number; len?: number }): number {
  return o.len ?? (o.prefixLen === 0 ? 1 : o.prefixLen <= 64 ? 2 : 3);
}

function ndOptLen(o: NdOption): number {
  switch (o.kind) {
    case 'srcLladdr': case 'tgtLladdr': case 'mtu': return 8;
    case 'prefixInfo': return 32;
    case 'redirectedHeader': case 'option': return (2 + o.data.length + 7) & ~7;
    case 'routeInfo': return routeInfoLen(o) * 8;
    case 'rdnss': return 8 + 16 * o.servers.length;
    case 'pref64': return 16;
    case 'raw': return o.data.length;
  }
}

function writeNdOption(o: NdOption, buf: Buffer, p: number): number {
  const n = ndOptLen(o);
  if (o.kind === 'raw') { buf.set(o.data, p); return n; }
  buf.fill(0, p, p + n);
  buf[p + 1] = n / 8;
  switch (o.kind) {
    case 'srcLladdr': buf[p] = ND_OPT_SOURCE_LL_ADDR; writeMac(o.addr, buf, p + 2); break;
    case 'tgtLladdr': buf[p] = ND_OPT_TARGET_LL_ADDR; writeMac(o.addr, buf, p + 2); break;
    case 'prefixInfo':
      buf[p] = ND_OPT_PREFIX_INFO; buf[p + 2] = o.prefixLen; buf[p + 3] = flagsToBits(o.flags, PI_FLAGS, PI_BITS) | (o.reserved1 & 0x1f);
      buf.writeUInt32BE(o.validLifetime >>> 0, p + 4); buf.writeUInt32BE(o.preferredLifetime >>> 0, p + 8);
      buf.writeUInt32BE(o.reserved2 >>> 0, p + 12); writeIpv6(o.prefix, buf, p + 16);
      break;
    case 'redirectedHeader': buf[p] = ND_OPT_REDIRECT_HDR; buf.set(o.data, p + 2); break;
    case 'mtu': buf[p] = ND_OPT_MTU; buf.writeUInt16BE(o.reserved, p + 2); buf.writeUInt32BE(o.mtu >>> 0, p + 4); break;
    case 'routeInfo': {
      buf[p] = ND_OPT_ROUTE_INFO; buf[p + 2] = o.prefixLen; buf[p + 3] = ((o.prf & 3) << 3) | (o.reserved & 0xe7);
      buf.writeUInt32BE(o.lifetime >>> 0, p + 4);
      const full = new Uint8Array(16);
      writeIpv6(o.prefix, full, 0);
      buf.set(full.subarray(0, Math.min(16, n - 8)), p + 8);
      break;
    }
    case 'rdnss':
      buf[p] = ND_OPT_RDNSS; buf.writeUInt16BE(o.reserved, p + 2); buf.writeUInt32BE(o.lifetime >>> 0, p + 4);
      o.servers.forEach((s, i) => writeIpv6(s, buf, p + 8 + 16 * i));
      break;
    case 'pref64': {
      buf[p] = ND_OPT_PREF64; buf.writeUInt16BE(((o.scaledLifetime & 0x1fff) << 3) | (o.plc & 7), p + 2);
      const full = new Uint8Array(16);
      writeIpv6(o.prefix, full, 0);
      buf.set(full.subarray(0, 12), p + 4);
      break;
    }
    case 'option': buf[p] = o.code; buf.set(o.data, p + 2); break;
  }
  return n;
}

function readNdOptions(buf: Buffer, p: number, end: number): NdOption[] {
  const out: NdOption[] = [];
  while (p < end) {
    const n = p + 1 < end ? buf[p + 1]! * 8 : 0;
    if (n === 0 || p + n > end) { out.push({ kind: 'raw', data: buf.subarray(p, end) }); break; }
    const code = buf[p]!;
    if ((code === ND_OPT_SOURCE_LL_ADDR || code === ND_OPT_TARGET_LL_ADDR) && n === 8) {
      out.push({ kind: code === ND_OPT_SOURCE_LL_ADDR ? 'srcLladdr' : 'tgtLladdr', addr: readMac(buf, p + 2) });
    } else if (code === ND_OPT_PREFIX_INFO && n === 32) {
      out.push({
        kind: 'prefixInfo', prefixLen: buf[p + 2]!, flags: bitsToFlags(buf[p + 3]!, PI_FLAGS, PI_BITS), reserved1: buf[p + 3]! & 0x1f,
        validLifetime: buf.readUInt32BE(p + 4), preferredLifetime: buf.readUInt32BE(p + 8), reserved2: buf.readUInt32BE(p + 12), prefix: readIpv6(buf, p + 16),
      });
    } else if (code === ND_OPT_REDIRECT_HDR) {
      out.push({ kind: 'redirectedHeader', data: buf.subarray(p + 2, p + n) });
    } else if (code === ND_OPT_MTU && n === 8) {
      out.push({ kind: 'mtu', reserved: buf.readUInt16BE(p + 2), mtu: buf.readUInt32BE(p + 4) });
    } else if (code === ND_OPT_ROUTE_INFO && n <= 24) {
      const full = new Uint8Array(16);
      full.set(buf.subarray(p + 8, p + n));
      out.push({ kind: 'routeInfo', prefixLen: buf[p + 2]!, prf: (buf[p + 3]! >> 3) & 3, reserved: buf[p + 3]! & 0xe7, lifetime: buf.readUInt32BE(p + 4), prefix: readIpv6(full, 0), len: n / 8 });
    } else if (code === ND_OPT_RDNSS && n >= 24 && (n - 8) % 16 === 0) {
      const servers: string[] = [];
      for (let q = p + 8; q < p + n; q += 16) servers.push(readIpv6(buf, q));
      out.push({ kind: 'rdnss', reserved: buf.readUInt16BE(p + 2), lifetime: buf.readUInt32BE(p + 4), servers });
    } else if (code === ND_OPT_PREF64 && n === 16) {
      const full = new Uint8Array(16);
      full.set(buf.subarray(p + 4, p + 16));
      const w = buf.readUInt16BE(p + 2);
      out.push({ kind: 'pref64', scaledLifetime: w >> 3, plc: w & 7, prefix: readIpv6(full, 0) });
    } else {
      out.push({ kind: 'option', code, data: buf.subarray(p + 2, p + n) });
    }
    p += n;
  }
  return out;
}

function recordLen(r: MldRecord): number {
  return 20 + 16 * r.sources.length + (r.aux?.length ?? 0);
}

export function icmpv6HeaderLen(l: Icmpv6): number {
  const optLen = (): number => (l.options ?? []).reduce((n, o) => n + ndOptLen(o), 0);
  switch (shape(l.icmpType)) {
    case 'mld': return l.sources ? 28 + 16 * l.sources.length : 24;
    case 'mld2': return 8 + (l.records ?? []).reduce((n, r) => n + recordLen(r), 0);
    case 'rs': return 8 + optLen();
    case 'ra': return 16 + optLen();
    case 'ns': case 'na': return 24 + optLen();
    case 'redirect': return 40 + optLen();
    default: return 8;
  }
}

export function writeIcmpv6Header(l: Icmpv6, buf: Buffer, off: number): void {
  buf[off] = l.icmpType;
  buf[off + 1] = l.code;
  buf.writeUInt16BE(l.checksum ?? 0, off + 2);
  let p = off + 8;
  switch (shape(l.icmpType)) {
    case 'unused': buf.writeUInt32BE((l.unused ?? 0) >>> 0, off + 4); break;
    case 'mtu': buf.writeUInt32BE((l.mtu ?? 0) >>> 0, off + 4); break;
    case 'pointer': buf.writeUInt32BE((l.pointer ?? 0) >>> 0, off + 4); break;
    case 'echo': buf.writeUInt16BE(l.id ?? 0, off + 4); buf.writeUInt16BE(l.seq ?? 0, off + 6); break;
    case 'mld':
      buf.writeUInt16BE(l.maxDelay ?? 0, off + 4); buf.writeUInt16BE(l.reserved ?? 0, off + 6); writeIpv6(l.mcastAddr ?? '::', buf, off + 8);
      if (l.sources) {
        buf[off + 24] = (((l.resv ?? 0) & 0xf) << 4) | (l.sFlag ? 8 : 0) | ((l.qrv ?? 0) & 7);
        buf[off + 25] = l.qqic ?? 0;
        buf.writeUInt16BE(l.nSources ?? l.sources.length, off + 26);
        l.sources.forEach((a, i) => writeIpv6(a, buf, off + 28 + 16 * i));
      }
      break;
    case 'mld2': {
      const recs = l.records ?? [];
      buf.writeUInt16BE(l.reserved ?? 0, off + 4);
      buf.writeUInt16BE(l.nRecords ?? recs.length, off + 6);
      for (const r of recs) {
        buf[p] = r.recordType; buf[p + 1] = r.auxLen ?? (r.aux?.length ?? 0) / 4;
        buf.writeUInt16BE(r.nSources ?? r.sources.length, p + 2);
        writeIpv6(r.mcastAddr, buf, p + 4);
        p += 20;
        for (const s of r.sources) { writeIpv6(s, buf, p); p += 16; }
        if (r.aux) { buf.set(r.aux, p); p += r.aux.length; }
      }
      return;
    }
    case 'rs': buf.writeUInt32BE((l.reserved ?? 0) >>> 0, off + 4); break;
    case 'ra':
      buf[off + 4] = l.curHopLimit ?? 0;
      buf[off + 5] = flagsToBits(l.flags ?? '', RA_FLAGS, RA_BITS) | (((l.prf ?? 0) & 3) << 3) | ((l.reserved ?? 0) & 3);
      buf.writeUInt16BE(l.routerLifetime ?? 0, off + 6);
      buf.writeUInt32BE((l.reachableTime ?? 0) >>> 0, off + 8);
      buf.writeUInt32BE((l.retransTimer ?? 0) >>> 0, off + 12);
      p = off + 16;
      break;
    case 'ns': buf.writeUInt32BE((l.reserved ?? 0) >>> 0, off + 4); writeIpv6(l.target ?? '::', buf, off + 8); p = off + 24; break;
    case 'na':
      buf.writeUInt32BE((flagsToBits(l.flags ?? '', NA_FLAGS, NA_BITS) + ((l.reserved ?? 0) & 0x1fffffff)) >>> 0, off + 4);
      writeIpv6(l.target ?? '::', buf, off + 8); p = off + 24;
      break;
    case 'redirect':
      buf.writeUInt32BE((l.reserved ?? 0) >>> 0, off + 4); writeIpv6(l.target ?? '::', buf, off + 8); writeIpv6(l.dest ?? '::', buf, off + 24); p = off + 40;
      break;
  }
  for (const o of l.options ?? []) p += writeNdOption(o, buf, p);
}

/** Decodes the ICMPv6 header (and ND options / MLDv2 records, which run to `end`). */
export function readIcmpv6Header(buf: Buffer, off: number, end: number): { layer: Icmpv6; hlen: number } | undefined {
  if (end - off < 8) return undefined;
  const icmpType = buf[off]!;
  const l: Icmpv6 = { type: 'icmpv6', icmpType, code: buf[off + 1]!, checksum: buf.readUInt16BE(off + 2) };
  const w = buf.readUInt32BE(off + 4);
  const need = (n: number): boolean => end - off >= n;
  switch (shape(icmpType)) {
    case 'unused': l.unused = w; return { layer: l, hlen: 8 };
    case 'mtu': l.mtu = w; return { layer: l, hlen: 8 };
    case 'pointer': l.pointer = w; return { layer: l, hlen: 8 };
    case 'echo': l.id = w >>> 16; l.seq = w & 0xffff; return { layer: l, hlen: 8 };
    case 'mld':
      if (!need(24)) break;
      l.maxDelay = w >>> 16; l.reserved = w & 0xffff; l.mcastAddr = readIpv6(buf, off + 8);
      // RFC 3810 §8.1: a query of 28 or more bytes is an MLDv2 query.
      if (icmpType === ICMPV6_MGM_QUERY && need(28)) {
        const n = buf.readUInt16BE(off + 26);
        if (!need(28 + 16 * n)) return { layer: l, hlen: 24 };
        l.resv = buf[off + 24]! >> 4; l.sFlag = (buf[off + 24]! & 8) !== 0; l.qrv = buf[off + 24]! & 7; l.qqic = buf[off + 25]!;
        l.nSources = n; l.sources = [];
        for (let i = 0; i < n; i++) l.sources.push(readIpv6(buf, off + 28 + 16 * i));
        return { layer: l, hlen: 28 + 16 * n };
      }
      return { layer: l, hlen: 24 };
    case 'mld2': {
      l.reserved = w >>> 16; l.nRecords = w & 0xffff; l.records = [];
      let p = off + 8;
      for (let i = 0; i < l.nRecords; i++) {
        if (end - p < 20) break;
        const auxLen = buf[p + 1]!, nSources = buf.readUInt16BE(p + 2);
        const len = 20 + 16 * nSources + 4 * auxLen;
        if (end - p < len) break;
        const sources: string[] = [];
        for (let s = 0; s < nSources; s++) sources.push(readIpv6(buf, p + 20 + 16 * s));
        const r: MldRecord = { recordType: buf[p]!, auxLen, nSources, mcastAddr: readIpv6(buf, p + 4), sources };
        if (auxLen > 0) r.aux = buf.subarray(p + 20 + 16 * nSources, p + len);
        l.records.push(r);
        p += len;
      }
      return { layer: l, hlen: p - off };
    }
    case 'rs': l.reserved = w; l.options = readNdOptions(buf, off + 8, end); return { layer: l, hlen: end - off };
    case 'ra':
      if (!need(16)) break;
      l.curHopLimit = buf[off + 4]!; l.flags = bitsToFlags(buf[off + 5]!, RA_FLAGS, RA_BITS); l.prf = (buf[off + 5]! >> 3) & 3;
      l.reserved = buf[off + 5]! & 3; l.routerLifetime = buf.readUInt16BE(off + 6);
      l.reachableTime = buf.readUInt32BE(off + 8); l.retransTimer = buf.readUInt32BE(off + 12);
      l.options = readNdOptions(buf, off + 16, end);
      return { layer: l, hlen: end - off };
    case 'ns': case 'na':
      if (!need(24)) break;
      if (icmpType === NDISC_NEIGHBOUR_ADVERTISEMENT) { l.flags = bitsToFlags(w, NA_FLAGS, NA_BITS); l.reserved = w & 0x1fffffff; } else l.reserved = w;
      l.target = readIpv6(buf, off + 8); l.options = readNdOptions(buf, off + 24, end);
      return { layer: l, hlen: end - off };
    case 'redirect':
      if (!need(40)) break;
      l.reserved = w; l.target = readIpv6(buf, off + 8); l.dest = readIpv6(buf, off + 24); l.options = readNdOptions(buf, off + 40, end);
      return { layer: l, hlen: end - off };
  }
  return undefined;
}
