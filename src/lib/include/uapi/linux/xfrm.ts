// include/uapi/linux/xfrm.h (Linux 6.1). Values checked against the header by
// test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

/** "No limit" for the byte and packet limits of an SA (a u64). */
export const XFRM_INF = 0xffffffffffffffffn;

/** Message types. */
export const XFRM_MSG = table('XFRM_MSG_', {
  BASE: 16,
  NEWSA: 16,
  DELSA: 17,
  GETSA: 18,
  NEWPOLICY: 19,
  DELPOLICY: 20,
  GETPOLICY: 21,
  ALLOCSPI: 22,
  ACQUIRE: 23,
  EXPIRE: 24,
  UPDPOLICY: 25,
  UPDSA: 26,
  POLEXPIRE: 27,
  FLUSHSA: 28,
  FLUSHPOLICY: 29,
  NEWAE: 30,
  GETAE: 31,
  REPORT: 32,
  MIGRATE: 33,
  NEWSADINFO: 34,
  GETSADINFO: 35,
  NEWSPDINFO: 36,
  GETSPDINFO: 37,
  MAPPING: 38,
  SETDEFAULT: 39,
  GETDEFAULT: 40,
});

/** Attributes. */
export const XFRMA = table('XFRMA_', {
  UNSPEC: 0,
  ALG_AUTH: 1,
  ALG_CRYPT: 2,
  ALG_COMP: 3,
  ENCAP: 4,
  TMPL: 5,
  SA: 6,
  POLICY: 7,
  SEC_CTX: 8,
  LTIME_VAL: 9,
  REPLAY_VAL: 10,
  REPLAY_THRESH: 11,
  ETIMER_THRESH: 12,
  SRCADDR: 13,
  COADDR: 14,
  LASTUSED: 15,
  POLICY_TYPE: 16,
  MIGRATE: 17,
  ALG_AEAD: 18,
  KMADDRESS: 19,
  ALG_AUTH_TRUNC: 20,
  MARK: 21,
  TFCPAD: 22,
  REPLAY_ESN_VAL: 23,
  SA_EXTRA_FLAGS: 24,
  PROTO: 25,
  ADDRESS_FILTER: 26,
  PAD: 27,
  OFFLOAD_DEV: 28,
  SET_MARK: 29,
  SET_MARK_MASK: 30,
  IF_ID: 31,
  MTIMER_THRESH: 32,
});

/** Policy types. */
export const XFRM_POLICY_TYPE = table('XFRM_POLICY_TYPE_', {
  MAIN: 0,
  SUB: 1,
  MAX: 2,
  ANY: 255,
});

/** Policy directions. */
export const XFRM_POLICY_DIR = table('XFRM_POLICY_', {
  IN: 0,
  OUT: 1,
  FWD: 2,
  MASK: 3,
  MAX: 3,
});

/** Template share modes. */
export const XFRM_SHARE = table('XFRM_SHARE_', {
  ANY: 0,
  SESSION: 1,
  USER: 2,
  UNIQUE: 3,
});

/** SA modes. */
export const XFRM_MODE = table('XFRM_MODE_', {
  TRANSPORT: 0,
  TUNNEL: 1,
  ROUTEOPTIMIZATION: 2,
  IN_TRIGGER: 3,
  BEET: 4,
});

/** SA flags (xfrm_usersa_info.flags). */
export const XFRM_STATE = table('XFRM_STATE_', {
  NOECN: 1,
  DECAP_DSCP: 2,
  NOPMTUDISC: 4,
  WILDRECV: 8,
  ICMP: 16,
  AF_UNSPEC: 32,
  ALIGN4: 64,
  ESN: 128,
});

/** XFRMA_SA_EXTRA_FLAGS bits. */
export const XFRM_SA_XFLAG = table('XFRM_SA_XFLAG_', {
  DONT_ENCAP_DSCP: 1,
  OSEQ_MAY_WRAP: 2,
});

/** Policy actions. */
export const XFRM_POLICY_ACTION = table('XFRM_POLICY_', {
  ALLOW: 0,
  BLOCK: 1,
});

/** Multicast groups. */
export const XFRMNLGRP = table('XFRMNLGRP_', {
  NONE: 0,
  ACQUIRE: 1,
  EXPIRE: 2,
  SA: 3,
  POLICY: 4,
  AEVENTS: 5,
  REPORT: 6,
  MIGRATE: 7,
  MAPPING: 8,
});
