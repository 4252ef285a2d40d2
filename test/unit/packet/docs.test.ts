// The packet docs and ls() come from the layer types: docs/PACKET.md and packet/fields.ts must be
// what scripts/packet-docs.mjs generates now, and every field a builder sets must be listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAYER_TYPES, layerInfo, ls, tcp } from '../../../src/lib/packet/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

test('docs/PACKET.md and packet/fields.ts are up to date with the types (npm run docs)', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts/packet-docs.mjs'), '--check'], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 0, r.stderr + r.stdout);
});

test('ls() lists every layer type; ls(type) every field with its default; ls(layer) its values', () => {
  const all = ls();
  for (const t of LAYER_TYPES) assert.match(all, new RegExp(`^${t}\\(\\)`, 'm'));
  for (const t of LAYER_TYPES) {
    const names = layerInfo(t).fields.map((f) => f.name);
    const text = ls(t);
    for (const n of names) assert.match(text, new RegExp(`^${n}\\??\\s`, 'm'), `${t}.${n}`);
  }
  const l = ls(tcp({ sport: 4242, flags: 'SA' }));
  assert.match(l, /^sport\s+number\s+4242\s+20$/m);
  assert.match(l, /^flags\s+string\s+SA\s+S\s+Flag letters/m);
  assert.throws(() => ls('nope' as 'tcp'), /no layer type 'nope'/);
});
