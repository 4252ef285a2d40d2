// TCP_REPAIR (include/uapi/linux/tcp.h, net/ipv4/tcp.c): take a connection's state out of a
// socket and put it into another, as checkpoint/restore tools do. In repair mode connect()
// establishes without a handshake, close() sends nothing, the queues' sequence numbers can be
// read and set, data can be put straight into either queue, and the options and window the
// handshake would have negotiated are set by hand.
import type { Socket } from './socket.js';
import { MSG_PEEK, SOL_TCP } from './include/linux/socket.js';
import { TCP_QUEUE_SEQ, TCP_REPAIR, TCP_REPAIR_OPTIONS, TCP_REPAIR_QUEUE, TCP_REPAIR_WINDOW } from './include/uapi/linux/tcp.js';
import { struct, u32 } from './struct.js';

export { TCP_QUEUE_SEQ, TCP_REPAIR, TCP_REPAIR_OPTIONS, TCP_REPAIR_QUEUE, TCP_REPAIR_WINDOW };

/** TCP_REPAIR values: on, off (sends a window probe), off without the probe. */
export const REPAIR = { on: 1, off: 0, offNoProbe: -1 } as const;
/** TCP_REPAIR_QUEUE values (TCP_NO_QUEUE, TCP_RECV_QUEUE, TCP_SEND_QUEUE). */
export const QUEUE = { none: 0, recv: 1, send: 2 } as const;
export type QueueName = keyof typeof QUEUE;

/** struct tcp_repair_window */
export const tcpRepairWindow = struct('tcp_repair_window', { sndWl1: u32, sndWnd: u32, maxWindow: u32, rcvWnd: u32, rcvWup: u32 });
export type RepairWindow = ReturnType<typeof tcpRepairWindow.unpack>;
/** struct tcp_repair_opt */
export const tcpRepairOpt = struct('tcp_repair_opt', { optCode: u32, optVal: u32 });

/** What TCP_REPAIR_OPTIONS restores: the options the handshake negotiated. */
export type RepairOption =
  | { kind: 'mss'; value: number }
  /** Our send shift (the peer's wscale) and our receive shift. */
  | { kind: 'wscale'; snd: number; rcv: number }
  | { kind: 'sackOk' }
  | { kind: 'timestamp' }
  /** Any option code and value, to test the kernel's checks. */
  | { kind: 'raw'; code: number; value: number };

type TcpSocket = Socket<'inet' | 'inet6'>;

export function setRepair(s: TcpSocket, mode: keyof typeof REPAIR | number): void {
  s.setOption(SOL_TCP, TCP_REPAIR, typeof mode === 'number' ? mode : REPAIR[mode]);
}

export function setRepairQueue(s: TcpSocket, q: QueueName | number): void {
  s.setOption(SOL_TCP, TCP_REPAIR_QUEUE, typeof q === 'number' ? q : QUEUE[q]);
}

/** The next sequence number of the selected queue: write_seq (send) or rcv_nxt (receive). */
export function queueSeq(s: TcpSocket): number {
  return s.getIntOption(SOL_TCP, TCP_QUEUE_SEQ) >>> 0;
}

export function setQueueSeq(s: TcpSocket, seq: number): void {
  s.setOption(SOL_TCP, TCP_QUEUE_SEQ, seq | 0);
}

/** Select a queue and read its data without consuming it (repair mode reads only with MSG_PEEK). */
export function peekQueue(s: TcpSocket, q: 'send' | 'recv', size = 65536): Buffer {
  setRepairQueue(s, q);
  return s.recv({ flags: MSG_PEEK, size });
}

/** Select a queue and write data straight into it (send: as if sent and unacknowledged). */
export function fillQueue(s: TcpSocket, q: 'send' | 'recv', data: Uint8Array): number {
  setRepairQueue(s, q);
  return s.send(data);
}

// include/net/tcp.h option kinds as TCP_REPAIR_OPTIONS takes them.
const CODE = { mss: 2, wscale: 3, sackOk: 4, timestamp: 8 } as const;

export function encodeRepairOptions(opts: readonly RepairOption[]): Buffer {
  return Buffer.concat(opts.map((o) => {
    switch (o.kind) {
      case 'mss': return tcpRepairOpt.pack({ optCode: CODE.mss, optVal: o.value });
      case 'wscale': return tcpRepairOpt.pack({ optCode: CODE.wscale, optVal: ((o.rcv & 0xffff) << 16 | (o.snd & 0xffff)) >>> 0 });
      case 'sackOk': return tcpRepairOpt.pack({ optCode: CODE.sackOk, optVal: 0 });
      case 'timestamp': return tcpRepairOpt.pack({ optCode: CODE.timestamp, optVal: 0 });
      case 'raw': return tcpRepairOpt.pack({ optCode: o.code, optVal: o.value >>> 0 });
    }
  }));
}

export function setRepairOptions(s: TcpSocket, opts: readonly RepairOption[]): void {
  s.setOption(SOL_TCP, TCP_REPAIR_OPTIONS, encodeRepairOptions(opts));
}

export function repairWindow(s: TcpSocket): RepairWindow {
  return tcpRepairWindow.unpack(s.getOption(SOL_TCP, TCP_REPAIR_WINDOW, tcpRepairWindow.size));
}

export function setRepairWindow(s: TcpSocket, w: RepairWindow): void {
  s.setOption(SOL_TCP, TCP_REPAIR_WINDOW, tcpRepairWindow.pack(w));
}

/**
 * Closes `s` without a packet on the wire: in repair mode tcp_close() disconnects with
 * ECONNABORTED instead of sending a FIN or RST (net/ipv4/tcp.c). For a test's clean-up after a
 * failure, so a half-driven connection does not retransmit into the next case's capture.
 */
export function closeSilently(s: TcpSocket): void {
  try {
    setRepair(s, 'on');
  } finally {
    s.close();
  }
}
