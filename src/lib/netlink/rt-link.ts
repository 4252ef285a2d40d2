// Links: RTM_NEWLINK/DELLINK/GETLINK/SETLINK payloads and decoded link objects (if_link.h).
import { formatMac, ipToBytes, parseLinkAddress } from '../addr.js';
import { attrs, attrSet, nla, type AttrBuf } from './attr.js';
import type { NlMessage } from './message.js';
import { flagNames, nameOf } from '../names.js';
import { decodeStats64, familyName, ifinfomsg, type FamilyName, type LinkStats } from './rt-structs.js';
import { IFF, IF_OPER } from '../include/uapi/linux/if.js';
import { IFLA, IFLA_INFO, IFLA_XFRM } from '../include/uapi/linux/if_link.js';
import { IFLA_GRE, IFLA_IPTUN, IFLA_VTI } from '../include/uapi/linux/if_tunnel.js';
import { AF_INET, AF_INET6, AF_UNSPEC } from '../include/linux/socket.js';
import { ARPHRD } from '../include/uapi/linux/if_arp.js';
import { VETH_INFO } from '../include/uapi/linux/veth.js';

export interface Link {
  index: number;
  name: string;
  family: FamilyName;
  /** ARPHRD type by name ('ether', 'loopback', 'none') or number. */
  type: string | number;
  /** IFF_* names: ['UP', 'BROADCAST', 'RUNNING', 'MULTICAST', 'LOWER_UP']. */
  flags: string[];
  up: boolean;
  mtu?: number;
  minMtu?: number;
  maxMtu?: number;
  txqlen?: number;
  /** 'up', 'down', 'unknown', 'lowerlayerdown'... */
  operstate?: string | number;
  address?: string;
  broadcast?: string;
  /** IFLA_INFO_KIND: 'dummy', 'veth', 'vti', 'xfrm'... */
  kind?: string;
  /** IFLA_LINK: the peer/lower device index. */
  link?: number;
  master?: number;
  /** xfrm interfaces: IFLA_XFRM_IF_ID. */
  ifId?: number;
  /** vti: keys and endpoints. */
  vti?: { link?: number; ikey?: number; okey?: number; local?: string; remote?: string; fwmark?: number };
  stats?: LinkStats;
}

export interface LinkChange {
  /** Rename. */
  name?: string;
  up?: boolean;
  mtu?: number;
  address?: string;
  txqlen?: number;
  /** Move to another namespace by file descriptor (IFLA_NET_NS_FD). */
  netnsFd?: number;
  netnsPid?: number;
  master?: number;
}

export type LinkKindSpec =
  | { kind: 'dummy' }
  | { kind: 'veth'; peer: { name: string; address?: string; mtu?: number; netnsFd?: number } }
  | { kind: 'vti' | 'vti6'; local?: string; remote?: string; ikey?: number; okey?: number; link?: number; fwmark?: number }
  | { kind: 'xfrm'; ifId: number; link?: number }
  | IpTunnelSpec
  | GreTunnelSpec
  | { kind: string; data?: readonly AttrBuf[] };

/** Endpoints and outer-header settings common to the IP tunnels (absent: the kernel's default). */
interface TunnelCommon {
  local?: string;
  remote?: string;
  /** Underlying device index the outer packets are bound to. */
  link?: number;
  /** Outer TTL / hop limit; 0 inherits the inner one. */
  ttl?: number;
  /** Outer TOS; 1 inherits the inner one (IPv4 outer only). */
  tos?: number;
  /** Outer DF (IPv4 outer); the kernel's default is on. */
  pmtudisc?: boolean;
  /** ip6 tunnels: the Tunnel Encapsulation Limit option's value (the kernel's default is 0). */
  encapLimit?: number;
  /** ip6 tunnels: the outer traffic class and flow label, as the IPv6 header's first word (be32). */
  flowinfo?: number;
  /** ipip/sit: i_flags (be16); ip6tnl/ip6gre: IP6_TNL_F_* (u32). */
  flags?: number;
  fwmark?: number;
}

