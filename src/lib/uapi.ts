// C struct layouts from the kernel's uapi headers (Linux 6.1), declared with struct.ts.
// Sizes and offsets are checked against gcc in test/unit/lib/uapi-layout.test.ts.
// Field names drop the C prefix (sin_, sin6_, nl_, ...) but keep the C order.
import { be16, be32, bytes, cstr, i16, i32, i64, struct, u16, u32, u64, u8 } from './struct.js';

// include/uapi/linux/in.h
export const sockaddr_in = struct('sockaddr_in', {
  family: u16,
  port: be16,
  addr: bytes(4),
  zero: bytes(8),
});

// include/uapi/linux/in6.h
export const sockaddr_in6 = struct('sockaddr_in6', {
  family: u16,
  port: be16,
  flowinfo: be32,
  addr: bytes(16),
  scopeId: u32,
});

// include/uapi/linux/netlink.h
export const sockaddr_nl = struct('sockaddr_nl', {
  family: u16,
  pad: u16,
  pid: u32,
  groups: u32,
});

// include/uapi/linux/if_packet.h
export const sockaddr_ll = struct('sockaddr_ll', {
  family: u16,
  protocol: be16,
  ifindex: i32,
  hatype: u16,
  pkttype: u8,
  halen: u8,
  addr: bytes(8),
});

export const packet_mreq = struct('packet_mreq', {
  ifindex: i32,
  type: u16,
  alen: u16,
  address: bytes(8),
});

// include/uapi/linux/in.h
export const in_pktinfo = struct('in_pktinfo', {
  ifindex: i32,
  specDst: bytes(4),
  addr: bytes(4),
});

export const ip_mreqn = struct('ip_mreqn', {
  multiaddr: bytes(4),
  address: bytes(4),
  ifindex: i32,
});

export const ip_mreq_source = struct('ip_mreq_source', {
  multiaddr: bytes(4),
  interface: bytes(4),
  sourceaddr: bytes(4),
});

/** IP_MSFILTER; the C struct holds one source, IP_MSFILTER_SIZE(n) is 16 + 4n: see msfilter.ts. */
export const ip_msfilter = struct('ip_msfilter', {
  multiaddr: bytes(4),
  interface: bytes(4),
  fmode: u32,
  numsrc: u32,
  slist: bytes(4),
});

/** struct __kernel_sockaddr_storage is 128 bytes, 8-aligned: the index is followed by 4 bytes of padding. */
export const group_req = struct('group_req', {
  interface: u32,
  pad: u32,
  group: bytes(128),
});

export const group_source_req = struct('group_source_req', {
  interface: u32,
  pad: u32,
  group: bytes(128),
  source: bytes(128),
});

/** MCAST_MSFILTER; the C struct holds one source, GROUP_FILTER_SIZE(n) is 144 + 128n: see msfilter.ts. */
export const group_filter = struct('group_filter', {
  interface: u32,
  pad: u32,
  group: bytes(128),
  fmode: u32,
  numsrc: u32,
  slist: bytes(128),
});

// include/uapi/linux/ipv6.h
export const in6_pktinfo = struct('in6_pktinfo', {
  addr: bytes(16),
  ifindex: i32,
});

/** IPV6_PATHMTU (receive): the destination and its path MTU (include/uapi/linux/ipv6.h). */
export const ip6_mtuinfo = struct('ip6_mtuinfo', {
  addr: sockaddr_in6,
  mtu: u32,
});
// include/uapi/linux/in6.h
export const ipv6_mreq = struct('ipv6_mreq', {
  multiaddr: bytes(16),
  ifindex: i32,
});

/**
 * IPV6_FLOWLABEL_MGR. setsockopt: action GET acquires a label (with flags CREATE, a new one), PUT
 * releases it, RENEW extends it. getsockopt reads it too: pass one with action GET as the input.
 */
export const in6_flowlabel_req = struct('in6_flowlabel_req', {
  dst: bytes(16),
  /** The label in the low 20 bits (network order). */
  label: be32,
  action: u8,
  share: u8,
  flags: u16,
  expires: u16,
  linger: u16,
  pad: u32,
});

