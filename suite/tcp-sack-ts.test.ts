// TCP options on the wire: SACK (RFC 2018, D-SACK RFC 2883), timestamps (RFC 7323: echo rules,
// PAWS, the net.ipv4.tcp_timestamps modes) and window scaling, negotiated in each sysctl mode and
// used on established connections. The test is the peer on network 1. Option order and padding
// are the kernel's own (tcp_options_write(), net/ipv4/tcp_output.c) and are compared exactly.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks } from '../src/lib/networks.js';
import { expectNone } from '../src/lib/expect.js';
import { withSysctl } from '../src/lib/sysctl.js';
import { mibCounters } from '../src/lib/mib.js';
import { acceptFromWire, type AcceptOptions, type TcpConn } from '../src/lib/tcp-peer.js';
import { isSysError, K } from '../src/lib/sys/index.js';
import { layer, type TcpOption } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });
const { SOL_TCP, TCP_NODELAY } = K;

const MSS: TcpOption = { kind: 'mss', value: 1460 };
const NOP: TcpOption = { kind: 'nop' };
const SACK_OK: TcpOption = { kind: 'sackOk' };
const ts = (tsval: number, tsecr = 0): TcpOption => ({ kind: 'timestamp', tsval, tsecr });
const WS7: TcpOption = { kind: 'wscale', shift: 7 };
/** The peer's timestamps on its segments after the SYN (tsecr is not checked by the kernel). */
const tsOpt = (tsval: number): TcpOption[] => [NOP, NOP, ts(tsval)];

let nextPort = 400;
const open = (o: Partial<AcceptOptions> = {}): TcpConn => acceptFromWire(nets.net(1), { port: nextPort++, ...o });

/** A connection whose peer offered SACK and timestamps (tsval 1000), and no window scaling. */
function sackTs(): TcpConn {
  return open({
    synOptions: [MSS, SACK_OK, ts(1000), NOP, NOP],
    // The window is 65535 rounded down to the MSS less the 12 bytes of the timestamp option.
    synAckWindow: 65160,
    synAckOptions: [MSS, SACK_OK, ts(0, 1000)],
    synAckIgnore: ['tcp.options[2].tsval'],
  });
}

/** A connection whose peer offered SACK only. */
function sackOnly(): TcpConn {
  return open({ synOptions: [MSS, NOP, NOP, SACK_OK], synAckOptions: [MSS, NOP, NOP, SACK_OK] });
}

const sackOf = (p: ReturnType<TcpConn['expect']>): Array<[number, number]> | undefined => {
  const o = layer(p, 'tcp')!.options.find((x) => x.kind === 'sack');
  return o?.kind === 'sack' ? o.blocks : undefined;
};

describe('negotiation: the SYN-ACK in each sysctl mode', () => {
  const full: TcpOption[] = [MSS, SACK_OK, ts(1000), NOP, WS7];
  const cases: [string, Record<string, number>, TcpOption[], number][] = [
    // tcp_options_write(): SACK-permitted rides in the timestamp's padding; wscale after a NOP.
    ['all on: mss, sackOK, timestamp (echoing the SYN), nop, wscale', {}, [MSS, SACK_OK, ts(0, 1000), NOP, { kind: 'wscale', shift: -1 }], 65160],
    ['tcp_sack=0: nop, nop, timestamp; no sackOK', { 'net.ipv4.tcp_sack': 0 }, [MSS, NOP, NOP, ts(0, 1000), NOP, { kind: 'wscale', shift: -1 }], 65160],
    ['tcp_timestamps=0: nop, nop, sackOK; no timestamp, the window rounded to the full MSS', { 'net.ipv4.tcp_timestamps': 0 }, [MSS, NOP, NOP, SACK_OK, NOP, { kind: 'wscale', shift: -1 }], 64240],
    ['tcp_window_scaling=0: no wscale', { 'net.ipv4.tcp_window_scaling': 0 }, [MSS, SACK_OK, ts(0, 1000)], 65160],
  ];
  for (const [name, sysctls, want, window] of cases) {
    nets.it(name, () => {
      withSysctl(sysctls, () => {
        const ws = want.find((o) => o.kind === 'wscale');
        const c = open({
          synOptions: full,
          synAckOptions: want,
          synAckWindow: window,
          synAckIgnore: [...(want.some((o) => o.kind === 'timestamp') ? [`tcp.options[${want.findIndex((o) => o.kind === 'timestamp')}].tsval`] : []), ...(ws ? [`tcp.options[${want.indexOf(ws)}].shift`] : [])],
        });
        c.reset();
        c.sock.close();
      });
    });
  }

  nets.it('a SYN without options gets a SYN-ACK with the MSS alone, whatever the sysctls', () => {
    const c = open({ synOptions: [], synAckOptions: [{ kind: 'mss', value: 1460 }] });
    c.reset();
    c.sock.close();
  });

  // tcp_select_initial_window(): wscale = ilog2(max(tcp_rmem[2], rmem_max)) - 15; rmem_max is 212992.
  for (const [max, shift] of [[524287, 3], [524288, 4], [1048575, 4], [1048576, 5]] as const) {
    nets.it(`tcp_rmem max ${max}: wscale ${shift}`, () => {
      withSysctl({ 'net.ipv4.tcp_rmem': `4096 131072 ${max}` }, () => {
        const c = open({ synOptions: full, synAckOptions: [MSS, SACK_OK, ts(0, 1000), NOP, { kind: 'wscale', shift }], synAckWindow: 65160, synAckIgnore: ['tcp.options[2].tsval'] });
        c.reset();
        c.sock.close();
      });
    });
  }
});

