// Which run a JSON report belongs to, and which slice of it: what `net-test merge` needs to put
// N shards (run on N machines) back together and to refuse pieces that do not belong together.
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { KernelIdentity } from './kcidb.js';

export interface RunMeta {
  /** Shared by every shard of one run (see runId). */
  id: string;
  /** The CI's attempt at this run: a re-run shard replaces the earlier attempt's in a merge. */
  attempt: number;
  /** "I/N", or null for an unsharded run. */
  shard: string | null;
  /** Every test file of the run, before sharding, as shown (relative to the working directory). */
  tests: string[];
  /** The files this shard was given (all of `tests` when unsharded). */
  shardTests: string[];
  /** --filter, when one was given: durations of a filtered run are not whole files' times. */
  filter: string | null;
  /** The kernel that ran (KCIDB's build): release and its .config's hash. */
  kernel?: KernelIdentity | undefined;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

/**
 * The run id, the same on every machine of one CI run: --run-id, else $NET_TEST_RUN_ID, else
 * GitHub Actions' repository and run id, else a hash of what was run (kernel, test list, shard
 * count). The last one is the same for the shards of one invocation on one checkout, but also
 * for a later run of the same things: CI should set one of the others.
 */
export function runId(flag: string | undefined, env: NodeJS.ProcessEnv, fallback: { kernel: string; tests: string[]; count: number }): string {
  const given = flag ?? env.NET_TEST_RUN_ID;
  if (given !== undefined) {
    if (!ID.test(given)) throw new UsageError(`${flag !== undefined ? '--run-id' : 'NET_TEST_RUN_ID'} must be 1-200 characters of letters, digits and ._:/@+-, got ${JSON.stringify(given)}`);
    return given;
  }
  if (env.GITHUB_RUN_ID) return `github:${env.GITHUB_REPOSITORY ?? 'unknown'}/${env.GITHUB_RUN_ID}`;
  const h = createHash('sha256').update(JSON.stringify([fallback.kernel, fallback.tests, fallback.count])).digest('hex');
  return `local:${h.slice(0, 16)}`;
}

/** $NET_TEST_ATTEMPT, else GitHub's $GITHUB_RUN_ATTEMPT, else 1. */
export function runAttempt(env: NodeJS.ProcessEnv): number {
  const raw = env.NET_TEST_ATTEMPT ?? env.GITHUB_RUN_ATTEMPT;
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${env.NET_TEST_ATTEMPT !== undefined ? 'NET_TEST_ATTEMPT' : 'GITHUB_RUN_ATTEMPT'} must be an integer >= 1, got ${JSON.stringify(raw)}`);
  return n;
}
