// rtnetlink client: links, addresses, routes, rules, neighbours, statistics and notifications,
// one synchronous call per kernel operation. Devices may be named or given by index.
import { openNetlink, type Netlink, type NetlinkOptions } from './core.js';
import type { NlMessage } from './message.js';
import { nameOf } from '../names.js';
import { decodeAddress, encodeAddress, encodeAddressDelete, encodeAddressDump, type Address, type AddressSpec } from './rt-addr.js';
import { decodeLink, encodeLinkChange, encodeLinkCreate, encodeLinkGet, type Link, type LinkChange, type LinkSpec } from './rt-link.js';
import { decodeNeighbour, encodeNeighbour, encodeNeighbourDelete, encodeNeighbourDump, type Neighbour, type NeighbourSpec } from './rt-neigh.js';
import { decodeRoute, encodeRoute, encodeRouteDump, encodeRouteQuery, type Route, type RouteQuery, type RouteSpec } from './rt-route.js';
import { decodeRule, encodeRule, encodeRuleDump, type Rule, type RuleSpec } from './rt-rule.js';
import { decodeStats64, ifStatsMsg, tableValue, type FamilyName, type LinkStats, type TableId } from './rt-structs.js';
import { IFLA_STATS } from '../include/uapi/linux/if_link.js';
import { NETLINK_ROUTE, NLM_F } from '../include/uapi/linux/netlink.js';
import { RTM } from '../include/uapi/linux/rtnetlink.js';
import { canonicalIp } from '../addr.js';
import { attrSet } from './attr.js';
import { errnoNumber } from '../sys/errno.js';
import { SysError } from '../sys/error.js';

export * from './rt-addr.js';
export * from './rt-link.js';
export * from './rt-neigh.js';
export * from './rt-route.js';
export * from './rt-rule.js';
export { tableName, familyName, statsDelta, type FamilyName, type LinkStats, type TableId } from './rt-structs.js';
export { RTNLGRP, RTM } from '../include/uapi/linux/rtnetlink.js';

export type Dev = string | number;
type Named<T> = Omit<T, 'index' | 'oif' | 'iif'> & { dev: Dev };

export interface AddOptions {
  /** NLM_F_REPLACE instead of NLM_F_EXCL: update an existing object. */
  replace?: boolean;
  /** NLM_F_APPEND (routes: add a next hop / duplicate after existing ones). */
  append?: boolean;
}

/** A decoded notification (or any rtnetlink message). */
export type RtEvent =
  | { kind: 'link'; op: 'new' | 'del'; link: Link }
  | { kind: 'address'; op: 'new' | 'del'; address: Address }
  | { kind: 'route'; op: 'new' | 'del'; route: Route }
  | { kind: 'rule'; op: 'new' | 'del'; rule: Rule }
  | { kind: 'neighbour'; op: 'new' | 'del'; neighbour: Neighbour }
  | { kind: 'other'; type: string | number; message: NlMessage };

export interface Rtnl {
  readonly nl: Netlink;
  index(dev: Dev): number;

  links(): Link[];
  link(dev: Dev): Link;
  addLink(spec: LinkSpec): Link;
  setLink(dev: Dev, change: LinkChange): void;
  deleteLink(dev: Dev): void;
  stats(dev: Dev): LinkStats;

  addresses(filter?: { family?: FamilyName | 4 | 6; dev?: Dev }): Address[];
  /** Add an address; with { usable: true }, return once it is usable (waitAddressUsable). */
  addAddress(spec: Named<AddressSpec>, opts?: AddOptions & { usable?: boolean }): void;
  deleteAddress(dev: Dev, address: string): void;
  /**
   * Wait until `address` on `dev` is neither tentative nor DAD-failed. An IPv6 address is
   * tentative for a moment even on lo or with accept_dad=0 (a work queue clears the flag), about a
   * second with DAD. Throws SysError EADDRNOTAVAIL when DAD fails, ETIMEDOUT after timeoutMs.
   */
  waitAddressUsable(dev: Dev, address: string, timeoutMs?: number): Address;

  routes(filter?: { family?: FamilyName | 4 | 6; table?: TableId; dev?: Dev; protocol?: string | number; type?: string | number }): Route[];
  addRoute(spec: RouteSpec & { dev?: Dev }, opts?: AddOptions): void;
  deleteRoute(spec: RouteSpec & { dev?: Dev }): void;
  getRoute(query: Omit<RouteQuery, 'iif' | 'oif'> & { iif?: Dev; oif?: Dev }): Route;

