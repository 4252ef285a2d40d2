/** The union of every layer: a packet is an array of layers, outermost first. */
import type { Arp } from './arp.js';
import type { Esp } from './esp.js';
import type { Ether, Vlan } from './ethernet.js';
import type { Gre } from './gre.js';
import type { Icmp } from './icmpv4.js';
import type { Icmpv6 } from './icmpv6.js';
import type { Igmp } from './igmp.js';
import type { Ipv4 } from './ipv4.js';
import type { DestOpts, Fragment, HopByHop, Ipv6, Routing } from './ipv6.js';
import type { Padding, Raw } from './raw.js';
import type { Tcp } from './tcp.js';
import type { Udp } from './udp.js';

export type Layer = Ether | Vlan | Arp | Ipv4 | Ipv6 | HopByHop | DestOpts | Routing | Fragment | Tcp | Udp | Icmp | Icmpv6 | Igmp | Gre | Esp | Raw | Padding;
export type LayerType = Layer['type'];
export type Packet = Layer[];
/** The layer of a given type, e.g. LayerOf<'tcp'> is Tcp. */
export type LayerOf<T extends LayerType> = Extract<Layer, { type: T }>;

/** What the first byte of a buffer is: an Ethernet frame, or an IP packet (version from the first nibble). */
export type LinkType = 'ether' | 'ip';

/** Finds the first layer of a type, typed. */
export function layer<T extends LayerType>(p: readonly Layer[], type: T, nth = 0): LayerOf<T> | undefined {
  for (const l of p) if (l.type === type && nth-- === 0) return l as LayerOf<T>;
  return undefined;
}
