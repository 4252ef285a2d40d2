// include/uapi/linux/veth.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

/** veth link data. */
export const VETH_INFO = table('VETH_INFO_', {
  UNSPEC: 0,
  PEER: 1,
});
