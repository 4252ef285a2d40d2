// include/uapi/linux/if_link.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

/** Link attributes. */
export const IFLA = table('IFLA_', {
  UNSPEC: 0,
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  QDISC: 6,
  STATS: 7,
  COST: 8,
  PRIORITY: 9,
  MASTER: 10,
  WIRELESS: 11,
  PROTINFO: 12,
  TXQLEN: 13,
  MAP: 14,
  WEIGHT: 15,
  OPERSTATE: 16,
  LINKMODE: 17,
  LINKINFO: 18,
  NET_NS_PID: 19,
  IFALIAS: 20,
  NUM_VF: 21,
  VFINFO_LIST: 22,
  STATS64: 23,
  VF_PORTS: 24,
  PORT_SELF: 25,
  AF_SPEC: 26,
  GROUP: 27,
  NET_NS_FD: 28,
  EXT_MASK: 29,
  PROMISCUITY: 30,
  NUM_TX_QUEUES: 31,
  NUM_RX_QUEUES: 32,
  CARRIER: 33,
  PHYS_PORT_ID: 34,
  CARRIER_CHANGES: 35,
  PHYS_SWITCH_ID: 36,
  LINK_NETNSID: 37,
  PHYS_PORT_NAME: 38,
  PROTO_DOWN: 39,
  GSO_MAX_SEGS: 40,
  GSO_MAX_SIZE: 41,
  PAD: 42,
  XDP: 43,
  EVENT: 44,
  NEW_NETNSID: 45,
  IF_NETNSID: 46,
  TARGET_NETNSID: 46,
  CARRIER_UP_COUNT: 47,
  CARRIER_DOWN_COUNT: 48,
  NEW_IFINDEX: 49,
  MIN_MTU: 50,
  MAX_MTU: 51,
  PROP_LIST: 52,
  ALT_IFNAME: 53,
  PERM_ADDRESS: 54,
  PROTO_DOWN_REASON: 55,
  PARENT_DEV_NAME: 56,
  PARENT_DEV_BUS_NAME: 57,
  GRO_MAX_SIZE: 58,
  TSO_MAX_SIZE: 59,
  TSO_MAX_SEGS: 60,
  ALLMULTI: 61,
});

/** Nested in IFLA_LINKINFO. */
export const IFLA_INFO = table('IFLA_INFO_', {
  UNSPEC: 0,
  KIND: 1,
  DATA: 2,
  XSTATS: 3,
  SLAVE_KIND: 4,
  SLAVE_DATA: 5,
});

/** Nested in IFLA_AF_SPEC/AF_INET6. */
export const IFLA_INET6 = table('IFLA_INET6_', {
  UNSPEC: 0,
  FLAGS: 1,
  CONF: 2,
  STATS: 3,
  MCAST: 4,
  CACHEINFO: 5,
  ICMP6STATS: 6,
  TOKEN: 7,
  ADDR_GEN_MODE: 8,
  RA_MTU: 9,
});

/** xfrm interface link data. */
export const IFLA_XFRM = table('IFLA_XFRM_', {
  UNSPEC: 0,
  LINK: 1,
  IF_ID: 2,
  COLLECT_METADATA: 3,
});

/** RTM_GETSTATS attributes. */
export const IFLA_STATS = table('IFLA_STATS_', {
  UNSPEC: 0,
  LINK_64: 1,
  LINK_XSTATS: 2,
  LINK_XSTATS_SLAVE: 3,
  LINK_OFFLOAD_XSTATS: 4,
  AF_SPEC: 5,
});
