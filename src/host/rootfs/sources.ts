// The Debian mirror a rootfs is built from: the machine's own apt configuration, never any
// other network source. Reads both formats apt reads, in apt's order: /etc/apt/sources.list,
// then sources.list.d/*.list (one-line) and *.sources (deb822), by file name.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

/** One `deb` entry: a repository URI, its suites and components. */
export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  /** Where it was configured (file, line), for messages. */
  origin: string;
}

/** One-line format: `deb [opt=val ...] URI SUITE [COMPONENT...]`; deb-src and comments ignored. */
export function parseOneLine(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    // A CD's label may hold spaces: `deb cdrom:[Debian GNU/Linux 12 ...]/ bookworm main`.
    const line = raw.replace(/#.*/, '').replace(/cdrom:\[[^\]]*\]/, 'cdrom:[]').trim();
    // Options may hold spaces only inside the brackets; drop them before splitting.
    const m = /^deb(?:\s+\[[^\]]*\])?\s+(\S+)\s+(\S+)((?:\s+\S+)*)$/.exec(line);
    if (!m) continue;
    out.push({ uri: m[1]!, suites: [m[2]!], components: m[3]!.trim().split(/\s+/).filter(Boolean), origin: `${file}:${i + 1}` });
  }
  return out;
}

/** deb822 format: stanzas of `Field: value` lines (continuations indented), blank-line separated. */
export function parseDeb822(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  let fields = new Map<string, string>();
  let last: string | undefined;
  let startLine = 1;
  const flush = (): void => {
    const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    const enabled = (fields.get('enabled') ?? 'yes').trim().toLowerCase() !== 'no';
    if (enabled && words('types').includes('deb')) {
      for (const uri of words('uris')) {
        out.push({ uri, suites: words('suites'), components: words('components'), origin: `${file}:${startLine}` });
      }
    }
    fields = new Map();
    last = undefined;
  };
  for (const [i, raw] of text.split('\n').entries()) {
    if (raw.startsWith('#')) continue;
    if (raw.trim() === '') {
      if (fields.size) flush();
      continue;
    }
    if (!fields.size) startLine = i + 1;
    if (/^\s/.test(raw)) {
      if (last) fields.set(last, `${fields.get(last) ?? ''} ${raw.trim() === '.' ? '' : raw.trim()}`);
      continue;
    }
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    last = raw.slice(0, colon).trim().toLowerCase();
    fields.set(last, raw.slice(colon + 1).trim());
  }
  if (fields.size) flush();
  return out;
}

/** Every `deb` entry the machine's apt would use, in apt's order. */
export function readAptSources(etcApt = '/etc/apt'): AptSource[] {
  const out: AptSource[] = [];
  const main = join(etcApt, 'sources.list');
  if (existsSync(main)) out.push(...parseOneLine(readFileSync(main, 'utf8'), main));
  const dir = join(etcApt, 'sources.list.d');
  const names = existsSync(dir) ? readdirSync(dir).sort() : [];
  for (const name of names) {
    const path = join(dir, name);
    // apt reads only these two extensions (and ignores unreadable files with a warning).
    let text: string;
    try {
      if (!name.endsWith('.list') && !name.endsWith('.sources')) continue;
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    out.push(...(name.endsWith('.list') ? parseOneLine(text, path) : parseDeb822(text, path)));
  }
  return out;
}

/** Security archives carry only updates, not a whole suite: never a debootstrap mirror. */
export function isSecurityArchive(s: AptSource): boolean {
  return /security/i.test(s.uri) || s.suites.some((x) => /-security$|\/updates$/.test(x));
}

/** URI schemes debootstrap can fetch from (no cdrom:, mirror+, tor+ ...). */
const USABLE = /^(?:https?|ftp|file):\/\//;

/**
 * The mirror to debootstrap `suite` from: the first configured `deb` URI listing that suite
 * with component main, not a security archive. Throws a UsageError (exit 2) naming what was found.
 */
export function findMirror(suite: string, etcApt = '/etc/apt'): string {
  const sources = readAptSources(etcApt);
  const hit = sources.find((s) => USABLE.test(s.uri) && !isSecurityArchive(s) && s.suites.includes(suite) && s.components.includes('main'));
  if (hit) return hit.uri.replace(/\/+$/, '');
  const seen = sources.filter((s) => !isSecurityArchive(s)).map((s) => `${s.uri} ${s.suites.join(' ')}`);
  throw new UsageError(
    `no apt source of this machine serves Debian suite "${suite}" (component main)` +
      (seen.length ? ` (configured: ${[...new Set(seen)].join('; ')})` : ` (no deb entries in ${etcApt}/sources.list or ${etcApt}/sources.list.d)`) +
      `: pick a configured suite with --suite, or add a "deb URI ${suite} main" source in ${etcApt}/sources.list.d`,
  );
}
