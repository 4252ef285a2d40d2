// Every ```ts block in docs/LIBRARY.md must compile against the real library.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/unit/lib/docs.test.js -> repository root
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

test('docs/LIBRARY.md examples compile', () => {
  const md = readFileSync(join(root, 'docs/LIBRARY.md'), 'utf8');
  const blocks = [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  assert.ok(blocks.length >= 6, `found ${blocks.length} examples`);

  const dir = mkdtempSync(join(tmpdir(), 'net-test-docs-'));
  try {
    // Same relative layout as a test in test/guest/lib/, so the documented imports resolve.
    symlinkSync(join(root, 'src'), join(dir, 'src'));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    mkdirSync(join(dir, 'test/guest/lib'), { recursive: true });
    const files = blocks.map((code, i) => {
      const f = `test/guest/lib/example${i}.ts`;
      writeFileSync(join(dir, f), `${code}\nexport {};\n`);
      return f;
    });
    const base = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: object };
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { ...base.compilerOptions, noEmit: true, rootDir: '.' }, files }),
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
      encoding: 'utf8',
      cwd: dir, // so tsc prints paths relative to dir
    });
    // Report only errors in the examples themselves.
    const errors = tsc.stdout.split('\n').filter((l) => l.startsWith('test/guest/lib/example'));
    assert.deepEqual(errors, [], errors.join('\n'));
    assert.ok(tsc.status === 0 || tsc.stdout.length > 0, tsc.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
