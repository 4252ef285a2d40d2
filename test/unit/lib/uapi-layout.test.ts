// Sizes, field offsets and field sizes of every layout in src/lib/uapi.ts, compared with what
// gcc computes from the real headers in /usr/include.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as uapi from '../../../src/lib/uapi.js';
import type { Fields, StructType } from '../../../src/lib/struct.js';

interface CLayout {
  /** The C type, e.g. 'struct sockaddr_in'. */
  ctype: string;
  /** Our field name -> C member designator; null for bit-fields (offsetof cannot name them). */
  fields: Record<string, string | null>;
  /** Compile in the glibc program instead of the uapi one. */
  libc?: boolean;
}

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const C: Record<string, CLayout> = {
  sockaddr_in: {
    ctype: 'struct sockaddr_in',
    fields: { family: 'sin_family', port: 'sin_port', addr: 'sin_addr', zero: '__pad' },
  },
  sockaddr_in6: {
    ctype: 'struct sockaddr_in6',
    fields: {
      family: 'sin6_family',
      port: 'sin6_port',
      flowinfo: 'sin6_flowinfo',
      addr: 'sin6_addr',
      scopeId: 'sin6_scope_id',
    },
  },
  sockaddr_nl: {
    ctype: 'struct sockaddr_nl',
    fields: { family: 'nl_family', pad: 'nl_pad', pid: 'nl_pid', groups: 'nl_groups' },
  },
  sockaddr_ll: {
    ctype: 'struct sockaddr_ll',
    fields: {
      family: 'sll_family',
      protocol: 'sll_protocol',
      ifindex: 'sll_ifindex',
      hatype: 'sll_hatype',
      pkttype: 'sll_pkttype',
      halen: 'sll_halen',
      addr: 'sll_addr',
    },
  },
  packet_mreq: {
    ctype: 'struct packet_mreq',
    fields: { ifindex: 'mr_ifindex', type: 'mr_type', alen: 'mr_alen', address: 'mr_address' },
  },
  in_pktinfo: {
    ctype: 'struct in_pktinfo',
    fields: { ifindex: 'ipi_ifindex', specDst: 'ipi_spec_dst', addr: 'ipi_addr' },
  },
  ip_mreqn: {
    ctype: 'struct ip_mreqn',
    fields: { multiaddr: 'imr_multiaddr', address: 'imr_address', ifindex: 'imr_ifindex' },
  },
  ip_mreq_source: {
    ctype: 'struct ip_mreq_source',
    fields: { multiaddr: 'imr_multiaddr', interface: 'imr_interface', sourceaddr: 'imr_sourceaddr' },
  },
  ip_msfilter: {
    ctype: 'struct ip_msfilter',
    fields: { multiaddr: 'imsf_multiaddr', interface: 'imsf_interface', fmode: 'imsf_fmode', numsrc: 'imsf_numsrc', slist: 'imsf_slist' },
  },
  group_req: { ctype: 'struct group_req', fields: { interface: 'gr_interface', pad: null, group: 'gr_group' } },
  group_source_req: {
    ctype: 'struct group_source_req',
    fields: { interface: 'gsr_interface', pad: null, group: 'gsr_group', source: 'gsr_source' },
  },
  group_filter: {
    ctype: 'struct group_filter',
    fields: { interface: 'gf_interface', pad: null, group: 'gf_group', fmode: 'gf_fmode', numsrc: 'gf_numsrc', slist: 'gf_slist' },
  },
  in6_pktinfo: { ctype: 'struct in6_pktinfo', fields: { addr: 'ipi6_addr', ifindex: 'ipi6_ifindex' } },
  ip6_mtuinfo: { ctype: 'struct ip6_mtuinfo', fields: { addr: 'ip6m_addr', mtu: 'ip6m_mtu' } },
  ipv6_mreq: { ctype: 'struct ipv6_mreq', fields: { multiaddr: 'ipv6mr_multiaddr', ifindex: 'ipv6mr_ifindex' } },
  in6_flowlabel_req: {
    ctype: 'struct in6_flowlabel_req',
    fields: {
      dst: 'flr_dst',
      label: 'flr_label',
      action: 'flr_action',
      share: 'flr_share',
      flags: 'flr_flags',
      expires: 'flr_expires',
      linger: 'flr_linger',
      pad: '__flr_pad',
    },
  },
  sock_extended_err: {
    ctype: 'struct sock_extended_err',
    fields: {
      errno: 'ee_errno',
      origin: 'ee_origin',
      type: 'ee_type',
      code: 'ee_code',
      pad: 'ee_pad',
      info: 'ee_info',
      data: 'ee_data',
    },
  },
  ifreq_flags: { ctype: 'struct ifreq', fields: { name: 'ifr_name', flags: 'ifr_flags' } },
  ifreq_int: { ctype: 'struct ifreq', fields: { name: 'ifr_name', value: 'ifr_ifindex' } },
  ifreq_hwaddr: {
    ctype: 'struct ifreq',
    fields: { name: 'ifr_name', family: 'ifr_hwaddr.sa_family', data: 'ifr_hwaddr.sa_data' },
  },
  ifreq_addr: { ctype: 'struct ifreq', fields: { name: 'ifr_name', addr: 'ifr_addr' } },
  in6_ifreq: {
    ctype: 'struct in6_ifreq',
    fields: { addr: 'ifr6_addr', prefixlen: 'ifr6_prefixlen', ifindex: 'ifr6_ifindex' },
  },
  tun_pi: { ctype: 'struct tun_pi', fields: { flags: 'flags', proto: 'proto' } },
  timeval: { ctype: 'struct __kernel_old_timeval', fields: { sec: 'tv_sec', usec: 'tv_usec' } },
  tcp_info: {
    ctype: 'struct tcp_info',
    fields: Object.fromEntries(
      Object.keys(uapi.tcp_info.fields).map((k) => [
        k,
        k === 'wscale' || k === 'appLimitedFoFail' ? null : `tcpi_${snake(k)}`,
      ]),
    ),
  },
  msghdr: {
    ctype: 'struct msghdr',
    libc: true,
    fields: {
      name: 'msg_name',
      namelen: 'msg_namelen',
      iov: 'msg_iov',
      iovlen: 'msg_iovlen',
      control: 'msg_control',
      controllen: 'msg_controllen',
      flags: 'msg_flags',
    },
  },
  iovec: { ctype: 'struct iovec', libc: true, fields: { base: 'iov_base', len: 'iov_len' } },
  cmsghdr: {
    ctype: 'struct cmsghdr',
    libc: true,
    fields: { len: 'cmsg_len', level: 'cmsg_level', type: 'cmsg_type' },
  },
};

