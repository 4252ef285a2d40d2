// Generated from include/uapi/linux/neighbour.h (Linux 6.1) by generate.py; values checked against
// gcc with the same headers. Regenerate rather than edit by hand.

/** Neighbour attributes. */
export const NDA = {
  UNSPEC: 0,
  DST: 1,
  LLADDR: 2,
  CACHEINFO: 3,
  PROBES: 4,
  VLAN: 5,
  PORT: 6,
  VNI: 7,
  IFINDEX: 8,
  MASTER: 9,
  LINK_NETNSID: 10,
  SRC_VNI: 11,
  PROTOCOL: 12,
  NH_ID: 13,
  FDB_EXT_ATTRS: 14,
  FLAGS_EXT: 15,
  NDM_STATE_MASK: 16,
  NDM_FLAGS_MASK: 17,
} as const;

/** Neighbour states (ndm_state). */
export const NUD = {
  INCOMPLETE: 1,
  REACHABLE: 2,
  STALE: 4,
  DELAY: 8,
  PROBE: 16,
  FAILED: 32,
  NOARP: 64,
  PERMANENT: 128,
  NONE: 0,
} as const;

/** Neighbour flags (ndm_flags). */
export const NTF = {
  USE: 1,
  SELF: 2,
  MASTER: 4,
  PROXY: 8,
  EXT_LEARNED: 0x10,
  OFFLOADED: 0x20,
  STICKY: 0x40,
  ROUTER: 0x80,
} as const;
