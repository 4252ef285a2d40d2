// Kernel config fragments: parse them (kernel fragment syntax plus a trailing `# optional`),
// merge them over a base .config, and check the result of olddefconfig against the request.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelSetupError } from './build-errors.js';

/** One requested option. `value` is what .config would say: y, m, a number, a quoted string, or 'n' for "is not set". */
export interface ConfigItem {
  symbol: string; // with the CONFIG_ prefix
  value: string;
  /** Exists only in some kernel versions: applied when present, never fails the build. */
  optional: boolean;
  /** Where it was asked for, for messages: `file:line` or `--configitem`. */
  source: string;
}

const SYMBOL = /^CONFIG_[A-Za-z0-9_]+$/;
const SET_LINE = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const UNSET_LINE = /^# (CONFIG_[A-Za-z0-9_]+) is not set(.*)$/;
const PLAIN_VALUE = /^(?:[ynm]|-?\d+|0x[0-9a-fA-F]+)$/;

/** Splits `value [# comment]`; a quoted value may itself contain '#'. */
function splitValue(raw: string): { value: string; comment: string } | undefined {
  const text = raw.trim();
  if (text.startsWith('"')) {
    let i = 1;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) return undefined;
    const rest = text.slice(i + 1).trim();
    if (rest && !rest.startsWith('#')) return undefined;
    return { value: text.slice(0, i + 1), comment: rest };
  }
  const m = /^(\S+)\s*(.*)$/.exec(text);
  if (!m) return undefined;
  const [, value = '', rest = ''] = m;
  if (!PLAIN_VALUE.test(value) || (rest && !rest.startsWith('#'))) return undefined;
  return { value, comment: rest };
}

const isOptional = (comment: string): boolean => /#\s*optional\b/.test(comment);

/** Parses one fragment line; undefined for blank and comment lines; throws on anything else. */
function parseLine(line: string, source: string): ConfigItem | undefined {
  const text = line.trim();
  const unset = UNSET_LINE.exec(text);
  if (unset) {
    const rest = (unset[2] ?? '').trim();
    if (rest && !rest.startsWith('#')) throw badLine(source, line);
    return { symbol: unset[1] ?? '', value: 'n', optional: isOptional(rest), source };
  }
  if (text === '' || text.startsWith('#')) return undefined;
  const set = SET_LINE.exec(text);
  const parsed = set ? splitValue(set[2] ?? '') : undefined;
  if (!set || !parsed) throw badLine(source, line);
  return { symbol: set[1] ?? '', value: parsed.value, optional: isOptional(parsed.comment), source };
}

function badLine(source: string, line: string): KernelSetupError {
  return new KernelSetupError(
    `${source}: cannot parse config line '${line.trim()}': use CONFIG_NAME=value or '# CONFIG_NAME is not set'`,
  );
}

/** Parses a fragment (or a whole .config) in kernel fragment syntax. */
export function parseFragment(text: string, name: string): ConfigItem[] {
  const items: ConfigItem[] = [];
  text.split('\n').forEach((line, i) => {
    const item = parseLine(line, `${name}:${i + 1}`);
    if (item) items.push(item);
  });
  return items;
}

/** Parses `--configitem` text: `CONFIG_X=y`, `CONFIG_X=n` (unset), `CONFIG_X="str"`, `CONFIG_X=123`. */
export function parseConfigItem(arg: string): ConfigItem {
  const eq = arg.indexOf('=');
  const symbol = eq < 0 ? arg : arg.slice(0, eq);
  const parsed = eq < 0 ? undefined : splitValue(arg.slice(eq + 1));
  if (!SYMBOL.test(symbol) || !parsed || parsed.comment) {
    throw new KernelSetupError(
      `bad --configitem '${arg}': write CONFIG_NAME=VALUE, e.g. --configitem CONFIG_IPV6=y (or =n to unset)`,
    );
  }
  return { symbol, value: parsed.value, optional: false, source: '--configitem' };
}

/** Merges requests in order: a later item for the same symbol replaces an earlier one. */
export function mergeItems(...lists: ConfigItem[][]): ConfigItem[] {
  const bySymbol = new Map<string, ConfigItem>();
  for (const item of lists.flat()) {
    bySymbol.delete(item.symbol); // keep the order of the last request (matters for choices)
    bySymbol.set(item.symbol, item);
  }
  return [...bySymbol.values()];
}

const lineFor = (item: ConfigItem): string =>
  item.value === 'n' ? `# ${item.symbol} is not set` : `${item.symbol}=${item.value}`;

/** Drops every line of `config` that sets a requested symbol and appends the requests, so Kconfig sees each once. */
export function applyItems(config: string, items: ConfigItem[]): string {
  const requested = new Set(items.map((i) => i.symbol));
  const kept = config.split('\n').filter((line) => {
    const m = SET_LINE.exec(line) ?? UNSET_LINE.exec(line);
    return !(m && requested.has(m[1] ?? ''));
  });
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  return [...kept, '', '# net-test requests', ...items.map(lineFor), ''].join('\n');
}

