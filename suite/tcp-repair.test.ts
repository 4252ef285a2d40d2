// TCP_REPAIR from the wire (net/ipv4/tcp.c, tcp_output.c): a connection opened from the wire is
// dumped (sequence numbers, both queues, window), silently closed, restored into a new socket
// and continued, every segment compared exactly; and each repair option at its edges. The test
// plays the peer on network 1 without window scaling, SACK or timestamps, so every header field
// but the kernel's initial sequence number is predictable.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { asUser } from '../src/lib/creds.js';
import { procNetSockets } from '../src/lib/procnet.js';
import { tcpSocket, type Socket } from '../src/lib/socket.js';
import { isSysError, K, type ErrnoCode } from '../src/lib/sys/index.js';
import { ipv4, layer, raw, tcp, type Layer } from '../src/lib/packet/index.js';
import {
  fillQueue, peekQueue, queueSeq, repairWindow, setQueueSeq, setRepair, setRepairOptions, setRepairQueue, setRepairWindow, TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_REPAIR_WINDOW,
  type RepairWindow,
} from '../src/lib/tcp-repair.js';

const nets = useNetworks({ count: 1 });
const PEER = 42000;
const errno = (code: ErrnoCode) => (e: unknown): boolean => {
  if (isSysError(e, code)) return true;
  throw e;
};

const toKernel = (n: Network): Layer => ipv4({ src: REMOTE4, dst: n.addr4 });
const fromKernel = (n: Network): Layer => ipv4({ src: n.addr4, dst: REMOTE4, df: true, ttl: 64 });

interface Conn {
  n: Network;
  sock: Socket<'inet'>;
  port: number;
  /** The peer's next sequence number, and the kernel's (snd_una side). */
  peerSeq: number;
  seq: number;
}

/** Passive open from the wire with only an MSS option; the listener is closed at once. */
function open(port: number): Conn {
  const n = nets.net(1);
  const l = tcpSocket(4);
  l.setMark(n.mark);
  l.bind(`${n.addr4}:${port}`);
  l.listen();
  try {
    inject(n, [toKernel(n), tcp({ sport: PEER, dport: port, seq: 1000, flags: 'S', window: 65535, options: [{ kind: 'mss', value: 1460 }] })]);
    const sa = expectPacket(n, [fromKernel(n), tcp({ sport: port, dport: PEER, ack: 1001, flags: 'SA', window: 64240, options: [{ kind: 'mss', value: 1460 }] })], { ignore: ['ipv4.id', 'tcp.seq'] });
    const seq = layer(sa, 'tcp')!.seq + 1;
    inject(n, [toKernel(n), tcp({ sport: PEER, dport: port, seq: 1001, ack: seq, flags: 'A', window: 65535 })]);
    const { socket } = l.accept({ timeoutMs: 1000 });
    return { n, sock: socket, port, peerSeq: 1001, seq };
  } finally {
    l.close();
  }
}

/** The peer sends (data with PSH, or a bare ACK); `ack` defaults to the kernel's snd_una. */
function peer(c: Conn, flags: string, data = '', ack = c.seq): void {
  inject(c.n, [toKernel(c.n), tcp({ sport: PEER, dport: c.port, seq: c.peerSeq, ack, flags, window: 65535 }), ...(data ? [raw(data)] : [])]);
  c.peerSeq += data.length + (flags.includes('F') ? 1 : 0);
}

/** Expect the kernel's segment; window defaults to what tcp.test.ts explains (64240 less queued). */
function kernel(c: Conn, f: { flags: string; seq?: number; ack?: number; window?: number; data?: string }): void {
  expectPacket(c.n, [fromKernel(c.n), tcp({ sport: c.port, dport: PEER, seq: f.seq ?? c.seq, ack: f.ack ?? c.peerSeq, flags: f.flags, window: f.window ?? 64240 - (c.peerSeq - 1001) }), ...(f.data ? [raw(f.data)] : [])], { ignore: ['ipv4.id'] });
}

function resetFromPeer(c: Conn): void {
  inject(c.n, [toKernel(c.n), tcp({ sport: PEER, dport: c.port, seq: c.peerSeq, flags: 'R', window: 0 })]);
}

interface Dump {
  sndSeq: number;
  rcvSeq: number;
  sendQueue: Buffer;
  recvQueue: Buffer;
  window: RepairWindow;
}

/** What a checkpoint tool saves. The send queue's seq is write_seq; the data is what is still unacknowledged. */
function dump(s: Socket<'inet'>): Dump {
  setRepair(s, 'on');
  const sendQueue = peekQueue(s, 'send');
  const sndSeq = queueSeq(s);
  const recvQueue = peekQueue(s, 'recv');
  const rcvSeq = queueSeq(s);
  return { sndSeq, rcvSeq, sendQueue, recvQueue, window: repairWindow(s) };
}

