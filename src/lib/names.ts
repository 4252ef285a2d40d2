// Constant tables: the values of one C prefix by name (RTM.NEWLINK, IFF.UP), built once, and
// number <-> name conversion over them, so decoded messages read as names ('unicast',
// ['UP', 'LOWER_UP']) and requests accept either names or numbers.

export type Table = Readonly<Record<string, number>>;

/** Keys of T without the C prefix P: 'IFF_UP' -> 'UP'; keys already without it stay. */
export type Unprefixed<T, P extends string> = { readonly [K in keyof T as K extends `${P}${infer R}` ? R : K]: T[K] };

const prefixes = new WeakMap<Table, string>();

/**
 * A table of the constants that share the C prefix `prefix`, keyed without it:
 * table('ARPHRD_', { ARPHRD_ETHER, ARPHRD_LOOPBACK }) is { ETHER: 1, LOOPBACK: 772 }, and
 * table('RTM_', { NEWLINK: 16 }) names RTM_NEWLINK. The prefix is kept so a test can name the C
 * constant behind every key (test/unit/lib/constants.test.ts compares them with the headers).
 */
export function table<const P extends string, const T extends Record<string, number>>(prefix: P, values: T): Unprefixed<T, P> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) out[k.startsWith(prefix) ? k.slice(prefix.length) : k] = v;
  Object.freeze(out);
  prefixes.set(out, prefix);
  return out as Unprefixed<T, P>;
}

/** The C prefix a table was made with, e.g. 'RTM_'; undefined for other objects. */
export function tablePrefix(t: object): string | undefined {
  return prefixes.get(t as Table);
}

// Reverse lookups are built once per table: decoding runs them for every message of a dump.
const byValue = new WeakMap<Table, Map<number, string>>();
const bits = new WeakMap<Table, [string, number][]>();

/** Lower-case name of `value` in `table`, or the number itself when the table lacks it. */
export function nameOf(table: Table, value: number): string | number {
  let m = byValue.get(table);
  if (m === undefined) {
    m = new Map();
    // BASE and MAX are aliases of real entries in the headers, never a value's own name; the
    // first name listed for a value wins.
    for (const [k, v] of Object.entries(table)) if (k !== 'BASE' && k !== 'MAX' && !m.has(v)) m.set(v, k.toLowerCase());
    byValue.set(table, m);
  }
  return m.get(value) ?? value;
}

/** Names of the set bits of `value` (upper case, as the headers spell them); unknown bits as hex. */
export function flagNames(table: Table, value: number): string[] {
  let list = bits.get(table);
  if (list === undefined) {
    list = Object.entries(table).filter(([, v]) => v !== 0 && (v & (v - 1)) === 0);
    bits.set(table, list);
  }
  const out: string[] = [];
  let rest = value >>> 0;
  if (rest === 0) return out;
  for (const [k, v] of list) {
    if ((rest & v) !== 0) {
      out.push(k);
      rest = (rest & ~v) >>> 0;
    }
  }
  if (rest !== 0) out.push(`0x${rest.toString(16)}`);
  return out;
}

/** Numeric value for a name (any case) or a number; throws on unknown names. */
export function valueOf(table: Table, v: string | number, what = 'value'): number {
  if (typeof v === 'number') return v;
  const n = table[v.toUpperCase()];
  if (n === undefined) throw new RangeError(`unknown ${what} '${v}' (known: ${Object.keys(table).join(', ').toLowerCase()})`);
  return n;
}

/** OR of flag names (any case) or numbers. */
export function flagsValue(table: Table, flags: readonly (string | number)[] | number | undefined, what = 'flag'): number {
  if (flags === undefined) return 0;
  if (typeof flags === 'number') return flags;
  return flags.reduce<number>((acc, f) => (acc | valueOf(table, f, what)) >>> 0, 0);
}
