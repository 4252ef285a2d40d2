// sock_diag client for inet sockets (include/uapi/linux/inet_diag.h, sock_diag.h): dumps with
// state and bytecode filters, exact lookups, SOCK_DESTROY, decoded tcp_info/meminfo/mark.
import { bytesToIp, ipFamily, ipToBytes } from '../addr.js';
import { attrSet, nla } from './attr.js';
import { openNetlink, type Netlink, type NetlinkOptions } from './core.js';
import { compileFilter, validateBytecode, type DiagFilter } from './diag-bytecode.js';
import { struct } from './layout.js';
import type { NlMessage } from './message.js';
import { nameOf } from '../names.js';
import { familyName, type FamilyName } from './rt-structs.js';
import { INET_DIAG, INET_DIAG_REQ } from '../include/uapi/linux/inet_diag.js';
import { AF_INET, AF_INET6 } from '../include/linux/socket.js';
import { TCP_STATE } from '../include/net/tcp_states.js';
import { IPPROTO_MPTCP, IPPROTO_RAW, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE } from '../include/uapi/linux/in.js';
import { NETLINK_SOCK_DIAG } from '../include/uapi/linux/netlink.js';
import { SK_MEMINFO, SOCK_DIAG_MSG } from '../include/uapi/linux/sock_diag.js';

export * from './diag-bytecode.js';

/** struct inet_diag_sockid: ports and addresses in network order, cookie as two u32. */
export const inetDiagSockid = struct({
  sport: 'be16', dport: 'be16', src: { bytes: 16 }, dst: { bytes: 16 }, if: 'u32', cookie0: 'u32', cookie1: 'u32',
});
export const inetDiagReqV2 = struct({ family: 'u8', protocol: 'u8', ext: 'u8', pad: 'u8', states: 'u32', id: inetDiagSockid });
export const inetDiagMsg = struct({
  family: 'u8', state: 'u8', timer: 'u8', retrans: 'u8', id: inetDiagSockid,
  expires: 'u32', rqueue: 'u32', wqueue: 'u32', uid: 'u32', inode: 'u32',
});
export const inetDiagMeminfo = struct({ rmem: 'u32', wmem: 'u32', fmem: 'u32', tmem: 'u32' });

/** struct tcp_info (include/uapi/linux/tcp.h, 6.1); older kernels send a prefix of it. */
export const tcpInfo = struct({
  state: 'u8', ca_state: 'u8', retransmits: 'u8', probes: 'u8', backoff: 'u8', options: 'u8', wscale: 'u8', flags: 'u8',
  rto: 'u32', ato: 'u32', snd_mss: 'u32', rcv_mss: 'u32', unacked: 'u32', sacked: 'u32', lost: 'u32', retrans: 'u32',
  fackets: 'u32', last_data_sent: 'u32', last_ack_sent: 'u32', last_data_recv: 'u32', last_ack_recv: 'u32', pmtu: 'u32',
  rcv_ssthresh: 'u32', rtt: 'u32', rttvar: 'u32', snd_ssthresh: 'u32', snd_cwnd: 'u32', advmss: 'u32', reordering: 'u32',
  rcv_rtt: 'u32', rcv_space: 'u32', total_retrans: 'u32', pacing_rate: 'u64', max_pacing_rate: 'u64', bytes_acked: 'u64',
  bytes_received: 'u64', segs_out: 'u32', segs_in: 'u32', notsent_bytes: 'u32', min_rtt: 'u32', data_segs_in: 'u32',
  data_segs_out: 'u32', delivery_rate: 'u64', busy_time: 'u64', rwnd_limited: 'u64', sndbuf_limited: 'u64',
  delivered: 'u32', delivered_ce: 'u32', bytes_sent: 'u64', bytes_retrans: 'u64', dsack_dups: 'u32', reord_seen: 'u32',
  rcv_ooopack: 'u32', snd_wnd: 'u32',
});
export type TcpInfo = ReturnType<typeof tcpInfo.decode>;

export type TcpStateName = Lowercase<keyof typeof TCP_STATE>;
export type Proto = 'tcp' | 'udp' | 'udplite' | 'raw' | 'sctp' | 'mptcp' | number;

