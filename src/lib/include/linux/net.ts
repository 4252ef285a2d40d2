// include/linux/net.h (Linux 6.1): not a uapi header, but these values are ABI. Checked
// against the header by test/unit/lib/constants.test.ts.

// enum sock_type
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_RDM = 4;
export const SOCK_SEQPACKET = 5;
export const SOCK_PACKET = 10;
/** O_NONBLOCK and O_CLOEXEC (include/uapi/asm-generic/fcntl.h), or-ed into socket()'s type. */
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

// enum sock_shutdown_cmd
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