/** ipip (IPv4 in IPv4), sit (IPv6 in IPv4), ip6tnl (IPv4 or IPv6 in IPv6). */
export type IpTunnelSpec = TunnelCommon & {
  kind: 'ipip' | 'sit' | 'ip6tnl';
  /** Inner protocol: IPPROTO_IPIP, IPPROTO_IPV6, or 0 for any (ip6tnl, sit). */
  proto?: number;
};

/** GRE over IPv4 (gre, gretap) or IPv6 (ip6gre, ip6gretap); a key sets the K flag on its side. */
export type GreTunnelSpec = TunnelCommon & {
  kind: 'gre' | 'gretap' | 'ip6gre' | 'ip6gretap';
  ikey?: number;
  okey?: number;
  icsum?: boolean;
  ocsum?: boolean;
  iseq?: boolean;
  oseq?: boolean;
};

/** GRE header flag bits in host order (if_tunnel.h GRE_CSUM, GRE_KEY, GRE_SEQ are __be16 of these). */
const GRE_FLAG = { CSUM: 0x8000, KEY: 0x2000, SEQ: 0x1000 } as const;

const greFlags = (key: number | undefined, csum: boolean | undefined, seq: boolean | undefined): number =>
  (key !== undefined ? GRE_FLAG.KEY : 0) | (csum ? GRE_FLAG.CSUM : 0) | (seq ? GRE_FLAG.SEQ : 0);

/** IFLA_INFO_DATA of ipip/sit/ip6tnl, in ip(8)'s order. */
function ipTunnelData(t: IpTunnelSpec): AttrBuf[] {
  const six = t.kind === 'ip6tnl';
  return [
    t.link !== undefined && nla.u32(IFLA_IPTUN.LINK, t.link),
    t.local !== undefined && nla.ip(IFLA_IPTUN.LOCAL, t.local),
    t.remote !== undefined && nla.ip(IFLA_IPTUN.REMOTE, t.remote),
    t.ttl !== undefined && nla.u8(IFLA_IPTUN.TTL, t.ttl),
    t.tos !== undefined && nla.u8(IFLA_IPTUN.TOS, t.tos),
    t.encapLimit !== undefined && nla.u8(IFLA_IPTUN.ENCAP_LIMIT, t.encapLimit),
    t.flowinfo !== undefined && nla.be32(IFLA_IPTUN.FLOWINFO, t.flowinfo),
    t.flags !== undefined && (six ? nla.u32(IFLA_IPTUN.FLAGS, t.flags) : nla.be16(IFLA_IPTUN.FLAGS, t.flags)),
    t.proto !== undefined && nla.u8(IFLA_IPTUN.PROTO, t.proto),
    t.pmtudisc !== undefined && nla.u8(IFLA_IPTUN.PMTUDISC, t.pmtudisc ? 1 : 0),
    t.fwmark !== undefined && nla.u32(IFLA_IPTUN.FWMARK, t.fwmark),
  ];
}

/** IFLA_INFO_DATA of the GRE kinds: flags and keys always (as ip(8) sends them), the rest when set. */
function greData(g: GreTunnelSpec): AttrBuf[] {
  return [
    g.link !== undefined && nla.u32(IFLA_GRE.LINK, g.link),
    nla.be16(IFLA_GRE.IFLAGS, greFlags(g.ikey, g.icsum, g.iseq)),
    nla.be16(IFLA_GRE.OFLAGS, greFlags(g.okey, g.ocsum, g.oseq)),
    nla.be32(IFLA_GRE.IKEY, g.ikey ?? 0),
    nla.be32(IFLA_GRE.OKEY, g.okey ?? 0),
    g.local !== undefined && nla.ip(IFLA_GRE.LOCAL, g.local),
    g.remote !== undefined && nla.ip(IFLA_GRE.REMOTE, g.remote),
    g.ttl !== undefined && nla.u8(IFLA_GRE.TTL, g.ttl),
    g.tos !== undefined && nla.u8(IFLA_GRE.TOS, g.tos),
    g.pmtudisc !== undefined && nla.u8(IFLA_GRE.PMTUDISC, g.pmtudisc ? 1 : 0),
    g.encapLimit !== undefined && nla.u8(IFLA_GRE.ENCAP_LIMIT, g.encapLimit),
    g.flowinfo !== undefined && nla.be32(IFLA_GRE.FLOWINFO, g.flowinfo),
    g.flags !== undefined && nla.u32(IFLA_GRE.FLAGS, g.flags),
    g.fwmark !== undefined && nla.u32(IFLA_GRE.FWMARK, g.fwmark),
  ];
}

