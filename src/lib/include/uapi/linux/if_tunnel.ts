// include/uapi/linux/if_tunnel.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

/** vti/vti6 link data. */
export const IFLA_VTI = table('IFLA_VTI_', {
  UNSPEC: 0,
  LINK: 1,
  IKEY: 2,
  OKEY: 3,
  LOCAL: 4,
  REMOTE: 5,
  FWMARK: 6,
});
