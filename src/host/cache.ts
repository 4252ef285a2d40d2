// net-test's per-user cache directory (kernel builds, durations, compiled helpers).
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_CACHE_HOME/net-test`, or `~/.cache/net-test`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cache, 'net-test');
}
