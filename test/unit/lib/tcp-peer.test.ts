// tcpPeer's sequence bookkeeping against a scripted wire: what it injects, and what it accepts
// from the "kernel" (frames queued by the test), with both sides' numbers relative to their ISNs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import type { Network } from '../../../src/lib/networks.js';
import { build, ether, ipv4, layer, parse, raw, tcp, type Layer } from '../../../src/lib/packet/index.js';
import { tcpPeer } from '../../../src/lib/tcp-peer.js';

const MAC = '02:00:00:00:01:01';
const ROUTER = '02:00:00:00:01:fe';
const KERNEL = '198.51.100.2';
const REMOTE = '203.0.113.1';

/** A network whose wire is two arrays: what the test wrote, and frames "the kernel" will send. */
function wire(): Network & { written: Buffer[]; queue: Buffer[] } {
  const written: Buffer[] = [];
  const queue: Buffer[] = [];
  const net = {
    id: 1, ifname: 'fake1', mac: MAC, router: { mac: ROUTER, ll: 'fe80::1', ip4: '198.51.100.1', ip6: '2001:db8:1::1' },
    addr4: KERNEL, written, queue,
    write: (f: Uint8Array) => void written.push(Buffer.from(f)),
    read: () => queue.shift() ?? null,
  };
  return net as unknown as Network & { written: Buffer[]; queue: Buffer[] };
}

/** A segment from the kernel, as it would appear on the wire. */
function fromKernel(f: { seq: number; ack: number; flags: string; data?: string }): Buffer {
  const l: Layer[] = [
    ether({ src: MAC, dst: ROUTER }),
    ipv4({ src: KERNEL, dst: REMOTE, df: true, ttl: 64, id: 7 }),
    tcp({ sport: 80, dport: 40000, seq: f.seq, ack: f.ack, flags: f.flags, window: 64240 }),
  ];
  if (f.data) l.push(raw(f.data));
  return build(l);
}

/** The TCP header of the last frame the peer injected. */
const sent = (n: { written: Buffer[] }): { seq: number; ack: number; flags: string; data: string } => {
  const p = parse(n.written[n.written.length - 1]!);
  return { ...layer(p, 'tcp')!, data: Buffer.from(layer(p, 'raw')?.data ?? []).toString() };
};

describe('tcpPeer', () => {
  it('passive open: learns the kernel ISN from its SYN-ACK and numbers both sides from their ISNs', () => {
    const n = wire();
    const peer = tcpPeer(n, { kernel: `${KERNEL}:80`, isn: 1000, kernelWindow: 64240 });
    peer.send('S');
    assert.deepEqual([sent(n).seq, sent(n).ack, sent(n).flags], [1000, 0, 'S']);
    assert.equal(peer.kernelIsn, undefined);
    n.queue.push(fromKernel({ seq: 5000, ack: 1001, flags: 'SA' }));
    peer.expect('SA');
    assert.deepEqual([peer.kernelIsn, peer.sndNxt, peer.rcvNxt], [5000, 1, 1]);
    peer.send('A');
    assert.deepEqual([sent(n).seq, sent(n).ack], [1001, 5001]);
    peer.send('PA', { data: 'hello' });
    assert.equal(peer.sndNxt, 6);
    n.queue.push(fromKernel({ seq: 5001, ack: 1006, flags: 'A' }));
    peer.expect('A');
    n.queue.push(fromKernel({ seq: 5001, ack: 1006, flags: 'PA', data: 'world' }));
    peer.expect('PA', { data: 'world' });
    assert.equal(peer.rcvNxt, 6);
    peer.send('A');
    assert.equal(sent(n).ack, 5006, 'acks the data without the test adding to the ISN');
  });

  it('an out-of-order segment (explicit seq) does not move the edge; SYN and FIN count one each', () => {
    const n = wire();
    const peer = tcpPeer(n, { kernel: { address: KERNEL, port: 80 }, isn: 0xfffffff0 });
    peer.send('S');
    n.queue.push(fromKernel({ seq: 7, ack: 0xfffffff1, flags: 'SA' }));
    peer.expect('SA');
    peer.send('PA', { seq: peer.sndNxt + 200000, data: 'zzz' });
    assert.equal(sent(n).seq, (0xfffffff0 + 1 + 200000) >>> 0, 'wraps at 2^32');
    assert.equal(peer.sndNxt, 1);
    n.queue.push(fromKernel({ seq: 8, ack: 1, flags: 'FA' })); // ack wrapped: ISN + 1 + 16 = 2^32 + 1
    assert.throws(() => peer.expect('FA', { timeoutMs: 0 }), AssertionError, 'ack 1 is not ISN + 1');
    n.queue.push(fromKernel({ seq: 8, ack: 0xfffffff1, flags: 'FA' }));
    peer.expect('FA', { timeoutMs: 0 });
    assert.equal(peer.rcvNxt, 2);
    peer.send('FA');
    assert.deepEqual([sent(n).seq, sent(n).ack, peer.sndNxt], [0xfffffff1, 9, 2]);
  });

  it('active open: the kernel SYN comes first; our SYN-ACK acks it', () => {
    const n = wire();
    const peer = tcpPeer(n, { kernel: `${KERNEL}:80`, isn: 7000 });
    n.queue.push(fromKernel({ seq: 123456, ack: 0, flags: 'S' }));
    peer.expect('S');
    peer.send('SA');
    assert.deepEqual([sent(n).seq, sent(n).ack, sent(n).flags], [7000, 123457, 'SA']);
    n.queue.push(fromKernel({ seq: 123457, ack: 7001, flags: 'A' }));
    peer.expect('A');
  });

  it('refuses to ACK before it knows the kernel ISN', () => {
    const peer = tcpPeer(wire(), { kernel: `${KERNEL}:80` });
    assert.throws(() => peer.send('A'), /before the kernel's SYN/);
  });
});
