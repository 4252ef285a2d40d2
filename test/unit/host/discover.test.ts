import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { UsageError } from '../../../src/host/errors.js';
import { discoverTests } from '../../../src/host/prepare/discover.js';

const FIXTURES = join(import.meta.dirname ?? '', '../../../../test/fixtures');

test('a glob picks the executables it matches; a non-executable match is skipped with a note', () => {
  const notes: string[] = [];
  const names = discoverTests(['*_test.py'], join(FIXTURES, 'unittest'), notes);
  assert.deepEqual(names, ['basic_test.py', 'fixture_test.py', 'ok_test.py']);
  assert.deepEqual(notes, ['notexec_test.py matches *_test.py but is not executable: skipped (chmod +x it to run it)']);
});

test('a glob that matches only non-executable files is a usage error that says so', () => {
  assert.throws(() => discoverTests(['notexec_*.py'], join(FIXTURES, 'unittest')), (e: unknown) => e instanceof UsageError && /none is executable/.test(e.message));
});

test('a file named on its own is left to the checks that follow (exit 2 if it cannot run)', () => {
  assert.deepEqual(discoverTests(['notexec_test.py'], join(FIXTURES, 'unittest')), ['notexec_test.py']);
});
