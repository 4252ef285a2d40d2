// Bundles cached by content: a bundle is made again only when a file that went into it changed.
// For each entry (and the options it was built with) the cache keeps the bundle and a manifest of
// its inputs with their content hashes, in ~/.cache/net-test/bundles. A lookup hashes the inputs
// (a few ms for the library) instead of loading and running esbuild (hundreds of ms on a busy
// machine). Losing the cache costs one build; entries are written beside and renamed into place,
// so concurrent runs never read half a file.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function bundleCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cache, 'net-test', 'bundles');
}

interface Manifest {
  /** Absolute input path -> sha256 of its content when the bundle was made. */
  inputs: Record<string, string>;
  /** The bundle's file name in the cache directory. */
  bundle: string;
}

const sha = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

function hashFile(path: string): string | undefined {
  try {
    return sha(readFileSync(path));
  } catch {
    return undefined;
  }
}

/** Bundles kept: beyond this many, the least recently used half goes (a lookup then rebuilds). */
const MAX_BUNDLES = 400;

function prune(dir: string): void {
  const bundles = readdirSync(dir).filter((f) => f.endsWith('.mjs'));
  if (bundles.length < MAX_BUNDLES) return;
  const byAge = bundles.map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { f } of byAge.slice(0, bundles.length / 2)) rmSync(join(dir, f), { force: true });
}

/** Writes `data` to `path` through a temporary file and a rename. */
function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export interface BundleCache {
  /** Copies the cached bundle for `key` to `outFile` when none of its inputs changed. */
  get(key: string, outFile: string): boolean;
  /**
   * Records a bundle made from `inputs` (absolute paths) under `key`, unless an input changed
   * after `builtAfter` (epoch ms): the bundle may hold its older content.
   */
  put(key: string, inputs: string[], bundle: Uint8Array, builtAfter: number): void;
}

/** `key` names an entry and everything else the bundle depends on (options, esbuild version). */
export function bundleCache(dir = bundleCacheDir()): BundleCache {
  const manifestPath = (key: string) => join(dir, `${sha(key).slice(0, 32)}.json`);
  return {
    get(key, outFile) {
      let m: Manifest;
      try {
        m = JSON.parse(readFileSync(manifestPath(key), 'utf8')) as Manifest;
      } catch {
        return false;
      }
      for (const [path, hash] of Object.entries(m.inputs)) if (hashFile(path) !== hash) return false;
      try {
        copyFileSync(join(dir, m.bundle), outFile);
        // Used: the last to go when the cache is pruned.
        const now = new Date();
        utimesSync(join(dir, m.bundle), now, now);
        return true;
      } catch {
        return false;
      }
    },
    put(key, inputs, bundle, builtAfter) {
      try {
        mkdirSync(dir, { recursive: true });
        const hashes: Record<string, string> = {};
        for (const p of inputs) {
          if (statSync(p).mtimeMs > builtAfter) return; // changed while esbuild read it
          const h = hashFile(p);
          if (h === undefined) return; // gone already: not worth keeping
          hashes[p] = h;
        }
        prune(dir);
        const name = `${sha(bundle).slice(0, 32)}.mjs`;
        writeAtomic(join(dir, name), bundle);
        writeAtomic(manifestPath(key), JSON.stringify({ inputs: hashes, bundle: name } satisfies Manifest));
      } catch {
        // A cache that cannot be written only costs the next build.
      }
    },
  };
}
