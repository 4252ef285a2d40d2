// include/uapi/asm-generic/fcntl.h (Linux 6.1; x86 and arm64 use it as it is). Checked against
// the header by test/unit/lib/constants.test.ts.

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
