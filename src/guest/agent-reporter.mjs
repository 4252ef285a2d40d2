// node:test reporter loaded next to the agent (same process): tells the agent when the suite
// wrapping one test file has finished, whether it passed, and its cases (the shape of
// src/host/results/tap.ts's TestCase: name, status, detail, children). Writes nothing itself.
// Events arrive children first: cases wait at their depth until their parent's event.
// eslint-disable-next-line require-yield -- a reporter that only listens still has to be a generator
export default async function* agentReporter(source) {
  const pending = [[]];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    while (pending.length <= d.nesting + 1) pending.push([]);
    const c = { name: d.name, status: statusOf(event), children: pending[d.nesting + 1] };
    const detail = detailOf(event);
    if (detail) c.detail = detail;
    pending[d.nesting + 1] = [];
    pending[d.nesting].push(c);
    if (d.nesting === 0) {
      pending[0] = [];
      const done = globalThis.__netTestFileDone;
      globalThis.__netTestFileDone = undefined;
      done?.(event.type === 'test:pass', c.children);
    }
  }
}

function statusOf(event) {
  if (event.data.skip !== undefined && event.data.skip !== false) return 'skip';
  if (event.data.todo !== undefined && event.data.todo !== false) return 'todo';
  return event.type === 'test:pass' ? 'pass' : 'fail';
}

/** A skip/todo reason, or a failure's first lines (the assertion's, not node's wrapper's). */
function detailOf(event) {
  const d = event.data;
  if (typeof d.skip === 'string') return d.skip;
  if (typeof d.todo === 'string') return d.todo;
  if (event.type !== 'test:fail') return undefined;
  const err = d.details?.error;
  const cause = err?.cause ?? err;
  const text = cause instanceof Error ? cause.message : cause !== undefined ? String(cause) : '';
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.slice(0, 3).join(' ').slice(0, 200) || undefined;
}
