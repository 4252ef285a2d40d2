// What callers may write for a socket address, turned into the address objects of sockaddr.ts:
// '192.0.2.1:53', '[fe80::1%eth0]:53', { address, port, scopeId }, { pid, groups }, ...
import { AddressError, canonicalIpv6, isIp4, mapIp4ToIp6, parseMac } from '../addr.js';
import { ifNameToIndex } from '../sys/calls.js';
import type { Inet4Address, Inet6Address, InetSockAddr, NetlinkAddress, PacketAddress } from './sockaddr.js';

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
  if (port > 65535) throw new AddressError('port', text, 'above 65535');
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
    if (!isIp4(p.address)) throw new AddressError('IPv4 address', p.address, 'an AF_INET socket takes IPv4 only');
    return { family: 'inet', address: p.address, port: p.port };
  }
  const address = isIp4(p.address) ? mapIp4ToIp6(p.address) : canonicalIpv6(p.address);
  return { family: 'inet6', address, port: p.port, flowinfo, scopeId: scopeToIndex(scope) };
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

