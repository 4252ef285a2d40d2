import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../src/host/errors.js';
import { allPackages, BASE_PACKAGES, checkSuite, parsePackages, recipeKey } from '../../../src/host/rootfs/recipe.js';
import { failureLines, parseSize } from '../../../src/host/rootfs/build.js';

const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n');

describe('rootfs recipe', () => {
  it('parses sizes in binary units, at least 512M', () => {
    assert.equal(parseSize('512M'), 512 * 2 ** 20);
    assert.equal(parseSize('2G'), 2 * 2 ** 30);
    assert.equal(parseSize('2g'), 2 * 2 ** 30);
    assert.equal(parseSize('1T'), 2 ** 40);
    assert.throws(() => parseSize('511M'), usage(/too small.*at least 512M/));
    assert.throws(() => parseSize('2T'), usage(/larger than 1T/));
    for (const bad of ['', '2', '2GB', '1.5G', '-1G', 'G', '2 G x', '0x10G']) assert.throws(() => parseSize(bad), usage(/bad --size/), bad);
  });

  it('accepts suite names of letters only', () => {
    for (const ok of ['bookworm', 'trixie', 'sid', 'stable']) assert.equal(checkSuite(ok), ok);
    for (const bad of ['', 'Bookworm', 'bookworm-backports', '../x', 'book worm', '12']) assert.throws(() => checkSuite(bad), usage(/bad --suite/), bad);
  });

  it('splits and checks package names (Debian policy syntax), keeping order, dropping repeats', () => {
    assert.deepEqual(parsePackages(['strace,ethtool', 'libstdc++6 g++-12', 'strace', 'python3.11']), ['strace', 'ethtool', 'libstdc++6', 'g++-12', 'python3.11']);
    assert.deepEqual(parsePackages([]), []);
    assert.deepEqual(parsePackages([',']), []);
    for (const bad of ['Strace', 'a', '-x', 'x_y', 'x;rm', 'foo:amd64', '+x', 'x/y']) {
      assert.throws(() => parsePackages([bad]), usage(/bad package name/), bad);
    }
    assert.deepEqual(allPackages(['strace', 'nodejs']), [...BASE_PACKAGES, 'strace']);
  });

  it('has a stable cache key: package order and repeats and a trailing slash do not matter', () => {
    const base = { suite: 'bookworm', sizeBytes: parseSize('2G'), packages: allPackages(['strace', 'ethtool']), mirror: 'http://deb.debian.org/debian' };
    const key = recipeKey(base);
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(recipeKey({ ...base, packages: [...base.packages].reverse() }), key);
    assert.equal(recipeKey({ ...base, packages: [...base.packages, 'strace'] }), key);
    assert.equal(recipeKey({ ...base, mirror: 'http://deb.debian.org/debian/' }), key);
    assert.equal(recipeKey({ ...base, sizeBytes: parseSize('2048M') }), key);
    // Each input changes it.
    assert.notEqual(recipeKey({ ...base, suite: 'trixie' }), key);
    assert.notEqual(recipeKey({ ...base, sizeBytes: parseSize('3G') }), key);
    assert.notEqual(recipeKey({ ...base, packages: allPackages(['strace']) }), key);
    assert.notEqual(recipeKey({ ...base, mirror: 'http://ftp.de.debian.org/debian' }), key);
  });

  it('explains a failed step with debootstrap E: lines, else the last lines', () => {
    assert.deepEqual(
      failureLines(['I: Retrieving InRelease', 'E: Couldn\'t find these debs: no-such-package-nt', 'See /x/debootstrap/debootstrap.log for details']),
      ["E: Couldn't find these debs: no-such-package-nt"],
    );
    assert.deepEqual(failureLines(['a', '', 'b', 'c', 'd', '']), ['b', 'c', 'd']);
  });
});
