// Python unittest cases as the guest hook (src/guest/python/sitecustomize.py) records them: one
// JSON object per line in the run directory, appended as each case ends, so a file killed by a
// timeout or a crash keeps the cases it finished and names the one it was in.
import type { TestCase } from './tap.js';

export interface UnittestResults {
  cases: TestCase[];
  /** The case that started and never ended: the process died or was killed in it. */
  unfinished?: string;
  /** Cases --filter (NET_TEST_FILTER) kept from running. */
  filtered: { dropped: number };
}

interface Rec {
  t?: unknown;
  name?: unknown;
  status?: unknown;
  reason?: unknown;
  traceback?: unknown;
  ms?: unknown;
  dropped?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The exception line of a traceback ("AssertionError: 1 != 2"): what a one-line report shows. */
function lastLine(tb: string | undefined): string | undefined {
  return tb
    ?.split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
}

function toCase(r: Rec): TestCase {
  const name = str(r.name) ?? 'unnamed';
  const reason = str(r.reason);
  const tb = str(r.traceback);
  const c: TestCase = { name, status: 'pass', children: [] };
  switch (r.status) {
    case 'skip':
      c.status = 'skip';
      if (reason) c.detail = reason;
      break;
    case 'xfail':
      if (reason) c.detail = reason;
      break;
    case 'fail':
    case 'error':
    case 'xpass':
      c.status = 'fail';
      if (r.status === 'error') c.error = true;
      c.detail = [reason, lastLine(tb)].filter(Boolean).join(': ') || 'failed';
      break;
    case 'pass':
      break;
    default:
      c.status = 'fail';
      c.detail = `unknown status ${JSON.stringify(r.status)} from the unittest hook`;
  }
  if (tb) c.traceback = tb;
  if (typeof r.ms === 'number' && Number.isFinite(r.ms)) c.durationMs = r.ms;
  return c;
}

/** Reads the hook's records; lines that are not JSON (a write cut short) are ignored. */
export function parseUnittest(text: string): UnittestResults {
  const cases: TestCase[] = [];
  const filtered = { dropped: 0 };
  const open: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let r: Rec;
    try {
      r = JSON.parse(line) as Rec;
    } catch {
      continue;
    }
    if (typeof r !== 'object' || r === null) continue;
    if (r.t === 'start' && str(r.name)) open.push(str(r.name)!);
    else if (r.t === 'case') {
      const c = toCase(r);
      const at = open.lastIndexOf(c.name);
      if (at >= 0) open.splice(at, 1);
      cases.push(c);
    } else if (r.t === 'filtered') {
      filtered.dropped += typeof r.dropped === 'number' ? r.dropped : 0;
    }
  }
  const unfinished = open.pop();
  return { cases, filtered, ...(unfinished !== undefined ? { unfinished } : {}) };
}