export type LinkSpec = LinkKindSpec & { name: string } & Omit<LinkChange, 'name'>;

function changeAttrs(c: LinkChange): AttrBuf[] {
  return [
    c.name !== undefined && nla.str(IFLA.IFNAME, c.name),
    c.mtu !== undefined && nla.u32(IFLA.MTU, c.mtu),
    c.address !== undefined && nla.bytes(IFLA.ADDRESS, parseLinkAddress(c.address)),
    c.txqlen !== undefined && nla.u32(IFLA.TXQLEN, c.txqlen),
    c.netnsFd !== undefined && nla.u32(IFLA.NET_NS_FD, c.netnsFd),
    c.netnsPid !== undefined && nla.u32(IFLA.NET_NS_PID, c.netnsPid),
    c.master !== undefined && nla.u32(IFLA.MASTER, c.master),
  ];
}

function upFlags(up: boolean | undefined): { flags: number; change: number } {
  return up === undefined ? { flags: 0, change: 0 } : { flags: up ? IFF.UP : 0, change: IFF.UP };
}

/** RTM_SETLINK/RTM_NEWLINK body changing an existing link. */
export function encodeLinkChange(index: number, c: LinkChange): Buffer {
  return Buffer.concat([ifinfomsg.encode({ family: AF_UNSPEC, index, ...upFlags(c.up) }), attrs(changeAttrs(c))]);
}

function kindData(s: LinkKindSpec): AttrBuf {
  switch (s.kind) {
    case 'dummy':
      return undefined;
    case 'veth': {
      const p = (s as Extract<LinkKindSpec, { kind: 'veth' }>).peer;
      // VETH_INFO_PEER holds a struct ifinfomsg followed by the peer's IFLA_* attributes.
      const peer = Buffer.concat([ifinfomsg.encode({}), attrs(changeAttrs({ ...p }))]);
      return nla.nest(IFLA_INFO.DATA, [nla.bytes(VETH_INFO.PEER, peer)]);
    }
    case 'vti':
    case 'vti6': {
      const v = s as Extract<LinkKindSpec, { kind: 'vti' | 'vti6' }>;
      return nla.nest(IFLA_INFO.DATA, [
        v.link !== undefined && nla.u32(IFLA_VTI.LINK, v.link),
        v.ikey !== undefined && nla.be32(IFLA_VTI.IKEY, v.ikey),
        v.okey !== undefined && nla.be32(IFLA_VTI.OKEY, v.okey),
        v.local !== undefined && nla.bytes(IFLA_VTI.LOCAL, ipToBytes(v.local)),
        v.remote !== undefined && nla.bytes(IFLA_VTI.REMOTE, ipToBytes(v.remote)),
        v.fwmark !== undefined && nla.u32(IFLA_VTI.FWMARK, v.fwmark),
      ]);
    }
    case 'xfrm': {
      const x = s as Extract<LinkKindSpec, { kind: 'xfrm' }>;
      return nla.nest(IFLA_INFO.DATA, [
        x.link !== undefined && nla.u32(IFLA_XFRM.LINK, x.link),
        nla.u32(IFLA_XFRM.IF_ID, x.ifId),
      ]);
    }
    case 'ipip':
    case 'sit':
    case 'ip6tnl':
      return nla.nest(IFLA_INFO.DATA, ipTunnelData(s as IpTunnelSpec));
    case 'gre':
    case 'gretap':
    case 'ip6gre':
    case 'ip6gretap':
      return nla.nest(IFLA_INFO.DATA, greData(s as GreTunnelSpec));
    default: {
      const d = (s as { data?: readonly AttrBuf[] }).data;
      return d && nla.nest(IFLA_INFO.DATA, d);
    }
  }
}

