// Hand-written tables for constants the uapi headers give as plain #defines without a common
// enum, or that live outside include/uapi/linux/<family>.h. Each names its header (Linux 6.1).

/** Netlink protocols (include/uapi/linux/netlink.h). */
export const NETLINK = {
  ROUTE: 0,
  SOCK_DIAG: 4,
  XFRM: 6,
  GENERIC: 16,
} as const;

/** nlmsghdr.nlmsg_flags (include/uapi/linux/netlink.h). GET/NEW/DELETE modifiers share bits. */
export const NLM_F = {
  REQUEST: 0x01,
  MULTI: 0x02,
  ACK: 0x04,
  ECHO: 0x08,
  DUMP_INTR: 0x10,
  DUMP_FILTERED: 0x20,
  // GET requests
  ROOT: 0x100,
  MATCH: 0x200,
  ATOMIC: 0x400,
  DUMP: 0x300,
  // NEW requests
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  // DELETE requests
  NONREC: 0x100,
  BULK: 0x200,
  // ACK messages
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

/** Control message types (include/uapi/linux/netlink.h). */
export const NLMSG = {
  NOOP: 0x1,
  ERROR: 0x2,
  DONE: 0x3,
  OVERRUN: 0x4,
  MIN_TYPE: 0x10,
} as const;

/** SOL_NETLINK socket options (include/uapi/linux/netlink.h). */
export const NETLINK_OPT = {
  ADD_MEMBERSHIP: 1,
  DROP_MEMBERSHIP: 2,
  PKTINFO: 3,
  BROADCAST_ERROR: 4,
  NO_ENOBUFS: 5,
  LISTEN_ALL_NSID: 8,
  LIST_MEMBERSHIPS: 9,
  CAP_ACK: 10,
  EXT_ACK: 11,
  GET_STRICT_CHK: 12,
} as const;

/** include/linux/socket.h (not uapi, but ABI). */
export const SOL_NETLINK = 270;

/** Address families used in netlink headers (include/linux/socket.h). */
export const AF = {
  UNSPEC: 0,
  UNIX: 1,
  INET: 2,
  BRIDGE: 7,
  INET6: 10,
  NETLINK: 16,
  PACKET: 17,
  MPLS: 28,
} as const;

/** IP protocol numbers (include/uapi/linux/in.h). */
export const IPPROTO = {
  IP: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  SCTP: 132,
  UDPLITE: 136,
  MPTCP: 262,
  RAW: 255,
  COMP: 108,
} as const;

/** TCP states as sock_diag reports them (include/net/tcp_states.h). */
export const TCP_STATE = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  CLOSE: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
  NEW_SYN_RECV: 12,
} as const;

/** ARP hardware types for ifi_type (include/uapi/linux/if_arp.h), the ones tests meet. */
export const ARPHRD = {
  NETROM: 0,
  ETHER: 1,
  LOOPBACK: 772,
  SIT: 776,
  TUNNEL: 768,
  TUNNEL6: 769,
  IPGRE: 778,
  NONE: 0xfffe,
  VOID: 0xffff,
} as const;

/** Per-socket IPsec policy options (include/uapi/linux/in.h, in6.h). */
export const SOCKOPT_XFRM = {
  SOL_IP: 0,
  IP_XFRM_POLICY: 17,
  SOL_IPV6: 41,
  IPV6_XFRM_POLICY: 35,
} as const;

/** UDP encapsulation types for xfrm_encap_tmpl (include/uapi/linux/udp.h). */
export const UDP_ENCAP = {
  ESPINUDP_NON_IKE: 1,
  ESPINUDP: 2,
  L2TPINUDP: 3,
  GTP0: 4,
  GTP1U: 5,
  RXRPC: 6,
  ESPINTCP: 7,
} as const;
