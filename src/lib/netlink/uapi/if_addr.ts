// Generated from include/uapi/linux/if_addr.h (Linux 6.1) by generate.py; values checked against
// gcc with the same headers. Regenerate rather than edit by hand.

/** Address attributes. */
export const IFA = {
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
} as const;

/** Address flags (ifa_flags, and IFA_FLAGS for bits above 8). */
export const IFA_F = {
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
} as const;
