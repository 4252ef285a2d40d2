// Generic netlink (include/uapi/linux/genetlink.h): family resolution through nlctrl, commands,
// dumps and multicast groups by name; and the tcp_metrics family (include/uapi/linux/tcp_metrics.h).
import { bytesToIp, ipFamily, ipToBytes } from '../addr.js';
import { attrs, attrSet, nla, parseAttrs, type AttrBuf, type AttrSet } from './attr.js';
import { openNetlink, type Netlink, type NetlinkOptions } from './core.js';
import { struct } from './layout.js';
import type { NlMessage } from './message.js';
import { nameOf } from '../names.js';
import { CTRL_ATTR, CTRL_ATTR_MCAST_GRP, CTRL_ATTR_OP, CTRL_CMD, GENL_ID_CTRL } from '../include/uapi/linux/genetlink.js';
import { AF_INET, AF_INET6 } from '../include/linux/socket.js';
import { NETLINK_GENERIC } from '../include/uapi/linux/netlink.js';
import { TCP_METRIC, TCP_METRICS_ATTR, TCP_METRICS_CMD } from '../include/uapi/linux/tcp_metrics.js';

/** struct genlmsghdr */
export const genlmsghdr = struct({ cmd: 'u8', version: 'u8', reserved: 'u16' });
export { GENL_ID_CTRL };

export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  hdrsize: number;
  maxattr: number;
  /** Command id -> GENL_* capability flags. */
  ops: { id: number; flags: number }[];
  /** Multicast group name -> group id (for NETLINK_ADD_MEMBERSHIP). */
  groups: Record<string, number>;
}

/** A decoded generic netlink message: command, version, and its attributes. */
export interface GenlMessage {
  cmd: number;
  version: number;
  attrs: AttrSet;
  raw: NlMessage;
}

export function encodeGenl(cmd: number, version: number, body: readonly AttrBuf[]): Buffer {
  return Buffer.concat([genlmsghdr.encode({ cmd, version }), attrs(body)]);
}

export function decodeGenl(m: NlMessage, hdrsize = 0): GenlMessage {
  const h = genlmsghdr.decode(m.payload);
  return { cmd: h.cmd, version: h.version, attrs: attrSet(m.payload, genlmsghdr.size + hdrsize), raw: m };
}

function decodeFamily(m: NlMessage): GenlFamily {
  const a = decodeGenl(m).attrs;
  const ops = parseAttrs(a.get(CTRL_ATTR.OPS) ?? Buffer.alloc(0)).map((o) => {
    const s = attrSet(o.data);
    return { id: s.u32(CTRL_ATTR_OP.ID) ?? 0, flags: s.u32(CTRL_ATTR_OP.FLAGS) ?? 0 };
  });
  const groups: Record<string, number> = {};
  for (const g of parseAttrs(a.get(CTRL_ATTR.MCAST_GROUPS) ?? Buffer.alloc(0))) {
    const s = attrSet(g.data);
    const name = s.str(CTRL_ATTR_MCAST_GRP.NAME);
    const id = s.u32(CTRL_ATTR_MCAST_GRP.ID);
    if (name !== undefined && id !== undefined) groups[name] = id;
  }
  return {
    id: a.u16(CTRL_ATTR.FAMILY_ID) ?? 0,
    name: a.str(CTRL_ATTR.FAMILY_NAME) ?? '',
    version: a.u32(CTRL_ATTR.VERSION) ?? 0,
    hdrsize: a.u32(CTRL_ATTR.HDRSIZE) ?? 0,
    maxattr: a.u32(CTRL_ATTR.MAXATTR) ?? 0,
    ops,
    groups,
  };
}

export interface Genl {
  readonly nl: Netlink;
  /** Resolve a family by name; throws ENOENT when the kernel has no such family. */
  family(name: string): GenlFamily;
  families(): GenlFamily[];
  /** Send a command to a family and wait for the ACK; returns the replies. */
  request(family: GenlFamily, cmd: number, body: readonly AttrBuf[], flags?: number): GenlMessage[];
  dump(family: GenlFamily, cmd: number, body?: readonly AttrBuf[]): GenlMessage[];
  subscribe(family: GenlFamily, group: string): void;
  close(): void;
}

export function openGenl(opts: Omit<NetlinkOptions, 'typeName'> = {}): Genl {
  const nl = openNetlink(NETLINK_GENERIC, { strict: false, ...opts, typeName: (t) => (t === GENL_ID_CTRL ? 'nlctrl' : `genl family ${t}`) });
  return {
    nl,
    family: (name) => decodeFamily(nl.get(GENL_ID_CTRL, encodeGenl(CTRL_CMD.GETFAMILY, 1, [nla.str(CTRL_ATTR.FAMILY_NAME, name)]))),
    families: () => nl.dump(GENL_ID_CTRL, encodeGenl(CTRL_CMD.GETFAMILY, 1, [])).map(decodeFamily),
    request: (f, cmd, body, flags = 0) => nl.request(f.id, encodeGenl(cmd, f.version, body), { flags }).map((m) => decodeGenl(m, f.hdrsize)),
    dump: (f, cmd, body = []) => nl.dump(f.id, encodeGenl(cmd, f.version, body)).map((m) => decodeGenl(m, f.hdrsize)),
    subscribe(f, group) {
      const id = f.groups[group];
      if (id === undefined) throw new RangeError(`family ${f.name} has no multicast group '${group}' (has: ${Object.keys(f.groups).join(', ')})`);
      nl.subscribe(id);
    },
    close: () => nl.close(),
  };
}

