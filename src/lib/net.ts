// Helpers around the network stack: sysctls with restore, /proc/net socket tables, interface
// lookups and link flags, running a block as another user, entering a fresh network namespace.
import { readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import * as sys from './sys/calls.js';
import { SOCK_CLOEXEC, SOCK_DGRAM } from './include/linux/net.js';
import { AF_INET, AF_INET6 } from './include/linux/socket.js';
import { O_CLOEXEC, O_RDONLY } from './include/uapi/asm-generic/fcntl.js';
import { IFF_UP } from './include/uapi/linux/if.js';
import { ARPHRD_ETHER } from './include/uapi/linux/if_arp.js';
import { CLONE_NEWNET } from './include/uapi/linux/sched.js';
import { SIOCGIFFLAGS, SIOCGIFHWADDR, SIOCGIFMTU, SIOCGIFNAME, SIOCSIFADDR, SIOCSIFFLAGS, SIOCSIFHWADDR, SIOCSIFMTU, SIOCSIFNETMASK } from './include/uapi/linux/sockios.js';
import { ifreq_addr, ifreq_flags, ifreq_hwaddr, ifreq_int, in6_ifreq } from './uapi.js';
import { bytesToIp4, bytesToIp6, formatMac, ip4ToBytes, ip6ToBytes, isIp4, parseMac } from './socket/address.js';

// ---- sysctl ----

/** 'net.ipv4.ip_forward' or 'net/ipv4/conf/eth0.100/forwarding' -> /proc/sys path. */
function sysctlPath(name: string): string {
  return `/proc/sys/${name.includes('/') ? name : name.replaceAll('.', '/')}`;
}

export const sysctl = {
  /** The value without the trailing newline. */
  get(name: string): string {
    return readFileSync(sysctlPath(name), 'utf8').replace(/\n$/, '');
  },
  /** Write a value; returns a function that writes the previous value back. */
  set(name: string, value: string | number): () => void {
    const old = sysctl.get(name);
    writeFileSync(sysctlPath(name), String(value));
    return () => writeFileSync(sysctlPath(name), old);
  },
};

/** Run `fn` with sysctls set, restoring them afterwards (in reverse order) even if it throws. */
export function withSysctl<T>(values: Readonly<Record<string, string | number>>, fn: () => T): T {
  const restores: (() => void)[] = [];
  try {
    for (const [k, v] of Object.entries(values)) restores.push(sysctl.set(k, v));
    return fn();
  } finally {
    for (const r of restores.reverse()) r();
  }
}

// ---- /proc/net socket tables ----

export type ProcNetTable = 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'udplite' | 'udplite6' | 'raw' | 'raw6' | 'icmp' | 'icmp6';

// include/net/tcp_states.h
const TCP_STATES = [
  '',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
] as const;

export interface ProcNetSocket {
  local: { address: string; port: number };
  remote: { address: string; port: number };
  /** st column; for non-TCP tables it still uses the TCP numbering (7 = CLOSE, 1 = ESTABLISHED). */
  state: number;
  stateName: string;
  txQueue: number;
  rxQueue: number;
  uid: number;
  inode: number;
  /** ref and drops columns (UDP, raw and ping tables only). */
  ref?: number;
  drops?: number;
}

/** The kernel prints each 32-bit word of the address with %08X in host order. */
function procAddr(hex: string): string {
  const b = Buffer.alloc(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) b.writeUInt32LE(parseInt(hex.slice(w * 8, w * 8 + 8), 16), w * 4);
  return b.length === 4 ? bytesToIp4(b) : bytesToIp6(b);
}

function procEndpoint(s: string): { address: string; port: number } {
  const [a = '', p = '0'] = s.split(':');
  return { address: procAddr(a), port: parseInt(p, 16) };
}

/** Parse /proc/net/<table> of the current network namespace. */
export function procNetSockets(table: ProcNetTable): ProcNetSocket[] {
  return parseProcNetSockets(readFileSync(`/proc/net/${table}`, 'utf8'), !table.startsWith('tcp'));
}

/** Parse the text of a /proc/net socket table; `refDrops`: the table has ref/pointer/drops columns. */
export function parseProcNetSockets(text: string, refDrops: boolean): ProcNetSocket[] {
  const lines = text.split('\n').slice(1);
  const out: ProcNetSocket[] = [];
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [tx = '0', rx = '0'] = (f[4] ?? '').split(':');
    const state = parseInt(f[3] ?? '0', 16);
    const row: ProcNetSocket = {
      local: procEndpoint(f[1] ?? ''),
      remote: procEndpoint(f[2] ?? ''),
      state,
      stateName: TCP_STATES[state] ?? String(state),
      txQueue: parseInt(tx, 16),
      rxQueue: parseInt(rx, 16),
      uid: Number(f[7]),
      inode: Number(f[9]),
    };
    if (refDrops && f.length >= 13) {
      row.ref = Number(f[10]);
      row.drops = Number(f[12]);
    }
    out.push(row);
  }
  return out;
}