describe('timestamps', () => {
  nets.it('the ACK of in-order data echoes its tsval; an out-of-order segment\'s tsval is not echoed (TS.Recent moves only at the left edge)', () => {
    const c = sackTs();
    c.send('PA', 'abcd', { options: tsOpt(1005) });
    c.expect({ flags: 'A', window: 65160 - 4, options: [NOP, NOP, ts(0, 1005)] }, { ignore: ['tcp.options[2].tsval'] });
    c.send('PA', 'wxyz', { seq: (c.peerNxt + 10) >>> 0, options: tsOpt(1009) });
    c.expect({ flags: 'A', options: [NOP, NOP, ts(0, 1005), NOP, NOP, { kind: 'sack', blocks: [[(c.peerNxt + 10) >>> 0, (c.peerNxt + 14) >>> 0]] }] }, { ignore: ['tcp.options[2].tsval', 'tcp.window'] });
    c.reset();
    c.sock.close();
  });

  nets.it('the kernel\'s tsval counts milliseconds: two segments 300 ms apart on the guest\'s clock differ by 300 (± 30)', () => {
    const c = sackTs();
    c.sock.setOption(SOL_TCP, TCP_NODELAY, 1);
    c.sock.send(Buffer.from('1'));
    const a = c.expect({ flags: 'PA', data: '1', options: [NOP, NOP, ts(0, 1000)] }, { ignore: ['tcp.options[2].tsval'] });
    const t0 = Date.now();
    c.send('A', '', { options: tsOpt(1001) });
    expectNone(c.n, { timeoutMs: 300 });
    const t1 = Date.now();
    c.sock.send(Buffer.from('2'));
    const b = c.expect({ flags: 'PA', data: '2', options: [NOP, NOP, ts(0, 1001)] }, { ignore: ['tcp.options[2].tsval'] });
    const tsval = (p: typeof a): number => {
      const o = layer(p, 'tcp')!.options[2]!;
      return o.kind === 'timestamp' ? o.tsval : NaN;
    };
    const d = (tsval(b) - tsval(a)) >>> 0;
    assert.ok(Math.abs(d - (t1 - t0)) <= 30, `tsval advanced ${d}, the clock ${t1 - t0} ms`);
    c.reset();
    c.sock.close();
  });

  // PAWS (tcp_paws_discard()): a tsval more than TCP_PAWS_WINDOW (1) below TS.Recent (1000 after
  // the handshake) is old; one within the window is kept but does not become TS.Recent
  // (tcp_replace_ts_recent() checks with a window of 0), so the ACK still echoes 1000.
  for (const [tsval, kept, echo] of [[998, false, 1000], [999, true, 1000], [1000, true, 1000], [1001, true, 1001]] as const) {
    nets.it(`PAWS: data with tsval ${tsval} is ${kept ? `accepted, the ACK echoing ${echo}` : 'dropped with a duplicate ACK (tsecr still 1000) and counted in PAWSEstab'}`, () => {
      const c = sackTs();
      const before = mibCounters('netstat');
      const seq = c.peerNxt;
      c.send('PA', 'data', { options: tsOpt(tsval) });
      if (kept) {
        c.expect({ flags: 'A', window: 65160 - 4, options: [NOP, NOP, ts(0, echo)] }, { ignore: ['tcp.options[2].tsval'] });
        assert.equal(c.sock.recv({ timeoutMs: 100 }).toString(), 'data');
      } else {
        // The peer counts its data as sent; the kernel's duplicate ACK still asks for it.
        c.expect({ flags: 'A', ack: seq, window: 65160, options: [NOP, NOP, ts(0, echo)] }, { ignore: ['tcp.options[2].tsval'] });
        assert.throws(() => c.sock.recv({ timeoutMs: 50 }), (e: unknown) => isSysError(e, 'EAGAIN'));
      }
      assert.equal((mibCounters('netstat').get('TcpExt.PAWSEstab') ?? NaN) - (before.get('TcpExt.PAWSEstab') ?? NaN), kept ? 0 : 1);
      c.reset(kept ? undefined : seq);
      c.sock.close();
    });
  }

  // tcp_timestamps=1 adds a random offset per address pair (secure_tcp_ts_off()); 2 does not, so
  // the tsval is CLOCK_MONOTONIC in milliseconds (tcp_time_stamp_raw()).
  for (const [mode, raw] of [[1, false], [2, true]] as const) {
    nets.it(`tcp_timestamps=${mode}: the SYN-ACK's tsval is ${raw ? '' : 'not '}the monotonic clock in ms`, () => {
      withSysctl({ 'net.ipv4.tcp_timestamps': mode }, () => {
        const now = Number(process.hrtime.bigint() / 1000000n) >>> 0;
        const c = sackTs();
        const d = Math.abs(((c.kernelTsval - now) | 0));
        assert.equal(d <= 100, raw, `tsval ${c.kernelTsval}, monotonic ${now} ms`);
        c.reset();
        c.sock.close();
      });
    });
  }
});

