// Neighbours: RTM_NEWNEIGH/DELNEIGH/GETNEIGH payloads and decoded entries (neighbour.h).
import { bytesToIp, formatMac, ipFamily, ipToBytes, parseLinkAddress } from '../addr.js';
import { attrs, attrSet, nla } from './attr.js';
import type { NlMessage } from './message.js';
import { flagNames, flagsValue, nameOf, valueOf } from '../names.js';
import { familyName, familyValue, ndaCacheinfo, ndmsg, type FamilyName } from './rt-structs.js';
import { NDA, NTF, NUD } from '../include/uapi/linux/neighbour.js';
import { RTN, RTPROT } from '../include/uapi/linux/rtnetlink.js';

export interface Neighbour {
  family: FamilyName;
  index: number;
  dst?: string;
  lladdr?: string;
  /** NUD_* names, usually one: ['REACHABLE'], ['STALE'], ['PERMANENT'], ['NONE'] for 0. */
  state: string[];
  flags: string[];
  type: string | number;
  probes?: number;
  protocol?: string | number;
  cacheinfo?: { confirmed: number; used: number; updated: number; refcnt: number };
}

export interface NeighbourSpec {
  index: number;
  dst: string;
  lladdr?: string;
  /** Default ['permanent'] as `ip neigh add`. */
  state?: readonly string[];
  flags?: readonly string[];
  protocol?: string | number;
}

export function encodeNeighbour(s: NeighbourSpec): Buffer {
  return Buffer.concat([
    ndmsg.encode({
      family: ipFamily(s.dst),
      ifindex: s.index,
      state: flagsValue(NUD, (s.state ?? ['permanent']) as string[], 'neighbour state'),
      flags: flagsValue(NTF, s.flags as string[] | undefined, 'neighbour flag'),
      type: RTN.UNSPEC,
    }),
    attrs([
      nla.bytes(NDA.DST, ipToBytes(s.dst)),
      s.lladdr !== undefined && nla.bytes(NDA.LLADDR, parseLinkAddress(s.lladdr)),
      s.protocol !== undefined && nla.u8(NDA.PROTOCOL, valueOf(RTPROT, s.protocol, 'protocol')),
    ]),
  ]);
}

export function encodeNeighbourDelete(index: number, dst: string): Buffer {
  return Buffer.concat([ndmsg.encode({ family: ipFamily(dst), ifindex: index }), nla.bytes(NDA.DST, ipToBytes(dst))]);
}

/** RTM_GETNEIGH dump body; strict checking filters by family and NDA_IFINDEX. */
export function encodeNeighbourDump(f: { family?: FamilyName | 4 | 6; index?: number } = {}): Buffer {
  return Buffer.concat([ndmsg.encode({ family: familyValue(f.family) }), attrs([f.index !== undefined && nla.u32(NDA.IFINDEX, f.index)])]);
}

export function decodeNeighbour(m: NlMessage): Neighbour {
  const h = ndmsg.decode(m.payload);
  const a = attrSet(m.payload, ndmsg.size);
  const n: Neighbour = {
    family: familyName(h.family),
    index: h.ifindex,
    state: h.state === 0 ? ['NONE'] : flagNames(NUD, h.state),
    flags: flagNames(NTF, h.flags),
    type: nameOf(RTN, h.type),
  };
  const dst = a.get(NDA.DST);
  if (dst) n.dst = bytesToIp(dst, h.family);
  const ll = a.get(NDA.LLADDR);
  if (ll) n.lladdr = formatMac(ll);
  const probes = a.u32(NDA.PROBES);
  if (probes !== undefined) n.probes = probes;
  const proto = a.u8(NDA.PROTOCOL);
  if (proto !== undefined) n.protocol = nameOf(RTPROT, proto);
  const ci = a.get(NDA.CACHEINFO);
  if (ci) n.cacheinfo = ndaCacheinfo.decode(ci);
  return n;
}
