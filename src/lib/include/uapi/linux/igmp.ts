// include/uapi/linux/igmp.h (Linux 6.1): IGMP message types (RFC 1112, 2236, 3376) and IGMPv3
// group record types. Checked against the header by test/unit/lib/constants.test.ts.

export const IGMPV3_MODE_IS_INCLUDE = 1;
export const IGMPV3_MODE_IS_EXCLUDE = 2;
export const IGMPV3_CHANGE_TO_INCLUDE = 3;
export const IGMPV3_CHANGE_TO_EXCLUDE = 4;
export const IGMPV3_ALLOW_NEW_SOURCES = 5;
export const IGMPV3_BLOCK_OLD_SOURCES = 6;

/** A query of any version; the version is told by its length and max response code (RFC 3376 §7.1). */
export const IGMP_HOST_MEMBERSHIP_QUERY = 0x11;
/** IGMPv1 report. */
export const IGMP_HOST_MEMBERSHIP_REPORT = 0x12;
export const IGMP_DVMRP = 0x13;
export const IGMP_PIM = 0x14;
export const IGMP_TRACE = 0x15;
export const IGMPV2_HOST_MEMBERSHIP_REPORT = 0x16;
export const IGMP_HOST_LEAVE_MESSAGE = 0x17;
export const IGMPV3_HOST_MEMBERSHIP_REPORT = 0x22;
export const IGMP_MTRACE_RESP = 0x1e;
export const IGMP_MTRACE = 0x1f;
export const IGMP_MRDISC_ADV = 0x30;

export const IGMP_MINLEN = 8;
/** Max response time units of IGMPv2 (tenths of a second). */
export const IGMP_TIMER_SCALE = 10;
