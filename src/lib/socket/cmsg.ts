// Control messages (ancillary data) for sendmsg/recvmsg: typed objects <-> the cmsghdr byte
// stream (include/linux/socket.h CMSG_* macros: 16-byte header on 64-bit, 8-byte alignment).
import { errnoName } from '../sys/errno.js';
import type { ErrnoCode } from '../sys/error.js';
import { SOL_IP, SOL_IPV6 } from '../include/linux/socket.js';
import { IP_ORIGDSTADDR, IP_PKTINFO, IP_RECVERR, IP_TOS, IP_TTL } from '../include/uapi/linux/in.js';
import { IPV6_HOPLIMIT, IPV6_ORIGDSTADDR, IPV6_PATHMTU, IPV6_PKTINFO, IPV6_RECVERR, IPV6_TCLASS } from '../include/uapi/linux/in6.js';
import { cmsghdr, in6_pktinfo, in_pktinfo, ip6_mtuinfo, sock_extended_err } from '../uapi.js';
import { bytesToIp4, bytesToIp6, ip4ToBytes, ip6ToBytes } from '../addr.js';
import { decodeSockAddr, type SockAddr } from './sockaddr.js';

/** IP_PKTINFO: on receive, the interface and addresses the packet arrived with; on send, the source to use. */
export interface PktInfo4 {
  kind: 'pktinfo';
  ifindex: number;
  /** ipi_spec_dst: local address (receive) / preferred source (send). */
  specDst: string;
  /** ipi_addr: header destination address (receive only; ignored on send). */
  addr: string;
}
/** IPV6_PKTINFO: destination (receive) or source (send) address and interface. */
export interface PktInfo6 {
  kind: 'pktinfo6';
  ifindex: number;
  addr: string;
}
export interface Ttl {
  kind: 'ttl';
  value: number;
}
export interface HopLimit {
  kind: 'hoplimit';
  value: number;
}
export interface Tos {
  kind: 'tos';
  value: number;
}
export interface TClass {
  kind: 'tclass';
  value: number;
}
/** IP_RECVERR / IPV6_RECVERR from the error queue: struct sock_extended_err + SO_EE_OFFENDER. */
export interface RecvErr {
  kind: 'recverr';
  level: typeof SOL_IP | typeof SOL_IPV6;
  /** ee_errno, e.g. 113 */
  errno: number;
  /** ee_errno by name, e.g. 'EHOSTUNREACH' */
  code: ErrnoCode;
  /** ee_origin: SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6, SO_EE_ORIGIN_LOCAL, ... */
  origin: number;
  /** ee_type / ee_code: ICMP type and code for ICMP origins. */
  icmpType: number;
  icmpCode: number;
  /** ee_info (e.g. the MTU for "fragmentation needed") and ee_data. */
  info: number;
  data: number;
  /** The address of the node that sent the error (null when the kernel gave none). */
  offender: SockAddr | null;
}
/** IP_ORIGDSTADDR / IPV6_ORIGDSTADDR: the datagram's destination address and port (a sockaddr_in/in6). */
export interface OrigDst {
  kind: 'origdst';
  address: SockAddr;
}
/** IPV6_PATHMTU (with IPV6_RECVPATHMTU): struct ip6_mtuinfo, the destination and its path MTU. */
export interface PathMtu {
  kind: 'pathmtu';
  address: SockAddr;
  mtu: number;
}
/** Anything not decoded above, as raw bytes. */
export interface RawCmsg {
  kind: 'raw';
  level: number;
  type: number;
  data: Buffer;
}
export type Cmsg = PktInfo4 | PktInfo6 | Ttl | HopLimit | Tos | TClass | RecvErr | OrigDst | PathMtu | RawCmsg;

/** What sendmsg accepts: pktinfo's receive-only fields are optional. */
export type CmsgOut =
  | { kind: 'pktinfo'; ifindex?: number; specDst?: string }
  | { kind: 'pktinfo6'; ifindex?: number; addr?: string }
  | Ttl
  | HopLimit
  | Tos
  | TClass
  | RawCmsg;

const HDR = cmsghdr.size; // CMSG_LEN(0)
const align = (n: number): number => (n + 7) & ~7; // CMSG_ALIGN

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

function toRaw(m: CmsgOut): { level: number; type: number; data: Uint8Array } {
  switch (m.kind) {
    case 'pktinfo':
      return {
        level: SOL_IP,
        type: IP_PKTINFO,
        data: in_pktinfo.pack({ ifindex: m.ifindex ?? 0, specDst: ip4ToBytes(m.specDst ?? '0.0.0.0') }),
      };
    case 'pktinfo6':
      return {
        level: SOL_IPV6,
        type: IPV6_PKTINFO,
        data: in6_pktinfo.pack({ ifindex: m.ifindex ?? 0, addr: ip6ToBytes(m.addr ?? '::') }),
      };
    case 'ttl':
      return { level: SOL_IP, type: IP_TTL, data: int32(m.value) };
    case 'hoplimit':
      return { level: SOL_IPV6, type: IPV6_HOPLIMIT, data: int32(m.value) };
    case 'tos':
      return { level: SOL_IP, type: IP_TOS, data: int32(m.value) };
    case 'tclass':
      return { level: SOL_IPV6, type: IPV6_TCLASS, data: int32(m.value) };
    case 'raw':
      return m;
  }
}

