// The kernel's IP counters as a test reads them: /proc/net/snmp and /proc/net/netstat (header
// line, value line per protocol), /proc/net/snmp6 (name, value), and the fragment queues'
// memory from /proc/net/sockstat{,6}. All are per network namespace: the reader's own.
import { readFileSync } from 'node:fs';

/** Counters by name: 'Ip.ReasmOKs', 'IpExt.ReasmOverlaps' (snmp/netstat), 'Ip6ReasmOKs' (snmp6). */
export type Counters = Readonly<Record<string, number>>;

/** Parses the paired "Proto: Name Name..." / "Proto: 1 2..." lines of /proc/net/snmp and /proc/net/netstat. */
export function parseSnmp(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n').filter((l) => l.includes(':'));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [proto, ...names] = lines[i]!.split(/\s+/).filter(Boolean);
    const [proto2, ...values] = lines[i + 1]!.split(/\s+/).filter(Boolean);
    if (proto !== proto2) throw new Error(`counters: a "${proto ?? ''}" header line followed by "${proto2 ?? ''}" values`);
    names.forEach((n, j) => { out[`${proto!.slice(0, -1)}.${n}`] = Number(values[j]); });
  }
  return out;
}

/** Parses /proc/net/snmp6: one "Name value" per line. */
export function parseSnmp6(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [name, value] = line.split(/\s+/);
    if (name && value !== undefined) out[name] = Number(value);
  }
  return out;
}

function readIf(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Every IPv4 and IPv6 counter of this namespace now (snmp6 absent without IPv6). */
export function ipCounters(): Counters {
  return { ...parseSnmp(readFileSync('/proc/net/snmp', 'utf8')), ...parseSnmp(readIf('/proc/net/netstat')), ...parseSnmp6(readIf('/proc/net/snmp6')) };
}

/** How each named counter moved between two readings. */
export function counterDelta(before: Counters, after: Counters, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) {
    if (before[n] === undefined || after[n] === undefined) throw new Error(`counters: no counter named ${n}`);
    out[n] = after[n] - before[n];
  }
  return out;
}

/** Parses the "FRAG: inuse N memory M" (or FRAG6:) line of /proc/net/sockstat{,6}. */
export function parseFragLine(text: string, v: 4 | 6): { inuse: number; memory: number } {
  const m = new RegExp(`^${v === 4 ? 'FRAG' : 'FRAG6'}: inuse (\\d+) memory (\\d+)$`, 'm').exec(text);
  if (!m) throw new Error(`counters: no ${v === 4 ? 'FRAG' : 'FRAG6'} line in sockstat`);
  return { inuse: Number(m[1]), memory: Number(m[2]) };
}

/** Reassembly queues in this namespace and the bytes they hold, as ipfrag_high_thresh counts them. */
export function fragQueues(v: 4 | 6): { inuse: number; memory: number } {
  return parseFragLine(readFileSync(v === 4 ? '/proc/net/sockstat' : '/proc/net/sockstat6', 'utf8'), v);
}
