// include/uapi/linux/if_addr.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

/** Address attributes. */
export const IFA = table('IFA_', {
  UNSPEC: 0,
  ADDRESS: 1,
  LOCAL: 2,
  LABEL: 3,
  BROADCAST: 4,
  ANYCAST: 5,
  CACHEINFO: 6,
  MULTICAST: 7,
  FLAGS: 8,
  RT_PRIORITY: 9,
  TARGET_NETNSID: 10,
  PROTO: 11,
});

/** Address flags (ifa_flags, and IFA_FLAGS for bits above 8). */
export const IFA_F = table('IFA_F_', {
  SECONDARY: 1,
  TEMPORARY: 1,
  NODAD: 2,
  OPTIMISTIC: 4,
  DADFAILED: 8,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
});
