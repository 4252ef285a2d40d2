// Results as a KCIDB report (kernelci/kcidb-io, I/O schema v5.3: kcidb_io/schema/v05_03.py), the
// JSON a lab submits to KernelCI's common results database with `kcidb-submit`. One checkout and
// one build (the UML kernel that ran), then a test per file and per case. Ids start with the
// origin, a name KernelCI gives the submitting lab ($NET_TEST_KCIDB_ORIGIN, default net_test).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import type { FileResult, Verdict } from '../results/model.js';
import type { TestCase } from '../results/tap.js';
import type { RunMeta } from './run-meta.js';

export const KCIDB_VERSION = { major: 5, minor: 3 } as const;

/** What the report says of the kernel: its release and its .config's sha256 (when one is beside it). */
export interface KernelIdentity {
  release: string;
  path: string;
  configSha256: string | null;
}

/** A built kernel's .config sits in its build directory, beside the `linux` binary. */
export function kernelIdentity(path: string, release: string): KernelIdentity {
  const config = join(dirname(path), '.config');
  const configSha256 = existsSync(config) ? createHash('sha256').update(readFileSync(config)).digest('hex') : null;
  return { release, path, configSha256 };
}

type Status = 'FAIL' | 'ERROR' | 'MISS' | 'PASS' | 'DONE' | 'SKIP';

/**
 * KCIDB's statuses: FAIL says the kernel is faulty (a failed check, a crash), ERROR that the
 * test did not complete (a hang: who is at fault is unknown), MISS that the harness lost it.
 */
const FILE_STATUS: Record<Verdict, Status> = { pass: 'PASS', flaky: 'PASS', fail: 'FAIL', crash: 'FAIL', skip: 'SKIP', timeout: 'ERROR', error: 'MISS' };
const CASE_STATUS: Record<TestCase['status'], Status> = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP', todo: 'SKIP' };

const ORIGIN = /^[a-z0-9_]+$/;
/** A path component: KCIDB paths are dot-separated, so no dots (or spaces) inside one. */
const component = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || '_';
const LOG_EXCERPT_MAX = 16384;

export function toKcidb(results: FileResult[], run: RunMeta, kernel: KernelIdentity | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const origin = env.NET_TEST_KCIDB_ORIGIN ?? 'net_test';
  if (!ORIGIN.test(origin)) throw new UsageError(`NET_TEST_KCIDB_ORIGIN must be lower-case letters, digits and _ (KCIDB's origin), got ${JSON.stringify(origin)}`);
  const base = `${origin}:${run.id}`;
  const checkout = { id: `${base}:checkout`, origin, misc: { net_test_run: run.id } };
  const build = {
    id: `${base}:build`,
    origin,
    checkout_id: checkout.id,
    architecture: 'um',
    config_name: 'net-test',
    status: 'PASS' as Status,
    misc: { kernel_release: kernel?.release ?? null, config_sha256: kernel?.configSha256 ?? null },
  };
  const tests: object[] = [];
  const used = new Set<string>();
  const add = (path: string, status: Status, extra: Record<string, unknown>) => {
    let p = path;
    for (let n = 2; used.has(p); n++) p = `${path}_${n}`;
    used.add(p);
    tests.push({ id: `${base}:${p}`, build_id: build.id, origin, path: p, status, ...extra });
  };
  for (const r of results) {
    const filePath = ['net_test', ...r.display.split('/').map(component)].join('.');
    const excerpt = r.crash ? r.crash.lines.join('\n') : r.verdict !== 'pass' && r.verdict !== 'skip' ? r.output.slice(-4000) : '';
    add(filePath, FILE_STATUS[r.verdict], {
      comment: r.display,
      ...(r.durationMs !== undefined ? { duration: r.durationMs / 1000 } : {}),
      ...(excerpt ? { log_excerpt: excerpt.replace(/\0/g, '').slice(-LOG_EXCERPT_MAX) } : {}),
      misc: { verdict: r.verdict, attempts: r.attempts, exit_status: r.exitStatus ?? null, detail: r.detail ?? null, kernel_release: kernel?.release ?? null },
    });
    const walk = (cases: TestCase[], prefix: string) => {
      for (const c of cases) {
        const p = `${prefix}.${component(c.name)}`;
        if (c.children.length > 0) walk(c.children, p);
        else {
          add(p, CASE_STATUS[c.status], {
            comment: c.name,
            ...(c.durationMs !== undefined ? { duration: c.durationMs / 1000 } : {}),
            ...(c.status === 'fail' && (c.traceback ?? c.detail) ? { log_excerpt: (c.traceback ?? c.detail)!.replace(/\0/g, '').slice(-LOG_EXCERPT_MAX) } : {}),
          });
        }
      }
    };
    walk(r.cases, filePath);
  }
  return JSON.stringify({ version: KCIDB_VERSION, checkouts: [checkout], builds: [build], tests }, null, 2) + '\n';
}
