// iproute2 as the independent witness in netlink guest tests: run `ip` and parse its JSON.
import { execFileSync } from 'node:child_process';

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function ipJson<T = Record<string, unknown>>(...args: string[]): T[] {
  const out = ip('-j', ...args).trim();
  return out === '' ? [] : (JSON.parse(out) as T[]);
}

/** `ip` failing: its stderr (which carries the kernel's extack text). */
export function ipError(...args: string[]): string {
  try {
    ip(...args);
  } catch (e) {
    return String((e as { stderr?: unknown }).stderr ?? e);
  }
  throw new Error(`ip ${args.join(' ')} unexpectedly succeeded`);
}

/** Kernel support probe: true if `ip link add` of this kind works here (modules may be missing). */
export function canCreate(kind: string, ...extra: string[]): boolean {
  const name = `probe${process.pid % 10000}`;
  try {
    ip('link', 'add', name, 'type', kind, ...extra);
    ip('link', 'del', name);
    return true;
  } catch {
    return false;
  }
}

/** The kernel's extack text inside ip's stderr ("Error: <text>."), or undefined when it printed none. */
export function kernelText(stderr: string): string | undefined {
  return /^Error: (.*?)\.?$/m.exec(stderr)?.[1];
}
