// include/uapi/linux/if_packet.h (Linux 6.1): packet types (sockaddr_ll.sll_pkttype) and
// SOL_PACKET options. Checked against the header by test/unit/lib/constants.test.ts.

export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;
export const PACKET_LOOPBACK = 5;

export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_DROP_MEMBERSHIP = 2;
export const PACKET_RECV_OUTPUT = 3;
export const PACKET_RX_RING = 5;
export const PACKET_STATISTICS = 6;
export const PACKET_AUXDATA = 8;
export const PACKET_ORIGDEV = 9;
export const PACKET_VERSION = 10;
export const PACKET_TX_RING = 13;
export const PACKET_VNET_HDR = 15;
export const PACKET_FANOUT = 18;
export const PACKET_QDISC_BYPASS = 20;
export const PACKET_IGNORE_OUTGOING = 23;

// packet_mreq.mr_type
export const PACKET_MR_MULTICAST = 0;
export const PACKET_MR_PROMISC = 1;
export const PACKET_MR_ALLMULTI = 2;
export const PACKET_MR_UNICAST = 3;