/** Reads a .config into symbol -> value ('n' for "is not set"). Absent symbols are not in the map. */
export function parseConfig(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = SET_LINE.exec(line);
    if (set) values.set(set[1] ?? '', set[2] ?? '');
    const unset = UNSET_LINE.exec(line);
    if (unset) values.set(unset[1] ?? '', 'n');
  }
  return values;
}

export interface Unmet {
  item: ConfigItem;
  /** The value olddefconfig settled on; undefined when the symbol is not in .config at all. */
  actual: string | undefined;
}

/** Requests that did not take effect. `m` is met by `y` (built in is stronger; we build without modules). */
export function verifyConfig(items: ConfigItem[], configText: string): Unmet[] {
  const values = parseConfig(configText);
  const unmet: Unmet[] = [];
  for (const item of items) {
    const actual = values.get(item.symbol);
    const ok =
      item.value === 'n'
        ? actual === undefined || actual === 'n'
        : actual === item.value || (item.value === 'm' && actual === 'y');
    if (!ok) unmet.push({ item, actual });
  }
  return unmet;
}

/** What Kconfig says about a symbol: whether it exists and its `depends on` lines. */
export interface SymbolInfo {
  known: boolean;
  dependsOn: string[];
}

function kconfigFiles(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && entry.name !== 'Documentation') kconfigFiles(join(dir, entry.name), out);
    } else if (entry.name.startsWith('Kconfig')) {
      out.push(join(dir, entry.name));
    }
  }
}

/** Looks the symbols up in the tree's Kconfig files (only done when something is missing). */
export function describeSymbols(kernelDir: string, symbols: string[]): Map<string, SymbolInfo> {
  const wanted = new Map(symbols.map((s) => [s.replace(/^CONFIG_/, ''), s]));
  const info = new Map<string, SymbolInfo>(symbols.map((s) => [s, { known: false, dependsOn: [] }]));
  const files: string[] = [];
  kconfigFiles(kernelDir, files);
  for (const file of files) {
    let current: SymbolInfo | undefined;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const def = /^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$/.exec(line);
      if (def) {
        const full = wanted.get(def[1] ?? '');
        current = full ? info.get(full) : undefined;
        if (current) current.known = true;
        continue;
      }
      if (/^\s*(?:endmenu|endif|endchoice|choice|menu|if|source)\b/.test(line)) current = undefined;
      const dep = current && /^\s*depends on\s+(.*)$/.exec(line);
      if (current && dep) current.dependsOn.push((dep[1] ?? '').trim());
    }
  }
  return info;
}

/** One line per unmet request, saying why. */
export function explainUnmet(unmet: Unmet[], info: Map<string, SymbolInfo>): string[] {
  return unmet.map(({ item, actual }) => {
    const want = lineFor(item);
    const about = info.get(item.symbol);
    if (about && !about.known) return `${want} (${item.source}): unknown symbol in this kernel`;
    const got = actual === undefined ? 'not available' : actual === 'n' ? 'not set' : `=${actual}`;
    const deps = about?.dependsOn.length ? `; depends on ${about.dependsOn.join(' && ')}` : '';
    return `${want} (${item.source}): ended up ${got} (unmet dependency or overridden${deps})`;
  });
}

/** The directory holding our bundled fragments (src/host/kernel/fragments, also when running from dist/). */
export function fragmentsDir(): string {
  const candidates = [
    fileURLToPath(new URL('./fragments/', import.meta.url)),
    fileURLToPath(new URL('../../../../src/host/kernel/fragments/', import.meta.url)),
  ];
  const found = candidates.find((d) => existsSync(join(d, 'net-test.config')));
  if (!found) throw new KernelSetupError(`net-test's config fragments are missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** Profiles that are one flag away, each a fragment file next to net-test.config. */
export type Profile = 'kasan' | 'time-travel' | 'debug' | 'lockdep' | 'selftests';

/** Reads and parses a fragment file, with a setup error naming the file if it cannot be read. */
export function readFragment(path: string): ConfigItem[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KernelSetupError(`cannot read config fragment ${path}: ${(e as Error).message}`);
  }
  return parseFragment(text, path);
}

/** All requests in merge order: our fragment, profiles, user fragments, then single items. */
export function collectRequests(opts: { profiles: Profile[]; configFiles: string[]; configItems: string[] }): ConfigItem[] {
  const dir = fragmentsDir();
  return mergeItems(
    readFragment(join(dir, 'net-test.config')),
    ...opts.profiles.map((p) => readFragment(join(dir, `${p}.config`))),
    ...opts.configFiles.map(readFragment),
    opts.configItems.map(parseConfigItem),
  );
}
