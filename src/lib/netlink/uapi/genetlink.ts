// Generated from include/uapi/linux/genetlink.h (Linux 6.1) by generate.py; values checked against
// gcc with the same headers. Regenerate rather than edit by hand.

/** nlctrl commands. */
export const CTRL_CMD = {
  UNSPEC: 0,
  NEWFAMILY: 1,
  DELFAMILY: 2,
  GETFAMILY: 3,
  NEWOPS: 4,
  DELOPS: 5,
  GETOPS: 6,
  NEWMCAST_GRP: 7,
  DELMCAST_GRP: 8,
  GETMCAST_GRP: 9,
  GETPOLICY: 10,
} as const;

/** nlctrl attributes. */
export const CTRL_ATTR = {
  UNSPEC: 0,
  FAMILY_ID: 1,
  FAMILY_NAME: 2,
  VERSION: 3,
  HDRSIZE: 4,
  MAXATTR: 5,
  OPS: 6,
  MCAST_GROUPS: 7,
  POLICY: 8,
  OP_POLICY: 9,
  OP: 10,
} as const;

/** Nested in CTRL_ATTR_OPS. */
export const CTRL_ATTR_OP = {
  UNSPEC: 0,
  ID: 1,
  FLAGS: 2,
} as const;

/** Nested in CTRL_ATTR_MCAST_GROUPS. */
export const CTRL_ATTR_MCAST_GRP = {
  UNSPEC: 0,
  NAME: 1,
  ID: 2,
} as const;