export interface DiagSocket {
  family: FamilyName;
  protocol: Proto;
  /** 'listen', 'established', 'time_wait'... (TCP state names; UDP uses 'close'/'established'). */
  state: TcpStateName | number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  ifindex: number;
  cookie: bigint;
  uid: number;
  inode: number;
  rqueue: number;
  wqueue: number;
  timer: number;
  retrans: number;
  expires: number;
  tcpInfo?: TcpInfo;
  /** INET_DIAG_MEMINFO */
  meminfo?: { rmem: number; wmem: number; fmem: number; tmem: number };
  /** INET_DIAG_SKMEMINFO, by SK_MEMINFO_* name. */
  skmeminfo?: Partial<Record<Lowercase<keyof typeof SK_MEMINFO>, number>>;
  /** INET_DIAG_MARK (reported to CAP_NET_ADMIN only). */
  mark?: number;
  /** INET_DIAG_CLASS_ID (sent with TCLASS): the net_cls classid, else sk_priority. */
  classId?: number;
  /** INET_DIAG_CGROUP_ID (CONFIG_SOCK_CGROUP_DATA): the cgroup v2 id of the socket, what INET_DIAG_BC_CGROUP_COND compares. */
  cgroupId?: bigint;
  cong?: string;
  tos?: number;
  tclass?: number;
  shutdown?: number;
  v6only?: boolean;
}

export interface DumpQuery {
  family: FamilyName | 4 | 6;
  protocol?: Proto;
  /** State names to include (default all). */
  states?: readonly TcpStateName[];
  filter?: DiagFilter;
  /** Extensions to request (default info, meminfo, skmeminfo, cong, tos/tclass). */
  ext?: readonly ('meminfo' | 'info' | 'cong' | 'tos' | 'tclass' | 'skmeminfo' | 'shutdown')[];
}

/** Identifies one socket exactly, as the kernel's lookup needs it. */
export interface SocketId {
  family?: FamilyName | 4 | 6;
  protocol?: Proto;
  src: string;
  sport: number;
  dst?: string;
  dport?: number;
  ifindex?: number;
  /** From an earlier dump; omit to match by addresses only (INET_DIAG_NOCOOKIE). */
  cookie?: bigint;
}

const PROTO: Record<string, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, udplite: IPPROTO_UDPLITE, raw: IPPROTO_RAW, sctp: IPPROTO_SCTP, mptcp: IPPROTO_MPTCP };
const protoValue = (p: Proto | undefined): number => (p === undefined ? IPPROTO_TCP : typeof p === 'number' ? p : (PROTO[p] ?? IPPROTO_TCP));
const protoName = (n: number): Proto => (Object.entries(PROTO).find(([, v]) => v === n)?.[0] as Proto | undefined) ?? n;
const famValue = (f: FamilyName | 4 | 6 | undefined, addr?: string): number =>
  f === 'inet' || f === 4 ? AF_INET : f === 'inet6' || f === 6 ? AF_INET6 : addr ? ipFamily(addr) : AF_INET;

const EXT_BITS = { meminfo: INET_DIAG.MEMINFO, info: INET_DIAG.INFO, cong: INET_DIAG.CONG, tos: INET_DIAG.TOS, tclass: INET_DIAG.TCLASS, skmeminfo: INET_DIAG.SKMEMINFO, shutdown: INET_DIAG.SHUTDOWN } as const;
const DEFAULT_EXT = ['meminfo', 'info', 'cong', 'tos', 'tclass', 'skmeminfo'] as const;

function extMask(ext: DumpQuery['ext']): number {
  // idiag_ext is a u8: extension n is bit n-1; SKMEMINFO (7) is the last that fits.
  return (ext ?? DEFAULT_EXT).reduce((m, e) => m | (1 << (EXT_BITS[e] - 1)), 0) & 0xff;
}

/** Address in the 16-byte idiag_src/idiag_dst field (IPv4 in the first 4 bytes). */
function addrBytes(addr: string | undefined): Buffer {
  const b = Buffer.alloc(16);
  if (addr !== undefined) ipToBytes(addr).copy(b);
  return b;
}

/** SOCK_DIAG_BY_FAMILY dump request body. */
export function encodeDump(q: DumpQuery): Buffer {
  const states = q.states === undefined ? 0xffffffff : q.states.reduce((m, s) => m | (1 << TCP_STATE[s.toUpperCase() as keyof typeof TCP_STATE]), 0);
  const req = inetDiagReqV2.encode({ family: famValue(q.family), protocol: protoValue(q.protocol), ext: extMask(q.ext), states: states >>> 0 });
  if (q.filter === undefined) return req;
  const bc = compileFilter(q.filter);
  const bad = validateBytecode(bc);
  if (bad !== null) throw new RangeError(`invalid inet_diag bytecode: ${bad}`);
  return Buffer.concat([req, nla.bytes(INET_DIAG_REQ.BYTECODE, bc)]);
}

/** Exact-match request body (SOCK_DIAG_BY_FAMILY get, or SOCK_DESTROY). */
export function encodeLookup(id: SocketId, ext?: DumpQuery['ext']): Buffer {
  const family = famValue(id.family, id.src);
  const cookie = id.cookie ?? 0xffffffffffffffffn; // INET_DIAG_NOCOOKIE in both halves
  return inetDiagReqV2.encode({
    family,
    protocol: protoValue(id.protocol),
    ext: extMask(ext),
    states: 0xffffffff,
    id: {
      sport: id.sport,
      dport: id.dport ?? 0,
      src: addrBytes(id.src),
      dst: addrBytes(id.dst),
      if: id.ifindex ?? 0,
      cookie0: Number(cookie & 0xffffffffn),
      cookie1: Number(cookie >> 32n),
    },
  });
}

