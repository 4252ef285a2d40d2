// MIB counters of the current network namespace: /proc/net/snmp (Ip, Icmp, Tcp, Udp...) and
// /proc/net/netstat (TcpExt, IpExt...), each a header line of names and a line of values.
import { readFileSync } from 'node:fs';

export type MibFile = 'snmp' | 'netstat' | 'snmp6';

/** Every counter of one file, as 'Group.Name' (snmp6: its own 'Name' lines) -> value. */
export function mibCounters(file: MibFile = 'snmp'): Map<string, number> {
  const text = readFileSync(`/proc/net/${file}`, 'utf8');
  const out = new Map<string, number>();
  if (file === 'snmp6') {
    for (const l of text.split('\n')) {
      const [k, v] = l.trim().split(/\s+/);
      if (k && v !== undefined) out.set(k, Number(v));
    }
    return out;
  }
  const lines = text.split('\n').filter((l) => l.includes(':'));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [group = '', ...names] = lines[i]!.trim().split(/\s+/);
    const values = lines[i + 1]!.trim().split(/\s+/).slice(1);
    names.forEach((n, k) => out.set(`${group.replace(/:$/, '')}.${n}`, Number(values[k])));
  }
  return out;
}

/** One counter, e.g. mib('netstat', 'TcpExt.TCPKeepAlive'); throws if the kernel has no such counter. */
export function mib(file: MibFile, name: string): number {
  const v = mibCounters(file).get(name);
  if (v === undefined) throw new Error(`no counter ${name} in /proc/net/${file}`);
  return v;
}

/** Run fn and return how much each named counter grew meanwhile. */
export function mibDelta(file: MibFile, names: readonly string[], fn: () => void): Record<string, number> {
  const before = mibCounters(file);
  fn();
  const after = mibCounters(file);
  return Object.fromEntries(names.map((n) => [n, (after.get(n) ?? NaN) - (before.get(n) ?? NaN)]));
}
