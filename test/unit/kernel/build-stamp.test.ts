import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configKey, readStamp, sourcesChangedSince, writeStamp } from '../../../src/host/kernel/build-stamp.js';
import { parseFragment } from '../../../src/host/kernel/kconfig.js';

const root = mkdtempSync(join(tmpdir(), 'net-test-stamp-'));
const tree = join(root, 'tree');
const build = join(root, 'build');
const old = new Date('2020-01-01T00:00:00Z');

function file(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  utimesSync(path, old, old);
}

file(join(tree, 'Kconfig'), 'config NET\n');
file(join(tree, 'net', 'Kconfig'), 'config INET\n');
file(join(tree, 'arch', 'um', 'configs', 'x86_64_defconfig'), 'CONFIG_NET=y\n');
file(join(tree, 'net', 'core.c'), 'int x;\n');
file(join(build, 'include', 'config', 'auto.conf.cmd'), 'deps_config := \\\n\tnet/Kconfig \\\n\tKconfig\n\ninclude/config/auto.conf: $(deps_config)\n');

// Directories count too (a file added or removed changes them): age them like the files.
for (const dir of ['', 'net', 'arch', 'arch/um', 'arch/um/configs']) utimesSync(join(tree, dir), old, old);

after(() => rmSync(root, { recursive: true, force: true }));

describe('build stamp', () => {
  const requests = parseFragment('CONFIG_NET=y\n', 'f');

  it('configKey is stable and follows requests and Kconfig files', () => {
    const key = configKey(tree, build, requests);
    assert.ok(key);
    assert.equal(configKey(tree, build, requests), key);
    assert.notEqual(configKey(tree, build, parseFragment('CONFIG_NET=n\n', 'f')), key);
    const later = new Date('2021-01-01T00:00:00Z');
    utimesSync(join(tree, 'net', 'Kconfig'), later, later);
    assert.notEqual(configKey(tree, build, requests), key);
    assert.equal(configKey(tree, join(root, 'nowhere'), requests), undefined);
  });

  it('round-trips and notices a source file newer than the last build', () => {
    writeStamp(build, { configKey: 'k', configHash: 'h', missing: ['w'] }, new Date('2022-01-01T00:00:00Z'));
    assert.deepEqual(readStamp(build), { configKey: 'k', configHash: 'h', missing: ['w'] });
    utimesSync(join(tree, 'net', 'Kconfig'), old, old);
    assert.equal(sourcesChangedSince(tree, build), false);
    // Selftests built in the tree (make -C tools/testing/selftests) are not kernel sources.
    mkdirSync(join(tree, 'tools', 'testing', 'selftests', 'net'), { recursive: true });
    writeFileSync(join(tree, 'tools', 'testing', 'selftests', 'net', 'nettest'), 'ELF');
    utimesSync(join(tree, 'tools'), old, old);
    utimesSync(tree, old, old);
    assert.equal(sourcesChangedSince(tree, build), false);
    writeFileSync(join(tree, 'net', 'core.c'), 'int y;\n'); // mtime now
    assert.equal(sourcesChangedSince(tree, build), true);
  });
});
