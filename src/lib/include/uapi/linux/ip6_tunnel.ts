// include/uapi/linux/ip6_tunnel.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.

/** The encapsulation limit ip(8) sets on a new ip6tnl/ip6gre (the kernel's netlink default is 0). */
export const IPV6_DEFAULT_TNL_ENCAP_LIMIT = 4;
/** IFLA_IPTUN_FLAGS / IFLA_GRE_FLAGS bits of ip6 tunnels. */
export const IP6_TNL_F_IGN_ENCAP_LIMIT = 0x1;
export const IP6_TNL_F_USE_ORIG_TCLASS = 0x2;
export const IP6_TNL_F_USE_ORIG_FLOWLABEL = 0x4;
export const IP6_TNL_F_MIP6_DEV = 0x8;
export const IP6_TNL_F_RCV_DSCP_COPY = 0x10;
export const IP6_TNL_F_USE_ORIG_FWMARK = 0x20;
export const IP6_TNL_F_ALLOW_LOCAL_REMOTE = 0x40;
