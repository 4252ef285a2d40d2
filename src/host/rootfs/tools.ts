// The host tools a rootfs build runs, found the way the build runs them (shared with doctor).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/** PATH first, then the sbin directories a non-login root shell may lack. */
export function findTool(name: string, path = process.env.PATH ?? ''): string | undefined {
  const dirs = [...path.split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // next
    }
  }
  return undefined;
}

export interface ToolCheck {
  name: string;
  ok: boolean;
  /** Path and version when found; what is wrong otherwise. */
  detail: string;
  fix: string;
  path?: string;
  /** [major, minor] when known. */
  version?: [number, number];
}

/** `mkfs.ext4 -d DIR` (populate from a directory, no mount) came with e2fsprogs 1.43. */
export function checkMkfs(): ToolCheck {
  const fix = 'apt-get install e2fsprogs (1.43 or newer)';
  const path = findTool('mkfs.ext4');
  if (!path) return { name: 'mkfs.ext4', ok: false, detail: 'not installed', fix };
  const r = spawnSync(path, ['-V'], { encoding: 'utf8', timeout: 10_000 });
  const m = /mke2fs (\d+)\.(\d+)/.exec(`${r.stdout}${r.stderr}`);
  if (!m) return { name: 'mkfs.ext4', ok: false, detail: `${path}: cannot tell its version`, fix, path };
  const version: [number, number] = [Number(m[1]), Number(m[2])];
  const ok = version[0] > 1 || (version[0] === 1 && version[1] >= 43);
  return { name: 'mkfs.ext4', ok, detail: `${path} (e2fsprogs ${m[1]}.${m[2]}${ok ? ', has -d' : ', too old for -d'})`, fix, path, version };
}

export function checkDebootstrap(): ToolCheck {
  const fix = 'apt-get install debootstrap';
  const path = findTool('debootstrap');
  if (!path) return { name: 'debootstrap', ok: false, detail: 'not installed', fix };
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const version = r.stdout?.trim().split('\n')[0] ?? '';
  return { name: 'debootstrap', ok: r.status === 0, detail: r.status === 0 ? `${path} (${version})` : `${path} does not run`, fix, path };
}

export const isRoot = (): boolean => process.getuid?.() === 0;
