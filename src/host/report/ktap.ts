// KTAP version 1 (Documentation/dev-tools/ktap.rst): one top-level test per file, its
// node:test cases nested below it. A subtest is "KTAP version 1", "# Subtest: name" and its plan,
// indented 4 spaces per level, then its result line one level out: what kunit_tool's parser reads.
import type { TestCase } from '../results/tap.js';
import type { FileResult } from '../results/model.js';

// '#' starts a directive and a newline ends a line: neither may appear in a name.
const clean = (s: string) => s.replace(/[#\s]+/g, ' ').trim() || 'unnamed';

function directive(c: TestCase): string {
  if (c.status === 'skip') return ` # SKIP ${clean(c.detail ?? '')}`.trimEnd();
  if (c.status === 'todo') return ` # TODO ${clean(c.detail ?? '')}`.trimEnd();
  return '';
}

function subtest(name: string, cases: TestCase[], depth: number): string[] {
  const pad = '    '.repeat(depth);
  const out = [`${pad}KTAP version 1`, `${pad}# Subtest: ${clean(name)}`, `${pad}1..${cases.length}`];
  cases.forEach((c, i) => {
    if (c.children.length > 0) out.push(...subtest(c.name, c.children, depth + 1));
    // A failure's text (a Python traceback) as diagnostic lines before its result, as KUnit does.
    if (c.status === 'fail' && c.traceback) out.push(...c.traceback.trimEnd().split('\n').map((l) => `${pad}# ${l}`.trimEnd()));
    out.push(`${pad}${c.status === 'fail' ? 'not ok' : 'ok'} ${i + 1} ${clean(c.name)}${directive(c)}`);
  });
  return out;
}

export function toKtap(results: FileResult[]): string {
  const out = ['KTAP version 1', `1..${results.length}`];
  results.forEach((r, i) => {
    if (r.cases.length > 0) out.push(...subtest(r.display, r.cases, 1));
    if (r.crash) out.push(`# kernel ${r.crash.kind}: ${clean(r.crash.title)}`);
    if (r.detail) out.push(`# ${clean(r.detail)}`);
    const ok = r.verdict === 'pass' || r.verdict === 'skip' || r.verdict === 'flaky';
    out.push(`${ok ? 'ok' : 'not ok'} ${i + 1} ${clean(r.display)}${r.verdict === 'skip' ? ' # SKIP' : ''}`);
  });
  return out.join('\n') + '\n';
}
