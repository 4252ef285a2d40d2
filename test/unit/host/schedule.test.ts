// The scheduler with a stand-in for the VM: what each "VM" was given, in which order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedule, type ScheduleOptions } from '../../../src/host/schedule.js';

function harness(o: Partial<ScheduleOptions<string>> & { crashOn?: Set<string>; failing?: Map<string, number> }) {
  const vms: { worker: number; attempt: number; batch: string[] }[] = [];
  const ran = new Map<string, number>();
  const failedNow = new Set<string>();
  const opts: ScheduleOptions<string> = {
    jobs: 1,
    expected: () => undefined,
    aborted: () => false,
    retries: 0,
    failed: (items) => items.filter((it) => failedNow.has(it)),
    runBatch: async (batch, worker, attempt) => {
      vms.push({ worker, attempt, batch: [...batch] });
      for (const [i, it] of batch.entries()) {
        const n = (ran.get(it) ?? 0) + 1;
        ran.set(it, n);
        const fails = (o.failing?.get(it) ?? 0) >= n;
        if (fails) failedNow.add(it);
        else failedNow.delete(it);
        // A crash takes the VM down with this item: the rest go to a fresh VM.
        if (o.crashOn?.has(it) && n === 1) return batch.slice(i + 1);
      }
      return [];
    },
    ...o,
  };
  return { vms, ran, run: (items: string[]) => schedule(items, opts) };
}

test('a crash loses only the file it hit: the files after it go to a fresh VM on the same worker', async () => {
  const h = harness({ crashOn: new Set(['b']) });
  await h.run(['a', 'b', 'c', 'd']);
  assert.deepEqual(h.vms, [
    { worker: 1, attempt: 1, batch: ['a', 'b', 'c', 'd'] },
    { worker: 1, attempt: 1, batch: ['c', 'd'] },
  ]);
});

test('shares of equal expected time across workers, longest first, each share in the given order', async () => {
  const took = new Map([['a', 10], ['b', 1], ['c', 9], ['d', 2]]);
  const h = harness({ jobs: 2, expected: (it) => took.get(it) });
  await h.run(['a', 'b', 'c', 'd']);
  assert.deepEqual(h.vms.map((v) => [v.worker, v.batch]).sort(), [[1, ['a', 'b']], [2, ['c', 'd']]]);
});

test('retries run only what failed, once per attempt, and stop when nothing fails', async () => {
  const retried: [string[], number][] = [];
  const h = harness({ retries: 3, failing: new Map([['b', 2], ['c', 1]]), onRetry: (items, n) => retried.push([items, n]) });
  await h.run(['a', 'b', 'c']);
  assert.deepEqual(retried, [[['b', 'c'], 2], [['b'], 3]]);
  assert.deepEqual([...h.ran], [['a', 1], ['b', 3], ['c', 2]]);
});

test('an abort stops handing out work: no fresh VM, no retry', async () => {
  let stop = false;
  const h = harness({ retries: 2, crashOn: new Set(['a']), failing: new Map([['a', 5]]), aborted: () => stop });
  const first = h.run(['a', 'b']);
  stop = true;
  await first;
  assert.deepEqual(h.vms.map((v) => v.batch), [['a', 'b']]);
});