/** Encode control messages into the buffer sendmsg() takes as msg_control. */
export function encodeCmsgs(msgs: readonly CmsgOut[]): Buffer {
  const raws = msgs.map(toRaw);
  const out = Buffer.alloc(raws.reduce((n, r) => n + align(HDR + r.data.length), 0));
  let off = 0;
  for (const r of raws) {
    cmsghdr.packInto(out, off, { len: HDR + r.data.length, level: r.level, type: r.type });
    out.set(r.data, off + HDR);
    off += align(HDR + r.data.length);
  }
  return out;
}

/** Split msg_control into (level, type, data) records, as CMSG_FIRSTHDR/CMSG_NXTHDR walk it. */
export function splitCmsgs(control: Uint8Array): RawCmsg[] {
  const out: RawCmsg[] = [];
  let off = 0;
  while (off + HDR <= control.length) {
    const h = cmsghdr.unpack(control, off);
    const len = Number(h.len);
    if (len < HDR || off + len > control.length) break;
    out.push({ kind: 'raw', level: h.level, type: h.type, data: Buffer.from(control.subarray(off + HDR, off + len)) });
    off += align(len);
  }
  return out;
}

function decodeOne(r: RawCmsg): Cmsg {
  const d = r.data;
  if (r.level === SOL_IP) {
    if (r.type === IP_PKTINFO && d.length >= in_pktinfo.size) {
      const p = in_pktinfo.unpack(d);
      return { kind: 'pktinfo', ifindex: p.ifindex, specDst: bytesToIp4(p.specDst), addr: bytesToIp4(p.addr) };
    }
    if (r.type === IP_TTL && d.length >= 4) return { kind: 'ttl', value: d.readInt32LE(0) };
    // The kernel delivers IP_TOS as a single byte (ip_cmsg_recv_tos).
    if (r.type === IP_TOS && d.length >= 1) return { kind: 'tos', value: d.readUInt8(0) };
    if (r.type === IP_ORIGDSTADDR) {
      const a = decodeSockAddr(d);
      if (a !== null) return { kind: 'origdst', address: a };
    }
  }
  if (r.level === SOL_IPV6) {
    if (r.type === IPV6_PKTINFO && d.length >= in6_pktinfo.size) {
      const p = in6_pktinfo.unpack(d);
      return { kind: 'pktinfo6', ifindex: p.ifindex, addr: bytesToIp6(p.addr) };
    }
    if (r.type === IPV6_HOPLIMIT && d.length >= 4) return { kind: 'hoplimit', value: d.readInt32LE(0) };
    if (r.type === IPV6_TCLASS && d.length >= 4) return { kind: 'tclass', value: d.readInt32LE(0) };
    if (r.type === IPV6_ORIGDSTADDR) {
      const a = decodeSockAddr(d);
      if (a !== null) return { kind: 'origdst', address: a };
    }
    if (r.type === IPV6_PATHMTU && d.length >= ip6_mtuinfo.size) {
      const a = decodeSockAddr(d.subarray(0, ip6_mtuinfo.fields.addr.size));
      if (a !== null) return { kind: 'pathmtu', address: a, mtu: ip6_mtuinfo.unpack(d).mtu };
    }
  }
  const isErr = (r.level === SOL_IP && r.type === IP_RECVERR) || (r.level === SOL_IPV6 && r.type === IPV6_RECVERR);
  if (isErr && d.length >= sock_extended_err.size) {
    const e = sock_extended_err.unpack(d);
    const rest = d.subarray(sock_extended_err.size);
    let offender: SockAddr | null = null;
    try {
      offender = rest.length >= 2 ? decodeSockAddr(rest) : null;
    } catch {
      offender = null;
    }
    if (offender?.family === 'unspec') offender = null;
    return {
      kind: 'recverr',
      level: r.level === SOL_IP ? SOL_IP : SOL_IPV6,
      errno: e.errno,
      code: errnoName(e.errno),
      origin: e.origin,
      icmpType: e.type,
      icmpCode: e.code,
      info: e.info,
      data: e.data,
      offender,
    };
  }
  return r;
}

/** Decode msg_control into typed control messages (unknown ones stay 'raw'). */
export function decodeCmsgs(control: Uint8Array): Cmsg[] {
  return splitCmsgs(control).map(decodeOne);
}

/** The first control message of a kind, typed: `findCmsg(msgs, 'ttl')?.value`. */
export function findCmsg<K extends Cmsg['kind']>(msgs: readonly Cmsg[], kind: K): Extract<Cmsg, { kind: K }> | undefined {
  return msgs.find((m): m is Extract<Cmsg, { kind: K }> => m.kind === kind);
}
