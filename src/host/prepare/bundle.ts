// Turns test paths into what the guest runs: executables as they are, .ts/.js bundled with
// esbuild into one .mjs in the run directory so the guest's Node touches one file. Bundles come
// from a cache by content when nothing that went into them changed (bundle-cache.ts); esbuild
// is loaded only when something must be built.
import { accessSync, constants, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions, Plugin } from 'esbuild';
import { UsageError } from '../errors.js';
import { bundleCache } from './bundle-cache.js';
import { kselftestInfo, shebang } from './kselftest.js';

export interface TestFile {
  /** As the user wrote it. */
  display: string;
  /** Absolute host path. */
  path: string;
  kind: 'node' | 'exec';
}

const NODE_EXT = new Set(['.ts', '.mts', '.js', '.mjs']);

/** Validates test paths before anything boots. */
export function resolveTests(paths: string[], cwd: string): TestFile[] {
  if (paths.length === 0) throw new UsageError('no test given (usage: net-test run TEST [TEST...] [-- ARGS])');
  return paths.map((p) => {
    const path = resolve(cwd, p);
    if (!existsSync(path)) throw new UsageError(`test not found: ${p}`);
    if (!statSync(path).isFile()) throw new UsageError(`test is not a file: ${p}`);
    if (NODE_EXT.has(extname(path))) return { display: p, path, kind: 'node' };
    try {
      accessSync(path, constants.X_OK);
    } catch {
      // kselftest runs a collection's test that lost its x bit with its #! interpreter (run.ts).
      if (kselftestInfo(path) && shebang(path)) return { display: p, path, kind: 'exec' };
      throw new UsageError(`test is not executable: ${p} (chmod +x ${p}, or give it a .ts/.js name)`);
    }
    return { display: p, path, kind: 'exec' };
  });
}

/** Host path as the guest sees it: the host root is mounted read-only at /host. */
export const guestPath = (hostPath: string): string => `/host${hostPath}`;

/** Packages with native code cannot be bundled; they are imported from the host's copy. */
function isNative(pkgDir: string): boolean {
  if (existsSync(join(pkgDir, 'binding.gyp'))) return true;
  try {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { name?: string; gypfile?: boolean };
    return pkg.gypfile === true || pkg.name === 'koffi';
  } catch {
    return false;
  }
}

function packageDir(resolved: string, spec: string): string {
  const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
  const marker = `/node_modules/${name}/`;
  const at = resolved.lastIndexOf(marker);
  return at >= 0 ? resolved.slice(0, at + marker.length - 1) : dirname(resolved);
}

const nativeExternal: Plugin = {
  name: 'net-test-native-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return undefined;
      let resolved: string;
      try {
        resolved = createRequire(join(args.resolveDir, 'x.js')).resolve(args.path);
      } catch {
        return undefined; // let esbuild report it
      }
      if (!resolved.startsWith('/') || !isNative(packageDir(resolved, args.path))) return undefined;
      return { path: guestPath(resolved), external: true };
    });
  },
};

/** This package's root: a test anywhere imports the library as 'net-test/lib', '/packet', '/netlink'. */
const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * 'net-test' and 'net-test/<subpath>' resolve to this installation's own library sources (the
 * package.json "exports" entry's "net-test-source" condition), wherever the test lives and
 * whatever its node_modules hold: the guest runs the agent of the same version, and a test that
 * also imports the sources by path gets one copy of each module.
 */
const ownPackage: Plugin = {
  name: 'net-test-own-package',
  setup(b) {
    b.onResolve({ filter: /^net-test(\/|$)/ }, (args) => {
      const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
      const sub = `.${args.path.slice('net-test'.length)}`;
      const entry = pkg.exports[sub];
      const source = typeof entry === 'object' ? entry['net-test-source'] : undefined;
      if (source === undefined) {
        const known = Object.keys(pkg.exports).filter((k) => typeof pkg.exports[k] === 'object').map((k) => `net-test${k.slice(1)}`);
        return { errors: [{ text: `'${args.path}' is not part of net-test (it exports ${known.join(', ')})` }] };
      }
      return { path: join(PACKAGE_ROOT, source) };
    });
  },
};

