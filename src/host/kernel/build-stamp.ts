// What the last successful build was made from, so a build with nothing to do skips Kconfig
// and make's tree walk (tens of seconds on 2 busy cores) and costs a couple of seconds.
// Safe by construction: any doubt (no stamp, a changed input, a source file newer than the
// stamp, an error while checking) means "build normally" and lets kbuild decide.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { ConfigItem } from './kconfig.js';

const STAMP = '.net-test-stamp.json';

export interface Stamp {
  /** Hash of everything .config is generated from (see configKey). */
  configKey: string;
  /** Hash of the .config that was built. */
  configHash: string;
  /** Warnings of that configuration (unmet options allowed by --allow-missing). */
  missing: string[];
}

export const stampPath = (buildDir: string): string => join(buildDir, STAMP);

export function hashFile(path: string): string | undefined {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : undefined;
}

/** Environment that changes what Kconfig or the compiler produce. */
const ENV = /^(?:K?C(?:PP)?FLAGS|KAFLAGS|KBUILD_.*|CC|LD|HOSTCC|HOSTCXX|HOSTCFLAGS|HOSTLDFLAGS|LLVM|LLVM_IAS|CROSS_COMPILE|KCONFIG_.*)$/;

/**
 * Hash of the inputs of .config: the requests, the UML defconfigs, the compiler, relevant
 * environment, and the size and mtime of every Kconfig file kbuild lists in auto.conf.cmd.
 * Undefined when there is no record of those files yet (before the first build).
 */
export function configKey(treeRoot: string, buildDir: string, requests: ConfigItem[]): string | undefined {
  const cmd = join(buildDir, 'include', 'config', 'auto.conf.cmd');
  if (!existsSync(cmd)) return undefined;
  const text = readFileSync(cmd, 'utf8');
  const start = text.indexOf('deps_config := \\\n');
  if (start < 0) return undefined;
  const deps = text
    .slice(start)
    .split('\n')
    .slice(1)
    .map((l) => l.trim().replace(/\s*\\$/, ''));
  const end = deps.indexOf('');
  const h = createHash('sha256');
  h.update(JSON.stringify(requests.map((r) => [r.symbol, r.value, r.optional])));
  h.update(text); // also carries kbuild's own checks (ARCH, KERNELVERSION, CC_VERSION_TEXT, ...)
  for (const dep of deps.slice(0, end < 0 ? undefined : end)) {
    const path = isAbsolute(dep) ? dep : join(treeRoot, dep);
    const st = existsSync(path) ? statSync(path) : undefined;
    h.update(`${dep}:${st ? `${st.size}:${st.mtimeMs}` : 'missing'}\n`);
  }
  const configs = join(treeRoot, 'arch', 'um', 'configs');
  for (const name of readdirSync(configs).sort()) h.update(readFileSync(join(configs, name)));
  const cc = spawnSync(process.env.CC ?? 'gcc', ['--version'], { encoding: 'utf8' });
  h.update(cc.stdout ?? String(cc.error));
  for (const key of Object.keys(process.env).filter((k) => ENV.test(k)).sort()) h.update(`${key}=${process.env[key]}\n`);
  return h.digest('hex');
}

export function readStamp(buildDir: string): Stamp | undefined {
  try {
    const s = JSON.parse(readFileSync(stampPath(buildDir), 'utf8')) as Partial<Stamp>;
    if (typeof s.configKey === 'string' && typeof s.configHash === 'string' && Array.isArray(s.missing)) {
      return { configKey: s.configKey, configHash: s.configHash, missing: s.missing.map(String) };
    }
  } catch {
    // no stamp or unreadable: build normally
  }
  return undefined;
}

/** Records a successful build; the stamp's mtime is when that make started, for sourcesChangedSince. */
export function writeStamp(buildDir: string, stamp: Stamp, makeStarted: Date): void {
  writeFileSync(stampPath(buildDir), `${JSON.stringify(stamp)}\n`);
  utimesSync(stampPath(buildDir), makeStarted, makeStarted);
}

export function removeStamp(buildDir: string): void {
  rmSync(stampPath(buildDir), { force: true });
}

/**
 * True when any file or directory in the tree (outside .git, tools/testing and the build dir) is newer than
 * the stamp (a directory changes when a file is added or removed),
 * or when that cannot be told. GNU find stops at the first hit.
 */
export function sourcesChangedSince(treeRoot: string, buildDir: string): boolean {
  // tools/testing is never part of the kernel image: building the selftests there (make -C
  // tools/testing/selftests) must not make the next kernel build run make.
  const prune = ['-path', join(treeRoot, '.git'), '-o', '-path', join(treeRoot, 'tools', 'testing')];
  const rel = relative(treeRoot, buildDir);
  if (rel && !rel.startsWith('..') && !isAbsolute(rel)) prune.push('-o', '-path', buildDir);
  const r = spawnSync(
    'find',
    [treeRoot, '(', ...prune, ')', '-prune', '-o', '-newer', stampPath(buildDir), '-print', '-quit'],
    { encoding: 'utf8' },
  );
  return r.status !== 0 || r.stdout.trim() !== '';
}