  rules(family?: FamilyName | 4 | 6): Rule[];
  addRule(spec: RuleSpec): void;
  deleteRule(spec: RuleSpec): void;

  neighbours(filter?: { family?: FamilyName | 4 | 6; dev?: Dev }): Neighbour[];
  addNeighbour(spec: Named<NeighbourSpec>, opts?: AddOptions): void;
  deleteNeighbour(dev: Dev, dst: string): void;

  subscribe(...groups: number[]): void;
  /** Next notification decoding to an event matching `pred` (subscribe first). */
  waitEvent(pred: (e: RtEvent) => boolean, timeoutMs: number): RtEvent;
  close(): void;
}

const op = (t: number, newType: number): 'new' | 'del' => (t === newType ? 'new' : 'del');

export function decodeRtMessage(m: NlMessage): RtEvent {
  switch (m.type) {
    case RTM.NEWLINK:
    case RTM.DELLINK:
      return { kind: 'link', op: op(m.type, RTM.NEWLINK), link: decodeLink(m) };
    case RTM.NEWADDR:
    case RTM.DELADDR:
      return { kind: 'address', op: op(m.type, RTM.NEWADDR), address: decodeAddress(m) };
    case RTM.NEWROUTE:
    case RTM.DELROUTE:
      return { kind: 'route', op: op(m.type, RTM.NEWROUTE), route: decodeRoute(m) };
    case RTM.NEWRULE:
    case RTM.DELRULE:
      return { kind: 'rule', op: op(m.type, RTM.NEWRULE), rule: decodeRule(m) };
    case RTM.NEWNEIGH:
    case RTM.DELNEIGH:
      return { kind: 'neighbour', op: op(m.type, RTM.NEWNEIGH), neighbour: decodeNeighbour(m) };
    default:
      return { kind: 'other', type: rtmName(m.type), message: m };
  }
}

