// include/linux/if_vlan.h (Linux 6.1). Checked against the header by
// test/unit/lib/constants.test.ts.

/** Bytes an 802.1Q tag adds to an Ethernet header. */
export const VLAN_HLEN = 4;
