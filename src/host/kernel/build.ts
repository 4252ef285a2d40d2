// Build the kernel under test as user-mode Linux: configure (defconfig + our fragment + the user's
// requests, verified), then make, out of tree by default, touching .config only when it changed
// so that a build with nothing to do costs seconds.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { cacheDir } from '../cache.js';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { KernelCompileError, KernelSetupError } from './build-errors.js';
import { configKey, hashFile, readStamp, removeStamp, sourcesChangedSince, writeStamp } from './build-stamp.js';
import { extractErrors, formatElapsed, startProgress, type Progress } from './build-log.js';
import { collectRequests, describeSymbols, explainUnmet, verifyConfig, applyItems, type ConfigItem, type Profile } from './kconfig.js';
import { requireCleanForOutOfTree, requireKernelTree, type KernelTree } from './tree.js';
import { takePidLock } from '../pid-lock.js';

export interface BuildKernelOptions {
  /** The kernel source tree (must contain arch/um). */
  kernelDir: string;
  /** Where objects go (make O=). Default: a per-tree directory under the user's cache. Equal to kernelDir = in-tree build. */
  buildDir?: string;
  /** make -j; default: the number of CPUs. */
  jobs?: number;
  /** User fragments, merged after ours in order (kernel fragment syntax; a whole .config works too). */
  configFiles?: string[];
  /** Single options, `CONFIG_X=y` (or `=n` to unset), merged last. */
  configItems?: string[];
  /** Warn instead of failing when a requested option did not take effect. */
  allowMissing?: boolean;
  kasan?: boolean;
  timeTravel?: boolean;
  debugInfo?: boolean;
  lockdep?: boolean;
  /** What the kernel's tools/testing/selftests/net scripts need (fragments/selftests.config). */
  selftests?: boolean;
  /** Stop after writing and verifying .config (no compilation). */
  configOnly?: boolean;
  /** Pass make's output through instead of showing a status line. */
  verbose?: boolean;
  /** Show progress and warnings (default true); progress and warnings go to stderr. */
  progress?: boolean;
}

export interface BuildKernelResult {
  /** The bootable UML binary (`<buildDir>/linux`). */
  kernel: string;
  buildDir: string;
  /** The `.config` the kernel was built with. */
  config: string;
  /** The full log of this run (config steps and make). */
  log: string;
  /** Kernel version of the tree, e.g. 6.1.192. */
  version: string;
  /** True when the kernel binary was (re)linked by this call. */
  rebuilt: boolean;
  /** True when .config was rewritten by this call. */
  configChanged: boolean;
  /** Requested options that did not take effect (only non-empty with allowMissing; optional ones are not listed). */
  missing: string[];
  seconds: number;
}

/** Default build directory for a tree: outside it, one per tree, in net-test's cache. */
export function defaultBuildDir(treeRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256').update(treeRoot).digest('hex').slice(0, 16);
  return join(cacheDir(env), 'build', hash);
}

export const LOG_NAME = 'net-test-build.log';
const LOCK_NAME = '.net-test-build.lock';
const TMP_CONFIG = '.config.net-test';

function profilesOf(opts: BuildKernelOptions): Profile[] {
  const profiles: Profile[] = [];
  if (opts.kasan) profiles.push('kasan');
  if (opts.timeTravel) profiles.push('time-travel');
  if (opts.debugInfo) profiles.push('debug');
  if (opts.lockdep) profiles.push('lockdep');
  if (opts.selftests) profiles.push('selftests');
  return profiles;
}

