// include/uapi/linux/errqueue.h (Linux 6.1): where a queued error came from
// (sock_extended_err.ee_origin). Checked against the header by test/unit/lib/constants.test.ts.

export const SO_EE_ORIGIN_NONE = 0;
export const SO_EE_ORIGIN_LOCAL = 1;
export const SO_EE_ORIGIN_ICMP = 2;
export const SO_EE_ORIGIN_ICMP6 = 3;
export const SO_EE_ORIGIN_TXSTATUS = 4;
export const SO_EE_ORIGIN_ZEROCOPY = 5;
export const SO_EE_ORIGIN_TXTIME = 6;
export const SO_EE_CODE_ZEROCOPY_COPIED = 1;
/** sock_ee_data_rfc4884.flags: the ICMP extension structure failed validation. */
export const SO_EE_RFC4884_FLAG_INVALID = 1;
