// Python test files: recognised by name or #! line, and run with the unittest hook
// (src/guest/python/sitecustomize.py) first on PYTHONPATH, so their unittest cases are reported
// one by one with no change to the tests.
import { closeSync, openSync, readSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Host path of the directory holding the hook (the guest sees it under /host). */
export const UNITTEST_HOOK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../src/guest/python');

/** A `.py` file, or an executable whose #! line names a Python interpreter. */
export function isPythonTest(path: string): boolean {
  if (extname(path) === '.py') return true;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(128);
    const n = readSync(fd, b, 0, b.length, 0);
    const first = b.subarray(0, n).toString('latin1').split('\n')[0] ?? '';
    return /^#!.*\bpython[\d.]*\b/.test(first);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Results file of test `index` in the run directory, as the guest writes it. */
export const unittestResultsName = (index: number): string => `unittest-${index}.jsonl`;

/**
 * The environment of a Python test: the hook on PYTHONPATH, its results file and, when --filter
 * applies to the file's cases, the pattern (a Python `re` pattern there: the same syntax for
 * everything but JavaScript-only constructs).
 */
export function pythonTestEnv(hookDir: string, index: number, filter: string | undefined): Record<string, string> {
  return {
    PYTHONPATH: hookDir,
    NET_TEST_UNITTEST: `/run/net-test/${unittestResultsName(index)}`,
    ...(filter !== undefined ? { NET_TEST_FILTER: filter } : {}),
  };
}
