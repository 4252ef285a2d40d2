// Generated from include/uapi/linux/sock_diag.h (Linux 6.1) by generate.py; values checked against
// gcc with the same headers. Regenerate rather than edit by hand.

/** Message types. */
export const SOCK_DIAG_MSG = {
  DIAG_BY_FAMILY: 20,
  DESTROY: 21,
} as const;

/** Index into the INET_DIAG_SKMEMINFO u32 array. */
export const SK_MEMINFO = {
  RMEM_ALLOC: 0,
  RCVBUF: 1,
  WMEM_ALLOC: 2,
  SNDBUF: 3,
  FWD_ALLOC: 4,
  WMEM_QUEUED: 5,
  OPTMEM: 6,
  BACKLOG: 7,
  DROPS: 8,
  VARS: 9,
} as const;