const UAPI_HEADERS = [
  'stddef.h',
  'sys/socket.h',
  'linux/in.h',
  'linux/in6.h',
  'linux/ipv6.h',
  'linux/netlink.h',
  'linux/if_packet.h',
  'linux/errqueue.h',
  'linux/if.h',
  'linux/if_tun.h',
  'linux/tcp.h',
  'linux/time_types.h',
];
const LIBC_HEADERS = ['stddef.h', 'sys/socket.h', 'sys/uio.h'];

function program(headers: string[], layouts: [string, CLayout][]): string {
  const lines = headers.map((h) => `#include <${h}>`);
  lines.push('#include <stdio.h>', '#define M(T, m) sizeof(((T *)0)->m)', 'int main(void) {');
  for (const [name, l] of layouts) {
    lines.push(`  printf("${name} %zu\\n", sizeof(${l.ctype}));`);
    for (const [k, m] of Object.entries(l.fields)) {
      if (m === null) continue;
      lines.push(`  printf("${name}.${k} %zu %zu\\n", offsetof(${l.ctype}, ${m}), M(${l.ctype}, ${m}));`);
    }
  }
  lines.push('  return 0;', '}');
  return lines.join('\n');
}

function compileAndRun(dir: string, tag: string, src: string): Map<string, number[]> {
  const c = join(dir, `${tag}.c`);
  const exe = join(dir, tag);
  writeFileSync(c, src);
  const cc = spawnSync('gcc', ['-o', exe, c], { encoding: 'utf8' });
  assert.equal(cc.status, 0, `gcc failed:\n${cc.stderr}`);
  const run = spawnSync(exe, [], { encoding: 'utf8' });
  assert.equal(run.status, 0);
  return new Map(
    run.stdout
      .trim()
      .split('\n')
      .map((l) => {
        const [k = '', ...nums] = l.split(' ');
        return [k, nums.map(Number)];
      }),
  );
}

const hasGcc = spawnSync('gcc', ['--version']).status === 0;

test('uapi layouts match gcc', { skip: hasGcc ? false : 'gcc not installed' }, () => {
  const layouts = uapi as unknown as Record<string, StructType<Fields>>;
  // Every exported layout must have a C counterpart here, so new ones cannot go unchecked.
  const exported = Object.entries(layouts).filter(([, v]) => v.kind === 'struct').map(([k]) => k);
  assert.deepEqual(exported.sort(), Object.keys(C).sort());

  const dir = mkdtempSync(join(tmpdir(), 'net-test-layout-'));
  try {
    const entries = Object.entries(C);
    const got = new Map([
      ...compileAndRun(dir, 'uapi', program(UAPI_HEADERS, entries.filter(([, l]) => !l.libc))),
      ...compileAndRun(dir, 'libc', program(LIBC_HEADERS, entries.filter(([, l]) => l.libc))),
    ]);
    let checked = 0;
    for (const [name, l] of entries) {
      const t = layouts[name];
      assert.ok(t, name);
      assert.equal(t.size, got.get(name)?.[0], `sizeof(${l.ctype}) for ${name}`);
      for (const [k, m] of Object.entries(l.fields)) {
        if (m === null) continue;
        const [off, size] = got.get(`${name}.${k}`) ?? [];
        assert.equal(t.offsetOf(k), off, `offsetof(${l.ctype}, ${m})`);
        assert.equal(t.fields[k]?.size, size, `sizeof ${l.ctype}.${m}`);
        checked++;
      }
    }
    assert.ok(checked > 100, `checked ${checked} fields`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
