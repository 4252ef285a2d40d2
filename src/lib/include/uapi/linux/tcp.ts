// include/uapi/linux/tcp.h (Linux 6.1): TCP socket options. Checked against the header by
// test/unit/lib/constants.test.ts.

export const TCP_NODELAY = 1;
export const TCP_MAXSEG = 2;
export const TCP_CORK = 3;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
export const TCP_SYNCNT = 7;
export const TCP_LINGER2 = 8;
export const TCP_DEFER_ACCEPT = 9;
export const TCP_WINDOW_CLAMP = 10;
export const TCP_INFO = 11;
export const TCP_QUICKACK = 12;
export const TCP_CONGESTION = 13;
export const TCP_MD5SIG = 14;
export const TCP_THIN_LINEAR_TIMEOUTS = 16;
export const TCP_THIN_DUPACK = 17;
export const TCP_USER_TIMEOUT = 18;
export const TCP_REPAIR = 19;
export const TCP_REPAIR_QUEUE = 20;
export const TCP_QUEUE_SEQ = 21;
export const TCP_REPAIR_OPTIONS = 22;
/** On a listener: enable Fast Open, the value is the queue length of pending TFO requests. */
export const TCP_FASTOPEN = 23;
export const TCP_TIMESTAMP = 24;
export const TCP_NOTSENT_LOWAT = 25;
export const TCP_CC_INFO = 26;
export const TCP_SAVE_SYN = 27;
export const TCP_SAVED_SYN = 28;
export const TCP_REPAIR_WINDOW = 29;
/** Defer the SYN to the first write, which carries data when a cookie is cached. */
export const TCP_FASTOPEN_CONNECT = 30;
export const TCP_ULP = 31;
export const TCP_MD5SIG_EXT = 32;
export const TCP_FASTOPEN_KEY = 33;
export const TCP_FASTOPEN_NO_COOKIE = 34;
export const TCP_ZEROCOPY_RECEIVE = 35;
export const TCP_INQ = 36;
export const TCP_TX_DELAY = 37;

// TCP_REPAIR values
export const TCP_REPAIR_ON = 1;
export const TCP_REPAIR_OFF = 0;
export const TCP_REPAIR_OFF_NO_WP = -1;
// TCP_REPAIR_QUEUE values
export const TCP_NO_QUEUE = 0;
export const TCP_RECV_QUEUE = 1;
export const TCP_SEND_QUEUE = 2;
