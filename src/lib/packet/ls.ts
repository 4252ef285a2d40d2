/**
 * Field discovery, as scapy's ls(): which layers exist, which fields a layer has, their types,
 * their defaults and what they mean, from the layer types themselves (fields.ts is generated
 * from them by scripts/packet-docs.mjs).
 *
 *   console.log(ls());             // every layer type with its builder
 *   console.log(ls('tcp'));        // the fields of tcp(): type, default, meaning
 *   console.log(ls(tcp({ flags: 'SA' })));   // the same with this layer's values
 */
import { arp } from './arp.js';
import { esp } from './esp.js';
import { ether, vlan } from './ethernet.js';
import { LAYERS } from './fields.js';
import { formatValue } from './describe.js';
import { gre } from './gre.js';
import { icmp } from './icmpv4.js';
import { icmpv6 } from './icmpv6.js';
import { igmp } from './igmp.js';
import { ipv4 } from './ipv4.js';
import { destOpts, fragment, hopByHop, ipv6, routing } from './ipv6.js';
import { padding, raw } from './raw.js';
import { tcp } from './tcp.js';
import type { Layer, LayerType } from './types.js';
import { udp } from './udp.js';

export interface FieldInfo {
  name: string;
  /** The TypeScript type as declared. */
  type: string;
  /** Optional fields are filled by build() (lengths, checksums, next headers) or used by some variants only. */
  optional: boolean;
  doc: string;
}

export interface LayerInfo {
  /** The interface, e.g. 'Ipv4'. */
  name: string;
  doc: string;
  fields: readonly FieldInfo[];
  /** Other builders that return this layer (echoRequest6, routerAdvert, ...). */
  shortcuts: readonly string[];
}

/** The builder of each layer type, called with no fields for the defaults. */
const BUILDERS: Readonly<Record<LayerType, () => Layer>> = {
  ether: () => ether(), vlan: () => vlan(), arp: () => arp(), ipv4: () => ipv4(), ipv6: () => ipv6(),
  hopByHop: () => hopByHop(), destOpts: () => destOpts(), routing: () => routing(), fragment: () => fragment(),
  tcp: () => tcp(), udp: () => udp(), icmp: () => icmp(), icmpv6: () => icmpv6(), igmp: () => igmp(), gre: () => gre(), esp: () => esp(),
  raw: () => raw(new Uint8Array(0)), padding: () => padding(new Uint8Array(0)),
};

/** The layer types, in the order a packet nests them. */
export const LAYER_TYPES = Object.keys(LAYERS) as LayerType[];

/** What is known about a layer type's fields (for tools; ls() prints it). */
export function layerInfo(type: LayerType): LayerInfo {
  return LAYERS[type];
}

/** The fields of a layer type with their defaults, or of a layer with its values; no argument: every layer type. */
export function ls(what?: LayerType | Layer): string {
  if (what === undefined) {
    const w = Math.max(...LAYER_TYPES.map((t) => t.length)) + 3;
    return LAYER_TYPES.map((t) => `${`${t}()`.padEnd(w)}${firstSentence(LAYERS[t].doc)}`).join('\n');
  }
  const type = typeof what === 'string' ? what : what.type;
  const info = LAYERS[type];
  if (info === undefined) throw new RangeError(`no layer type '${type}' (ls() lists them)`);
  const defaults = BUILDERS[type]() as unknown as Record<string, unknown>;
  const values = typeof what === 'string' ? undefined : (what as unknown as Record<string, unknown>);
  const cell = (v: unknown, f: FieldInfo): string => (v === undefined ? (f.optional ? '-' : '') : formatValue(v, f.name));
  const rows = info.fields.map((f) => [
    `${f.name}${f.optional ? '?' : ''}`,
    f.type,
    ...(values ? [cell(values[f.name], f)] : []),
    cell(defaults[f.name], f),
    f.doc.replace(/\s+/g, ' '),
  ]);
  const head = ['field', 'type', ...(values ? ['value'] : []), 'default', ''];
  const widths = head.map((_h, i) => Math.min(40, Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length))));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const title = `${type}() -> ${info.name}${info.shortcuts.length ? ` (also ${info.shortcuts.map((s) => `${s}()`).join(', ')})` : ''}`;
  return [title, ...(info.doc ? [info.doc.replace(/\s+/g, ' ')] : []), line(head), ...rows.map(line)].join('\n');
}

function firstSentence(doc: string): string {
  const s = doc.replace(/\s+/g, ' ').trim();
  const i = s.search(/(?<!e\.g|i\.e)\.(\s|$)/);
  return i < 0 ? s : s.slice(0, i + 1);
}
