// The selftests profile against linux-source-6.1's own tools/testing/selftests/net/config:
// config only (defconfig + olddefconfig, seconds, no compile). With --selftests, everything the
// selftests ask for takes effect except what UML cannot have; without it, 17 options do not.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI } from '../helpers/cli.js';

const TREE = join(process.env.NET_TEST_CACHE ?? '/var/cache/net-test', 'linux-source-6.1');
const NET_CONFIG = join(TREE, 'tools/testing/selftests/net/config');
const skip = existsSync(NET_CONFIG) ? false : `no ${NET_CONFIG} (src/host/kernel/ci-kernel.sh unpacks linux-source-6.1)`;

function configOnly(extra: string[]): { status: number | null; stderr: string } {
  const dir = mkdtempSync('/var/tmp/net-test-selftests-config-');
  try {
    const r = spawnSync(process.execPath, [CLI, 'build', '--kernel-dir', TREE, '--build-dir', dir, '--config-only', '--config', NET_CONFIG, ...extra], { encoding: 'utf8', timeout: 5 * 60_000 });
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const unmet = (stderr: string) => [...stderr.matchAll(/^\s+(CONFIG_\w+)=/gm)].map((m) => m[1]).sort();

describe('the selftests kernel profile', { skip }, () => {
  it('with --selftests, only what UML cannot have stays unmet: NUMA and the module-only test modules', () => {
    const r = configOnly(['--selftests']);
    assert.equal(r.status, 2, r.stderr);
    assert.deepEqual(unmet(r.stderr), ['CONFIG_NUMA', 'CONFIG_TEST_BLACKHOLE_DEV', 'CONFIG_TEST_BPF']);
  });

  it("without it, the selftests' config alone misses its dependencies on UML", () => {
    const r = configOnly([]);
    assert.equal(r.status, 2, r.stderr);
    const missing = unmet(r.stderr);
    for (const s of ['CONFIG_NET_SCH_NETEM', 'CONFIG_NET_CLS_FLOWER', 'CONFIG_MPLS_ROUTING', 'CONFIG_NETDEVSIM', 'CONFIG_TRACEPOINTS']) assert.ok(missing.includes(s), s);
  });
});
