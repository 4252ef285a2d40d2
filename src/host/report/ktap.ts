// KTAP version 1 (Documentation/dev-tools/ktap.rst): one top-level test per file, its
// node:test cases nested below it, 4 spaces per level, as the kernel's own parser expects.
import type { TestCase } from '../results/tap.js';
import type { FileResult } from '../results/model.js';

// '#' starts a directive and a newline ends a line: neither may appear in a name.
const clean = (s: string) => s.replace(/[#\n\r]/g, ' ').trim() || 'unnamed';

function caseLines(cases: TestCase[], depth: number): string[] {
  const pad = '    '.repeat(depth);
  const out = [`${pad}KTAP version 1`, `${pad}1..${cases.length}`];
  cases.forEach((c, i) => {
    if (c.children.length > 0) out.push(`${pad}    # Subtest: ${clean(c.name)}`, ...caseLines(c.children, depth + 1));
    const directive = c.status === 'skip' ? ` # SKIP ${clean(c.detail ?? '')}` : c.status === 'todo' ? ` # TODO ${clean(c.detail ?? '')}` : '';
    out.push(`${pad}${c.status === 'fail' ? 'not ok' : 'ok'} ${i + 1} ${clean(c.name)}${directive}`.trimEnd());
  });
  return out;
}

export function toKtap(results: FileResult[]): string {
  const out = ['KTAP version 1', `1..${results.length}`];
  results.forEach((r, i) => {
    if (r.cases.length > 0) out.push(`    # Subtest: ${clean(r.display)}`, ...caseLines(r.cases, 1));
    if (r.crash) out.push(`# kernel ${r.crash.kind}: ${clean(r.crash.title)}`);
    if (r.detail) out.push(`# ${clean(r.detail)}`);
    if (r.verdict === 'flaky') out.push(`# flaky: passed on attempt ${r.attempts}`);
    const ok = r.verdict === 'pass' || r.verdict === 'skip' || r.verdict === 'flaky';
    out.push(`${ok ? 'ok' : 'not ok'} ${i + 1} ${clean(r.display)}${r.verdict === 'skip' ? ' # SKIP' : ''}`);
  });
  return out.join('\n') + '\n';
}
