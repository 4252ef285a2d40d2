// include/uapi/asm-generic/socket.h (Linux 6.1; x86 and arm64 use it as it is), with the
// 64-bit meaning of the *_OLD aliases. Checked against the header by
// test/unit/lib/constants.test.ts.

export const SOL_SOCKET = 1;

export const SO_DEBUG = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_DONTROUTE = 5;
export const SO_BROADCAST = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_KEEPALIVE = 9;
export const SO_OOBINLINE = 10;
export const SO_NO_CHECK = 11;
export const SO_PRIORITY = 12;
export const SO_LINGER = 13;
export const SO_REUSEPORT = 15;
export const SO_PASSCRED = 16;
export const SO_PEERCRED = 17;
export const SO_RCVLOWAT = 18;
export const SO_SNDLOWAT = 19;
/** SO_RCVTIMEO_OLD: a struct timeval with 64-bit fields on 64-bit Linux. */
export const SO_RCVTIMEO = 20;
export const SO_SNDTIMEO = 21;
export const SO_BINDTODEVICE = 25;
export const SO_ATTACH_FILTER = 26;
export const SO_DETACH_FILTER = 27;
export const SO_TIMESTAMP = 29;
export const SO_ACCEPTCONN = 30;
export const SO_PASSSEC = 34;
export const SO_TIMESTAMPNS = 35;
export const SO_MARK = 36;
export const SO_TIMESTAMPING = 37;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;
export const SO_RXQ_OVFL = 40;
export const SO_PEEK_OFF = 42;
export const SO_LOCK_FILTER = 44;
export const SO_BUSY_POLL = 46;
export const SO_INCOMING_CPU = 49;
export const SO_ATTACH_BPF = 50;
export const SO_ATTACH_REUSEPORT_CBPF = 51;
export const SO_ATTACH_REUSEPORT_EBPF = 52;
export const SO_COOKIE = 57;
export const SO_ZEROCOPY = 60;
export const SO_TXTIME = 61;
export const SO_BINDTOIFINDEX = 62;
export const SO_NETNS_COOKIE = 71;
export const SO_RCVMARK = 75;
