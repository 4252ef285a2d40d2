// Socket addresses as plain objects, their text forms, and their sockaddr encodings.
import { ifNameToIndex } from '../sys/calls.js';
import { AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNSPEC } from '../include/linux/socket.js';
import { sockaddr_in, sockaddr_in6, sockaddr_ll, sockaddr_nl } from '../uapi.js';

export interface Inet4Address {
  family: 'inet';
  address: string;
  port: number;
}
export interface Inet6Address {
  family: 'inet6';
  address: string;
  port: number;
  flowinfo: number;
  /** Interface index for link-local addresses; 0 = none. */
  scopeId: number;
}
export interface NetlinkAddress {
  family: 'netlink';
  /** Port id: 0 is the kernel (as a destination) or "assign one" (to bind). */
  pid: number;
  /** Bit mask of multicast groups 1..32 (group n is bit n-1). */
  groups: number;
}
export interface PacketAddress {
  family: 'packet';
  /** Ethertype in host order, e.g. ETH_P_IPV6. */
  protocol: number;
  ifindex: number;
  hatype: number;
  pkttype: number;
  /** Link-layer address (halen bytes). */
  addr: Buffer;
}
/** AF_UNSPEC: connect() to it dissolves a datagram socket's association. */
export interface UnspecAddress {
  family: 'unspec';
}
export type SockAddr = Inet4Address | Inet6Address | NetlinkAddress | PacketAddress | UnspecAddress;
export type InetSockAddr = Inet4Address | Inet6Address;

/**
 * What callers may write for an IP socket address:
 * '192.0.2.1', '192.0.2.1:53', '2001:db8::1', '[2001:db8::1]:53', 'fe80::1%eth0', '[fe80::1%2]:53',
 * or an object whose scopeId may be an interface name.
 */
export type InetAddressInput =
  | string
  | { address: string; port?: number; scopeId?: number | string; flowinfo?: number };
export type NetlinkAddressInput = { pid?: number; groups?: number };
export type PacketAddressInput = {
  ifindex: number;
  protocol?: number;
  hatype?: number;
  pkttype?: number;
  /** Destination link-layer address: bytes or 'aa:bb:cc:dd:ee:ff'. */
  addr?: Uint8Array | string;
};

// ---- IP address text <-> bytes ----

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function ip4ToBytes(text: string): Buffer {
  const m = V4.exec(text);
  const parts = m ? m.slice(1).map(Number) : [];
  if (parts.length !== 4 || parts.some((p) => p > 255)) throw new TypeError(`not an IPv4 address: ${text}`);
  return Buffer.from(parts);
}

export function bytesToIp4(b: Uint8Array): string {
  if (b.length !== 4) throw new RangeError(`IPv4 address needs 4 bytes, got ${b.length}`);
  return Array.from(b).join('.');
}

