// Every ```ts block in docs/LIBRARY.md and docs/PACKET.md must compile against the real library,
// imported by package name as a test outside this repository would (node_modules/net-test is a
// link to this checkout, whose package.json "exports" name the built .d.ts files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/unit/lib/docs.test.js -> repository root
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

test('docs/LIBRARY.md and docs/PACKET.md examples compile', () => {
  const blocks = ['LIBRARY.md', 'PACKET.md'].flatMap((doc) =>
    [...readFileSync(join(root, 'docs', doc), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ name: `${doc.replace('.md', '')}-${i}`, code: m[1] ?? '' })),
  );
  assert.ok(blocks.length >= 12, `found ${blocks.length} examples`);

  const dir = mkdtempSync(join(tmpdir(), 'net-test-docs-'));
  try {
    mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
    symlinkSync(root, join(dir, 'node_modules/net-test'));
    symlinkSync(join(root, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'));
    const files = blocks.map((b) => {
      const f = `${b.name}.ts`;
      writeFileSync(join(dir, f), `${b.code}\nexport {};\n`);
      return f;
    });
    const base = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: object };
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { ...base.compilerOptions, noEmit: true, declaration: false, rootDir: '.' }, files }),
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
      encoding: 'utf8',
      cwd: dir, // so tsc prints paths relative to dir
    });
    // Report only errors in the examples themselves.
    const errors = tsc.stdout.split('\n').filter((l) => /^(LIBRARY|PACKET)-\d+\.ts/.test(l));
    assert.deepEqual(errors, [], errors.join('\n'));
    assert.ok(tsc.status === 0 || tsc.stdout.length > 0, tsc.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
