import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { encodeSockAddr } from '../../../src/lib/socket/sockaddr.js';
import { K, bind, errnoIs, errnoName, errnoNumber, SysError, isSysError, close, ifNameToIndex, socket } from '../../../src/lib/sys/index.js';

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

describe('SysError messages', () => {
  it('show socket addresses as text, and keep them decoded in args', () => {
    const fd = socket(K.AF_INET, K.SOCK_DGRAM, 0);
    try {
      // Not an address of this host (documentation range): bind fails.
      assert.throws(
        () => bind(fd, encodeSockAddr({ family: 'inet', address: '198.51.100.1', port: 7 })),
        (e: unknown) => isSysError(e, 'EADDRNOTAVAIL') && /^bind\(\d+, 198\.51\.100\.1:7\) failed/.test(e.message) && (e.args[1] as { port: number }).port === 7,
      );
    } finally {
      close(fd);
    }
  });

  it('errnoIs is the predicate assert.throws wants; isSysError takes a list', () => {
    const e = new SysError('connect', 101);
    assert.ok(errnoIs('ENETUNREACH')(e));
    assert.ok(!errnoIs('EPERM')(e));
    assert.ok(isSysError(e, ['EHOSTUNREACH', 'ENETUNREACH']));
    assert.match(new SysError('waitAddressUsable', 110, ['lo'], 'not usable within 10 ms').message, /failed: ETIMEDOUT \(110\): not usable within 10 ms$/);
  });
});
