// include/uapi/linux/sock_diag.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

/** Message types. */
export const SOCK_DIAG_MSG = table('SOCK_', {
  DIAG_BY_FAMILY: 20,
  DESTROY: 21,
});

/** Index into the INET_DIAG_SKMEMINFO u32 array. */
export const SK_MEMINFO = table('SK_MEMINFO_', {
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
});
