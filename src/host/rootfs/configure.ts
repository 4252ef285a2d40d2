// The configure step: turns a fresh debootstrap tree into a net-test guest root with plain
// file writes (no chroot). Every write replaces the file (a symlink copied from the host, e.g.
// a systemd-resolved resolv.conf, is removed, never written through) and stays inside the tree.
//
// The image does NOT contain our guest init: the runner loads init from the host at every boot,
// so an image never goes stale when net-test changes and needs no rebuild for an update.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface ImageInfo {
  suite: string;
  size: string;
  /** Everything requested on top of minbase (base list + --packages). */
  packages: string[];
  /** Only the --packages part. */
  extraPackages: string[];
  mirror: string;
  recipe: number;
  netTestVersion: string;
  builtAt: string;
}

/** Writes `text` at `path` inside `root` as a fresh regular file. */
function put(root: string, path: string, text: string, mode = 0o644): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  const parent = realpathSync(dirname(full));
  const rel = relative(realpathSync(root), parent);
  if (rel.startsWith('..')) throw new Error(`${dirname(path)} in the new root leads outside it (to ${parent})`);
  rmSync(full, { force: true });
  writeFileSync(full, text, { mode });
  chmodSync(full, mode); // the umask must not decide
}

export const INTERFACES = `# net-test: eth0 asks DHCPv4 and takes IPv6 router advertisements (SLAAC, no privacy addresses).
auto lo
iface lo inet loopback

allow-hotplug eth0
iface eth0 inet dhcp
iface eth0 inet6 auto
\tprivext 0

source /etc/network/interfaces.d/*
`;

export const SYSCTL = `# net-test: stable addresses (no RFC 4941 privacy addresses), router advertisements accepted.
net.ipv6.conf.all.use_tempaddr = 0
net.ipv6.conf.default.use_tempaddr = 0
net.ipv6.conf.default.accept_ra = 1
`;

/** dhclient gives up after 10 s (default 60) so a network without a DHCP server never holds up a boot. */
function dhclientConf(existing: string | undefined): string {
  const kept = (existing ?? '')
    .split('\n')
    .filter((l) => !/^\s*(timeout|retry)\s/.test(l))
    .join('\n')
    .trimEnd();
  return `${kept}${kept ? '\n\n' : ''}# net-test: never block a boot waiting for a DHCP server.\ntimeout 10;\nretry 60;\n`;
}

export function configureTree(root: string, info: ImageInfo): void {
  put(root, 'etc/hostname', 'net-test\n');
  put(root, 'etc/hosts', '127.0.0.1\tlocalhost\n127.0.1.1\tnet-test\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n');
  // A regular file, not a symlink into /run: tests rewrite it.
  put(root, 'etc/resolv.conf', '# net-test: no resolver configured; tests and DHCP write this file.\n');
  put(root, 'etc/sysctl.d/60-net-test.conf', SYSCTL);
  put(root, 'etc/network/interfaces', INTERFACES);
  mkdirSync(join(root, 'etc/network/interfaces.d'), { recursive: true });
  const dhclient = join(root, 'etc/dhcp/dhclient.conf');
  put(root, 'etc/dhcp/dhclient.conf', dhclientConf(existsSync(dhclient) ? readFileSync(dhclient, 'utf8') : undefined));
  put(root, 'etc/apt/sources.list', `deb ${info.mirror} ${info.suite} main\n`);
  put(root, 'etc/net-test/image.json', `${JSON.stringify(info, null, 2)}\n`);
  // An empty machine-id: each boot (if anything generates one) gets its own.
  if (existsSync(join(root, 'etc/machine-id'))) put(root, 'etc/machine-id', '', 0o444);
  // apt-get clean: the downloaded .debs are in the host's cache already.
  for (const dir of ['var/cache/apt/archives', 'var/cache/apt/archives/partial']) {
    const full = join(root, dir);
    if (!existsSync(full)) continue;
    for (const name of readdirSync(full)) if (name.endsWith('.deb')) rmSync(join(full, name), { force: true });
  }
  for (const name of ['pkgcache.bin', 'srcpkgcache.bin']) rmSync(join(root, 'var/cache/apt', name), { force: true });
}
