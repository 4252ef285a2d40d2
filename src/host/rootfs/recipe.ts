// What a rootfs image is made of: the argument checks, the package list, and the key that
// says whether an existing image was built from the same recipe (OUT.stamp).
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

/**
 * Bump whenever the build changes what ends up in the image (packages, configure step, mkfs
 * options): every existing image is then rebuilt on its next `rootfs build`.
 */
export const RECIPE_VERSION = 1;

/**
 * What tests need in the guest: Node for the bundled TS tests (koffi's prebuilt binary needs
 * only libc), python3, the usual network tools, a DHCPv4 client and ifupdown to run it.
 */
export const BASE_PACKAGES = [
  'nodejs',
  'python3',
  'iproute2',
  'iptables',
  'nftables',
  'iputils-ping',
  'traceroute',
  'tcpdump',
  'wget',
  'isc-dhcp-client',
  'ifupdown',
  'kmod',
  'procps',
  'ca-certificates',
];

export const DEFAULT_SUITE = 'bookworm';
export const DEFAULT_SIZE = '2G';
const MIN_SIZE = 512 * 2 ** 20;
const MAX_SIZE = 2 ** 40;

/** `512M`, `2G`, `1T` (binary units) → bytes; UsageError for anything else or under 512M. */
export function parseSize(text: string): number {
  const m = /^(\d+)([MGT])$/i.exec(text.trim());
  if (!m) throw new UsageError(`bad --size "${text}": give a size like 512M or 2G`);
  const bytes = Number(m[1]) * 2 ** ({ M: 20, G: 30, T: 40 } as const)[m[2]!.toUpperCase() as 'M' | 'G' | 'T'];
  if (bytes < MIN_SIZE) throw new UsageError(`--size ${text} is too small for a Debian root filesystem: give at least 512M`);
  if (bytes > MAX_SIZE) throw new UsageError(`--size ${text} is larger than 1T: give a size like 2G`);
  return bytes;
}

/** Suite names are codenames or aliases (bookworm, trixie, sid, stable): lower-case letters. */
export function checkSuite(suite: string): string {
  if (!/^[a-z]+$/.test(suite)) throw new UsageError(`bad --suite "${suite}": give a Debian suite name like bookworm (letters only)`);
  return suite;
}

/** Debian policy 5.6.7: lower-case letters, digits, + - . ; at least two characters, alphanumeric first. */
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/** `--packages a,b c` (commas or spaces, repeatable) → names, checked, de-duplicated, in order. */
export function parsePackages(lists: string[]): string[] {
  const names = lists.flatMap((l) => l.split(/[\s,]+/)).filter(Boolean);
  for (const n of names) {
    if (!PACKAGE_NAME.test(n)) {
      throw new UsageError(`bad package name "${n}" in --packages: Debian names are lower-case letters, digits, + - . (e.g. --packages strace,ethtool)`);
    }
  }
  return [...new Set(names)];
}

/** Everything debootstrap installs on top of its minbase variant. */
export const allPackages = (extra: string[]): string[] => [...new Set([...BASE_PACKAGES, ...extra])];

export interface RecipeInputs {
  suite: string;
  sizeBytes: number;
  /** The complete --include list (base + extra); order does not matter. */
  packages: string[];
  mirror: string;
}

/** sha256 over the recipe: same inputs (package order aside) ⇒ same key. */
export function recipeKey(r: RecipeInputs): string {
  const canonical = {
    recipe: RECIPE_VERSION,
    suite: r.suite,
    size: r.sizeBytes,
    packages: [...new Set(r.packages)].sort(),
    mirror: r.mirror.replace(/\/+$/, ''),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** OUT.stamp: which recipe built OUT and when. */
export interface Stamp {
  key: string;
  builtAt: string;
  recipe: number;
  suite: string;
  size: string;
  packages: string[];
  mirror: string;
}

export const stampPath = (image: string): string => `${image}.stamp`;

export function readStamp(image: string): Stamp | undefined {
  try {
    const s = JSON.parse(readFileSync(stampPath(image), 'utf8')) as Partial<Stamp>;
    if (typeof s.key === 'string' && typeof s.builtAt === 'string') return s as Stamp;
  } catch {
    // no stamp, or unreadable: build
  }
  return undefined;
}

/** Written after the image is in place (write + rename: never a half-written stamp). */
export function writeStamp(image: string, stamp: Stamp): void {
  const tmp = `${stampPath(image)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(stamp, null, 2)}\n`);
  renameSync(tmp, stampPath(image));
}
