// `net-test rootfs build`: a Debian root filesystem image for `run --rootfs`, built with
// debootstrap from the machine's configured mirror, in four named steps:
//   1 debootstrap  minbase + what tests need (+ --packages), .debs cached across builds
//   2 configure    plain file writes in the tree (configure.ts)
//   3 mkfs         mkfs.ext4 -d: the tree becomes the image without any loop mount
//   4 install      the image renamed over OUT (atomic), OUT.stamp written
// Everything happens in a temp directory next to OUT (same filesystem, so the rename is
// atomic); OUT.log keeps the whole output; OUT.lock keeps a second build of OUT out.
//
// The image does NOT contain our guest init: init is loaded from the host at boot, so an image
// never goes stale when net-test changes.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { cacheDir } from '../cache.js';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { UsageError } from '../errors.js';
import { formatElapsed } from '../kernel/build-log.js';
import { takePidLock } from '../pid-lock.js';
import { killGroup, removeTree } from './cleanup.js';
import { configureTree, type ImageInfo } from './configure.js';
import { allPackages, checkSuite, DEFAULT_SIZE, DEFAULT_SUITE, parsePackages, parseSize, RECIPE_VERSION, readStamp, recipeKey, writeStamp } from './recipe.js';
import { findMirror } from './sources.js';
import { checkDebootstrap, checkMkfs, isRoot } from './tools.js';

export { parseSize } from './recipe.js';

export interface BuildRootfsOptions {
  /** The image to write (OUT.img); OUT.log, OUT.stamp and OUT.lock go next to it. */
  out: string;
  /** Debian suite (default bookworm). */
  suite?: string;
  /** Image size like 2G (default 2G, at least 512M). */
  size?: string;
  /** Extra packages: names, or comma/space separated lists of names. */
  packages?: string[];
  /** Rebuild even when OUT is up to date. */
  force?: boolean;
  /** Show progress on stderr (default true). */
  progress?: boolean;
  /** apt configuration directory to take the mirror from (default /etc/apt). */
  etcApt?: string;
}

export interface BuildRootfsResult {
  image: string;
  /** True when OUT was up to date and left alone. */
  reused: boolean;
  builtAt: string;
  seconds: number;
}

/** A step failed: exit status 2, and the step's name, exit status and last log lines in the message. */
export class RootfsBuildError extends UsageError {
  override name = 'RootfsBuildError';
}

/** Ctrl-C or SIGTERM during a build; cleanup has run. */
export class RootfsInterrupted extends UsageError {
  override name = 'RootfsInterrupted';
  constructor(readonly signal: NodeJS.Signals, message: string) {
    super(message);
  }
}

type Step = 'debootstrap' | 'configure' | 'mkfs' | 'install';
const STEPS: Step[] = ['debootstrap', 'configure', 'mkfs', 'install'];

/** Where debootstrap keeps downloaded .debs between builds. */
export function defaultDebCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NET_TEST_DEB_CACHE) return resolve(env.NET_TEST_DEB_CACHE);
  return join(cacheDir(env), 'rootfs', 'debs');
}

