import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseTimeTravel, hasTimeTravel } from '../../../src/host/kernel/time-travel.js';
import { UsageError } from '../../../src/host/errors.js';

// Stand-ins for UML binaries: `--help` lists the __uml_help texts compiled into the kernel.
const dir = mkdtempSync(join(tmpdir(), 'net-test-tt-'));
const fake = (name: string, help: string): string => {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\ncat <<'EOF'\n${help}\nEOF\n`);
  chmodSync(p, 0o755);
  return p;
};
const withTt = fake('with', 'umid=<name>\n    ...\ntime-travel\nThis option just enables basic time travel mode, ...\n\ntime-travel=inf-cpu\n');
const without = fake('without', 'umid=<name>\n    ...\nmem=<Amount of desired ram>\n    This controls how much time-travel ...\n');
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a kernel has time-travel when its --help documents the time-travel argument', () => {
  assert.equal(hasTimeTravel(withTt), true);
  assert.equal(hasTimeTravel(without), false, 'the word inside other help text does not count');
  assert.equal(hasTimeTravel(join(dir, 'missing')), false);
});

test('time-travel: on by default where the kernel has it, off on request, an error when insisted on without it', () => {
  const base = { cmdline: [], interactive: false };
  assert.deepEqual(chooseTimeTravel({ ...base, kernel: withTt, want: undefined }).args, ['time-travel']);
  assert.deepEqual(chooseTimeTravel({ ...base, kernel: without, want: undefined }), { on: false, args: [], why: 'the kernel has no CONFIG_UML_TIME_TRAVEL_SUPPORT' });
  assert.equal(chooseTimeTravel({ ...base, kernel: withTt, want: false }).on, false);
  assert.deepEqual(chooseTimeTravel({ ...base, kernel: withTt, want: true }).args, ['time-travel']);
  assert.throws(() => chooseTimeTravel({ ...base, kernel: without, want: true }), (e) => e instanceof UsageError && /CONFIG_UML_TIME_TRAVEL_SUPPORT/.test(e.message));
  // An interactive shell waits for keystrokes: real time unless asked.
  assert.equal(chooseTimeTravel({ kernel: withTt, want: undefined, cmdline: [], interactive: true }).on, false);
  assert.equal(chooseTimeTravel({ kernel: withTt, want: true, cmdline: [], interactive: true }).on, true);
  // --host-net: the host's side of the taps answers in real time.
  assert.deepEqual(chooseTimeTravel({ ...base, kernel: withTt, want: undefined, hostNet: true }).on, false);
  assert.equal(chooseTimeTravel({ ...base, kernel: withTt, want: true, hostNet: true }).on, true);
  // The user's own time-travel argument wins and is not doubled.
  assert.deepEqual(chooseTimeTravel({ kernel: without, want: undefined, cmdline: ['time-travel=inf-cpu'], interactive: false }), { on: true, args: [], why: 'time-travel=inf-cpu on --cmdline' });
});
