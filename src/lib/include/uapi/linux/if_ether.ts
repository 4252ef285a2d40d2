// include/uapi/linux/if_ether.h (Linux 6.1): Ethernet sizes and ethertypes. Checked against the
// header by test/unit/lib/constants.test.ts.

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const ETH_ZLEN = 60;
export const ETH_DATA_LEN = 1500;
export const ETH_FRAME_LEN = 1514;

export const ETH_P_LOOP = 0x0060;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
/** Transparent Ethernet bridging: Ethernet inside GRE. */
export const ETH_P_TEB = 0x6558;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_MPLS_UC = 0x8847;
export const ETH_P_PAE = 0x888e;
export const ETH_P_8021AD = 0x88a8;
/** Every protocol: for packet sockets (in host order here; packetSocket() converts). */
export const ETH_P_ALL = 0x0003;
