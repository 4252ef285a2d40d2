// include/uapi/linux/tcp_metrics.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

/** Metric index (nested in TCP_METRICS_ATTR_VALS, attribute type = index + 1). */
export const TCP_METRIC = table('TCP_METRIC_', {
  RTT: 0,
  RTTVAR: 1,
  SSTHRESH: 2,
  CWND: 3,
  REORDERING: 4,
  RTT_US: 5,
  RTTVAR_US: 6,
});

/** Attributes. */
export const TCP_METRICS_ATTR = table('TCP_METRICS_ATTR_', {
  UNSPEC: 0,
  ADDR_IPV4: 1,
  ADDR_IPV6: 2,
  AGE: 3,
  TW_TSVAL: 4,
  TW_TS_STAMP: 5,
  VALS: 6,
  FOPEN_MSS: 7,
  FOPEN_SYN_DROPS: 8,
  FOPEN_SYN_DROP_TS: 9,
  FOPEN_COOKIE: 10,
  SADDR_IPV4: 11,
  SADDR_IPV6: 12,
  PAD: 13,
});

/** Commands. */
export const TCP_METRICS_CMD = table('TCP_METRICS_CMD_', {
  UNSPEC: 0,
  GET: 1,
  DEL: 2,
});