// include/uapi/linux/errqueue.h; the offender sockaddr follows it in the same cmsg (SO_EE_OFFENDER).
export const sock_extended_err = struct('sock_extended_err', {
  errno: u32,
  origin: u8,
  type: u8,
  code: u8,
  pad: u8,
  info: u32,
  data: u32,
});

// include/uapi/linux/if.h: struct ifreq is ifr_name[16] + a 24-byte union (size 40 on 64-bit).
// One layout per union member we use.
const IFREQ = { size: 40, align: 8 };
export const ifreq_flags = struct('ifreq', { name: cstr(16), flags: i16 }, IFREQ);
export const ifreq_int = struct('ifreq', { name: cstr(16), value: i32 }, IFREQ);
/** ifr_hwaddr: a struct sockaddr (sa_family + 14 bytes of sa_data). */
export const ifreq_hwaddr = struct('ifreq', { name: cstr(16), family: u16, data: bytes(14) }, IFREQ);
/** ifr_addr / ifr_netmask holding an IPv4 address. */
export const ifreq_addr = struct('ifreq', { name: cstr(16), addr: sockaddr_in }, IFREQ);

// include/uapi/linux/ipv6.h: SIOCSIFADDR / SIOCDIFADDR argument on an AF_INET6 socket.
export const in6_ifreq = struct('in6_ifreq', { addr: bytes(16), prefixlen: u32, ifindex: i32 });

// include/uapi/linux/if_tun.h: prepended to frames unless IFF_NO_PI.
export const tun_pi = struct('tun_pi', { flags: u16, proto: be16 });

// include/uapi/linux/time_types.h (struct __kernel_old_timeval on 64-bit) for SO_RCVTIMEO/SO_SNDTIMEO.
export const timeval = struct('timeval', { sec: i64, usec: i64 });

// include/linux/socket.h (struct user_msghdr) and include/uapi/linux/uio.h, 64-bit: pointers
// and size_t as u64.
export const msghdr = struct('msghdr', {
  name: u64,
  namelen: u32,
  iov: u64,
  iovlen: u64,
  control: u64,
  controllen: u64,
  flags: u32,
});
export const iovec = struct('iovec', { base: u64, len: u64 });

// include/linux/socket.h (64-bit): cmsg_len is size_t.
export const cmsghdr = struct('cmsghdr', { len: u64, level: i32, type: i32 });

// include/uapi/linux/tcp.h. Bit-fields are exposed as the byte that holds them:
// wscale = snd_wscale:4 | rcv_wscale:4 << 4; appLimitedFoFail = delivery_rate_app_limited:1 |
// fastopen_client_fail:2 << 1 (gcc packs bit-fields from the low bits on x86_64 and arm64).
export const tcp_info = struct('tcp_info', {
  state: u8,
  caState: u8,
  retransmits: u8,
  probes: u8,
  backoff: u8,
  options: u8,
  wscale: u8,
  appLimitedFoFail: u8,
  rto: u32,
  ato: u32,
  sndMss: u32,
  rcvMss: u32,
  unacked: u32,
  sacked: u32,
  lost: u32,
  retrans: u32,
  fackets: u32,
  lastDataSent: u32,
  lastAckSent: u32,
  lastDataRecv: u32,
  lastAckRecv: u32,
  pmtu: u32,
  rcvSsthresh: u32,
  rtt: u32,
  rttvar: u32,
  sndSsthresh: u32,
  sndCwnd: u32,
  advmss: u32,
  reordering: u32,
  rcvRtt: u32,
  rcvSpace: u32,
  totalRetrans: u32,
  pacingRate: u64,
  maxPacingRate: u64,
  bytesAcked: u64,
  bytesReceived: u64,
  segsOut: u32,
  segsIn: u32,
  notsentBytes: u32,
  minRtt: u32,
  dataSegsIn: u32,
  dataSegsOut: u32,
  deliveryRate: u64,
  busyTime: u64,
  rwndLimited: u64,
  sndbufLimited: u64,
  delivered: u32,
  deliveredCe: u32,
  bytesSent: u64,
  bytesRetrans: u64,
  dsackDups: u32,
  reordSeen: u32,
  rcvOoopack: u32,
  sndWnd: u32,
});
