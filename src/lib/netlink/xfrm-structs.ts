// Fixed structs of the xfrm netlink interface (include/uapi/linux/xfrm.h), x86-64/UML layout.
// Sizes and offsets were checked against gcc (see test/unit/netlink/xfrm.test.ts).
import { struct } from './layout.js';

/** xfrm_address_t: a union of __be32[4] and in6_addr, hence 4-byte aligned. */
const addr = { bytes: 16, align: 4 } as const;

export const xfrmSelector = struct({
  daddr: addr, saddr: addr, dport: 'be16', dportMask: 'be16', sport: 'be16', sportMask: 'be16',
  family: 'u16', prefixlenD: 'u8', prefixlenS: 'u8', proto: 'u8', ifindex: 's32', user: 'u32',
});
export const xfrmId = struct({ daddr: addr, spi: 'be32', proto: 'u8' });
export const xfrmLifetimeCfg = struct({
  softByteLimit: 'u64', hardByteLimit: 'u64', softPacketLimit: 'u64', hardPacketLimit: 'u64',
  softAddExpiresSeconds: 'u64', hardAddExpiresSeconds: 'u64', softUseExpiresSeconds: 'u64', hardUseExpiresSeconds: 'u64',
});
export const xfrmLifetimeCur = struct({ bytes: 'u64', packets: 'u64', addTime: 'u64', useTime: 'u64' });
export const xfrmStats = struct({ replayWindow: 'u32', replay: 'u32', integrityFailed: 'u32' });
export const xfrmUsersaInfo = struct({
  sel: xfrmSelector, id: xfrmId, saddr: addr, lft: xfrmLifetimeCfg, curlft: xfrmLifetimeCur, stats: xfrmStats,
  seq: 'u32', reqid: 'u32', family: 'u16', mode: 'u8', replayWindow: 'u8', flags: 'u8',
});
export const xfrmUsersaId = struct({ daddr: addr, spi: 'be32', family: 'u16', proto: 'u8' });
export const xfrmUserspiInfo = struct({ info: xfrmUsersaInfo, min: 'u32', max: 'u32' });
export const xfrmUserpolicyInfo = struct({
  sel: xfrmSelector, lft: xfrmLifetimeCfg, curlft: xfrmLifetimeCur, priority: 'u32', index: 'u32',
  dir: 'u8', action: 'u8', flags: 'u8', share: 'u8',
});
export const xfrmUserpolicyId = struct({ sel: xfrmSelector, index: 'u32', dir: 'u8' });
export const xfrmUserTmpl = struct({
  id: xfrmId, family: 'u16', saddr: addr, reqid: 'u32', mode: 'u8', share: 'u8', optional: 'u8',
  aalgos: 'u32', ealgos: 'u32', calgos: 'u32',
});
/** struct xfrm_algo / xfrm_algo_auth / xfrm_algo_aead heads; the key follows. Key lengths are in bits. */
export const xfrmAlgo = struct({ name: { bytes: 64 }, keyLen: 'u32' });
export const xfrmAlgoAuth = struct({ name: { bytes: 64 }, keyLen: 'u32', truncLen: 'u32' });
export const xfrmAlgoAead = struct({ name: { bytes: 64 }, keyLen: 'u32', icvLen: 'u32' });
export const xfrmEncapTmpl = struct({ type: 'u16', sport: 'be16', dport: 'be16', oa: addr });
export const xfrmMark = struct({ v: 'u32', m: 'u32' });
export const xfrmReplayState = struct({ oseq: 'u32', seq: 'u32', bitmap: 'u32' });
export const xfrmReplayStateEsn = struct({ bmpLen: 'u32', oseq: 'u32', seq: 'u32', oseqHi: 'u32', seqHi: 'u32', replayWindow: 'u32' });
export const xfrmUsersaFlush = struct({ proto: 'u8' });
