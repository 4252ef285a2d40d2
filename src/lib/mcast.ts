// Option values of the multicast socket API: the IPv4-only structs (ip_mreqn, ip_mreq_source,
// ip_msfilter) and the protocol-independent ones of RFC 3678 (group_req, group_source_req,
// group_filter), whose addresses are sockaddr_storage. Layouts: uapi.ts (include/uapi/linux/in.h).
import { AF_INET, AF_INET6 } from './include/linux/socket.js';
import { bytesToIp, ip4ToBytes, ip6ToBytes, ipVersion } from './addr.js';
import { group_filter, group_req, group_source_req, ip_mreq_source, ip_mreqn, ip_msfilter, ipv6_mreq, sockaddr_in, sockaddr_in6 } from './uapi.js';

const STORAGE = 128;

/** A sockaddr_in or sockaddr_in6 (port 0) padded to sockaddr_storage. */
function storage(addr: string): Buffer {
  const b = Buffer.alloc(STORAGE);
  if (ipVersion(addr) === 4) sockaddr_in.packInto(b, 0, { family: AF_INET, addr: ip4ToBytes(addr) });
  else sockaddr_in6.packInto(b, 0, { family: AF_INET6, addr: ip6ToBytes(addr) });
  return b;
}

function fromStorage(b: Uint8Array): string {
  const family = Buffer.from(b.buffer, b.byteOffset, 2).readUInt16LE(0);
  return family === AF_INET ? bytesToIp(sockaddr_in.unpack(b).addr) : bytesToIp(sockaddr_in6.unpack(b).addr);
}

/** IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP (struct ip_mreqn): by interface address or index. */
export function mreqn(group: string, opts: { address?: string; ifindex?: number } = {}): Buffer {
  return ip_mreqn.pack({ multiaddr: ip4ToBytes(group), address: ip4ToBytes(opts.address ?? '0.0.0.0'), ifindex: opts.ifindex ?? 0 });
}

/** IP_ADD_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE and friends (struct ip_mreq_source): interface by address. */
export function mreqSource(group: string, iface: string, source: string): Buffer {
  return ip_mreq_source.pack({ multiaddr: ip4ToBytes(group), interface: ip4ToBytes(iface), sourceaddr: ip4ToBytes(source) });
}

/** IPV6_ADD_MEMBERSHIP (glibc's IPV6_JOIN_GROUP) / IPV6_DROP_MEMBERSHIP (struct ipv6_mreq). */
export function mreq6(group: string, ifindex: number): Buffer {
  return ipv6_mreq.pack({ multiaddr: ip6ToBytes(group), ifindex });
}

/** MCAST_JOIN_GROUP / MCAST_LEAVE_GROUP (struct group_req), either family. */
export function groupReq(ifindex: number, group: string): Buffer {
  return group_req.pack({ interface: ifindex, group: storage(group) });
}

/** MCAST_{JOIN,LEAVE}_SOURCE_GROUP, MCAST_{BLOCK,UNBLOCK}_SOURCE (struct group_source_req). */
export function groupSourceReq(ifindex: number, group: string, source: string): Buffer {
  return group_source_req.pack({ interface: ifindex, group: storage(group), source: storage(source) });
}

export interface SourceFilter {
  /** MCAST_INCLUDE or MCAST_EXCLUDE. */
  fmode: number;
  sources: string[];
}

/** A filter to set, or (for getsockopt) room for `numsrc` sources: the kernel copies at most numsrc. */
export type FilterInput = SourceFilter & { numsrc?: number };

/** IP_MSFILTER value: IP_MSFILTER_SIZE(n) bytes (the C struct's one-entry list is replaced by n). */
export function ipMsfilter(group: string, iface: string, f: FilterInput): Buffer {
  const head = ip_msfilter.size - 4;
  const numsrc = f.numsrc ?? f.sources.length;
  const b = Buffer.alloc(head + 4 * Math.max(numsrc, f.sources.length));
  ip_msfilter.packInto(b, 0, { multiaddr: ip4ToBytes(group), interface: ip4ToBytes(iface), fmode: f.fmode, numsrc });
  f.sources.forEach((s, i) => ip4ToBytes(s).copy(b, head + 4 * i));
  return b;
}

/** An IP_MSFILTER answer: the mode and the sources that fit; numsrc is the kernel's count. */
export function parseIpMsfilter(b: Buffer): SourceFilter & { numsrc: number } {
  const head = ip_msfilter.size - 4;
  const { fmode, numsrc } = ip_msfilter.unpack(b);
  const n = Math.min(numsrc, (b.length - head) / 4);
  const sources: string[] = [];
  for (let i = 0; i < n; i++) sources.push(bytesToIp(b.subarray(head + 4 * i, head + 4 * i + 4)));
  return { fmode, numsrc, sources };
}

/** MCAST_MSFILTER value: GROUP_FILTER_SIZE(n) bytes. */
export function groupFilter(ifindex: number, group: string, f: FilterInput): Buffer {
  const head = group_filter.size - STORAGE;
  const numsrc = f.numsrc ?? f.sources.length;
  const b = Buffer.alloc(head + STORAGE * Math.max(numsrc, f.sources.length));
  group_filter.packInto(b, 0, { interface: ifindex, group: storage(group), fmode: f.fmode, numsrc });
  f.sources.forEach((s, i) => storage(s).copy(b, head + STORAGE * i));
  return b;
}

export function parseGroupFilter(b: Buffer): SourceFilter & { numsrc: number } {
  const head = group_filter.size - STORAGE;
  const { fmode, numsrc } = group_filter.unpack(b);
  const n = Math.min(numsrc, (b.length - head) / STORAGE);
  const sources: string[] = [];
  for (let i = 0; i < n; i++) sources.push(fromStorage(b.subarray(head + STORAGE * i, head + STORAGE * (i + 1))));
  return { fmode, numsrc, sources };
}
