import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kselftestChecks, SELFTEST_TOOLS } from '../../../src/host/doctor-kselftest.js';

test('missing selftest tools are one optional warning naming them and the packages to install', () => {
  const [c] = kselftestChecks((t) => !['socat', 'traceroute6', 'mausezahn'].includes(t));
  assert.equal(c!.ok, false);
  assert.equal(c!.optional, true);
  assert.match(c!.detail, /missing: socat, traceroute6, mausezahn/);
  assert.equal(c!.fix, 'apt-get install -y netsniff-ng socat traceroute');
});

test('every tool present: one passing check', () => {
  const [c] = kselftestChecks(() => true);
  assert.equal(c!.ok, true);
  assert.equal(c!.detail, `all ${Object.keys(SELFTEST_TOOLS).length} present`);
});
