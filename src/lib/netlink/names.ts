// Number <-> constant-name conversion over the uapi tables, so decoded messages read as
// names ('unicast', ['UP', 'LOWER_UP']) and requests accept either names or numbers.

export type Table = Readonly<Record<string, number>>;

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