/** Restore a dump into a fresh socket, in the order checkpoint tools use; leaves repair mode on. */
function restore(c: Conn, d: Dump): Socket<'inet'> {
  const s = tcpSocket(4);
  setRepair(s, 'on');
  s.setMark(c.n.mark);
  s.bind(`${c.n.addr4}:${c.port}`);
  setRepairQueue(s, 'send');
  setQueueSeq(s, d.sndSeq - d.sendQueue.length);
  setRepairQueue(s, 'recv');
  setQueueSeq(s, d.rcvSeq - d.recvQueue.length);
  s.connect({ address: REMOTE4, port: PEER });
  // No scaling was negotiated: say so (shifts 0). Without the option the socket keeps the receive
  // shift tcp_connect_init chose for itself and advertises scaled windows the peer reads unscaled.
  setRepairOptions(s, [{ kind: 'mss', value: 1460 }, { kind: 'wscale', snd: 0, rcv: 0 }]);
  if (d.sendQueue.length) fillQueue(s, 'send', d.sendQueue);
  if (d.recvQueue.length) fillQueue(s, 'recv', d.recvQueue);
  setRepairWindow(s, d.window);
  return s;
}

/** A connection with 'hello' received and unread, and 'world' sent and unacknowledged. */
function busy(port: number): Conn {
  const c = open(port);
  peer(c, 'PA', 'hello');
  kernel(c, { flags: 'A' });
  c.sock.send(Buffer.from('world'));
  kernel(c, { flags: 'PA', data: 'world' });
  return c;
}

describe('checkpoint and restore of a live connection', () => {
  nets.it('the dump: send queue seq = write_seq, receive seq = rcv_nxt, both queues peeked, the window as negotiated', () => {
    const c = busy(100);
    const d = dump(c.sock);
    assert.equal(d.sndSeq, (c.seq + 5) >>> 0, 'write_seq: our ISN + 1 + 5 bytes');
    assert.equal(d.rcvSeq, 1006, 'rcv_nxt: the peer ISN + 1 + 5 bytes');
    assert.equal(d.sendQueue.toString(), 'world');
    assert.equal(d.recvQueue.toString(), 'hello');
    // Our ACK of 'hello' moved the window's left edge (rcv_wup) and advertised 64235.
    assert.deepEqual(d.window, { sndWl1: 1001, sndWnd: 65535, maxWindow: 65535, rcvWnd: 64235, rcvWup: 1006 });
    setRepair(c.sock, 'offNoProbe');
    resetFromPeer(c);
    c.sock.close();
  });

  nets.it('closing a socket in repair mode sends nothing: no FIN, no RST, and the socket is gone', () => {
    const c = busy(101);
    dump(c.sock);
    c.sock.close();
    expectNone(c.n, { timeoutMs: 200 });
    assert.equal(procNetSockets('tcp').filter((r) => r.local.port === 101).length, 0);
  });

  nets.it('restored with TCP_REPAIR off: the window probe (seq snd_una - 1) carries the same ack and window as before; the data reads back', () => {
    const c = busy(102);
    const d = dump(c.sock);
    c.sock.close();
    const s = restore(c, d);
    expectNone(c.n, { timeoutMs: 100 }); // connect() in repair mode sends no SYN
    setRepair(s, 'off');
    kernel(c, { flags: 'A', seq: (c.seq - 1) >>> 0 });
    assert.equal(s.recv({ timeoutMs: 500 }).toString(), 'hello');
    c.sock = s;
    resetFromPeer(c);
    s.close();
  });

  nets.it('TCP_REPAIR_OFF_NO_WP (-1): leaving repair sends nothing', () => {
    const c = busy(103);
    const d = dump(c.sock);
    c.sock.close();
    const s = restore(c, d);
    setRepair(s, 'offNoProbe');
    expectNone(c.n, { timeoutMs: 150, match: (p) => p.some((l) => l.type === 'tcp') });
    resetFromPeer(c);
    s.close();
  });

  nets.it('the restored connection continues: the peer\'s ACK of "world" and new data are acknowledged exactly; our next data follows on', () => {
    const c = busy(104);
    const d = dump(c.sock);
    c.sock.close();
    const s = restore(c, d);
    setRepair(s, 'offNoProbe');
    c.sock = s;
    c.seq = (c.seq + 5) >>> 0;
    peer(c, 'PA', 'again');
    kernel(c, { flags: 'A' });
    assert.equal(s.recv({ timeoutMs: 500 }).toString(), 'helloagain');
    s.send(Buffer.from('more'));
    kernel(c, { flags: 'PA', data: 'more' }); // the window still never shrinks below what was advertised
    c.seq = (c.seq + 4) >>> 0;
    peer(c, 'A');
    expectNone(c.n, { timeoutMs: 100 });
    resetFromPeer(c);
    s.close();
  });

  nets.it('the restored send queue counts as in flight: with no RTT sample the RTO is 3 s, and unacknowledged "world" is retransmitted then, not before', () => {
    const c = busy(105);
    const d = dump(c.sock);
    c.sock.close();
    const s = restore(c, d);
    setRepair(s, 'offNoProbe');
    // A connection established without a handshake has no RTT sample: tcp_init_metrics falls back
    // to a 3 s RTO (TCP_TIMEOUT_FALLBACK, RFC 6298 5.7), and "world" goes again only then.
    const info = s.tcpInfo();
    assert.deepEqual([info.unacked, info.rto], [1, 3_000_000]);
    expectNone(c.n, { timeoutMs: 2500 });
    expectPacket(c.n, [fromKernel(c.n), tcp({ sport: c.port, dport: PEER, seq: c.seq, ack: 1006, flags: 'PA', window: 64240 - 5 }), raw('world')], { ignore: ['ipv4.id'], timeoutMs: 1500 });
    c.sock = s;
    resetFromPeer(c);
    s.close();
  });
});

