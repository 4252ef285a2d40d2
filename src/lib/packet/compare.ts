/** Does a captured packet match an expected one? Field-by-field, with explicit don't-care fields. */
import { AssertionError } from 'node:assert';
import { build } from './build.js';
import { formatBytesDiff, formatValue, show } from './describe.js';
import { decodeEspNull, parse } from './parse.js';
import type { Layer, LinkType } from './types.js';

export interface FieldDiff {
  /** Index of the layer in the stack. */
  index: number;
  /** Layer type (of the expected layer, or of the actual one if there is no expected layer). */
  layer: string;
  /** Field path inside the layer, e.g. "flags" or "options[1].value"; "" when the layer itself differs. */
  field: string;
  expected: unknown;
  actual: unknown;
}

export interface CompareOptions {
  /**
   * Fields that do not matter: "tcp.window", "ipv6.fl", "tcp.options" (and everything under it),
   * "*.checksum" (that field in every layer), or "raw" (a whole layer type).
   */
  ignore?: readonly string[];
}

function linkOf(p: readonly Layer[]): LinkType {
  return p[0]?.type === 'ether' ? 'ether' : 'ip';
}

/** Fills automatic fields (lengths, checksums, next headers) exactly as they go on the wire. */
export function normalise(p: readonly Layer[] | Uint8Array, link?: LinkType): Layer[] {
  if (p instanceof Uint8Array) return parse(p, link ?? 'ether');
  const out = parse(build(p), link ?? linkOf(p));
  // A null-cipher ESP payload given as layers is compared as layers, not as opaque bytes.
  const e = p.find((l) => l.type === 'esp');
  if (e?.type === 'esp' && e.nullCipher) return decodeEspNull(out, e.nullCipher.icv?.length ?? 0) ?? out;
  return out;
}

function ignored(ignore: readonly string[], layer: string, path: string): boolean {
  for (const pat of ignore) {
    const dot = pat.indexOf('.');
    const pl = dot < 0 ? pat : pat.slice(0, dot);
    if (pl !== '*' && pl !== layer) continue;
    if (dot < 0) return true;
    const pf = pat.slice(dot + 1);
    if (path === pf || path.startsWith(`${pf}.`) || path.startsWith(`${pf}[`)) return true;
  }
  return false;
}

function walk(a: unknown, e: unknown, path: string, visit: (path: string, e: unknown, a: unknown) => void): void {
  if (a instanceof Uint8Array && e instanceof Uint8Array) {
    if (a.length !== e.length || a.some((x, i) => x !== e[i])) visit(path, e, a);
    return;
  }
  if (Array.isArray(a) && Array.isArray(e)) {
    if (a.length !== e.length) { visit(`${path}.length`, e.length, a.length); }
    for (let i = 0; i < Math.min(a.length, e.length); i++) walk(a[i], e[i], `${path}[${i}]`, visit);
    return;
  }
  if (a !== null && e !== null && typeof a === 'object' && typeof e === 'object' && !Array.isArray(a) && !Array.isArray(e)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(e)]);
    for (const k of keys) walk((a as Record<string, unknown>)[k], (e as Record<string, unknown>)[k], path ? `${path}.${k}` : k, visit);
    return;
  }
  if (a !== e) visit(path, e, a);
}

/** Fields build() fills in when left undefined. */
const AUTO: Record<string, readonly string[]> = {
  ether: ['etherType'], vlan: ['etherType'], ipv4: ['ihl', 'len', 'protocol', 'checksum'], ipv6: ['plen', 'nh'],
  hopByHop: ['nh', 'len'], destOpts: ['nh', 'len'], routing: ['nh', 'len'], fragment: ['nh'],
  tcp: ['dataOffset', 'checksum'], udp: ['len', 'checksum'], icmp: ['checksum'], icmpv6: ['checksum'], igmp: ['checksum'], gre: ['proto', 'checksum'],
};

/**
 * One's complement arithmetic has two zeros: where the sum comes out zero, a sender may write
 * 0x0000 or 0xffff and both verify (RFC 1071); 6.1 under UML was seen sending a SYN with 0xffff
 * where the sum gives 0x0000. UDP is the exception: there 0 means "no checksum" (RFC 768).
 */
function zeroSum(type: string, field: string, a: unknown, b: unknown): boolean {
  const zero = (v: unknown) => v === 0 || v === 0xffff;
  return field === 'checksum' && type !== 'udp' && zero(a) && zero(b);
}

/** Upper-layer fields a first fragment carries for the whole datagram. */
const WHOLE_DATAGRAM: ReadonlySet<string> = new Set(['len', 'checksum']);

