// Case lines of the kernel's selftest scripts that are not TAP. The net scripts (fib_tests.sh,
// pmtu.sh, icmp_redirect.sh, fcnal-test.sh, forwarding/lib.sh, ...) print one line per check:
//   TEST: <name padded with spaces>  [ OK ]     also [FAIL], [SKIP], [XFAIL]
// and rtnetlink.sh, netdevice.sh and a few others print `PASS: <name>`, `FAIL: <name>`,
// `SKIP: <name>` at the start of a line. Both become test cases here.
import type { CaseStatus, TestCase } from './tap.js';

const TEST_LINE = /^\s*TEST:\s*(.*?)\s*\[\s*(OK|FAIL|SKIP|XFAIL)\s*\]\s*$/;
const WORD_LINE = /^(PASS|FAIL|SKIP):\s+(\S.*?)\s*$/;

/** XFAIL is an expected failure: `ok … # XFAIL` in KTAP, so it counts as a pass with a note. */
const STATUS: Record<string, { status: CaseStatus; detail?: string }> = {
  OK: { status: 'pass' },
  PASS: { status: 'pass' },
  FAIL: { status: 'fail' },
  SKIP: { status: 'skip' },
  XFAIL: { status: 'pass', detail: 'XFAIL: expected failure' },
};

/** The TEST:/PASS:/FAIL:/SKIP: case lines of a script's output, in order. */
export function parseTestLines(text: string): TestCase[] {
  const cases: TestCase[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const t = TEST_LINE.exec(line);
    const w = t ? undefined : WORD_LINE.exec(line);
    const [name, word] = t ? [t[1]!, t[2]!] : w ? [w[2]!, w[1]!] : [];
    if (name === undefined || word === undefined) continue;
    const s = STATUS[word]!;
    cases.push({ name, status: s.status, children: [], ...(s.detail ? { detail: s.detail } : {}) });
  }
  return cases;
}
