// Compile-time contract of the socket API: misuse must not type-check. The function below is
// checked by tsc and never run (it would open sockets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netlinkSocket, packetSocket, udpSocket, type Inet4Address, type Inet6Address } from '../../../src/lib/socket.js';

export function typeChecks(): void {
  const u4 = udpSocket(4);
  const u6 = udpSocket(6);
  const nl = netlinkSocket(0);
  const pk = packetSocket('raw', 0x0003);

  u4.bind('192.0.2.1:53');
  u6.bind({ address: 'fe80::1', port: 53, scopeId: 'eth0' });
  nl.bind({ pid: 0, groups: 1 });
  pk.bind({ ifindex: 2, protocol: 0x86dd });

  // @ts-expect-error a netlink address on an IP socket
  u4.bind({ pid: 0 });
  // @ts-expect-error an IP address on a netlink socket
  nl.sendTo(Buffer.alloc(0), '192.0.2.1:53');
  // @ts-expect-error packet addresses need an ifindex
  pk.sendTo(Buffer.alloc(0), { protocol: 3 });
  // @ts-expect-error only IPv4 and IPv6
  udpSocket(5);
  // @ts-expect-error unknown control message kind
  u4.sendMsg({ data: Buffer.alloc(0), control: [{ kind: 'bogus', value: 1 }] });
  // @ts-expect-error ttl needs a number
  u4.sendMsg({ data: Buffer.alloc(0), control: [{ kind: 'ttl', value: '1' }] });

  const from4: Inet4Address | null = u4.recvFrom().from;
  const from6: Inet6Address | null = u6.recvFrom().from;
  // @ts-expect-error a v4 socket does not return v6 addresses
  const wrong: Inet6Address | null = u4.recvFrom().from;
  const pid: number | undefined = nl.recvFrom().from?.pid;
  void [from4, from6, wrong, pid];
}

test('socket API types (checked at compile time)', () => {
  assert.equal(typeof typeChecks, 'function');
});
