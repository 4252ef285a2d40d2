// include/uapi/linux/in6.h (Linux 6.1): IPv6 extension header numbers, option TLVs, flow label
// manager requests and IPv6 socket options. Checked against the header by
// test/unit/lib/constants.test.ts.

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_MH = 135;

// Hop-by-hop and destination option types
export const IPV6_TLV_PAD1 = 0;
export const IPV6_TLV_PADN = 1;
export const IPV6_TLV_ROUTERALERT = 5;
export const IPV6_TLV_CALIPSO = 7;
export const IPV6_TLV_IOAM = 49;
export const IPV6_TLV_JUMBO = 194;
export const IPV6_TLV_HAO = 201;

// IPV6_FLOWLABEL_MGR (struct in6_flowlabel_req): actions (GET acquires, PUT releases), flags, share modes
export const IPV6_FL_A_GET = 0;
export const IPV6_FL_A_PUT = 1;
export const IPV6_FL_A_RENEW = 2;
export const IPV6_FL_F_CREATE = 1;
export const IPV6_FL_F_EXCL = 2;
export const IPV6_FL_F_REFLECT = 4;
export const IPV6_FL_F_REMOTE = 8;
export const IPV6_FL_S_NONE = 0;
export const IPV6_FL_S_EXCL = 1;
export const IPV6_FL_S_PROCESS = 2;
export const IPV6_FL_S_USER = 3;
export const IPV6_FL_S_ANY = 255;
/** sin6_flowinfo bits (network order). */
export const IPV6_FLOWINFO_FLOWLABEL = 0x000fffff;
export const IPV6_FLOWINFO_PRIORITY = 0x0ff00000;

export const IPV6_ADDRFORM = 1;
export const IPV6_CHECKSUM = 7;
export const IPV6_NEXTHOP = 9;
export const IPV6_FLOWINFO = 11;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_ADD_MEMBERSHIP = 20;
export const IPV6_DROP_MEMBERSHIP = 21;
export const IPV6_ROUTER_ALERT = 22;
export const IPV6_MTU_DISCOVER = 23;
export const IPV6_MTU = 24;
export const IPV6_RECVERR = 25;
export const IPV6_V6ONLY = 26;
/** Join an anycast address (struct ipv6_mreq), as IPV6_ADD_MEMBERSHIP joins a group. */
export const IPV6_JOIN_ANYCAST = 27;
export const IPV6_LEAVE_ANYCAST = 28;
export const IPV6_MULTICAST_ALL = 29;
export const IPV6_ROUTER_ALERT_ISOLATE = 30;
export const IPV6_RECVERR_RFC4884 = 31;
/** Flow label manager: a struct in6_flowlabel_req in (and, for GET, out: see getOption). */
export const IPV6_FLOWLABEL_MGR = 32;
export const IPV6_FLOWINFO_SEND = 33;
export const IPV6_IPSEC_POLICY = 34;
/** Per-socket IPsec policy (struct xfrm_userpolicy_info and templates). */
export const IPV6_XFRM_POLICY = 35;
export const IPV6_HDRINCL = 36;
export const IPV6_RECVPKTINFO = 49;
export const IPV6_PKTINFO = 50;
export const IPV6_RECVHOPLIMIT = 51;
export const IPV6_HOPLIMIT = 52;
export const IPV6_RECVHOPOPTS = 53;
export const IPV6_HOPOPTS = 54;
export const IPV6_RTHDRDSTOPTS = 55;
export const IPV6_RECVRTHDR = 56;
export const IPV6_RTHDR = 57;
export const IPV6_RECVDSTOPTS = 58;
export const IPV6_DSTOPTS = 59;
export const IPV6_RECVPATHMTU = 60;
export const IPV6_PATHMTU = 61;
export const IPV6_DONTFRAG = 62;
export const IPV6_RECVTCLASS = 66;
export const IPV6_TCLASS = 67;
export const IPV6_AUTOFLOWLABEL = 70;
export const IPV6_ADDR_PREFERENCES = 72;
export const IPV6_MINHOPCOUNT = 73;
export const IPV6_ORIGDSTADDR = 74;
export const IPV6_RECVORIGDSTADDR = 74;
export const IPV6_TRANSPARENT = 75;
export const IPV6_UNICAST_IF = 76;
export const IPV6_RECVFRAGSIZE = 77;
export const IPV6_FREEBIND = 78;

// IPV6_MTU_DISCOVER values
export const IPV6_PMTUDISC_DONT = 0;
export const IPV6_PMTUDISC_WANT = 1;
export const IPV6_PMTUDISC_DO = 2;
export const IPV6_PMTUDISC_PROBE = 3;
export const IPV6_PMTUDISC_INTERFACE = 4;
export const IPV6_PMTUDISC_OMIT = 5;

// IPV6_ADDR_PREFERENCES bits
export const IPV6_PREFER_SRC_TMP = 0x1;
export const IPV6_PREFER_SRC_PUBLIC = 0x2;
export const IPV6_PREFER_SRC_COA = 0x4;
export const IPV6_PREFER_SRC_CGA = 0x8;
export const IPV6_PREFER_SRC_PUBTMP_DEFAULT = 0x100;
export const IPV6_PREFER_SRC_HOME = 0x400;
export const IPV6_PREFER_SRC_NONCGA = 0x800;
