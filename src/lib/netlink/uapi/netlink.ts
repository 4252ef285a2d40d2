// Generated from include/uapi/linux/netlink.h (Linux 6.1) by generate.py; values checked against
// gcc with the same headers. Regenerate rather than edit by hand.

/** Extended ack TLVs after struct nlmsgerr. */
export const NLMSGERR_ATTR = {
  UNUSED: 0,
  MSG: 1,
  OFFS: 2,
  COOKIE: 3,
  POLICY: 4,
  MISS_TYPE: 5,
  MISS_NEST: 6,
  MAX: 6,
} as const;
