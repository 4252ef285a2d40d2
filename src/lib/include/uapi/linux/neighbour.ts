// include/uapi/linux/neighbour.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

/** Neighbour attributes. */
export const NDA = table('NDA_', {
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
});

/** Neighbour states (ndm_state). */
export const NUD = table('NUD_', {
  INCOMPLETE: 1,
  REACHABLE: 2,
  STALE: 4,
  DELAY: 8,
  PROBE: 16,
  FAILED: 32,
  NOARP: 64,
  PERMANENT: 128,
  NONE: 0,
});

/** Neighbour flags (ndm_flags). */
export const NTF = table('NTF_', {
  USE: 1,
  SELF: 2,
  MASTER: 4,
  PROXY: 8,
  EXT_LEARNED: 0x10,
  OFFLOADED: 0x20,
  STICKY: 0x40,
  ROUTER: 0x80,
});
