// include/uapi/linux/ip.h (Linux 6.1): IPv4 option types. Checked against the header by
// test/unit/lib/constants.test.ts.

export const IPVERSION = 4;
export const MAXTTL = 255;
export const IPDEFTTL = 64;

export const IPOPT_END = 0;
export const IPOPT_NOOP = 1;
export const IPOPT_SEC = 130;
export const IPOPT_LSRR = 131;
export const IPOPT_TIMESTAMP = 68;
export const IPOPT_CIPSO = 134;
export const IPOPT_RR = 7;
export const IPOPT_SID = 136;
export const IPOPT_SSRR = 137;
/** Router alert (RFC 2113). */
export const IPOPT_RA = 148;