export function decodeDiag(m: NlMessage, protocol: number): DiagSocket {
  const h = inetDiagMsg.decode(m.payload);
  const a = attrSet(m.payload, inetDiagMsg.size);
  const st = nameOf(TCP_STATE, h.state);
  const s: DiagSocket = {
    family: familyName(h.family),
    protocol: protoName(a.u8(INET_DIAG.PROTOCOL) ?? protocol),
    state: st as TcpStateName | number,
    src: bytesToIp(h.id.src, h.family),
    sport: h.id.sport,
    dst: bytesToIp(h.id.dst, h.family),
    dport: h.id.dport,
    ifindex: h.id.if,
    cookie: BigInt(h.id.cookie0) | (BigInt(h.id.cookie1) << 32n),
    uid: h.uid,
    inode: h.inode,
    rqueue: h.rqueue,
    wqueue: h.wqueue,
    timer: h.timer,
    retrans: h.retrans,
    expires: h.expires,
  };
  const info = a.get(INET_DIAG.INFO);
  if (info !== undefined && s.protocol === 'tcp') {
    const full = Buffer.alloc(tcpInfo.size);
    info.copy(full);
    s.tcpInfo = tcpInfo.decode(full);
  }
  const mem = a.get(INET_DIAG.MEMINFO);
  if (mem !== undefined) s.meminfo = inetDiagMeminfo.decode(mem);
  const skm = a.get(INET_DIAG.SKMEMINFO);
  if (skm !== undefined) {
    const out: NonNullable<DiagSocket['skmeminfo']> = {};
    for (const [k, i] of Object.entries(SK_MEMINFO)) {
      if ((i + 1) * 4 <= skm.length) out[k.toLowerCase() as keyof typeof out] = skm.readUInt32LE(i * 4);
    }
    s.skmeminfo = out;
  }
  const mark = a.u32(INET_DIAG.MARK);
  if (mark !== undefined) s.mark = mark;
  const classId = a.u32(INET_DIAG.CLASS_ID);
  if (classId !== undefined) s.classId = classId;
  const cgroupId = a.u64(INET_DIAG.CGROUP_ID);
  if (cgroupId !== undefined) s.cgroupId = cgroupId;
  const cong = a.str(INET_DIAG.CONG);
  if (cong !== undefined) s.cong = cong;
  const tos = a.u8(INET_DIAG.TOS);
  if (tos !== undefined) s.tos = tos;
  const tclass = a.u8(INET_DIAG.TCLASS);
  if (tclass !== undefined) s.tclass = tclass;
  const shut = a.u8(INET_DIAG.SHUTDOWN);
  if (shut !== undefined) s.shutdown = shut;
  const v6 = a.u8(INET_DIAG.SKV6ONLY);
  if (v6 !== undefined) s.v6only = v6 !== 0;
  return s;
}

export interface SockDiag {
  readonly nl: Netlink;
  dump(q: DumpQuery): DiagSocket[];
  /** Exact lookup; throws ENOENT when no such socket (or the cookie does not match). */
  lookup(id: SocketId, ext?: DumpQuery['ext']): DiagSocket;
  /** SOCK_DESTROY: abort the socket (CONFIG_INET_DIAG_DESTROY); its peer gets a RST. */
  destroy(id: SocketId): void;
  close(): void;
}

function typeName(t: number): string {
  return t === SOCK_DIAG_MSG.DESTROY ? 'SOCK_DESTROY' : t === SOCK_DIAG_MSG.DIAG_BY_FAMILY ? 'SOCK_DIAG_BY_FAMILY' : `sock_diag type ${t}`;
}

export function openSockDiag(opts: Omit<NetlinkOptions, 'typeName'> = {}): SockDiag {
  // sock_diag has no strict-checking mode; the option is harmless but pointless here.
  const nl = openNetlink(NETLINK_SOCK_DIAG, { strict: false, ...opts, typeName });
  return {
    nl,
    dump: (q) => nl.dump(SOCK_DIAG_MSG.DIAG_BY_FAMILY, encodeDump(q)).map((m) => decodeDiag(m, protoValue(q.protocol))),
    lookup(id, ext) {
      const replies = nl.request(SOCK_DIAG_MSG.DIAG_BY_FAMILY, encodeLookup(id, ext));
      const [m] = replies;
      if (m === undefined) throw new Error('SOCK_DIAG_BY_FAMILY: no reply');
      return decodeDiag(m, protoValue(id.protocol));
    },
    destroy: (id) => void nl.request(SOCK_DIAG_MSG.DESTROY, encodeLookup(id)),
    close: () => nl.close(),
  };
}