/** RTM_NEWLINK body creating a link (send with NLM_F_CREATE | NLM_F_EXCL). */
export function encodeLinkCreate(s: LinkSpec): Buffer {
  return Buffer.concat([
    ifinfomsg.encode({ family: AF_UNSPEC, ...upFlags(s.up) }),
    attrs([
      ...changeAttrs(s),
      nla.nest(IFLA.LINKINFO, [nla.strRaw(IFLA_INFO.KIND, s.kind), kindData(s)]),
    ]),
  ]);
}

/** RTM_GETLINK doit body: by index, or by name with index 0. */
export function encodeLinkGet(which: number | string): Buffer {
  return typeof which === 'number'
    ? ifinfomsg.encode({ index: which })
    : Buffer.concat([ifinfomsg.encode({}), nla.str(IFLA.IFNAME, which)]);
}

function arphrdName(t: number): string | number {
  return nameOf(ARPHRD, t);
}

export function decodeLink(m: NlMessage): Link {
  const h = ifinfomsg.decode(m.payload);
  const a = attrSet(m.payload, ifinfomsg.size);
  const link: Link = {
    index: h.index,
    name: a.str(IFLA.IFNAME) ?? '',
    family: familyName(h.family),
    type: arphrdName(h.type),
    flags: flagNames(IFF, h.flags),
    up: (h.flags & IFF.UP) !== 0,
  };
  const set = <K extends keyof Link>(k: K, v: Link[K] | undefined): void => {
    if (v !== undefined) link[k] = v;
  };
  set('mtu', a.u32(IFLA.MTU));
  set('minMtu', a.u32(IFLA.MIN_MTU));
  set('maxMtu', a.u32(IFLA.MAX_MTU));
  set('txqlen', a.u32(IFLA.TXQLEN));
  const op = a.u8(IFLA.OPERSTATE);
  set('operstate', op === undefined ? undefined : nameOf(IF_OPER, op));
  const addr = a.get(IFLA.ADDRESS);
  set('address', addr && formatMac(addr));
  const brd = a.get(IFLA.BROADCAST);
  set('broadcast', brd && formatMac(brd));
  set('link', a.u32(IFLA.LINK));
  set('master', a.u32(IFLA.MASTER));
  const st = a.get(IFLA.STATS64);
  set('stats', st && decodeStats64(st));
  const info = a.nested(IFLA.LINKINFO);
  const kind = info?.str(IFLA_INFO.KIND);
  set('kind', kind);
  const data = info?.nested(IFLA_INFO.DATA);
  if (data && kind === 'xfrm') set('ifId', data.u32(IFLA_XFRM.IF_ID));
  if (data && (kind === 'vti' || kind === 'vti6')) {
    const fam = kind === 'vti' ? AF_INET : AF_INET6;
    const vti: NonNullable<Link['vti']> = {};
    const put = <K extends keyof typeof vti>(k: K, v: (typeof vti)[K] | undefined): void => {
      if (v !== undefined) vti[k] = v;
    };
    put('link', data.u32(IFLA_VTI.LINK));
    put('ikey', data.be32(IFLA_VTI.IKEY));
    put('okey', data.be32(IFLA_VTI.OKEY));
    put('local', data.ip(IFLA_VTI.LOCAL, fam));
    put('remote', data.ip(IFLA_VTI.REMOTE, fam));
    put('fwmark', data.u32(IFLA_VTI.FWMARK));
    link.vti = vti;
  }
  return link;
}