describe('TCP_REPAIR and its options at their edges', () => {
  const fresh = (): Socket<'inet'> => {
    const s = tcpSocket(4);
    s.setMark(nets.net(1).mark);
    setRepair(s, 'on');
    return s;
  };

  nets.it('TCP_REPAIR takes 1, 0 and -1; 2 and -2 are EINVAL; getsockopt reads the mode back', () => {
    const s = tcpSocket(4);
    try {
      for (const v of [2, -2]) assert.throws(() => setRepair(s, v), errno('EINVAL'));
      setRepair(s, 1);
      assert.equal(s.getIntOption(K.SOL_TCP, TCP_REPAIR), 1);
      setRepair(s, -1);
      assert.equal(s.getIntOption(K.SOL_TCP, TCP_REPAIR), 0);
    } finally {
      s.close();
    }
  });

  nets.it('without CAP_NET_ADMIN TCP_REPAIR is EPERM; so it is on a listening socket', () => {
    const u = asUser(65534, () => tcpSocket(4));
    const l = tcpSocket(4);
    try {
      assert.throws(() => asUser(65534, () => setRepair(u, 'on')), errno('EPERM'));
      l.bind('127.0.0.1:0');
      l.listen();
      assert.throws(() => setRepair(l, 'on'), errno('EPERM'));
    } finally {
      u.close();
      l.close();
    }
  });

  nets.it('TCP_REPAIR_QUEUE: EPERM outside repair mode; 0, 1, 2 select (read back); 3 (TCP_QUEUES_NR) is EINVAL', () => {
    const s = tcpSocket(4);
    try {
      assert.throws(() => setRepairQueue(s, 1), errno('EPERM'));
      assert.throws(() => s.getIntOption(K.SOL_TCP, TCP_REPAIR_QUEUE), errno('EINVAL'));
      setRepair(s, 'on');
      for (const q of [0, 1, 2]) {
        setRepairQueue(s, q);
        assert.equal(s.getIntOption(K.SOL_TCP, TCP_REPAIR_QUEUE), q);
      }
      assert.throws(() => setRepairQueue(s, 3), errno('EINVAL'));
    } finally {
      s.close();
    }
  });

  nets.it('TCP_QUEUE_SEQ: set and read back per queue on a closed socket; with no queue selected EINVAL; once connected EPERM', () => {
    const s = fresh();
    try {
      setRepairQueue(s, 'none');
      assert.throws(() => setQueueSeq(s, 1), errno('EINVAL'));
      assert.throws(() => queueSeq(s), errno('EINVAL'));
      setRepairQueue(s, 'send');
      setQueueSeq(s, 0xfffffff0);
      assert.equal(queueSeq(s), 0xfffffff0);
      setRepairQueue(s, 'recv');
      setQueueSeq(s, 777);
      assert.equal(queueSeq(s), 777);
      s.bind(`${nets.net(1).addr4}:110`);
      s.connect({ address: REMOTE4, port: PEER });
      assert.throws(() => setQueueSeq(s, 1), errno('EPERM'));
      assert.equal(procNetSockets('tcp').find((r) => r.local.port === 110)?.stateName, 'ESTABLISHED');
    } finally {
      s.close();
    }
  });

  nets.it('reading in repair mode: without MSG_PEEK EPERM; with no queue selected EINVAL', () => {
    const c = busy(111);
    setRepair(c.sock, 'on');
    setRepairQueue(c.sock, 'recv');
    assert.throws(() => c.sock.recv({ timeoutMs: 0 }), errno('EPERM'));
    setRepairQueue(c.sock, 'none');
    assert.throws(() => c.sock.recv({ flags: K.MSG_PEEK, timeoutMs: 0 }), errno('EINVAL'));
    c.sock.close();
  });

  nets.it('TCP_REPAIR_OPTIONS: EINVAL outside repair mode, EPERM before connect', () => {
    const s = tcpSocket(4);
    try {
      assert.throws(() => setRepairOptions(s, [{ kind: 'mss', value: 1000 }]), errno('EINVAL'));
      setRepair(s, 'on');
      assert.throws(() => setRepairOptions(s, [{ kind: 'mss', value: 1000 }]), errno('EPERM'));
    } finally {
      s.close();
    }
  });

  const connected = (port: number): Socket<'inet'> => {
    const s = fresh();
    s.bind(`${nets.net(1).addr4}:${port}`);
    s.connect({ address: REMOTE4, port: PEER });
    return s;
  };

  for (const [shift, code] of [[13, null], [14, null], [15, 'EFBIG']] as const) {
    nets.it(`window scale ${shift} (TCP_MAX_WSCALE = 14): ${code ?? 'accepted'}, for either direction`, () => {
      const s = connected(120 + shift);
      try {
        for (const o of [{ snd: shift, rcv: 0 }, { snd: 0, rcv: shift }]) {
          if (code) assert.throws(() => setRepairOptions(s, [{ kind: 'wscale', ...o }]), errno(code));
          else setRepairOptions(s, [{ kind: 'wscale', ...o }]);
        }
      } finally {
        s.close();
      }
    });
  }

  nets.it('SACK-permitted and timestamp options take the value 0 only (1 is EINVAL)', () => {
    const s = connected(130);
    try {
      setRepairOptions(s, [{ kind: 'sackOk' }, { kind: 'timestamp' }]);
      assert.throws(() => setRepairOptions(s, [{ kind: 'raw', code: 4, value: 1 }]), errno('EINVAL'));
      assert.throws(() => setRepairOptions(s, [{ kind: 'raw', code: 8, value: 1 }]), errno('EINVAL'));
    } finally {
      s.close();
    }
  });

  describe('TCP_REPAIR_WINDOW checks (rcv_nxt = 9000)', () => {
    const base: RepairWindow = { sndWl1: 9000, sndWnd: 1000, maxWindow: 1000, rcvWnd: 2000, rcvWup: 9000 };
    const cases: [string, Partial<RepairWindow>, ErrnoCode | null][] = [
      ['max_window = snd_wnd', {}, null],
      ['max_window = snd_wnd - 1', { maxWindow: 999 }, 'EINVAL'],
      ['rcv_wup = rcv_nxt', {}, null],
      ['rcv_wup = rcv_nxt + 1', { rcvWup: 9001 }, 'EINVAL'],
      ['snd_wl1 = rcv_nxt + rcv_wnd', { sndWl1: 11000 }, null],
      ['snd_wl1 = rcv_nxt + rcv_wnd + 1', { sndWl1: 11001 }, 'EINVAL'],
    ];
    for (const [name, over, code] of cases) {
      nets.it(`${name}: ${code ?? 'accepted and read back'}`, () => {
        const s = fresh();
        try {
          setRepairQueue(s, 'recv');
          setQueueSeq(s, 9000);
          const w = { ...base, ...over };
          if (code) assert.throws(() => setRepairWindow(s, w), errno(code));
          else {
            setRepairWindow(s, w);
            assert.deepEqual(repairWindow(s), w);
          }
        } finally {
          s.close();
        }
      });
    }

    nets.it('outside repair mode EPERM; a 16-byte struct is EINVAL', () => {
      const s = tcpSocket(4);
      try {
        assert.throws(() => setRepairWindow(s, base), errno('EPERM'));
        assert.throws(() => s.getOption(K.SOL_TCP, TCP_REPAIR_WINDOW, 20), errno('EPERM'));
        setRepair(s, 'on');
        assert.throws(() => s.setOption(K.SOL_TCP, TCP_REPAIR_WINDOW, Buffer.alloc(16)), errno('EINVAL'));
        assert.throws(() => s.getOption(K.SOL_TCP, TCP_REPAIR_WINDOW, 16), errno('EINVAL'));
      } finally {
        s.close();
      }
    });
  });
});
