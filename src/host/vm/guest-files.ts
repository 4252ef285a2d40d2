// Files the host prepares once per run so the guest looks the way kselftest scripts expect,
// at no process-start cost in the guest (init copies or binds them; see src/guest/init.sh):
//   dev/      /dev/fd and /dev/std{in,out,err} links (devtmpfs makes none of them)
//   lib/modules/  /lib/modules/<release>: a distribution kernel's module directory, or for a kernel
//             we built (no modules) its modules.builtin indexed by depmod, so `modprobe X` of a
//             built-in X succeeds and modinfo knows it
//   bin/      iptables -> iptables-legacy (and friends) when the kernel has no nf_tables IPv4/IPv6
//             tables, where the host's default iptables-nft cannot work
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DISTRO_KERNEL, type Kernel } from '../kernel/locate.js';
import { guestPath } from '../prepare/bundle.js';

export interface GuestFiles {
  /** Host directory holding dev/, lib/modules/ and maybe bin/. */
  dir: string;
  /** bin/ with the iptables-legacy links, to go first on the guest's PATH (guest path). */
  binPath?: string;
  /** Why the guest keeps the host's iptables although the kernel lacks nft's IPv4/IPv6 tables. */
  iptablesNote?: string;
}

/** Where Debian's user-mode-linux package keeps the configuration of /usr/bin/linux.uml. */
const DISTRO_CONFIG = '/usr/share/doc/user-mode-linux/config.gz';
/** Debian's iptables: the same tools with the legacy (x_tables) backend. */
const LEGACY = ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'];

/** The kernel's .config text, when it can be found: beside a built kernel, or Debian's copy. */
export function kernelConfig(kernel: Kernel): string | undefined {
  try {
    if (kernel.path === DISTRO_KERNEL && existsSync(DISTRO_CONFIG)) return gunzipSync(readFileSync(DISTRO_CONFIG)).toString('utf8');
    const beside = join(dirname(kernel.path), '.config');
    if (existsSync(beside)) return readFileSync(beside, 'utf8');
  } catch {
    // unreadable: treated as unknown
  }
  return undefined;
}

/**
 * True when iptables-nft cannot work on this kernel (no nf_tables IPv4 or IPv6 family: Debian's
 * UML kernel has nf_tables without them) while the legacy x_tables can.
 */
export function needsLegacyIptables(config: string): boolean {
  const on = (s: string) => new RegExp(`^CONFIG_${s}=[ym]$`, 'm').test(config);
  return (!on('NF_TABLES_IPV4') || !on('NF_TABLES_IPV6')) && on('IP_NF_IPTABLES');
}

export function prepareGuestFiles(dir: string, kernel: Kernel): GuestFiles {
  const dev = join(dir, 'dev');
  mkdirSync(dev, { recursive: true });
  symlinkSync('/proc/self/fd', join(dev, 'fd'));
  for (const [i, name] of ['stdin', 'stdout', 'stderr'].entries()) symlinkSync(`/proc/self/fd/${i}`, join(dev, name));

  const modules = join(dir, 'lib', 'modules');
  if (kernel.moduleDir) {
    mkdirSync(modules, { recursive: true });
    // Through /host, so the link resolves on an image root too.
    symlinkSync(guestPath(kernel.moduleDir), join(modules, kernel.release));
  } else {
    const builtin = join(dirname(kernel.path), 'modules.builtin');
    if (existsSync(builtin)) {
      const rel = join(modules, kernel.release);
      mkdirSync(rel, { recursive: true });
      copyFileSync(builtin, join(rel, 'modules.builtin'));
      if (existsSync(`${builtin}.modinfo`)) copyFileSync(`${builtin}.modinfo`, join(rel, 'modules.builtin.modinfo'));
      writeFileSync(join(rel, 'modules.order'), '');
      // modprobe reads the binary index (modules.builtin.bin) that depmod makes from the list.
      // Without depmod (kmod not installed) modprobe finds nothing: built-ins stay unknown.
      // A user's PATH often lacks /usr/sbin.
      const depmod = ['/usr/sbin/depmod', '/sbin/depmod'].find((p) => existsSync(p)) ?? 'depmod';
      spawnSync(depmod, ['-b', dir, kernel.release], { stdio: 'ignore' });
    }
  }

  const config = kernelConfig(kernel);
  const out: GuestFiles = { dir };
  if (config && needsLegacyIptables(config)) {
    if (existsSync('/usr/sbin/iptables-legacy')) {
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      for (const t of LEGACY) symlinkSync(`/usr/sbin/${t.replace(/^(ip6?tables)/, '$1-legacy')}`, join(bin, t));
      out.binPath = guestPath(bin);
    } else {
      out.iptablesNote = 'this kernel has nf_tables without its IPv4/IPv6 tables, so iptables-nft fails in the guest, and iptables-legacy is not installed (apt-get install iptables)';
    }
  }
  return out;
}
