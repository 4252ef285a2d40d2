import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseProcNetSockets } from '../../../src/lib/procnet.js';

// Lines in the format of net/ipv6/udp.c / net/ipv4/tcp_ipv4.c on a little-endian machine.
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: B80D0120000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000A00 00:00000000 00000000   999        0 4242 2 0000000000000000 3
`;
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 010200C0:0016 020200C0:D431 01 00000010:00000000 01:00000014 00000000     0        0 77 1 0000000000000000 20 4 30 10 -1
`;

it('parses IPv6 rows (32-bit words in host order)', () => {
  const [r] = parseProcNetSockets(UDP6, true);
  assert.deepEqual(r, {
    local: { address: '2001:db8::1', port: 53 },
    remote: { address: '::', port: 0 },
    state: 7,
    stateName: 'CLOSE',
    txQueue: 0,
    rxQueue: 0xa00,
    uid: 999,
    inode: 4242,
    ref: 2,
    drops: 3,
  });
});

it('parses IPv4 TCP rows', () => {
  const [r] = parseProcNetSockets(TCP, false);
  assert.equal(r?.local.address, '192.0.2.1');
  assert.equal(r?.local.port, 22);
  assert.deepEqual(r?.remote, { address: '192.0.2.2', port: 0xd431 });
  assert.equal(r?.stateName, 'ESTABLISHED');
  assert.equal(r?.txQueue, 16);
  assert.equal(r?.inode, 77);
  assert.equal(r?.ref, undefined);
});
