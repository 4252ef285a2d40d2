import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractErrors, formatElapsed, kbuildStep } from '../../../src/host/kernel/build-log.js';
import { defaultBuildDir } from '../../../src/host/kernel/build.js';

describe('build log', () => {
  it('recognises kbuild step lines only', () => {
    assert.equal(kbuildStep('  CC      net/ipv4/tcp.o'), 'CC net/ipv4/tcp.o');
    assert.equal(kbuildStep('  LD      vmlinux'), 'LD vmlinux');
    assert.equal(kbuildStep('make[1]: Entering directory'), undefined);
    assert.equal(kbuildStep('net/x.c:1:2: error: boom'), undefined);
  });

  it('formats elapsed time', () => {
    assert.equal(formatElapsed(0), '0:00');
    assert.equal(formatElapsed(754.9), '12:34');
  });

  it('extracts compiler errors with their source excerpt and drops make noise', () => {
    const log = [
      '  CC      net/ipv6/route.o',
      'net/ipv6/route.c:42:2: error: #error net-test deliberate failure',
      '   42 | #error net-test deliberate failure',
      '      |  ^~~~~',
      'make[4]: *** [scripts/Makefile.build:250: net/ipv6/route.o] Error 1',
      'make[3]: *** Waiting for unfinished jobs....',
      '  CC      net/ipv6/ndisc.o',
    ].join('\n');
    assert.deepEqual(extractErrors(log), [
      'net/ipv6/route.c:42:2: error: #error net-test deliberate failure',
      '   42 | #error net-test deliberate failure',
      '      |  ^~~~~',
    ]);
  });

  it('keeps linker errors and make errors; falls back to the tail', () => {
    assert.deepEqual(extractErrors('ld: foo.o: in function `x`:\nfoo.c:(.text+0x1): undefined reference to `y`'), [
      'foo.c:(.text+0x1): undefined reference to `y`',
    ]);
    assert.deepEqual(extractErrors("make[2]: *** No rule to make target 'x.o'.  Stop."), [
      "make[2]: *** No rule to make target 'x.o'.  Stop.",
    ]);
    assert.deepEqual(extractErrors('a\nb\n'), ['a', 'b']);
  });
});

describe('defaultBuildDir', () => {
  it('lives under XDG_CACHE_HOME, one directory per tree', () => {
    const a = defaultBuildDir('/src/linux', { XDG_CACHE_HOME: '/c' });
    assert.match(a, /^\/c\/net-test\/build\/[0-9a-f]{16}$/);
    assert.notEqual(a, defaultBuildDir('/src/linux2', { XDG_CACHE_HOME: '/c' }));
    assert.match(defaultBuildDir('/src/linux', {}), /\/\.cache\/net-test\/build\//);
  });
});