/** The index of the IPv4 header or IPv6 fragment header that makes a packet a first fragment, or Infinity. */
function firstFragmentAt(p: readonly Layer[]): number {
  const i = p.findIndex((l) => (l.type === 'ipv4' && l.mf && l.fragOffset === 0) || (l.type === 'fragment' && l.m && l.offset === 0));
  return i < 0 ? Infinity : i;
}

/**
 * The differences between actual and expected; empty when they match. Automatic fields that the
 * expected packet leaves undefined (lengths, checksums, next headers) must be correct for the
 * actual packet itself, rather than equal to the expected packet's; above a first fragment the
 * upper layer's length and checksum are the whole datagram's, so they are compared only when the
 * expected packet gives them.
 */
export function diff(actual: readonly Layer[] | Uint8Array, expected: readonly Layer[], opts: CompareOptions = {}): FieldDiff[] {
  const ignore = opts.ignore ?? [];
  const exp = normalise(expected);
  const act = normalise(actual, linkOf(expected));
  // The actual packet with the automatic fields recomputed: what they should have been.
  const refill = act.map((a, i) => {
    const e = expected[i] as unknown as Record<string, unknown> | undefined;
    if (!e || e['type'] !== a.type) return a;
    const c: Record<string, unknown> = { ...a };
    for (const k of AUTO[a.type] ?? []) if (e[k] === undefined) delete c[k];
    return c as unknown as Layer;
  });
  const fixed = normalise(refill, linkOf(expected));
  const partial = firstFragmentAt(act);
  const out: FieldDiff[] = [];
  const n = Math.max(exp.length, act.length);
  for (let i = 0; i < n; i++) {
    const e = exp[i], a = act[i];
    const type = (e ?? a)!.type;
    if (ignored(ignore, type, '')) continue;
    if (!e || !a || e.type !== a.type) {
      out.push({ index: i, layer: type, field: '', expected: e?.type ?? '(none)', actual: a?.type ?? '(none)' });
      continue;
    }
    const input = expected[i] as unknown as Record<string, unknown> | undefined;
    const auto = new Set(input?.['type'] === type ? (AUTO[type] ?? []).filter((k) => input[k] === undefined) : []);
    const f = fixed[i]?.type === type ? (fixed[i] as unknown as Record<string, unknown>) : undefined;
    const ar = a as unknown as Record<string, unknown>;
    walk(a, e, '', (field, ev, av) => {
      const name = field.replace(/^\./, '');
      if (name === 'type' || auto.has(name) || ignored(ignore, type, name)) return;
      out.push({ index: i, layer: type, field: name, expected: ev, actual: av });
    });
    for (const k of auto) {
      if (!f || ignored(ignore, type, k) || ar[k] === f[k] || zeroSum(type, k, ar[k], f[k])) continue;
      // Above a first fragment, lengths and checksums cover the whole datagram: check them on
      // defragment()'s result, or give them in the expected packet.
      if (i > partial && WHOLE_DATAGRAM.has(k)) continue;
      out.push({ index: i, layer: type, field: k, expected: f[k], actual: ar[k] });
    }
  }
  return out;
}

/** Whether actual matches expected (diff() is empty). */
export function matches(actual: readonly Layer[] | Uint8Array, expected: readonly Layer[], opts: CompareOptions = {}): boolean {
  return diff(actual, expected, opts).length === 0;
}

/** The differences as text, one line a field (assertMatch's message). */
export function formatDiff(d: readonly FieldDiff[]): string {
  return d.map((x) => (x.field === ''
    ? `  layer ${x.index}: expected ${String(x.expected)}, got ${String(x.actual)}`
    : x.expected instanceof Uint8Array && x.actual instanceof Uint8Array
      ? `  ${x.layer}.${x.field} (layer ${x.index}): ${formatBytesDiff(x.expected, x.actual)}`
      : `  ${x.layer}.${x.field} (layer ${x.index}): expected ${formatValue(x.expected, x.field)}, got ${formatValue(x.actual, x.field)}`)).join('\n');
}

/** Throws an AssertionError listing every differing field and both packets. */
export function assertMatch(actual: readonly Layer[] | Uint8Array, expected: readonly Layer[], opts: CompareOptions = {}): void {
  const d = diff(actual, expected, opts);
  if (d.length === 0) return;
  const act = normalise(actual, linkOf(expected));
  throw new AssertionError({
    message: `packet does not match (${d.length} field${d.length > 1 ? 's' : ''}):\n${formatDiff(d)}\nexpected:\n${show(normalise(expected))}\nactual:\n${show(act)}`,
    actual: act, expected, operator: 'packetMatch',
  });
}
