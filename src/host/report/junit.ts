// JUnit XML as CI systems read it: <testsuites> of one <testsuite> per file, a <testcase> per
// node:test case (or one for the whole file when it has none).
import { failures, type TestCase } from '../results/tap.js';
import type { FileResult } from '../results/model.js';

// XML 1.0 forbids most control characters even when escaped: drop them.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;
const esc = (s: string) =>
  s
    .replace(XML_INVALID, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

function leaves(cases: TestCase[], prefix = ''): TestCase[] {
  return cases.flatMap((c) => {
    const name = prefix ? `${prefix} > ${c.name}` : c.name;
    return c.children.length > 0 ? leaves(c.children, name) : [{ ...c, name }];
  });
}

function fileCases(r: FileResult): string[] {
  const cls = esc(r.display);
  if (r.cases.length === 0 || r.verdict === 'crash' || r.verdict === 'timeout' || r.verdict === 'error') {
    const own: string[] = [];
    const time = ((r.durationMs ?? 0) / 1000).toFixed(3);
    const msg = r.crash ? `kernel ${r.crash.kind}: ${r.crash.title}` : (r.detail ?? `exit status ${r.exitStatus ?? '?'}`);
    const body =
      r.verdict === 'fail'
        ? `<failure message="${esc(msg)}">${esc(failures(r.cases).map((f) => f.name).join('\n'))}</failure>`
        : r.verdict === 'crash' || r.verdict === 'timeout' || r.verdict === 'error'
          ? `<error type="${r.verdict}" message="${esc(msg)}">${esc(r.crash?.lines.join('\n') ?? '')}</error>`
          : r.verdict === 'skip'
            ? '<skipped/>'
            : '';
    own.push(`    <testcase classname="${cls}" name="${cls}" time="${time}">${body}</testcase>`);
    // A crash or timeout still reports the cases that finished before it.
    if (r.cases.length === 0 || r.verdict === 'fail' || r.verdict === 'pass' || r.verdict === 'skip') return own;
    return [...own, ...leafCases(r)];
  }
  // The exit status decides the file: a failing file whose cases all passed says so in a case.
  if (r.verdict === 'fail' && !leaves(r.cases).some((l) => l.status === 'fail')) {
    const time = ((r.durationMs ?? 0) / 1000).toFixed(3);
    const own = `    <testcase classname="${cls}" name="${cls}" time="${time}"><failure message="${esc(r.detail ?? `exit status ${r.exitStatus ?? '?'}`)}"/></testcase>`;
    return [...leafCases(r), own];
  }
  return leafCases(r);
}

function leafCases(r: FileResult): string[] {
  const cls = esc(r.display);
  return leaves(r.cases).map((l) => {
    // unittest's ERROR (an unexpected exception) is JUnit's <error>; a failed assertion a <failure>.
    const tag = l.error ? 'error' : 'failure';
    const body =
      l.status === 'fail'
        ? `<${tag} message="${esc(l.detail ?? 'failed')}"${l.traceback ? `>${esc(l.traceback)}</${tag}>` : '/>'}`
        : l.status === 'skip' || l.status === 'todo'
          ? `<skipped message="${esc(l.detail ?? '')}"/>`
          : '';
    const time = l.durationMs !== undefined ? (l.durationMs / 1000).toFixed(3) : '0';
    return `    <testcase classname="${cls}" name="${esc(l.name)}" time="${time}">${body}</testcase>`;
  });
}

export function toJunit(results: FileResult[], wallMs: number): string {
  const suites = results.map((r) => {
    const cases = fileCases(r);
    const count = (re: RegExp) => cases.filter((c) => re.test(c)).length;
    const attrs = `name="${esc(r.display)}" tests="${cases.length}" failures="${count(/<failure/)}" errors="${count(/<error/)}" skipped="${count(/<skipped/)}" time="${((r.durationMs ?? 0) / 1000).toFixed(3)}"`;
    const out = r.output ? `\n    <system-out>${esc(r.output)}</system-out>` : '';
    return `  <testsuite ${attrs}>\n${cases.join('\n')}${out}\n  </testsuite>`;
  });
  const all = suites.join('\n');
  const n = (re: RegExp) => (all.match(re) ?? []).length;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="net-test" tests="${n(/<testcase /g)}" failures="${n(/<failure/g)}" errors="${n(/<error /g)}" skipped="${n(/<skipped/g)}" time="${(wallMs / 1000).toFixed(3)}">\n` +
    `${all}\n</testsuites>\n`
  );
}
