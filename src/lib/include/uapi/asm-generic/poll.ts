// include/uapi/asm-generic/poll.h (Linux 6.1). Checked against the header by
// test/unit/lib/constants.test.ts.

export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const POLLRDHUP = 0x2000;
