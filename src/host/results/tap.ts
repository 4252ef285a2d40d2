// A tolerant TAP/KTAP reader: node:test's TAP reporter output, kselftest scripts, KTAP from the
// kernel. Unknown lines are ignored, indentation gives nesting (4 spaces or a tab per level, as
// node and KTAP both use), and a missing plan is not an error. Result lines are lowercase `ok` /
// `not ok` as TAP 13 and KTAP define them: unittest's `OK` / `FAILED (failures=1)` is output.

export type CaseStatus = 'pass' | 'fail' | 'skip' | 'todo';

export interface TestCase {
  name: string;
  status: CaseStatus;
  /** SKIP/TODO reason or the failure's first diagnostic line. */
  detail?: string;
  children: TestCase[];
  /** The failure's whole text, when the test gave one (a Python traceback). */
  traceback?: string;
  /** Failed by an unexpected exception, not an assertion (unittest's ERROR); counted as a failure. */
  error?: boolean;
  durationMs?: number;
}

// A '#' that does not start a SKIP/TODO directive is part of the name; node's TAP reporter
// escapes '#' and '\' in names ("a \#1"), so an escaped '#' never starts one. The directive is
// case-insensitive (TAP 13), the result word is not.
const RESULT = /^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$/;
const DIRECTIVE = /^(.*?)\s*(?<!\\)#\s*(SKIP|TODO)\b\s*(.*)$/i;
const unescapeName = (s: string) => s.replace(/\\([\\#])/g, '$1');

function depth(line: string): number {
  const m = /^[ \t]*/.exec(line)![0];
  let d = 0;
  for (const c of m) d += c === '\t' ? 4 : 1;
  return Math.floor(d / 4);
}

export function parseTap(text: string): TestCase[] {
  // Cases at each depth collected until their parent's result line arrives (TAP prints children first).
  const pending: TestCase[][] = [[]];
  let lastAtDepth: TestCase | undefined;
  for (const raw of text.split('\n')) {
    const d = depth(raw);
    const line = raw.trim();
    const m = RESULT.exec(line);
    if (!m) {
      // First "error:"/"message:" line of a YAML block explains a failure.
      if (lastAtDepth && lastAtDepth.status === 'fail' && !lastAtDepth.detail) {
        const e = /^(?:error|message):\s*(?:\|-?)?\s*['"]?(.*?)['"]?$/.exec(line);
        if (e && e[1]) lastAtDepth.detail = e[1];
      }
      continue;
    }
    while (pending.length <= d + 1) pending.push([]);
    const dm = DIRECTIVE.exec(m[3] ?? '');
    const directive = dm?.[2]?.toUpperCase();
    const status: CaseStatus = directive === 'SKIP' ? 'skip' : directive === 'TODO' ? 'todo' : m[1] === 'ok' ? 'pass' : 'fail';
    const c: TestCase = { name: unescapeName((dm ? dm[1] : m[3])?.trim() ?? ''), status, children: pending[d + 1] ?? [] };
    if (dm?.[3]) c.detail = dm[3].trim();
    pending[d + 1] = [];
    pending[d]!.push(c);
    lastAtDepth = c;
  }
  return pending[0] ?? [];
}

export interface Counts {
  pass: number;
  fail: number;
  skip: number;
}

/** Counts leaf cases (a suite counts through its children). */
export function countCases(cases: TestCase[]): Counts {
  const c: Counts = { pass: 0, fail: 0, skip: 0 };
  const walk = (list: TestCase[]) => {
    for (const t of list) {
      if (t.children.length > 0) walk(t.children);
      else if (t.status === 'fail') c.fail++;
      else if (t.status === 'skip' || t.status === 'todo') c.skip++;
      else c.pass++;
    }
  };
  walk(cases);
  return c;
}

/** Failing leaf cases as "suite > case" paths. */
export function failures(cases: TestCase[], prefix = ''): { name: string; detail?: string; error?: boolean }[] {
  return cases.flatMap((t) => {
    const name = prefix ? `${prefix} > ${t.name}` : t.name;
    if (t.children.length > 0) return failures(t.children, name);
    return t.status === 'fail' ? [{ name, ...(t.detail ? { detail: t.detail } : {}), ...(t.error ? { error: true } : {}) }] : [];
  });
}
