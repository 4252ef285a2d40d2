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

/** ipip, sit and ip6tnl link data. */
export const IFLA_IPTUN = table('IFLA_IPTUN_', {
  UNSPEC: 0,
  LINK: 1,
  LOCAL: 2,
  REMOTE: 3,
  TTL: 4,
  TOS: 5,
  ENCAP_LIMIT: 6,
  FLOWINFO: 7,
  FLAGS: 8,
  PROTO: 9,
  PMTUDISC: 10,
  '6RD_PREFIX': 11,
  '6RD_RELAY_PREFIX': 12,
  '6RD_PREFIXLEN': 13,
  '6RD_RELAY_PREFIXLEN': 14,
  ENCAP_TYPE: 15,
  ENCAP_FLAGS: 16,
  ENCAP_SPORT: 17,
  ENCAP_DPORT: 18,
  COLLECT_METADATA: 19,
  FWMARK: 20,
});

/** gre, gretap, ip6gre and ip6gretap link data. */
export const IFLA_GRE = table('IFLA_GRE_', {
  UNSPEC: 0,
  LINK: 1,
  IFLAGS: 2,
  OFLAGS: 3,
  IKEY: 4,
  OKEY: 5,
  LOCAL: 6,
  REMOTE: 7,
  TTL: 8,
  TOS: 9,
  PMTUDISC: 10,
  ENCAP_LIMIT: 11,
  FLOWINFO: 12,
  FLAGS: 13,
  ENCAP_TYPE: 14,
  ENCAP_FLAGS: 15,
  ENCAP_SPORT: 16,
  ENCAP_DPORT: 17,
  COLLECT_METADATA: 18,
  IGNORE_DF: 19,
  FWMARK: 20,
  ERSPAN_INDEX: 21,
  ERSPAN_VER: 22,
  ERSPAN_DIR: 23,
  ERSPAN_HWID: 24,
});
