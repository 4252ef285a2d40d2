// Which VM runs what: a run's files in shares of equal expected time, one worker per share
// feeding it to fresh VMs until none is left (a crash or hang loses only the file it hit),
// then the failures again for each retry. The VM itself is `runBatch`: `run` boots UML, a test
// gives a stand-in.
import { balance } from './prepare/durations.js';

export interface ScheduleOptions<T> {
  /** Parallel workers (VMs at a time). */
  jobs: number;
  /** How long an item took last time, for balancing; undefined when unknown. */
  expected: (it: T) => number | undefined;
  /** Boots one VM for `batch` and returns the items it did not get to. */
  runBatch: (batch: T[], worker: number, attempt: number) => Promise<T[]>;
  /** Stop handing out work (a signal came). */
  aborted: () => boolean;
  /** Extra attempts for failed items. */
  retries: number;
  /** Of the items run, those that failed and get another attempt. */
  failed: (items: T[]) => T[];
  /** Before a retry attempt of `items`. */
  onRetry?: (items: T[], attempt: number) => void;
}

/** Runs every item once, then retries the failures up to `retries` times. */
export async function schedule<T>(items: T[], o: ScheduleOptions<T>): Promise<void> {
  const attempt = async (list: T[], n: number) => {
    const shares = balance(list, o.jobs, o.expected);
    await Promise.all(
      shares.map(async (share, w) => {
        let left = share;
        while (left.length > 0 && !o.aborted()) left = await o.runBatch(left, w + 1, n);
      }),
    );
  };
  await attempt(items, 1);
  for (let n = 2; n <= 1 + o.retries && !o.aborted(); n++) {
    const again = o.failed(items);
    if (again.length === 0) break;
    o.onRetry?.(again, n);
    await attempt(again, n);
  }
}
