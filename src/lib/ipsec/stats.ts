// The xfrm MIB of the current network namespace (/proc/net/xfrm_stat, CONFIG_XFRM_STATISTICS):
// one counter per reason a packet was dropped or refused (net/xfrm/xfrm_proc.c names them).
import { existsSync, readFileSync } from 'node:fs';

export type XfrmStats = Record<string, number>;

export const XFRM_STAT_PATH = '/proc/net/xfrm_stat';

export function parseXfrmStats(text: string): XfrmStats {
  const out: XfrmStats = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+)\s+(\d+)$/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** Every counter, or null when the kernel has no CONFIG_XFRM_STATISTICS. */
export function xfrmStats(): XfrmStats | null {
  if (!existsSync(XFRM_STAT_PATH)) return null;
  return parseXfrmStats(readFileSync(XFRM_STAT_PATH, 'utf8'));
}

/** The counters that changed since `before`, with how much (for exact assertions). */
export function xfrmStatsDelta(before: XfrmStats, after: XfrmStats = xfrmStats() ?? {}): XfrmStats {
  const out: XfrmStats = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}
