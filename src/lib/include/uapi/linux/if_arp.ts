// include/uapi/linux/if_arp.h (Linux 6.1): ARP hardware types (ifi_type, sll_hatype) and ARP
// opcodes. Checked against the header by test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

export const ARPHRD_NETROM = 0;
export const ARPHRD_ETHER = 1;
export const ARPHRD_INFINIBAND = 32;
export const ARPHRD_PPP = 512;
export const ARPHRD_RAWIP = 519;
export const ARPHRD_TUNNEL = 768;
export const ARPHRD_TUNNEL6 = 769;
export const ARPHRD_LOOPBACK = 772;
export const ARPHRD_SIT = 776;
export const ARPHRD_IPGRE = 778;
export const ARPHRD_IEEE80211 = 801;
export const ARPHRD_IP6GRE = 823;
export const ARPHRD_NETLINK = 824;
export const ARPHRD_VOID = 0xffff;
export const ARPHRD_NONE = 0xfffe;

/** The hardware types by name: ARPHRD.LOOPBACK is 772. */
export const ARPHRD = table('ARPHRD_', {
  ARPHRD_NETROM, ARPHRD_ETHER, ARPHRD_INFINIBAND, ARPHRD_PPP, ARPHRD_RAWIP, ARPHRD_TUNNEL, ARPHRD_TUNNEL6, ARPHRD_LOOPBACK,
  ARPHRD_SIT, ARPHRD_IPGRE, ARPHRD_IEEE80211, ARPHRD_IP6GRE, ARPHRD_NETLINK, ARPHRD_VOID, ARPHRD_NONE,
});

export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
export const ARPOP_RREQUEST = 3;
export const ARPOP_RREPLY = 4;
