// include/net/ndisc.h (Linux 6.1): neighbour discovery message types and option kinds (RFC 4861
// and the option RFCs named below). Checked against the header by test/unit/lib/constants.test.ts.

export const NDISC_ROUTER_SOLICITATION = 133;
export const NDISC_ROUTER_ADVERTISEMENT = 134;
export const NDISC_NEIGHBOUR_SOLICITATION = 135;
export const NDISC_NEIGHBOUR_ADVERTISEMENT = 136;
export const NDISC_REDIRECT = 137;

export const ND_OPT_SOURCE_LL_ADDR = 1;
export const ND_OPT_TARGET_LL_ADDR = 2;
export const ND_OPT_PREFIX_INFO = 3;
export const ND_OPT_REDIRECT_HDR = 4;
export const ND_OPT_MTU = 5;
/** RFC 7527 (enhanced duplicate address detection). */
export const ND_OPT_NONCE = 14;
/** RFC 4191. */
export const ND_OPT_ROUTE_INFO = 24;
/** RFC 8106. */
export const ND_OPT_RDNSS = 25;
export const ND_OPT_DNSSL = 31;
export const ND_OPT_CAPTIVE_PORTAL = 37;
/** RFC 8781. */
export const ND_OPT_PREF64 = 38;