// ---- interfaces ----

export function interfaceIndex(name: string): number {
  return sys.ifNameToIndex(name);
}

/** Run fn with a throwaway AF_INET socket, the handle the SIOC*IF* ioctls need. */
function withCtlSocket<T>(fn: (fd: number) => T, family = AF_INET): T {
  const fd = sys.socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  try {
    return fn(fd);
  } finally {
    sys.close(fd);
  }
}

export function interfaceName(ifindex: number): string {
  return withCtlSocket((fd) => {
    const req = ifreq_int.pack({ value: ifindex });
    sys.ioctl(fd, SIOCGIFNAME, req);
    return ifreq_int.unpack(req).name;
  });
}

export interface InterfaceAddress {
  family: 'inet' | 'inet6';
  address: string;
  prefixLength: number;
  scopeId: number;
}

/**
 * Addresses configured on an interface, including IPv4 alias labels ('lo:1'). Uses getifaddrs
 * on this thread, so it sees this thread's namespace.
 */
export function interfaceAddresses(name: string): InterfaceAddress[] {
  const all = Object.entries(networkInterfaces()).filter(([k]) => k === name || k.startsWith(`${name}:`));
  return all.flatMap(([, list]) => list ?? []).map((a) => ({
    family: a.family === 'IPv4' ? 'inet' : 'inet6',
    address: a.address,
    prefixLength: Number(a.cidr?.split('/')[1] ?? 0),
    scopeId: a.family === 'IPv6' ? a.scopeid : 0,
  }));
}

export function linkFlags(name: string): number {
  return withCtlSocket((fd) => {
    const req = ifreq_flags.pack({ name });
    sys.ioctl(fd, SIOCGIFFLAGS, req);
    return ifreq_flags.unpack(req).flags & 0xffff;
  });
}

/** Set or clear IFF_UP (SIOCSIFFLAGS). */
export function setLinkUp(name: string, up: boolean): void {
  withCtlSocket((fd) => {
    const req = ifreq_flags.pack({ name });
    sys.ioctl(fd, SIOCGIFFLAGS, req);
    const flags = ifreq_flags.unpack(req).flags;
    sys.ioctl(fd, SIOCSIFFLAGS, ifreq_flags.pack({ name, flags: up ? flags | IFF_UP : flags & ~IFF_UP }));
  });
}

export function linkMac(name: string): string {
  return withCtlSocket((fd) => {
    const req = ifreq_hwaddr.pack({ name });
    sys.ioctl(fd, SIOCGIFHWADDR, req);
    return formatMac(ifreq_hwaddr.unpack(req).data.subarray(0, 6));
  });
}

export function setLinkMac(name: string, mac: string): void {
  withCtlSocket((fd) => {
    sys.ioctl(fd, SIOCSIFHWADDR, ifreq_hwaddr.pack({ name, family: ARPHRD_ETHER, data: parseMac(mac) }));
  });
}

export function linkMtu(name: string): number {
  return withCtlSocket((fd) => {
    const req = ifreq_int.pack({ name });
    sys.ioctl(fd, SIOCGIFMTU, req);
    return ifreq_int.unpack(req).value;
  });
}

export function setLinkMtu(name: string, mtu: number): void {
  withCtlSocket((fd) => {
    sys.ioctl(fd, SIOCSIFMTU, ifreq_int.pack({ name, value: mtu }));
  });
}

export interface Ipv6AddressState {
  address: string;
  ifindex: number;
  prefixLength: number;
  scope: number;
  /** IFA_F_* flags (include/uapi/linux/if_addr.h): 0x40 TENTATIVE, 0x08 DADFAILED, 0x80 PERMANENT... */
  flags: number;
  name: string;
}

// include/uapi/linux/if_addr.h
const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;

/** IPv6 addresses of this namespace with their flags, from /proc/net/if_inet6. */
export function ipv6AddressStates(): Ipv6AddressState[] {
  let text = '';
  try {
    text = readFileSync('/proc/net/if_inet6', 'utf8');
  } catch {
    return []; // IPv6 not loaded yet
  }
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [hex = '', idx = '0', plen = '0', scope = '0', flags = '0', name = ''] = l.trim().split(/\s+/);
      return {
        address: bytesToIp6(Buffer.from(hex, 'hex')),
        ifindex: parseInt(idx, 16),
        prefixLength: parseInt(plen, 16),
        scope: parseInt(scope, 16),
        flags: parseInt(flags, 16),
        name,
      };
    });
}

/**
 * Wait until an IPv6 address on `ifname` has left the tentative state (DAD finished, or was
 * skipped with accept_dad=0: even then the kernel clears the flag from a work queue, so an
 * address is not usable the instant it is added). Throws if DAD fails or time runs out.
 */
