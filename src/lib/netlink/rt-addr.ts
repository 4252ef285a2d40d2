// Addresses: RTM_NEWADDR/DELADDR/GETADDR payloads and decoded address objects (if_addr.h).
import { bytesToIp, ipToBytes, parsePrefix } from '../addr.js';
import { attrs, attrSet, nla } from './attr.js';
import type { NlMessage } from './message.js';
import { flagNames, flagsValue, nameOf, valueOf } from '../names.js';
import { familyName, familyValue, ifaCacheinfo, ifaddrmsg, type FamilyName } from './rt-structs.js';
import { IFA, IFA_F } from '../include/uapi/linux/if_addr.js';
import { AF_INET, AF_INET6 } from '../include/linux/socket.js';
import { RT_SCOPE } from '../include/uapi/linux/rtnetlink.js';

export interface Address {
  family: FamilyName;
  index: number;
  /** Address without prefix length ('2001:db8::1'); IFA_LOCAL when present (the peer is `peer`). */
  address: string;
  prefixlen: number;
  /** 'address/prefixlen', as `ip addr` prints it. */
  prefix: string;
  /** Point-to-point peer (IFA_ADDRESS differing from IFA_LOCAL). */
  peer?: string;
  broadcast?: string;
  label?: string;
  /** IFA_F_* names (full 32-bit IFA_FLAGS when present): ['PERMANENT', 'NODAD'...]. */
  flags: string[];
  /** 'universe', 'link', 'host', 'site', 'nowhere' or a number. */
  scope: string | number;
  /** Seconds; 0xffffffff = forever. */
  validLft?: number;
  preferredLft?: number;
  /** Not tentative and DAD did not fail: the kernel will use it as a source. */
  usable: boolean;
}

export type AddrFlag = Lowercase<keyof typeof IFA_F> | keyof typeof IFA_F | number;

export interface AddressSpec {
  index: number;
  /** 'a.b.c.d/len' or 'x::y/len'. */
  address: string;
  peer?: string;
  broadcast?: string;
  label?: string;
  /** ['nodad'], ['permanent'], ['noprefixroute']... */
  flags?: readonly AddrFlag[];
  scope?: string | number;
  validLft?: number;
  preferredLft?: number;
  metric?: number;
}

export function encodeAddress(s: AddressSpec): Buffer {
  const p = parsePrefix(s.address);
  const flags = flagsValue(IFA_F, s.flags as readonly (string | number)[] | undefined, 'address flag');
  const lifetimes = s.validLft !== undefined || s.preferredLft !== undefined;
  return Buffer.concat([
    ifaddrmsg.encode({
      family: p.family,
      prefixlen: p.len,
      flags: flags & 0xff,
      scope: s.scope === undefined ? 0 : valueOf(RT_SCOPE, s.scope, 'scope'),
      index: s.index,
    }),
    attrs([
      // As iproute2: IFA_LOCAL is our address, IFA_ADDRESS the peer (or the same address).
      nla.bytes(IFA.LOCAL, p.bytes),
      nla.bytes(IFA.ADDRESS, s.peer !== undefined ? ipToBytes(s.peer.split('/')[0] ?? '') : p.bytes),
      s.broadcast !== undefined && nla.ip(IFA.BROADCAST, s.broadcast),
      s.label !== undefined && nla.str(IFA.LABEL, s.label),
      // As iproute2: flags beyond the 8-bit ifa_flags go in IFA_FLAGS.
      flags > 0xff && nla.u32(IFA.FLAGS, flags),
      s.metric !== undefined && nla.u32(IFA.RT_PRIORITY, s.metric),
      lifetimes &&
        nla.bytes(
          IFA.CACHEINFO,
          ifaCacheinfo.encode({ preferred: s.preferredLft ?? s.validLft ?? 0xffffffff, valid: s.validLft ?? 0xffffffff }),
        ),
    ]),
  ]);
}

/** RTM_DELADDR body. */
export function encodeAddressDelete(index: number, address: string): Buffer {
  const p = parsePrefix(address);
  return Buffer.concat([
    ifaddrmsg.encode({ family: p.family, prefixlen: address.includes('/') ? p.len : 0, index }),
    nla.bytes(IFA.LOCAL, p.bytes),
  ]);
}

/** RTM_GETADDR dump body; with strict checking the kernel filters by family and index. */
export function encodeAddressDump(f: { family?: FamilyName | 4 | 6; index?: number } = {}): Buffer {
  return ifaddrmsg.encode({ family: familyValue(f.family), index: f.index ?? 0 });
}

export function decodeAddress(m: NlMessage): Address {
  const h = ifaddrmsg.decode(m.payload);
  const a = attrSet(m.payload, ifaddrmsg.size);
  const local = a.get(IFA.LOCAL);
  const addrAttr = a.get(IFA.ADDRESS);
  const mine = local ?? addrAttr ?? Buffer.alloc(h.family === AF_INET ? 4 : 16);
  const address = bytesToIp(mine, h.family);
  const flags = a.u32(IFA.FLAGS) ?? h.flags;
  const out: Address = {
    family: familyName(h.family),
    index: h.index,
    address,
    prefixlen: h.prefixlen,
    prefix: `${address}/${h.prefixlen}`,
    // SECONDARY and TEMPORARY share a bit: name it by family, as iproute2 does.
    flags: flagNames(IFA_F, flags).map((f) => (f === 'SECONDARY' && h.family === AF_INET6 ? 'TEMPORARY' : f)),
    scope: nameOf(RT_SCOPE, h.scope),
    usable: (flags & (IFA_F.TENTATIVE | IFA_F.DADFAILED)) === 0,
  };
  if (local !== undefined && addrAttr !== undefined && !local.equals(addrAttr)) out.peer = bytesToIp(addrAttr, h.family);
  const brd = a.ip(IFA.BROADCAST, h.family);
  if (brd !== undefined) out.broadcast = brd;
  const label = a.str(IFA.LABEL);
  if (label !== undefined) out.label = label;
  const ci = a.get(IFA.CACHEINFO);
  if (ci !== undefined) {
    const c = ifaCacheinfo.decode(ci);
    out.validLft = c.valid;
    out.preferredLft = c.preferred;
  }
  return out;
}