/** One build per build directory at a time (takePidLock): waits for a live holder. */
async function lockBuildDir(buildDir: string, say: (s: string) => void): Promise<() => void> {
  const path = join(buildDir, LOCK_NAME);
  let announced = false;
  for (;;) {
    const lock = takePidLock(path);
    if ('release' in lock) return lock.release;
    if (!announced) say(`waiting for another net-test build in ${buildDir} (pid ${lock.holder})`);
    announced = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Runs make in the tree, every output line to the log (and to `onLine`); resolves with the exit status. */
function runMake(tree: KernelTree, args: string[], log: WriteStream, onLine?: (line: string) => void): Promise<number> {
  log.write(`$ make ${args.join(' ')}\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  delete env.KCONFIG_CONFIG;
  const child = spawn('make', args, { cwd: tree.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pump = (stream: NodeJS.ReadableStream): Promise<void> =>
    new Promise((done) => {
      const rl = createInterface({ input: stream, crlfDelay: Infinity });
      rl.on('line', (line) => {
        log.write(`${line}\n`);
        onLine?.(line);
      });
      rl.on('close', done);
    });
  const output = Promise.all([pump(child.stdout), pump(child.stderr)]);
  return new Promise((done, fail) => {
    child.on('error', (e) =>
      fail(
        (e as NodeJS.ErrnoException).code === 'ENOENT'
          ? new KernelSetupError('make is not installed: apt-get install -y make gcc bc flex bison')
          : e,
      ),
    );
    child.on('close', (code, signal) => {
      void output.then(() => {
        log.write(`[make exited with ${code ?? signal}]\n`);
        done(code ?? 128);
      });
    });
  });
}

const mtimeOf = (path: string): number | undefined => (existsSync(path) ? statSync(path).mtimeMs : undefined);

/**
 * Writes `<buildDir>/.config` from defconfig + requests, via a scratch config file so that an
 * unchanged result leaves .config (and its timestamp) alone. Returns whether .config changed.
 */
async function configure(
  tree: KernelTree,
  buildDir: string,
  outOfTree: string[],
  requests: ConfigItem[],
  opts: BuildKernelOptions,
  log: WriteStream,
  say: (s: string) => void,
): Promise<{ changed: boolean; missing: string[] }> {
  const tmp = join(buildDir, TMP_CONFIG);
  const config = join(buildDir, '.config');
  const kconfig = async (target: string): Promise<void> => {
    const output: string[] = [];
    const status = await runMake(tree, ['ARCH=um', ...outOfTree, `KCONFIG_CONFIG=${tmp}`, target], log, (l) => output.push(l));
    if (status !== 0) {
      const errors = extractErrors(output.join('\n'), 10);
      throw new KernelSetupError(`'make ARCH=um ${target}' failed in ${tree.root}: ${errors.at(-1) ?? ''}`, errors);
    }
  };
  try {
    await kconfig('defconfig');
    writeFileSync(tmp, applyItems(readFileSync(tmp, 'utf8'), requests));
    await kconfig('olddefconfig');
    const result = readFileSync(tmp, 'utf8');
    const unmet = verifyConfig(requests, result);
    const failing = unmet.filter((u) => !u.item.optional);
    const lines = failing.length ? explainUnmet(failing, describeSymbols(tree.root, failing.map((u) => u.item.symbol))) : [];
    if (lines.length && !opts.allowMissing) {
      const names = failing.map((u) => u.item.symbol).join(', ');
      throw new KernelSetupError(
        `${failing.length} requested kernel option(s) did not take effect in ${tree.version}: ${names}; fix or drop them, or pass --allow-missing`,
        lines,
      );
    }
    for (const line of lines) say(`warning: ${line}`);
    const changed = !existsSync(config) || readFileSync(config, 'utf8') !== result;
    if (changed) renameSync(tmp, config);
    return { changed, missing: lines };
  } finally {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.old`, { force: true });
  }
}

/** Configures and builds the UML kernel in `opts.kernelDir`; see BuildKernelOptions. */
export async function buildKernel(opts: BuildKernelOptions): Promise<BuildKernelResult> {
  const started = Date.now();
  const tree = requireKernelTree(opts.kernelDir);
  const buildDir = opts.buildDir ? resolve(opts.buildDir) : defaultBuildDir(tree.root);
  const inTree = existsSync(buildDir) && realpathSync(buildDir) === tree.root;
  if (!inTree) requireCleanForOutOfTree(tree);
  // Bad fragments and --configitem syntax fail before anything is touched.
  const requests = collectRequests({
    profiles: profilesOf(opts),
    configFiles: (opts.configFiles ?? []).map((f) => resolve(f)),
    configItems: opts.configItems ?? [],
  });
  const jobs = opts.jobs ?? availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1) throw new KernelSetupError(`bad -j ${jobs}: give a positive number of jobs`);
  const show = opts.progress !== false;
  const say = (s: string): void => {
    if (show) process.stderr.write(`${s}\n`);
  };
  try {
    mkdirSync(buildDir, { recursive: true });
  } catch (e) {
    throw new KernelSetupError(`cannot create build directory ${buildDir}: ${(e as Error).message}; pass --build-dir DIR`);
  }
  const outOfTree = inTree ? [] : [`O=${buildDir}`];
  const kernel = join(buildDir, 'linux');
  const logPath = join(buildDir, LOG_NAME);
  const config = join(buildDir, '.config');
  const unlock = await lockBuildDir(buildDir, say);
  let log: WriteStream | undefined;
  try {
    // Fast path: same inputs as the last successful build and no source file newer than it.
    const stamp = readStamp(buildDir);
    const key = stamp && !inTree ? configKey(tree.root, buildDir, requests) : undefined;
    const configHash = hashFile(config);
    const configCurrent = stamp !== undefined && key === stamp.configKey && configHash === stamp.configHash;
    const base = { kernel, buildDir, config, log: logPath, version: tree.version, configChanged: false };
    if (configCurrent && (opts.configOnly || (existsSync(kernel) && !sourcesChangedSince(tree.root, buildDir)))) {
      for (const line of stamp.missing) say(`warning: ${line}`);
      const seconds = (Date.now() - started) / 1000;
      if (!opts.configOnly) say(`up to date: ${kernel} (nothing changed since the last build, ${seconds.toFixed(1)} s)`);
      return { ...base, missing: stamp.missing, rebuilt: false, seconds };
    }

    const out = createWriteStream(logPath);
    log = out;
    const { changed, missing } = configCurrent
      ? { changed: false, missing: stamp.missing }
      : await configure(tree, buildDir, outOfTree, requests, opts, out, say);
    const result = { ...base, configChanged: changed, missing };
    if (opts.configOnly) return { ...result, rebuilt: false, seconds: (Date.now() - started) / 1000 };

    const before = mtimeOf(kernel);
    const makeStarted = new Date();
    removeStamp(buildDir);
    let progress: Progress | undefined;
    if (show) progress = startProgress(process.stderr, { label: `building UML ${tree.version}`, verbose: opts.verbose === true });
    let status: number;
    try {
      status = await runMake(tree, ['ARCH=um', ...outOfTree, `-j${jobs}`], out, (l) => progress?.line(l));
    } finally {
      progress?.stop();
    }
    const seconds = (Date.now() - started) / 1000;
    if (status !== 0) {
      await new Promise((r) => out.end(r));
      const errors = extractErrors(readFileSync(logPath, 'utf8'));
      throw new KernelCompileError(`kernel build failed after ${formatElapsed(seconds)} (full log: ${logPath})`, errors, logPath);
    }
    if (!existsSync(kernel)) {
      throw new KernelCompileError(`make succeeded but ${kernel} was not produced (full log: ${logPath})`, [], logPath);
    }
    const newKey = inTree ? undefined : configKey(tree.root, buildDir, requests);
    const builtHash = hashFile(config);
    if (newKey && builtHash) writeStamp(buildDir, { configKey: newKey, configHash: builtHash, missing }, makeStarted);
    const rebuilt = mtimeOf(kernel) !== before;
    say(`${rebuilt ? 'built' : 'up to date:'} ${kernel} (${formatElapsed(seconds)})`);
    return { ...result, rebuilt, seconds };
  } finally {
    if (log && !log.closed) {
      const open = log;
      await new Promise((r) => open.end(r));
    }
    unlock();
  }
}