export function ip6ToBytes(text: string): Buffer {
  const bad = (): never => {
    throw new TypeError(`not an IPv6 address: ${text}`);
  };
  // A dotted IPv4 tail (::ffff:192.0.2.1) is rewritten as two hex groups first.
  let s = text;
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1] && v4[2]) {
    const b = ip4ToBytes(v4[2]);
    s = `${v4[1]}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) bad();
  const parse = (h: string | undefined): number[] =>
    h === undefined || h === '' ? [] : h.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : bad()));
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) bad();
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) bad();
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** RFC 5952 text: lower case, longest zero run compressed, IPv4-mapped as ::ffff:a.b.c.d. */
export function bytesToIp6(b: Uint8Array): string {
  if (b.length !== 16) throw new RangeError(`IPv6 address needs 16 bytes, got ${b.length}`);
  const buf = Buffer.from(b);
  if (buf.subarray(0, 10).every((x) => x === 0) && buf.readUInt16BE(10) === 0xffff) {
    return `::ffff:${bytesToIp4(buf.subarray(12))}`;
  }
  const g = Array.from({ length: 8 }, (_x, i) => buf.readUInt16BE(i * 2));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export function isIp4(text: string): boolean {
  return V4.test(text) && text.split('.').every((p) => Number(p) <= 255);
}

export function isIp6(text: string): boolean {
  try {
    ip6ToBytes(text);
    return true;
  } catch {
    return false;
  }
}

/** '192.0.2.1' -> '::ffff:192.0.2.1' */
export function mapIp4ToIp6(text: string): string {
  ip4ToBytes(text);
  return `::ffff:${text}`;
}

/** Canonical text of any IPv4 or IPv6 address. */
export function normalizeIp(text: string): string {
  return isIp4(text) ? text : bytesToIp6(ip6ToBytes(text));
}

// ---- parsing caller input ----

function scopeToIndex(scope: number | string | undefined): number {
  if (scope === undefined || scope === '') return 0;
  if (typeof scope === 'number') return scope;
  return /^\d+$/.test(scope) ? Number(scope) : ifNameToIndex(scope);
}

function splitText(text: string): { address: string; port: number; scope?: string } {
  let host = text;
  let port = 0;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket?.[1]) {
    host = bracket[1];
    port = bracket[2] ? Number(bracket[2]) : 0;
  } else if (/^[\d.]+:\d+$/.test(text)) {
    const i = text.lastIndexOf(':');
    host = text.slice(0, i);
    port = Number(text.slice(i + 1));
  }
  if (port > 65535) throw new RangeError(`port out of range in ${text}`);
  const pct = host.indexOf('%');
  return pct < 0 ? { address: host, port } : { address: host.slice(0, pct), port, scope: host.slice(pct + 1) };
}

/**
 * Turn caller input into a socket address for a socket of `family`. On an 'inet6' socket an
 * IPv4 address becomes IPv4-mapped (::ffff:a.b.c.d), as the kernel expects.
 */
export function parseInetAddress(input: InetAddressInput, family: 'inet'): Inet4Address;
export function parseInetAddress(input: InetAddressInput, family: 'inet6'): Inet6Address;
export function parseInetAddress(input: InetAddressInput, family: 'inet' | 'inet6'): InetSockAddr;
export function parseInetAddress(input: InetAddressInput, family: 'inet' | 'inet6'): InetSockAddr {
  const p =
    typeof input === 'string'
      ? splitText(input)
      : { ...splitText(input.address), ...(input.port !== undefined ? { port: input.port } : {}) };
  const scope = typeof input === 'object' && input.scopeId !== undefined ? input.scopeId : p.scope;
  const flowinfo = typeof input === 'object' ? (input.flowinfo ?? 0) : 0;
  if (family === 'inet') {
    if (!isIp4(p.address)) throw new TypeError(`not an IPv4 address for an AF_INET socket: ${p.address}`);
    return { family: 'inet', address: p.address, port: p.port };
  }
  const address = isIp4(p.address) ? mapIp4ToIp6(p.address) : bytesToIp6(ip6ToBytes(p.address));
  return { family: 'inet6', address, port: p.port, flowinfo, scopeId: scopeToIndex(scope) };
}

export function parseMac(text: string): Buffer {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new TypeError(`not a MAC: ${text}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

export function netlinkAddress(input: NetlinkAddressInput = {}): NetlinkAddress {
  return { family: 'netlink', pid: input.pid ?? 0, groups: input.groups ?? 0 };
}

export function packetAddress(input: PacketAddressInput): PacketAddress {
  const addr = input.addr === undefined ? Buffer.alloc(0) : typeof input.addr === 'string' ? parseMac(input.addr) : Buffer.from(input.addr);
  return {
    family: 'packet',
    protocol: input.protocol ?? 0,
    ifindex: input.ifindex,
    hatype: input.hatype ?? 0,
    pkttype: input.pkttype ?? 0,
    addr,
  };
}

// ---- sockaddr encoding ----

export function encodeSockAddr(a: SockAddr): Buffer {
  switch (a.family) {
    case 'inet':
      return sockaddr_in.pack({ family: AF_INET, port: a.port, addr: ip4ToBytes(a.address) });
    case 'inet6':
      return sockaddr_in6.pack({
        family: AF_INET6,
        port: a.port,
        flowinfo: a.flowinfo,
        addr: ip6ToBytes(a.address),
        scopeId: a.scopeId,
      });
    case 'netlink':
      return sockaddr_nl.pack({ family: AF_NETLINK, pid: a.pid, groups: a.groups });
    case 'packet':
      return sockaddr_ll.pack({
        family: AF_PACKET,
        protocol: a.protocol,
        ifindex: a.ifindex,
        hatype: a.hatype,
        pkttype: a.pkttype,
        halen: a.addr.length,
        addr: a.addr,
      });
    case 'unspec': {
      const b = Buffer.alloc(16);
      b.writeUInt16LE(AF_UNSPEC, 0);
      return b;
    }
  }
}

/** Decode a sockaddr the kernel returned; null for an empty one (e.g. connected stream sockets). */
export function decodeSockAddr(buf: Uint8Array): SockAddr | null {
  if (buf.length < 2) return null;
  const family = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).readUInt16LE(0);
  switch (family) {
    case AF_INET: {
      const s = sockaddr_in.unpack(pad(buf, sockaddr_in.size));
      return { family: 'inet', address: bytesToIp4(s.addr), port: s.port };
    }
    case AF_INET6: {
      const s = sockaddr_in6.unpack(pad(buf, sockaddr_in6.size));
      return { family: 'inet6', address: bytesToIp6(s.addr), port: s.port, flowinfo: s.flowinfo, scopeId: s.scopeId };
    }
    case AF_NETLINK: {
      const s = sockaddr_nl.unpack(pad(buf, sockaddr_nl.size));
      return { family: 'netlink', pid: s.pid, groups: s.groups };
    }
    case AF_PACKET: {
      const s = sockaddr_ll.unpack(pad(buf, sockaddr_ll.size));
      return {
        family: 'packet',
        protocol: s.protocol,
        ifindex: s.ifindex,
        hatype: s.hatype,
        pkttype: s.pkttype,
        addr: s.addr.subarray(0, Math.min(s.halen, 8)),
      };
    }
    case AF_UNSPEC:
      return { family: 'unspec' };
    default:
      throw new RangeError(`unsupported address family ${family}`);
  }
}

function pad(buf: Uint8Array, size: number): Uint8Array {
  if (buf.length >= size) return buf;
  const out = new Uint8Array(size);
  out.set(buf);
  return out;
}

/** '192.0.2.1:53', '[2001:db8::1]:53', '[fe80::1%2]:53', 'netlink:pid/groups', 'packet:ifindex/proto' */
export function formatSockAddr(a: SockAddr): string {
  switch (a.family) {
    case 'inet':
      return `${a.address}:${a.port}`;
    case 'inet6':
      return `[${a.address}${a.scopeId ? `%${a.scopeId}` : ''}]:${a.port}`;
    case 'netlink':
      return `netlink:${a.pid}/0x${a.groups.toString(16)}`;
    case 'packet':
      return `packet:${a.ifindex}/0x${a.protocol.toString(16)}${a.addr.length ? `/${formatMac(a.addr)}` : ''}`;
    case 'unspec':
      return 'unspec';
  }
}
