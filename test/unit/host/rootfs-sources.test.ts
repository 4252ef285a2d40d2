import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../../src/host/errors.js';
import { findMirror, isSecurityArchive, parseDeb822, parseOneLine, readAptSources } from '../../../src/host/rootfs/sources.js';

const root = mkdtempSync(join(tmpdir(), 'net-test-sources-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** An /etc/apt lookalike with the given files (paths relative to it). */
function etcApt(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, 'apt-'));
  mkdirSync(join(dir, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

// The file this machine has (Debian 12 cloud image layout).
const DEBIAN_SOURCES = `Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('apt sources', () => {
  it('parses the one-line format: options, comments, deb-src ignored', () => {
    const text = [
      '# comment',
      'deb-src http://src.example/debian bookworm main',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://mirror.example/debian/ bookworm main contrib # trailing',
      'deb http://security.debian.org/debian-security bookworm-security main',
      '   ',
      'deb cdrom:[Debian GNU/Linux 12]/ bookworm main',
    ].join('\n');
    const s = parseOneLine(text, 'sources.list');
    assert.deepEqual(
      s.map((x) => [x.uri, x.suites, x.components, x.origin]),
      [
        ['http://mirror.example/debian/', ['bookworm'], ['main', 'contrib'], 'sources.list:3'],
        ['http://security.debian.org/debian-security', ['bookworm-security'], ['main'], 'sources.list:4'],
        ['cdrom:[]/', ['bookworm'], ['main'], 'sources.list:6'],
      ],
    );
  });

  it('parses deb822 stanzas: several URIs and suites, continuation lines, Enabled: no, deb-src only', () => {
    const text = `# header comment
Types: deb
URIs: http://a.example/debian
 http://b.example/debian
Suites: trixie
Components: main

Types: deb
Enabled: no
URIs: http://off.example/debian
Suites: bookworm
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main
`;
    const s = parseDeb822(text, 'x.sources');
    assert.deepEqual(
      s.map((x) => [x.uri, x.suites, x.components]),
      [
        ['http://a.example/debian', ['trixie'], ['main']],
        ['http://b.example/debian', ['trixie'], ['main']],
      ],
    );
    assert.equal(parseDeb822(DEBIAN_SOURCES, 'debian.sources').length, 2);
  });

  it('reads sources.list first, then sources.list.d/*.list and *.sources by name, nothing else', () => {
    const dir = etcApt({
      'sources.list': 'deb http://one.example/debian bookworm main\n',
      'sources.list.d/b.sources': 'Types: deb\nURIs: http://three.example/debian\nSuites: bookworm\nComponents: main\n',
      'sources.list.d/a.list': 'deb http://two.example/debian bookworm main\n',
      'sources.list.d/c.list.disabled': 'deb http://never.example/debian bookworm main\n',
    });
    assert.deepEqual(
      readAptSources(dir).map((s) => s.uri),
      ['http://one.example/debian', 'http://two.example/debian', 'http://three.example/debian'],
    );
  });

  it('finds the mirror of this machine layout and skips the security archive', () => {
    const dir = etcApt({ 'sources.list.d/debian.sources': DEBIAN_SOURCES });
    assert.equal(findMirror('bookworm', dir), 'http://deb.debian.org/debian');
  });

  it('takes the first entry that serves the suite with main, and strips a trailing slash', () => {
    const dir = etcApt({
      'sources.list': [
        'deb http://security.debian.org/ bookworm/updates main',
        'deb http://deb.debian.org/debian-security bookworm-security main',
        'deb http://contrib-only.example/debian bookworm contrib',
        'deb http://other-suite.example/debian trixie main',
        'deb cdrom:[Debian GNU/Linux 12 DVD]/ bookworm main',
        'deb http://good.example/debian/ bookworm main',
        'deb http://later.example/debian bookworm main',
      ].join('\n'),
    });
    assert.equal(findMirror('bookworm', dir), 'http://good.example/debian');
    assert.equal(findMirror('trixie', dir), 'http://other-suite.example/debian');
  });

  it('recognises security archives by URI or suite', () => {
    const s = (uri: string, suite: string) => ({ uri, suites: [suite], components: ['main'], origin: 'x' });
    assert.ok(isSecurityArchive(s('http://security.debian.org/debian-security', 'bookworm-security')));
    assert.ok(isSecurityArchive(s('http://mirror.example/debian', 'bookworm-security')));
    assert.ok(isSecurityArchive(s('http://mirror.example/debian', 'buster/updates')));
    assert.ok(!isSecurityArchive(s('http://deb.debian.org/debian', 'bookworm-updates')));
  });

  it('fails with one usage line naming the suite and what is configured', () => {
    const dir = etcApt({ 'sources.list.d/debian.sources': DEBIAN_SOURCES });
    assert.throws(
      () => findMirror('trixie', dir),
      (e: unknown) =>
        e instanceof UsageError &&
        /"trixie"/.test(e.message) &&
        e.message.includes('http://deb.debian.org/debian bookworm bookworm-updates') &&
        !e.message.includes('debian-security') &&
        !e.message.includes('\n'),
    );
    const empty = etcApt({});
    assert.throws(() => findMirror('bookworm', empty), /no apt source of this machine serves Debian suite "bookworm".*no deb entries/);
  });
});
