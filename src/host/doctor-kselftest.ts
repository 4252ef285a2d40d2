// `net-test doctor`'s optional group for the kernel's selftests/net: the userland tools those
// scripts call (found one failed run at a time otherwise), and iptables-legacy for kernels
// without nf_tables' IPv4/IPv6 tables. Warnings only: net-test itself needs none of them.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface KselftestCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  optional: true;
}

/** Tool -> Debian package, as tools/testing/selftests/net (6.1) and net/forwarding call them. */
export const SELFTEST_TOOLS: Record<string, string> = {
  ip: 'iproute2',
  tc: 'iproute2',
  bridge: 'iproute2',
  ss: 'iproute2',
  ping: 'iputils-ping',
  sysctl: 'procps',
  timeout: 'coreutils',
  perl: 'perl-base',
  python3: 'python3',
  tcpdump: 'tcpdump',
  socat: 'socat',
  nc: 'netcat-openbsd',
  ethtool: 'ethtool',
  traceroute: 'traceroute',
  traceroute6: 'traceroute',
  jq: 'jq',
  uuidgen: 'uuid-runtime',
  mausezahn: 'netsniff-ng',
  iperf3: 'iperf3',
  arping: 'arping',
  ndisc6: 'ndisc6',
  smcroute: 'smcroute',
  nft: 'nftables',
  iptables: 'iptables',
  ip6tables: 'iptables',
  'iptables-legacy': 'iptables',
};

/** A user's PATH often lacks the sbin directories the guest has. */
function onPath(tool: string, path = process.env.PATH ?? ''): boolean {
  const dirs = [...path.split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  return dirs.some((d) => {
    try {
      accessSync(join(d, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function kselftestChecks(has: (tool: string) => boolean = onPath): KselftestCheck[] {
  const missing = Object.keys(SELFTEST_TOOLS).filter((t) => !has(t));
  const packages = [...new Set(missing.map((t) => SELFTEST_TOOLS[t]!))].sort();
  const total = Object.keys(SELFTEST_TOOLS).length;
  return [
    {
      name: "tools of the kernel's selftests/net (docs/KSELFTEST.md)",
      ok: missing.length === 0,
      optional: true,
      detail: missing.length === 0 ? `all ${total} present` : `${total - missing.length} of ${total} present; missing: ${missing.join(', ')} (the scripts that use them skip or fail)`,
      fix: `apt-get install -y ${packages.join(' ')}`,
    },
  ];
}
