// Generated from include/uapi/linux/veth.h (Linux 6.1) by generate.py; values checked against
// gcc with the same headers. Regenerate rather than edit by hand.

/** veth link data. */
export const VETH_INFO = {
  UNSPEC: 0,
  PEER: 1,
} as const;
