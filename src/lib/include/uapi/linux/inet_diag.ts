// include/uapi/linux/inet_diag.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

/** Request attributes. */
export const INET_DIAG_REQ = table('INET_DIAG_REQ_', {
  NONE: 0,
  BYTECODE: 1,
  SK_BPF_STORAGES: 2,
  PROTOCOL: 3,
});

/** Bytecode filter operations. */
export const INET_DIAG_BC = table('INET_DIAG_BC_', {
  NOP: 0,
  JMP: 1,
  S_GE: 2,
  S_LE: 3,
  D_GE: 4,
  D_LE: 5,
  AUTO: 6,
  S_COND: 7,
  D_COND: 8,
  DEV_COND: 9,
  MARK_COND: 10,
  S_EQ: 11,
  D_EQ: 12,
  CGROUP_COND: 13,
});

/** Reply attributes (extensions; bit n-1 of idiag_ext requests extension n). */
export const INET_DIAG = table('INET_DIAG_', {
  NONE: 0,
  MEMINFO: 1,
  INFO: 2,
  VEGASINFO: 3,
  CONG: 4,
  TOS: 5,
  TCLASS: 6,
  SKMEMINFO: 7,
  SHUTDOWN: 8,
  DCTCPINFO: 9,
  PROTOCOL: 10,
  SKV6ONLY: 11,
  LOCALS: 12,
  PEERS: 13,
  PAD: 14,
  MARK: 15,
  BBRINFO: 16,
  CLASS_ID: 17,
  MD5SIG: 18,
  ULP_INFO: 19,
  SK_BPF_STORAGES: 20,
  CGROUP_ID: 21,
  SOCKOPT: 22,
});
