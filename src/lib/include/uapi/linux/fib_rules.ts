// include/uapi/linux/fib_rules.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

/** Rule attributes. */
export const FRA = table('FRA_', {
  UNSPEC: 0,
  DST: 1,
  SRC: 2,
  IIFNAME: 3,
  GOTO: 4,
  UNUSED2: 5,
  PRIORITY: 6,
  UNUSED3: 7,
  UNUSED4: 8,
  UNUSED5: 9,
  FWMARK: 10,
  FLOW: 11,
  TUN_ID: 12,
  SUPPRESS_IFGROUP: 13,
  SUPPRESS_PREFIXLEN: 14,
  TABLE: 15,
  FWMASK: 16,
  OIFNAME: 17,
  PAD: 18,
  L3MDEV: 19,
  UID_RANGE: 20,
  PROTOCOL: 21,
  IP_PROTO: 22,
  SPORT_RANGE: 23,
  DPORT_RANGE: 24,
});

/** Rule actions (fib_rule_hdr.action). */
export const FR_ACT = table('FR_ACT_', {
  UNSPEC: 0,
  TO_TBL: 1,
  GOTO: 2,
  NOP: 3,
  RES3: 4,
  RES4: 5,
  BLACKHOLE: 6,
  UNREACHABLE: 7,
  PROHIBIT: 8,
});

/** Rule flags. */
export const FIB_RULE = table('FIB_RULE_', {
  PERMANENT: 1,
  INVERT: 2,
  UNRESOLVED: 4,
  IIF_DETACHED: 8,
  DEV_DETACHED: 8,
  OIF_DETACHED: 16,
  FIND_SADDR: 65536,
});
