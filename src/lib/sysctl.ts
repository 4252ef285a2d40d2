// Kernel tunables under /proc/sys, set with a way back: every set returns its restore.
import { readFileSync, writeFileSync } from 'node:fs';

/** 'net.ipv4.ip_forward' or 'net/ipv4/conf/eth0.100/forwarding' -> /proc/sys path. */
function sysctlPath(name: string): string {
  return `/proc/sys/${name.includes('/') ? name : name.replaceAll('.', '/')}`;
}

export const sysctl = {
  /** The value without the trailing newline. */
  get(name: string): string {
    return readFileSync(sysctlPath(name), 'utf8').replace(/\n$/, '');
  },
  /** Write a value; returns a function that writes the previous value back. */
  set(name: string, value: string | number): () => void {
    const old = sysctl.get(name);
    writeFileSync(sysctlPath(name), String(value));
    return () => writeFileSync(sysctlPath(name), old);
  },
};

/** Run `fn` with sysctls set, restoring them afterwards (in reverse order) even if it throws. */
export function withSysctl<T>(values: Readonly<Record<string, string | number>>, fn: () => T): T {
  const restores: (() => void)[] = [];
  try {
    for (const [k, v] of Object.entries(values)) restores.push(sysctl.set(k, v));
    return fn();
  } finally {
    for (const r of restores.reverse()) r();
  }
}
