// Socket addresses as plain objects, their struct sockaddr encodings and their text forms
// ('198.51.100.1:7', '[2001:db8::1]:53'). Pure: the sys layer uses it to show addresses in errors.
import { bytesToIp4, bytesToIp6, formatMac, ip4ToBytes, ip6ToBytes } from '../addr.js';
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

const FAMILIES = new Set(['inet', 'inet6', 'netlink', 'packet', 'unspec']);

/** Whether `v` is a decoded socket address (an object with one of the families above). */
export function isSockAddr(v: unknown): v is SockAddr {
  return typeof v === 'object' && v !== null && FAMILIES.has((v as { family?: unknown }).family as string);
}

/** Raw sockaddr bytes as a SockAddr when they decode, else the bytes: how calls show addresses in errors. */
export function sockAddrArg(raw: Uint8Array): SockAddr | Buffer {
  try {
    return decodeSockAddr(raw) ?? Buffer.from(raw);
  } catch {
    return Buffer.from(raw);
  }
}

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
