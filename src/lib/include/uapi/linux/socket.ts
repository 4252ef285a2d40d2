// include/uapi/linux/socket.h (Linux 6.1). Checked against the header by
// test/unit/lib/constants.test.ts.

/** sizeof(struct __kernel_sockaddr_storage): room for any socket address the kernel returns. */
export const _K_SS_MAXSIZE = 128;
