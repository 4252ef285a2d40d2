// Generated from include/uapi/linux/veth.h (Linux 6.1) by a throwaway script; checked against
// the same headers compiled with gcc when generated. Regenerate rather than edit by hand.

/** veth link data. */
export const VETH_INFO = {
  UNSPEC: 0,
  PEER: 1,
} as const;