function netTestVersion(): string {
  try {
    // dist/src/host/rootfs/build.js -> the package root
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** OUT.lock (takePidLock) keeps a second build of OUT out. */
function lockImage(out: string): () => void {
  const path = `${out}.lock`;
  let lock;
  try {
    lock = takePidLock(path);
  } catch (e) {
    throw new UsageError(`cannot create ${path}: ${(e as Error).message}`);
  }
  if ('holder' in lock) throw new UsageError(`another rootfs build of ${out} is running (pid ${lock.holder}, lock ${path}): wait for it to finish`);
  return lock.release;
}

/** Counts debootstrap's package lines for the live status. */
class DebootstrapCounter {
  private fetched = new Set<string>();
  private unpacked = new Set<string>();
  private configured = new Set<string>();
  phase = 'fetching package lists';
  line(l: string): void {
    if (l.startsWith('I: Resolving dependencies')) this.phase = 'resolving dependencies';
    // Per-package lines only: "Retrieving apt 2.6.1", "Unpacking apt:amd64...", not "Unpacking the base system...".
    let m = /^I: (?:Retrieving|Validating) (\S+) \S+$/.exec(l);
    if (m) {
      this.fetched.add(m[1]!);
      this.phase = 'fetching';
    } else if ((m = /^I: (?:Unpacking|Extracting) ([a-z0-9][a-z0-9+.-]+)(?::[a-z0-9]+)?\.\.\.$/.exec(l))) {
      this.unpacked.add(m[1]!);
      this.phase = 'unpacking';
    } else if ((m = /^I: Configuring ([a-z0-9][a-z0-9+.-]+)(?::[a-z0-9]+)?\.\.\.$/.exec(l))) {
      this.configured.add(m[1]!);
      this.phase = 'configuring';
    }
  }
  toString(): string {
    return `${this.phase}: ${this.fetched.size} fetched, ${this.unpacked.size} unpacked, ${this.configured.size} configured`;
  }
}

/** The status shown while a step runs: a rewritten line on a TTY, a line every 30 s otherwise. */
function startStatus(out: NodeJS.WriteStream, label: () => string): () => void {
  const started = Date.now();
  const text = (): string => `${label()} ${formatElapsed((Date.now() - started) / 1000)}`;
  const tty = out.isTTY === true;
  const timer = tty
    ? setInterval(() => {
        const t = text();
        const width = Math.max(40, (out.columns || 80) - 1);
        out.write(`\r\x1b[K${t.length > width ? t.slice(0, width) : t}`);
      }, 250)
    : setInterval(() => out.write(`${text()}\n`), 30_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (tty) out.write('\r\x1b[K');
  };
}

/** The lines that explain a failed step: debootstrap's E: lines, else the last lines of output. */
export function failureLines(output: string[]): string[] {
  const errors = output.filter((l) => l.startsWith('E: '));
  if (errors.length) return errors.slice(-3);
  return output.filter((l) => l.trim() !== '' && !/^See .* for details/.test(l)).slice(-3);
}

/** Builds OUT from the recipe, or leaves it alone when OUT.stamp says it was built from the same one. */
export async function buildRootfs(opts: BuildRootfsOptions): Promise<BuildRootfsResult> {
  const started = Date.now();
  const show = opts.progress !== false;
  const say = (s: string): void => {
    if (show) process.stderr.write(`${s}\n`);
  };

  // Arguments first: a typo fails before anything is looked at.
  const out = resolve(opts.out);
  const suite = checkSuite(opts.suite ?? DEFAULT_SUITE);
  const size = opts.size ?? DEFAULT_SIZE;
  const sizeBytes = parseSize(size);
  const extra = parsePackages(opts.packages ?? []);
  const packages = allPackages(extra);
  if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`${out} is a directory: give the image file to write, e.g. ${join(out, 'rootfs.img')}`);
  const mirror = findMirror(suite, opts.etcApt);
  const key = recipeKey({ suite, sizeBytes, packages, mirror });

  // Up to date: keep OUT as it is, even when a --rw boot changed it since (on purpose).
  const stamp = readStamp(out);
  if (!opts.force && stamp?.key === key && existsSync(out)) {
    say(`rootfs ${out} is up to date (built ${stamp.builtAt})`);
    return { image: out, reused: true, builtAt: stamp.builtAt, seconds: (Date.now() - started) / 1000 };
  }

  if (!isRoot()) throw new UsageError('rootfs build needs root (debootstrap creates device nodes and chroots): run it with sudo');
  const debootstrap = checkDebootstrap();
  if (!debootstrap.ok || !debootstrap.path) throw new UsageError(`rootfs build needs debootstrap: ${debootstrap.detail}; ${debootstrap.fix}`);
  const mkfs = checkMkfs();
  if (!mkfs.ok || !mkfs.path) throw new UsageError(`rootfs build needs mkfs.ext4 with -d: ${mkfs.detail}; ${mkfs.fix}`);
  const outDir = dirname(out);
  try {
    if (!statSync(outDir).isDirectory()) throw new Error('not a directory');
    accessSync(outDir, constants.W_OK);
  } catch (e) {
    throw new UsageError(`cannot write the image into ${outDir} (${(e as Error).message}): create that directory or pick another OUT`);
  }
  const debCache = defaultDebCache();
  try {
    mkdirSync(debCache, { recursive: true });
  } catch (e) {
    throw new UsageError(`cannot create the .deb cache ${debCache}: ${(e as Error).message}; set NET_TEST_DEB_CACHE to a writable directory`);
  }

  const unlock = lockImage(out);
  const logPath = `${out}.log`;
  let log: WriteStream | undefined;
  let tmp: string | undefined;
  let child: ChildProcess | undefined;
  let interrupted: NodeJS.Signals | undefined;
  let step: Step = 'debootstrap';
  const onSignal = (s: NodeJS.Signals): void => {
    interrupted = s;
    if (child?.pid) void killGroup(child.pid);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  const note = (line: string): void => void log?.write(`${line}\n`);

  /** Runs one command in a process group of its own (killable as a whole); every line to the log. */
  const runCommand = (cmd: string, args: string[], onLine: (l: string) => void): Promise<{ status: number; output: string[] }> => {
    note(`$ ${cmd} ${args.join(' ')}`);
    const output: string[] = [];
    const env = { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive', PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/local/sbin:/usr/sbin:/sbin` };
    const proc = spawn(cmd, args, { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const pump = (s: NodeJS.ReadableStream): Promise<void> =>
      new Promise((done) => {
        const rl = createInterface({ input: s, crlfDelay: Infinity });
        rl.on('line', (l) => {
          note(l);
          output.push(l);
          if (output.length > 2000) output.splice(0, 1000);
          onLine(l);
        });
        rl.on('close', done);
      });
    const pumped = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
    return new Promise((done, fail) => {
      proc.on('error', fail);
      proc.on('close', (code, sig) => {
        void pumped.then(() => {
          child = undefined;
          note(`[${basename(cmd)} exited with ${code ?? sig}]`);
          done({ status: code ?? 128, output });
        });
      });
    });
  };
  const checkInterrupt = (): void => {
    if (interrupted) throw new RootfsInterrupted(interrupted, `rootfs build interrupted by ${interrupted} at step "${step}"; nothing was left behind; log: ${logPath}`);
  };
  const failed = (status: number | undefined, lines: string[]): RootfsBuildError =>
    new RootfsBuildError(
      `rootfs build failed at step "${step}"${status !== undefined ? ` (exit ${status})` : ''}: ${lines.join(' | ') || 'no output'}; full log: ${logPath}`,
    );
  const begin = (s: Step, what: string): void => {
    step = s;
    checkInterrupt();
    const text = `[${STEPS.indexOf(s) + 1}/${STEPS.length}] ${s}: ${what}`;
    say(`rootfs ${text}`);
    note(`\n== ${text} (${new Date().toISOString()})`);
  };

  let failure: unknown;
  try {
    log = createWriteStream(logPath);
    log.on('error', (e) => say(`warning: cannot write ${logPath}: ${e.message}`));
    note(`net-test ${netTestVersion()} rootfs build ${out}: suite ${suite}, size ${size}, mirror ${mirror}, recipe ${RECIPE_VERSION}, key ${key}`);
    note(`packages: ${packages.join(' ')}`);
    // A build killed without its cleanup (SIGKILL, power loss) left its temp dir: we hold the lock now.
    const prefix = `.${basename(out)}.build-`;
    for (const name of readdirSync(outDir).filter((n) => n.startsWith(prefix))) {
      const err = removeTree(join(outDir, name), note);
      if (err) throw new UsageError(`a stale build directory is in the way: ${err}`);
    }
    tmp = mkdtempSync(join(outDir, prefix));
    const root = join(tmp, 'root');
    const image = join(tmp, basename(out));
    mkdirSync(root);

    begin('debootstrap', `${suite} from ${mirror} (minbase + ${packages.length} packages; .debs cached in ${debCache})`);
    const counter = new DebootstrapCounter();
    const stopStatus = show ? startStatus(process.stderr, () => `rootfs debootstrap ${counter.toString()}`) : () => undefined;
    let boot: { status: number; output: string[] };
    try {
      boot = await runCommand(
        debootstrap.path,
        ['--variant=minbase', `--cache-dir=${debCache}`, `--include=${packages.join(',')}`, suite, root, mirror],
        (l) => counter.line(l),
      );
    } finally {
      stopStatus();
    }
    checkInterrupt();
    if (boot.status !== 0) {
      // debootstrap's own log lives in the tree about to be removed: keep it in ours.
      const inner = join(root, 'debootstrap', 'debootstrap.log');
      if (existsSync(inner)) note(`--- ${inner}\n${readFileSync(inner, 'utf8')}--- end of debootstrap.log`);
      throw failed(boot.status, failureLines(boot.output));
    }
    say(`rootfs debootstrap done: ${counter.toString().replace(/^[^:]*: /, '')} (${formatElapsed((Date.now() - started) / 1000)})`);

    begin('configure', 'hostname, hosts, resolv.conf, sysctl, network/interfaces, dhclient, apt sources, image.json');
    const builtAt = new Date().toISOString();
    const info: ImageInfo = { suite, size, packages, extraPackages: extra, mirror, recipe: RECIPE_VERSION, netTestVersion: netTestVersion(), builtAt };
    try {
      configureTree(root, info);
    } catch (e) {
      throw failed(undefined, [(e as Error).message]);
    }

    begin('mkfs', `ext4 image of ${size}, labelled net-test`);
    // e2fsprogs 1.47 turns on orphan_file, which kernels before 5.15 cannot mount read-write:
    // the kernel under test may be older than the host's.
    const features = mkfs.version && mkfs.version[0] === 1 && mkfs.version[1] >= 47 ? ['-O', '^orphan_file'] : [];
    const mk = await runCommand(mkfs.path, ['-q', '-F', '-L', 'net-test', ...features, '-d', root, image, `${sizeBytes / 1024}k`], () => undefined);
    checkInterrupt();
    if (mk.status !== 0) throw failed(mk.status, failureLines(mk.output));

    begin('install', out);
    renameSync(image, out);
    writeStamp(out, { key, builtAt, recipe: RECIPE_VERSION, suite, size, packages, mirror });
    const seconds = (Date.now() - started) / 1000;
    note(`built ${out} in ${seconds.toFixed(1)} s`);
    say(`rootfs built ${out} (${formatElapsed(seconds)}; log ${logPath})`);
    return { image: out, reused: false, builtAt, seconds };
  } catch (e) {
    failure = e;
    if (e instanceof UsageError) note(`net-test: ${e.message}`);
    else note(`net-test: ${(e as Error).message ?? String(e)}`);
    if (e instanceof Error && !(e instanceof UsageError)) {
      // spawn failures and file errors: still one line naming the step
      throw failed(undefined, [e.message]);
    }
    throw e;
  } finally {
    // Order matters: no process may still write in the tree, nothing may be mounted in it.
    if (child?.pid) await killGroup(child.pid);
    const left = tmp ? removeTree(tmp, note) : undefined;
    for (const s of signals) process.off(s, onSignal);
    unlock();
    if (log) {
      const open = log;
      await new Promise((r) => open.end(r));
    }
    if (left) {
      // Cleanup itself failed: that is what the user must act on first.
      // eslint-disable-next-line no-unsafe-finally
      throw new UsageError(`${failure instanceof Error ? `${failure.message}; ` : ''}cleanup failed: ${left}`);
    }
  }
}
