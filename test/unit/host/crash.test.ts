import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crashDetector } from '../../../src/host/console/crash.js';

const feed = (lines: string[], failOnWarn = false) => {
  const d = crashDetector({ failOnWarn });
  for (const l of lines) d.feed(l);
  return d;
};

test('panic report is collected from its signature line', () => {
  const d = feed(['boot noise', 'Kernel panic - not syncing: sysrq triggered crash', 'CPU: 0 PID: 1', 'Call Trace:', ' [<6002d37a>] show_stack+0x184/0x193']);
  assert.equal(d.report()?.kind, 'panic');
  assert.equal(d.report()?.lines.length, 4);
});

test('KASAN is named before the generic BUG', () => {
  assert.equal(feed(['[   3.1] BUG: KASAN: use-after-free in foo+0x1/0x2']).report()?.kind, 'kasan');
  assert.equal(feed(['kernel BUG at net/ipv6/route.c:123!']).report()?.kind, 'bug');
  assert.equal(feed(['BUG: kernel NULL pointer dereference, address: 0000000000000000']).report()?.kind, 'bug');
  assert.equal(feed(['UBSAN: shift-out-of-bounds in net/core/dev.c:1']).report()?.kind, 'ubsan');
  assert.equal(feed(['Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100']).report()?.kind, 'panic');
  assert.equal(feed(['Oops: 0000 [#1] PREEMPT']).report()?.kind, 'oops');
});

test('a report ends at the end marker', () => {
  const d = feed(['WARNING: CPU: 0 PID: 5 at net/core/dev.c:10 f+0x1/0x2', 'Modules linked in:', 'CPU: 0', 'Call Trace:', '---[ end trace 0000000000000000 ]---', 'later line'], true);
  assert.equal(d.report()?.kind, 'warning');
  assert.equal(d.report()?.lines.at(-1), '---[ end trace 0000000000000000 ]---');
});

test('warnings are not fatal unless asked', () => {
  const d = feed(['WARNING: CPU: 0 PID: 5 at net/core/dev.c:10 f+0x1/0x2']);
  assert.equal(d.report(), undefined);
  assert.equal(d.warnings().length, 1);
});

test('ordinary boot messages are not crashes', () => {
  const d = feed(['random: crng init done', 'NET: Registered PF_INET6 protocol family', 'BUGS: none', 'sysrq: Power Off']);
  assert.equal(d.report(), undefined);
});