describe('SACK blocks the kernel sends', () => {
  /** Send n one-byte islands after a hole (at peerNxt + 2, + 4, ...); return the last dup ACK's blocks. */
  function islands(c: TcpConn, n: number, withTs: boolean): Array<[number, number]> | undefined {
    let blocks: Array<[number, number]> | undefined;
    for (let i = 1; i <= n; i++) {
      const seq = (c.peerNxt + 2 * i) >>> 0;
      c.send('PA', 'x', { seq, options: withTs ? tsOpt(1000 + i) : [] });
      const p = c.expect({ flags: 'A' }, { ignore: ['tcp.options', 'tcp.window'] });
      blocks = sackOf(p);
    }
    return blocks;
  }
  const island = (c: TcpConn, i: number): [number, number] => [(c.peerNxt + 2 * i) >>> 0, (c.peerNxt + 2 * i + 1) >>> 0];

  // 40 bytes of option space: 4 blocks (2 + 8n + 2 padding), or 3 next to the 12-byte timestamp.
  for (const [withTs, n, shown] of [[true, 2, 2], [true, 3, 3], [true, 4, 3], [false, 3, 3], [false, 4, 4], [false, 5, 4]] as const) {
    nets.it(`${withTs ? 'with' : 'without'} timestamps, ${n} islands: the ${shown} most recent, newest first`, () => {
      const c = withTs ? sackTs() : sackOnly();
      const blocks = islands(c, n, withTs);
      assert.deepEqual(blocks, Array.from({ length: shown }, (_, k) => island(c, n - k)));
      c.reset();
      c.sock.close();
    });
  }

  nets.it('exact layout without timestamps: nop, nop, sack with one block; the hole filled, a plain ACK of everything', () => {
    const c = sackOnly();
    const s = (c.peerNxt + 3) >>> 0;
    c.send('PA', 'def', { seq: s });
    c.expect({ flags: 'A', options: [NOP, NOP, { kind: 'sack', blocks: [[s, (s + 3) >>> 0]] }] }, { ignore: ['tcp.window'] });
    c.send('PA', 'abc');
    c.expect({ flags: 'A', ack: (s + 3) >>> 0, options: [] }, { ignore: ['tcp.window'] });
    assert.equal(c.sock.recv({ timeoutMs: 100 }).toString(), 'abcdef');
    c.reset((s + 3) >>> 0);
    c.sock.close();
  });

  nets.it('a peer that did not offer SACK gets duplicate ACKs without blocks', () => {
    const c = open();
    c.send('PA', 'x', { seq: (c.peerNxt + 5) >>> 0 });
    c.expect({ flags: 'A', options: [] }, { ignore: ['tcp.window'] });
    c.reset();
    c.sock.close();
  });

  for (const dsack of [1, 0]) {
    nets.it(`tcp_dsack=${dsack}: data received twice is acknowledged ${dsack ? 'with a D-SACK block naming it (RFC 2883)' : 'without a SACK option'}`, () => {
      withSysctl({ 'net.ipv4.tcp_dsack': dsack }, () => {
        const c = sackOnly();
        const s = c.peerNxt;
        c.send('PA', 'dup');
        c.expect({ flags: 'A', window: 64240 - 3 });
        c.send('PA', 'dup', { seq: s });
        c.expect({ flags: 'A', window: 64240 - 3, options: dsack ? [NOP, NOP, { kind: 'sack', blocks: [[s, (s + 3) >>> 0]] }] : [] });
        c.reset();
        c.sock.close();
      });
    });
  }
});

describe('SACK blocks the kernel receives', () => {
  nets.it('four segments in flight, the last three SACKed: the first alone is retransmitted, before any RTO; TCPSackRecovery counts 1', () => {
    const c = sackOnly();
    c.sock.setOption(SOL_TCP, TCP_NODELAY, 1);
    const start = c.kernelNxt;
    for (const d of ['a1', 'b2', 'c3', 'd4']) {
      c.sock.send(Buffer.from(d));
      c.expect({ flags: 'PA', data: d });
    }
    const before = mibCounters('netstat');
    for (let k = 1; k <= 3; k++) c.send('A', '', { ack: start, options: [NOP, NOP, { kind: 'sack', blocks: [[(start + 2) >>> 0, (start + 2 + 2 * k) >>> 0]] }] });
    c.expect({ flags: 'PA', seq: start, data: 'a1' }, { timeoutMs: 150 });
    expectNone(c.n, { timeoutMs: 150 });
    assert.equal((mibCounters('netstat').get('TcpExt.TCPSackRecovery') ?? NaN) - (before.get('TcpExt.TCPSackRecovery') ?? NaN), 1);
    c.reset();
    c.sock.close();
  });
});
