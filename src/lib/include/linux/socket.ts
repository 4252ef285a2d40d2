// include/linux/socket.h (Linux 6.1): not a uapi header, but these values are ABI. Checked
// against the header by test/unit/lib/constants.test.ts.

export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_BRIDGE = 7;
export const AF_INET6 = 10;
export const AF_KEY = 15;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
export const AF_MPLS = 28;
export const AF_ALG = 38;
export const AF_VSOCK = 40;
export const AF_XDP = 44;

export const SOL_IP = 0;
export const SOL_TCP = 6;
export const SOL_UDP = 17;
export const SOL_IPV6 = 41;
export const SOL_ICMPV6 = 58;
export const SOL_RAW = 255;
export const SOL_PACKET = 263;
export const SOL_NETLINK = 270;
export const SOL_ALG = 279;
export const SOL_TLS = 282;
export const SOL_XDP = 283;

export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_DONTROUTE = 0x4;
export const MSG_CTRUNC = 0x8;
export const MSG_PROBE = 0x10;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80;
export const MSG_WAITALL = 0x100;
export const MSG_CONFIRM = 0x800;
export const MSG_ERRQUEUE = 0x2000;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_MORE = 0x8000;
export const MSG_WAITFORONE = 0x10000;
export const MSG_BATCH = 0x40000;
export const MSG_ZEROCOPY = 0x4000000;
/** sendto()/sendmsg() on an unconnected TCP socket: connect with TCP Fast Open, data in the SYN. */
export const MSG_FASTOPEN = 0x20000000;
export const MSG_CMSG_CLOEXEC = 0x40000000;
