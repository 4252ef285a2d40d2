import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KernelSetupError } from '../../../src/host/kernel/build-errors.js';
import {
  applyItems,
  explainUnmet,
  fragmentsDir,
  mergeItems,
  parseConfig,
  parseConfigItem,
  parseFragment,
  verifyConfig,
} from '../../../src/host/kernel/kconfig.js';

describe('parseFragment', () => {
  it('reads set, unset, optional and quoted values, skipping comments', () => {
    const items = parseFragment(
      [
        '# a comment',
        '',
        'CONFIG_A=y',
        '# CONFIG_B is not set',
        'CONFIG_C=m # optional',
        'CONFIG_D="with # hash" # optional',
        'CONFIG_E=0x10',
        '# CONFIG_F is not set # optional',
      ].join('\n'),
      'f',
    );
    assert.deepEqual(
      items.map((i) => [i.symbol, i.value, i.optional, i.source]),
      [
        ['CONFIG_A', 'y', false, 'f:3'],
        ['CONFIG_B', 'n', false, 'f:4'],
        ['CONFIG_C', 'm', true, 'f:5'],
        ['CONFIG_D', '"with # hash"', true, 'f:6'],
        ['CONFIG_E', '0x10', false, 'f:7'],
        ['CONFIG_F', 'n', true, 'f:8'],
      ],
    );
  });

  it('rejects a malformed line naming file and line', () => {
    assert.throws(() => parseFragment('CONFIG_A=y\nIPV6=y\n', 'frag.config'), (e: unknown) => {
      assert.ok(e instanceof KernelSetupError);
      assert.match(e.message, /frag\.config:2: cannot parse config line 'IPV6=y'/);
      return true;
    });
    assert.throws(() => parseFragment('CONFIG_A=yes please', 'x'), KernelSetupError);
  });

  it('parses every bundled fragment', () => {
    const dir = fragmentsDir();
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.config'))) {
      assert.ok(parseFragment(readFileSync(join(dir, name), 'utf8'), name).length > 0, name);
    }
  });
});

describe('parseConfigItem', () => {
  it('accepts CONFIG_X=value and =n', () => {
    assert.deepEqual(parseConfigItem('CONFIG_VETH=y'), {
      symbol: 'CONFIG_VETH',
      value: 'y',
      optional: false,
      source: '--configitem',
    });
    assert.equal(parseConfigItem('CONFIG_X=n').value, 'n');
    assert.equal(parseConfigItem('CONFIG_CMDLINE="a b"').value, '"a b"');
  });

  it('rejects bad syntax with a usage hint', () => {
    for (const bad of ['VETH=y', 'CONFIG_VETH', 'CONFIG_VETH=', 'CONFIG_VETH=yes', 'CONFIG_X=y # optional']) {
      assert.throws(() => parseConfigItem(bad), /bad --configitem .*CONFIG_NAME=VALUE/, bad);
    }
  });
});

describe('merge, apply and verify', () => {
  const base = ['CONFIG_A=y', '# CONFIG_B is not set', 'CONFIG_C=y', ''].join('\n');

  it('later requests win and keep their position last', () => {
    const merged = mergeItems(parseFragment('CONFIG_A=y\nCONFIG_B=y', 'one'), parseFragment('CONFIG_A=n', 'two'));
    assert.deepEqual(
      merged.map((i) => `${i.symbol}=${i.value}@${i.source}`),
      ['CONFIG_B=y@one:2', 'CONFIG_A=n@two:1'],
    );
  });

  it('replaces existing lines instead of duplicating them', () => {
    const out = applyItems(base, parseFragment('CONFIG_B=y\n# CONFIG_C is not set', 'f'));
    assert.equal(out.split('\n').filter((l) => l.includes('CONFIG_B')).length, 1);
    const values = parseConfig(out);
    assert.equal(values.get('CONFIG_A'), 'y');
    assert.equal(values.get('CONFIG_B'), 'y');
    assert.equal(values.get('CONFIG_C'), 'n');
  });

  it('lists requests that did not take effect; m is met by y; unset is met by absence', () => {
    const items = parseFragment(
      'CONFIG_A=m\n# CONFIG_NOPE is not set\nCONFIG_B=y\nCONFIG_GONE=y\nCONFIG_OPT=y # optional',
      'f',
    );
    const unmet = verifyConfig(items, base);
    assert.deepEqual(
      unmet.map((u) => [u.item.symbol, u.actual]),
      [
        ['CONFIG_B', 'n'],
        ['CONFIG_GONE', undefined],
        ['CONFIG_OPT', undefined],
      ],
    );
    const lines = explainUnmet(
      unmet.slice(0, 2),
      new Map([
        ['CONFIG_B', { known: true, dependsOn: ['NET'] }],
        ['CONFIG_GONE', { known: false, dependsOn: [] }],
      ]),
    );
    assert.match(lines[0] ?? '', /CONFIG_B=y \(f:3\): ended up not set .*depends on NET/);
    assert.match(lines[1] ?? '', /CONFIG_GONE=y \(f:4\): unknown symbol/);
  });
});
