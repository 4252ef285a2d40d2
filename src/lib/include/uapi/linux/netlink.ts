// include/uapi/linux/netlink.h (Linux 6.1): netlink protocols, socket options, message header
// flags and types, attribute flags. Checked against the header by test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

// Protocols (the third argument of socket(AF_NETLINK, ...))
export const NETLINK_ROUTE = 0;
export const NETLINK_USERSOCK = 2;
export const NETLINK_SOCK_DIAG = 4;
export const NETLINK_NFLOG = 5;
export const NETLINK_XFRM = 6;
export const NETLINK_AUDIT = 9;
export const NETLINK_CONNECTOR = 11;
export const NETLINK_NETFILTER = 12;
export const NETLINK_KOBJECT_UEVENT = 15;
export const NETLINK_GENERIC = 16;
export const NETLINK_CRYPTO = 21;

// SOL_NETLINK socket options
export const NETLINK_ADD_MEMBERSHIP = 1;
export const NETLINK_DROP_MEMBERSHIP = 2;
export const NETLINK_PKTINFO = 3;
export const NETLINK_BROADCAST_ERROR = 4;
export const NETLINK_NO_ENOBUFS = 5;
export const NETLINK_LISTEN_ALL_NSID = 8;
export const NETLINK_LIST_MEMBERSHIPS = 9;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;

/** sizeof(struct nlmsghdr), aligned. */
export const NLMSG_HDRLEN = 16;
/** sizeof(struct nlattr), aligned. */
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;

/** nlmsghdr.nlmsg_flags. GET, NEW and DELETE requests and ACKs give the high bits different names. */
export const NLM_F = table('NLM_F_', {
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
});

/** Control message types (nlmsg_type below NLMSG_MIN_TYPE). */
export const NLMSG = table('NLMSG_', {
  NOOP: 0x1,
  ERROR: 0x2,
  DONE: 0x3,
  OVERRUN: 0x4,
  MIN_TYPE: 0x10,
});

/** Extended ack TLVs after struct nlmsgerr. */
export const NLMSGERR_ATTR = table('NLMSGERR_ATTR_', {
  UNUSED: 0,
  MSG: 1,
  OFFS: 2,
  COOKIE: 3,
  POLICY: 4,
  MISS_TYPE: 5,
  MISS_NEST: 6,
  MAX: 6,
});
