// The FPU shim for UML on CPUs with AMX: when it is wanted, where it is built. That UML then
// runs processes on such a CPU is shown by every boot of Debian's 6.1 kernel there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildShim, shimNeeded } from '../../../src/host/vm/xstate-shim.js';

test('the shim is wanted exactly on x86_64 CPUs with AMX', { skip: process.arch !== 'x64' && 'x86_64 only' }, () => {
  assert.equal(shimNeeded('processor\t: 0\nflags\t\t: fpu sse2 avx512f amx_bf16 amx_tile amx_int8\n'), true);
  assert.equal(shimNeeded('processor\t: 0\nflags\t\t: fpu sse2 avx512f\n'), false);
  assert.equal(shimNeeded('model name\t: amx_tile in a name\nflags\t\t: fpu\n'), false);
});

test('the shim compiles once into the first writable directory and is reused', () => {
  const base = mkdtempSync(join(tmpdir(), 'nt-shim-'));
  try {
    writeFileSync(join(base, 'file'), '');
    // A path under a regular file cannot be created: the next directory is used.
    const first = buildShim([join(base, 'file', 'sub'), join(base, 'cache')]);
    assert.ok('path' in first, JSON.stringify(first));
    assert.ok(first.path.startsWith(join(base, 'cache')));
    assert.deepEqual(buildShim([join(base, 'cache')]), first);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