// ---- tcp_metrics ----

export interface TcpMetricsEntry {
  addr: string;
  saddr?: string;
  /** Milliseconds since the entry was last updated. */
  age?: bigint;
  twTsval?: number;
  twTsStamp?: number;
  /**
   * Metric name -> value as the kernel sends it: rtt/rttvar in ms, rtt_us/rttvar_us in µs but
   * scaled as TCP keeps them (srtt << 3, rttvar << 2; `ip tcp_metrics` divides by 8 and 4),
   * ssthresh, cwnd, reordering.
   */
  vals: Partial<Record<Lowercase<keyof typeof TCP_METRIC>, number>>;
  fopenMss?: number;
  fopenSynDrops?: number;
  fopenCookie?: Buffer;
}

function decodeTcpMetrics(g: GenlMessage): TcpMetricsEntry {
  const a = g.attrs;
  const v4 = a.get(TCP_METRICS_ATTR.ADDR_IPV4);
  const addr = v4 ? bytesToIp(v4, AF_INET) : bytesToIp(a.get(TCP_METRICS_ATTR.ADDR_IPV6) ?? Buffer.alloc(16), AF_INET6);
  const e: TcpMetricsEntry = { addr, vals: {} };
  const s4 = a.get(TCP_METRICS_ATTR.SADDR_IPV4);
  const s6 = a.get(TCP_METRICS_ATTR.SADDR_IPV6);
  if (s4) e.saddr = bytesToIp(s4, AF_INET);
  else if (s6) e.saddr = bytesToIp(s6, AF_INET6);
  const age = a.u64(TCP_METRICS_ATTR.AGE);
  if (age !== undefined) e.age = age;
  const ts = a.u32(TCP_METRICS_ATTR.TW_TSVAL);
  if (ts !== undefined) e.twTsval = ts;
  const tss = a.u32(TCP_METRICS_ATTR.TW_TS_STAMP);
  if (tss !== undefined) e.twTsStamp = tss;
  for (const v of parseAttrs(a.get(TCP_METRICS_ATTR.VALS) ?? Buffer.alloc(0))) {
    // Attribute type is TCP_METRIC_* + 1.
    const name = nameOf(TCP_METRIC, v.type - 1);
    if (typeof name === 'string' && v.data.length >= 4) e.vals[name as keyof TcpMetricsEntry['vals']] = v.data.readUInt32LE(0);
  }
  const mss = a.u16(TCP_METRICS_ATTR.FOPEN_MSS);
  if (mss !== undefined) e.fopenMss = mss;
  const drops = a.u16(TCP_METRICS_ATTR.FOPEN_SYN_DROPS);
  if (drops !== undefined) e.fopenSynDrops = drops;
  const cookie = a.get(TCP_METRICS_ATTR.FOPEN_COOKIE);
  if (cookie) e.fopenCookie = Buffer.from(cookie);
  return e;
}

function addrAttrs(addr?: string, saddr?: string): AttrBuf[] {
  const v4 = (x: string): boolean => ipFamily(x) === AF_INET;
  return [
    addr !== undefined && nla.bytes(v4(addr) ? TCP_METRICS_ATTR.ADDR_IPV4 : TCP_METRICS_ATTR.ADDR_IPV6, ipToBytes(addr)),
    saddr !== undefined && nla.bytes(v4(saddr) ? TCP_METRICS_ATTR.SADDR_IPV4 : TCP_METRICS_ATTR.SADDR_IPV6, ipToBytes(saddr)),
  ];
}

export interface TcpMetrics {
  readonly genl: Genl;
  readonly family: GenlFamily;
  list(): TcpMetricsEntry[];
  /** One entry; throws ESRCH when the kernel has none for the address. */
  get(addr: string, saddr?: string): TcpMetricsEntry;
  delete(addr: string, saddr?: string): void;
  /** TCP_METRICS_CMD_DEL without an address: drop every entry. */
  flush(): void;
  close(): void;
}

export function openTcpMetrics(opts: Omit<NetlinkOptions, 'typeName'> = {}): TcpMetrics {
  const genl = openGenl(opts);
  try {
    const family = genl.family('tcp_metrics');
    return {
      genl,
      family,
      list: () => genl.dump(family, TCP_METRICS_CMD.GET).map(decodeTcpMetrics),
      get(addr, saddr) {
        const [r] = genl.request(family, TCP_METRICS_CMD.GET, addrAttrs(addr, saddr));
        if (r === undefined) throw new Error('tcp_metrics GET: no reply');
        return decodeTcpMetrics(r);
      },
      delete: (addr, saddr) => void genl.request(family, TCP_METRICS_CMD.DEL, addrAttrs(addr, saddr)),
      flush: () => void genl.request(family, TCP_METRICS_CMD.DEL, []),
      close: () => genl.close(),
    };
  } catch (e) {
    genl.close();
    throw e;
  }
}
