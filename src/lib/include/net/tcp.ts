// include/net/tcp.h (Linux 6.1): TCP option kinds and the net.ipv4.tcp_fastopen bits, ABI on
// the wire and in sysctls though not in a uapi header. Checked against the header by
// test/unit/lib/constants.test.ts.

export const TCPOPT_NOP = 1;
export const TCPOPT_EOL = 0;
export const TCPOPT_MSS = 2;
export const TCPOPT_WINDOW = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;
/** RFC 2385. */
export const TCPOPT_MD5SIG = 19;
/** RFC 8684. */
export const TCPOPT_MPTCP = 30;
/** RFC 7413. */
export const TCPOPT_FASTOPEN = 34;
/** Experimental options (RFC 6994), e.g. Fast Open's pre-RFC form with magic 0xF989. */
export const TCPOPT_EXP = 254;
export const TCPOPT_FASTOPEN_MAGIC = 0xf989;

// net.ipv4.tcp_fastopen bits
export const TFO_CLIENT_ENABLE = 1;
export const TFO_SERVER_ENABLE = 2;
export const TFO_CLIENT_NO_COOKIE = 4;
export const TFO_SERVER_COOKIE_NOT_REQD = 0x200;
