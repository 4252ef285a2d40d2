// Generated from include/uapi/linux/if_tunnel.h (Linux 6.1) by generate.py; values checked against
// gcc with the same headers. Regenerate rather than edit by hand.

/** vti/vti6 link data. */
export const IFLA_VTI = {
  UNSPEC: 0,
  LINK: 1,
  IKEY: 2,
  OKEY: 3,
  LOCAL: 4,
  REMOTE: 5,
  FWMARK: 6,
} as const;
