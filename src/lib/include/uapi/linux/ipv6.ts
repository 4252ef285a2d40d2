// include/uapi/linux/ipv6.h (Linux 6.1): routing header types. Checked against the header by
// test/unit/lib/constants.test.ts.

export const IPV6_SRCRT_STRICT = 0x01;
export const IPV6_SRCRT_TYPE_0 = 0;
export const IPV6_SRCRT_TYPE_2 = 2;
/** RPL source routing (RFC 6554). */
export const IPV6_SRCRT_TYPE_3 = 3;
/** Segment routing (RFC 8754). */
export const IPV6_SRCRT_TYPE_4 = 4;
