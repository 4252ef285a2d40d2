// Generated from include/uapi/linux/if.h (Linux 6.1) by generate.py; values checked against
// gcc with the same headers. Regenerate rather than edit by hand.

/** Device flags (ifi_flags). */
export const IFF = {
  UP: 1,
  BROADCAST: 2,
  DEBUG: 4,
  LOOPBACK: 8,
  POINTOPOINT: 16,
  NOTRAILERS: 32,
  RUNNING: 64,
  NOARP: 128,
  PROMISC: 256,
  ALLMULTI: 512,
  MASTER: 1024,
  SLAVE: 2048,
  MULTICAST: 4096,
  PORTSEL: 8192,
  AUTOMEDIA: 16384,
  DYNAMIC: 32768,
  LOWER_UP: 65536,
  DORMANT: 131072,
  ECHO: 262144,
} as const;

/** Operational state (IFLA_OPERSTATE, RFC 2863). */
export const IF_OPER = {
  UNKNOWN: 0,
  NOTPRESENT: 1,
  DOWN: 2,
  LOWERLAYERDOWN: 3,
  TESTING: 4,
  DORMANT: 5,
  UP: 6,
} as const;
