// include/uapi/linux/genetlink.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

/** The controller family's id (nlctrl), the one generic netlink family with a fixed id. */
export const GENL_ID_CTRL = 0x10;

/** nlctrl commands. */
export const CTRL_CMD = table('CTRL_CMD_', {
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
});

/** nlctrl attributes. */
export const CTRL_ATTR = table('CTRL_ATTR_', {
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
});

/** Nested in CTRL_ATTR_OPS. */
export const CTRL_ATTR_OP = table('CTRL_ATTR_OP_', {
  UNSPEC: 0,
  ID: 1,
  FLAGS: 2,
});

/** Nested in CTRL_ATTR_MCAST_GROUPS. */
export const CTRL_ATTR_MCAST_GRP = table('CTRL_ATTR_MCAST_GRP_', {
  UNSPEC: 0,
  NAME: 1,
  ID: 2,
});