export function waitIpv6Ready(ifname: string, address: string, timeoutMs = 3000): void {
  const want = bytesToIp6(ip6ToBytes(address));
  const deadline = Date.now() + timeoutMs;
  const tick = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const a = ipv6AddressStates().find((x) => x.name === ifname && x.address === want);
    if (a && a.flags & IFA_F_DADFAILED) throw new Error(`${want} on ${ifname}: duplicate address detection failed`);
    if (a && !(a.flags & IFA_F_TENTATIVE)) return;
    if (Date.now() >= deadline) {
      throw new Error(`${want} on ${ifname} ${a ? 'still tentative' : 'not present'} after ${timeoutMs} ms`);
    }
    Atomics.wait(tick, 0, 0, 10); // synchronous 10 ms sleep
  }
}

let aliasCounter = 0;

/**
 * Add an address with the SIOCSIFADDR ioctls: '192.0.2.1/24' or '2001:db8::1/64'. (Netlink is
 * the full-featured way; this keeps the core library free of it.)
 *
 * An IPv6 address starts tentative; by default this waits until it is usable (waitIpv6Ready):
 * near-instant on lo or with net.ipv6.conf.<dev>.accept_dad=0, about a second with DAD. Pass
 * { waitReady: false } to watch DAD happen instead.
 */
export function addInterfaceAddress(name: string, cidr: string, opts: { waitReady?: boolean } = {}): void {
  const [address = '', len] = cidr.split('/');
  if (isIp4(address)) {
    const prefix = Number(len ?? 32);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const maskBytes = Buffer.alloc(4);
    maskBytes.writeUInt32BE(mask);
    // SIOCSIFADDR replaces the address carrying the label it is given, so every address after
    // the first gets its own alias label (dev:nN), which adds rather than replaces.
    const hasV4 = interfaceAddresses(name).some((a) => a.family === 'inet');
    const label = hasV4 ? `${name}:n${++aliasCounter}` : name;
    withCtlSocket((fd) => {
      sys.ioctl(fd, SIOCSIFADDR, ifreq_addr.pack({ name: label, addr: { family: AF_INET, addr: ip4ToBytes(address) } }));
      sys.ioctl(fd, SIOCSIFNETMASK, ifreq_addr.pack({ name: label, addr: { family: AF_INET, addr: maskBytes } }));
    });
    return;
  }
  const req = in6_ifreq.pack({ addr: ip6ToBytes(address), prefixlen: Number(len ?? 128), ifindex: interfaceIndex(name) });
  withCtlSocket((fd) => sys.ioctl(fd, SIOCSIFADDR, req), AF_INET6);
  if (opts.waitReady ?? true) waitIpv6Ready(name, address);
}

// ---- credentials ----

/**
 * Run `fn` (synchronous) with real and effective uid (and gid, if given) switched on the main
 * thread, then switch back, even if it throws.
 *
 * This uses the raw setresuid/setresgid system calls, which change only the calling thread.
 * glibc's setresuid() would change every thread of the process (it signals them all), so
 * libuv's worker threads (file I/O, e.g. writing results) would lose root too, and a failure
 * halfway could leave threads with different credentials. Sockets created inside `fn` on the
 * main thread belong to the new uid (sk_uid comes from the creating thread's fsuid, which
 * follows euid). The saved uid stays 0 so root can be taken back; supplementary groups are
 * left alone.
 */
export function asUser<T>(uid: number, fn: () => T, opts: { gid?: number } = {}): T {
  const ruid = sys.getuid();
  const euid = sys.geteuid();
  const rgid = sys.getgid();
  const egid = sys.getegid();
  if (opts.gid !== undefined) sys.setresgidThread(opts.gid, opts.gid, -1);
  try {
    sys.setresuidThread(uid, uid, -1);
  } catch (e) {
    if (opts.gid !== undefined) sys.setresgidThread(rgid, egid, -1);
    throw e;
  }
  let result: T;
  try {
    result = fn();
  } finally {
    sys.setresuidThread(ruid, euid, -1);
    if (opts.gid !== undefined) sys.setresgidThread(rgid, egid, -1);
  }
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    throw new TypeError('asUser: fn returned a promise; credentials apply only to synchronous code');
  }
  return result;
}

// ---- network namespaces ----

/**
 * Move the calling (main) thread into a new network namespace and bring lo up. Returns a
 * function that moves it back to the namespace it was in. Sockets keep the namespace they were
 * created in.
 */
export function enterNewNetns(): () => void {
  const old = sys.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC);
  try {
    sys.unshare(CLONE_NEWNET);
    setLinkUp('lo', true);
  } catch (e) {
    sys.close(old);
    throw e;
  }
  return () => {
    try {
      sys.setns(old, CLONE_NEWNET);
    } finally {
      sys.close(old);
    }
  };
}