export function rtmName(type: number): string {
  const n = nameOf(RTM, type);
  return typeof n === 'string' ? `RTM_${n.toUpperCase()}` : `rtnetlink type ${type}`;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function createFlags(o: AddOptions = {}): number {
  return NLM_F.CREATE | (o.replace ? NLM_F.REPLACE : NLM_F.EXCL) | (o.append ? NLM_F.APPEND : 0);
}

/** Open an rtnetlink socket in this thread's namespace for `fn`, and close it after. */
export function withRoute<T>(fn: (rt: Rtnl) => T): T {
  const rt = openRoute();
  try {
    return fn(rt);
  } finally {
    rt.close();
  }
}

export function openRoute(opts: Omit<NetlinkOptions, 'typeName'> = {}): Rtnl {
  const nl = openNetlink(NETLINK_ROUTE, { ...opts, typeName: rtmName });

  function index(dev: Dev): number {
    if (typeof dev === 'number') return dev;
    return decodeLink(nl.get(RTM.GETLINK, encodeLinkGet(dev))).index;
  }
  const optIndex = (dev: Dev | undefined): number | undefined => (dev === undefined ? undefined : index(dev));

  function addresses(filter: { family?: FamilyName | 4 | 6; dev?: Dev } = {}): Address[] {
    const idx = optIndex(filter.dev);
    const list = nl.dump(RTM.GETADDR, encodeAddressDump({ ...filter, index: idx ?? 0 })).map(decodeAddress);
    // Filter again in case the kernel was not in strict mode.
    return idx === undefined ? list : list.filter((a) => a.index === idx);
  }

  const rt: Rtnl = {
    nl,
    index,

    links: () => nl.dump(RTM.GETLINK, encodeLinkGet(0)).map(decodeLink),
    link: (dev) => decodeLink(nl.get(RTM.GETLINK, encodeLinkGet(dev))),
    addLink(spec) {
      nl.request(RTM.NEWLINK, encodeLinkCreate(spec), { flags: NLM_F.CREATE | NLM_F.EXCL });
      return rt.link(spec.name);
    },
    setLink: (dev, change) => void nl.request(RTM.NEWLINK, encodeLinkChange(index(dev), change)),
    deleteLink: (dev) => void nl.request(RTM.DELLINK, encodeLinkGet(index(dev))),
    stats(dev) {
      const body = ifStatsMsg.encode({ ifindex: index(dev), filterMask: 1 << (IFLA_STATS.LINK_64 - 1) });
      const reply = nl.get(RTM.GETSTATS, body);
      const b = attrSet(reply.payload, ifStatsMsg.size).get(IFLA_STATS.LINK_64);
      if (b === undefined) throw new Error('RTM_GETSTATS reply without IFLA_STATS_LINK_64');
      return decodeStats64(b);
    },

    addresses,
    addAddress(spec, o) {
      nl.request(RTM.NEWADDR, encodeAddress({ ...spec, index: index(spec.dev) }), { flags: createFlags(o) });
      if (o?.usable) rt.waitAddressUsable(spec.dev, spec.address);
    },
    deleteAddress: (dev, address) => void nl.request(RTM.DELADDR, encodeAddressDelete(index(dev), address)),
    waitAddressUsable(dev, address, timeoutMs = 10000) {
      const idx = index(dev);
      const want = canonicalIp(address.split('/')[0] ?? '');
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const a = addresses({ dev: idx }).find((x) => x.address === want);
        if (a?.flags.includes('DADFAILED')) {
          throw new SysError('waitAddressUsable', errnoNumber('EADDRNOTAVAIL'), [dev, address], 'duplicate address detection failed');
        }
        if (a?.usable) return a;
        if (Date.now() >= deadline) {
          throw new SysError('waitAddressUsable', errnoNumber('ETIMEDOUT'), [dev, address], `not usable within ${timeoutMs} ms (${a ? a.flags.join(',') : 'absent'})`);
        }
        sleepMs(20);
      }
    },

    routes(filter = {}) {
      const oif = optIndex(filter.dev);
      const list = nl.dump(RTM.GETROUTE, encodeRouteDump({ ...filter, ...(oif !== undefined ? { oif } : {}) })).map(decodeRoute);
      const table = filter.table === undefined ? undefined : tableValue(filter.table);
      return list.filter(
        (r) => (table === undefined || tableValue(r.table) === table) && (oif === undefined || r.oif === oif),
      );
    },
    addRoute(spec, o) {
      const oif = optIndex(spec.dev) ?? spec.oif;
      nl.request(RTM.NEWROUTE, encodeRoute({ ...spec, ...(oif !== undefined ? { oif } : {}) }), { flags: createFlags(o) });
    },
    deleteRoute(spec) {
      const oif = optIndex(spec.dev) ?? spec.oif;
      nl.request(RTM.DELROUTE, encodeRoute({ ...spec, ...(oif !== undefined ? { oif } : {}) }, true));
    },
    getRoute(q) {
      return decodeRoute(nl.get(RTM.GETROUTE, encodeRouteQuery({ ...q, iif: optIndex(q.iif), oif: optIndex(q.oif) })));
    },

    rules: (family) => nl.dump(RTM.GETRULE, encodeRuleDump(family)).map(decodeRule),
    addRule: (spec) => void nl.request(RTM.NEWRULE, encodeRule(spec), { flags: NLM_F.CREATE | NLM_F.EXCL }),
    deleteRule: (spec) => void nl.request(RTM.DELRULE, encodeRule(spec)),

    neighbours(filter = {}) {
      const idx = optIndex(filter.dev);
      const list = nl.dump(RTM.GETNEIGH, encodeNeighbourDump({ ...filter, ...(idx !== undefined ? { index: idx } : {}) })).map(decodeNeighbour);
      return idx === undefined ? list : list.filter((n) => n.index === idx);
    },
    addNeighbour: (spec, o) => void nl.request(RTM.NEWNEIGH, encodeNeighbour({ ...spec, index: index(spec.dev) }), { flags: createFlags(o) }),
    deleteNeighbour: (dev, dst) => void nl.request(RTM.DELNEIGH, encodeNeighbourDelete(index(dev), dst)),

    subscribe: (...groups) => groups.forEach((g) => nl.subscribe(g)),
    waitEvent(pred, timeoutMs) {
      let found: RtEvent | undefined;
      nl.waitFor((m) => {
        const e = decodeRtMessage(m);
        if (!pred(e)) return false;
        found = e;
        return true;
      }, timeoutMs);
      if (found === undefined) throw new Error('unreachable');
      return found;
    },
    close: () => nl.close(),
  };
  return rt;
}
