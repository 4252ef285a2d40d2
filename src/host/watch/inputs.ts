// What `net-test watch` keeps an eye on: each node test's bundle with the files that went into
// it (esbuild's metafile lists them), and a directory watcher that reports changes to a set of
// files. Editors save by writing in place or by renaming a new file over the old one; watching
// the directories catches both.
import { watch, writeFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { BuildContext } from 'esbuild';
import { bundleError, bundleOptions, esbuild } from '../prepare/bundle.js';
import type { UsageError } from '../errors.js';

export interface Bundler {
  /**
   * Rebuilds the bundle into a file of its own (`<outBase>-<n>.mjs`: a run still reading the
   * previous one never sees it change); that file and the files it was made of (absolute host
   * paths), or why it failed.
   */
  build(): Promise<{ file: string; inputs: string[] } | { error: UsageError }>;
  dispose(): Promise<void>;
}

/** An incremental esbuild context for `entry`. */
export function bundler(entry: string, display: string, outBase: string, cwd: string): Bundler {
  let ctx: BuildContext<{ metafile: true; write: false }> | undefined;
  let n = 0;
  return {
    async build() {
      try {
        ctx ??= await (await esbuild()).context({ ...bundleOptions(entry, `${outBase}.mjs`), metafile: true, write: false, absWorkingDir: cwd });
        const r = await ctx.rebuild();
        const out = r.outputFiles[0];
        if (!out) throw new Error('esbuild wrote nothing');
        const file = `${outBase}-${++n}.mjs`;
        writeFileSync(file, out.contents);
        // Dependencies in node_modules change with `npm ci`, not with an edit.
        const inputs = Object.keys(r.metafile.inputs)
          .filter((p) => !p.includes('node_modules/') && !p.includes(':'))
          .map((p) => resolve(cwd, p));
        return { file, inputs };
      } catch (e) {
        return { error: bundleError(e, display) };
      }
    },
    async dispose() {
      await ctx?.dispose();
      ctx = undefined;
    },
  };
}

export interface FileWatcher {
  /** The files to report on (absolute paths); replaces the previous set. */
  set(files: Iterable<string>): void;
  close(): void;
}

/** Calls `onChange(path)` when a file of the set is written, created or renamed over. */
export function watchFiles(onChange: (path: string) => void): FileWatcher {
  const dirs = new Map<string, { watcher: FSWatcher; names: Set<string> }>();
  return {
    set(files) {
      const want = new Map<string, Set<string>>();
      for (const f of files) {
        const d = dirname(f);
        want.set(d, (want.get(d) ?? new Set()).add(basename(f)));
      }
      for (const [d, w] of dirs) {
        if (!want.has(d)) {
          w.watcher.close();
          dirs.delete(d);
        }
      }
      for (const [d, names] of want) {
        const had = dirs.get(d);
        if (had) {
          had.names = names;
          continue;
        }
        const entry = { names, watcher: undefined as unknown as FSWatcher };
        try {
          entry.watcher = watch(d, { persistent: false }, (_event, name) => {
            const n = name?.toString();
            if (n && entry.names.has(n)) onChange(resolve(d, n));
          });
          entry.watcher.on('error', () => {
            // The directory went away: nothing more to report from it.
          });
          dirs.set(d, entry);
        } catch {
          // Not watchable (gone): a later set() tries again.
        }
      }
    },
    close() {
      for (const w of dirs.values()) w.watcher.close();
      dirs.clear();
    },
  };
}
