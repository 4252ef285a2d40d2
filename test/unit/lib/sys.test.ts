import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { errnoName, errnoNumber, SysError, isSysError, close, ifNameToIndex } from '../../../src/lib/sys/index.js';

describe('errno table', () => {
  it('agrees with the C library Node was built against', () => {
    let compared = 0;
    for (const [name, n] of Object.entries(constants.errno)) {
      // Aliases: the table names each number once (EAGAIN, EDEADLK, EOPNOTSUPP).
      if (name === 'EWOULDBLOCK' || name === 'EDEADLOCK' || name === 'ENOTSUP') continue;
      assert.equal(errnoName(n), name, `${n}`);
      assert.equal(errnoNumber(name as Parameters<typeof errnoNumber>[0]), n);
      compared++;
    }
    assert.ok(compared > 70, `compared ${compared}`);
  });

  it('names unknown numbers E<n>', () => {
    assert.equal(errnoName(4095), 'E4095');
  });
});

describe('SysError', () => {
  it('carries code, errno, call and args', () => {
    const e = new SysError('connect', 101, [3, Buffer.from([2, 0])]);
    assert.equal(e.code, 'ENETUNREACH');
    assert.equal(e.errno, 101);
    assert.equal(e.call, 'connect');
    assert.equal(e.name, 'SysError');
    assert.match(e.message, /^connect\(3, <2 bytes 0200>\) failed: ENETUNREACH \(101\)$/);
    assert.ok(e instanceof Error);
    assert.ok(isSysError(e, 'ENETUNREACH'));
    assert.ok(!isSysError(e, 'EPERM'));
    assert.ok(!isSysError(new Error('x')));
  });

  it('real calls throw it with errno read right after the call', () => {
    assert.throws(() => close(-1), (e: unknown) => isSysError(e, 'EBADF') && e.call === 'close');
    assert.throws(() => ifNameToIndex('no-such-dev0'), (e: unknown) => isSysError(e, 'ENODEV'));
  });
});