/** Bundles a .ts/.js test to `outFile`; a compile error is a usage error with esbuild's message. */
export async function bundleTest(t: TestFile, outFile: string): Promise<void> {
  await bundle(t.path, t.display, outFile);
}

const AGENT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../src/guest/agent.ts');
/** The reporter the agent loads next to node's own (plain JS, used as it is). */
export const AGENT_REPORTER = resolve(dirname(AGENT), 'agent-reporter.mjs');

/** Bundles the guest agent (src/guest/agent.ts) to `outFile`. */
export async function bundleAgent(outFile: string): Promise<void> {
  await bundle(AGENT, 'the guest agent', outFile);
}

/** esbuild's options for one test or the agent: one ESM file Node runs as it is. */
export function bundleOptions(entry: string, outFile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    // Debian 12's Node (an image's, see `run --rootfs`) is 18; the host's is newer.
    target: 'node18',
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'silent',
    plugins: [ownPackage, nativeExternal],
    // Bundled CommonJS code may call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __ntCreateRequire } from 'node:module'; const require = __ntCreateRequire(import.meta.url);" },
  };
}

/** esbuild's failure as one line: where, and the first error's text. */
export function bundleError(e: unknown, display: string): UsageError {
  const errs = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] }).errors;
  const first = errs?.[0];
  const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
  return new UsageError(`cannot bundle ${display}: ${where}${first?.text ?? String(e)}`);
}

type Esbuild = typeof import('esbuild');
let loaded: Esbuild | undefined;
/** esbuild's JS API, loaded on first use (it costs a CLI start that needs no bundle time). */
export async function esbuild(): Promise<Esbuild> {
  return (loaded ??= await import('esbuild'));
}

/** Bumped when bundleOptions or the post-processing below change what a bundle looks like. */
const BUNDLE_FORMAT = 2;
const ESBUILD_VERSION = (JSON.parse(readFileSync(createRequire(import.meta.url).resolve('esbuild/package.json'), 'utf8')) as { version: string }).version;
const INLINE_MAP = /\n\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

/**
 * Makes the inline source map's sources absolute guest paths (/host/...): esbuild writes them
 * relative to the output directory, and a cached bundle is copied to another one.
 */
function absoluteSources(code: string, outDir: string): string {
  const m = INLINE_MAP.exec(code);
  if (!m) return code;
  const map = JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8')) as { sources?: string[] };
  map.sources = (map.sources ?? []).map((src) => guestPath(resolve(outDir, src)));
  return code.slice(0, m.index) + `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}

async function bundle(entry: string, display: string, outFile: string): Promise<void> {
  const cache = bundleCache();
  const key = JSON.stringify({ entry, format: BUNDLE_FORMAT, esbuild: ESBUILD_VERSION });
  if (cache.get(key, outFile)) return;
  const started = Date.now();
  let code: string;
  let inputs: string[];
  try {
    const r = await (await esbuild()).build({ ...bundleOptions(entry, outFile), write: false, metafile: true, absWorkingDir: '/' });
    code = absoluteSources(r.outputFiles[0]!.text, dirname(outFile));
    // With absWorkingDir '/', the metafile's input paths are relative to the root.
    inputs = Object.keys(r.metafile.inputs)
      .filter((p) => !p.includes(':'))
      .map((p) => resolve('/', p));
  } catch (e) {
    throw bundleError(e, display);
  }
  writeFileSync(outFile, code);
  cache.put(key, inputs, Buffer.from(code), started);
}

/** Ends esbuild's service process, so nothing of ours outlives the bundling step. */
export async function stopBundler(): Promise<void> {
  await loaded?.stop();
}

export function bundleName(index: number, t: TestFile): string {
  return `test-${index}-${basename(t.path).replace(/\.[^.]+$/, '')}.mjs`;
}
