// The test as the remote end of a TCP connection, packetdrill style: segments are injected
// ('<') and expected ('>') on a fixture network, with sequence numbers relative to each side's
// initial sequence number. The peer tracks both sides' next sequence numbers (SYN, FIN and data
// count), learns the kernel's ISN from its first SYN, and fills seq/ack/ports/addresses, so a
// test states what a segment says and never adds to an ISN by hand.
//
//   const listener = listenOn(net, 80);
//   const peer = tcpPeer(net, { kernel: `${net.addr4}:80` });
//   peer.send('S', { options: [{ kind: 'mss', value: 1460 }] });       // seq 0 (relative)
//   peer.expect('SA', { window: 64240, options: [{ kind: 'mss', value: 1460 }] }); // ack 1
//   peer.send('A');                                                      // seq 1, ack 1
//   const { socket } = listener.accept({ timeoutMs: 1000 });
//   peer.send('PA', { data: 'hello' });
//   peer.expect('A');                                                    // ack 6
import { parseInetAddress, type InetAddressInput } from './socket/address.js';
import { expectPacket, inject } from './expect.js';
import { ipv4, ipv6, layer, raw, tcp, type Layer, type TcpOption } from './packet/index.js';
import { isIp4 } from './addr.js';
import { REMOTE4, REMOTE6, type Network } from './networks.js';
import { tcpSocket, type Socket } from './socket.js';

const REMOTE = { 4: REMOTE4, 6: REMOTE6 } as const;

export interface TcpPeerOptions {
  /** The kernel's end, the socket under test: '198.51.100.2:80', '[2001:db8:1::2]:80' or an object. */
  kernel: InetAddressInput;
  /** Our end (default: the fixture's remote address of the kernel's family, port 40000). */
  peer?: InetAddressInput;
  /** Our initial sequence number (default 1000). */
  isn?: number;
  /** The window we advertise (default 65535). */
  window?: number;
  /** The window expected from the kernel when an expectation names none (default: not compared). */
  kernelWindow?: number;
  /** Fields of the kernel's segments never compared (default ['ipv4.id']: it starts at random). */
  ignore?: readonly string[];
  /** The IP header we send (default: a plain one from peer to kernel). */
  toKernelIp?: Layer;
  /** The IP header expected from the kernel (default: IPv4 with DF and TTL 64, IPv6 with hop limit 64). */
  fromKernelIp?: Layer;
}

export interface SegmentFields {
  /** Payload. */
  data?: string | Uint8Array;
  /** Relative to the sender's ISN (default: the sender's next sequence number). */
  seq?: number;
  /** Relative to the receiver's ISN (default: what the receiver sent next, when the flags include 'A'; else 0). */
  ack?: number;
  window?: number;
  options?: TcpOption[];
}

export interface ExpectFields extends SegmentFields {
  /** More don't-care fields for this segment ('tcp.options', 'tcp.window'...). */
  ignore?: readonly string[];
  /** How long to wait (default 1000 ms). */
  timeoutMs?: number;
}

export interface TcpPeer {
  /** Our ISN and the kernel's (undefined until its first SYN is seen), absolute. */
  readonly isn: number;
  readonly kernelIsn: number | undefined;
  /** Next sequence numbers, relative to each side's ISN: ours, and the one we expect from the kernel. */
  readonly sndNxt: number;
  readonly rcvNxt: number;
  readonly kernel: { address: string; port: number };
  readonly peer: { address: string; port: number };
  /** Inject a segment from us ('S', 'A', 'PA', 'FA', 'R', ...); returns the layers sent. */
  send(flags: string, f?: SegmentFields): Layer[];
  /** Wait for the kernel's segment with these flags and fields (see expectPacket); returns it parsed from IP. */
  expect(flags: string, f?: ExpectFields): Layer[];
}

const u32 = (n: number): number => n >>> 0;
const bytes = (d: string | Uint8Array | undefined): Uint8Array => (d === undefined ? new Uint8Array(0) : typeof d === 'string' ? Buffer.from(d) : d);
/** Sequence space a segment uses: its data, plus one each for SYN and FIN. */
const space = (flags: string, len: number): number => len + (flags.includes('S') ? 1 : 0) + (flags.includes('F') ? 1 : 0);

function endpoint(input: InetAddressInput): { address: string; port: number; version: 4 | 6 } {
  const text = typeof input === 'string' ? input : input.address;
  const v4 = isIp4(text) || /^\d+\.\d+\.\d+\.\d+:\d+$/.test(text);
  const a = parseInetAddress(input, v4 ? 'inet' : 'inet6');
  return { address: a.address, port: a.port, version: v4 ? 4 : 6 };
}

/** A TCP peer on `net` (see the top of this file). Segments go out on `net` and are expected on it. */
export function tcpPeer(net: Network, o: TcpPeerOptions): TcpPeer {
  const k = endpoint(o.kernel);
  const p = endpoint(o.peer ?? { address: REMOTE[k.version], port: 40000 });
  if (p.version !== k.version) throw new TypeError(`tcpPeer: kernel ${k.address} and peer ${p.address} are of different families`);
  const isn = u32(o.isn ?? 1000);
  const toKernel = o.toKernelIp ?? (k.version === 4 ? ipv4({ src: p.address, dst: k.address }) : ipv6({ src: p.address, dst: k.address }));
  const fromKernel = o.fromKernelIp ?? (k.version === 4 ? ipv4({ src: k.address, dst: p.address, df: true, ttl: 64 }) : ipv6({ src: k.address, dst: p.address, hlim: 64 }));
  let kernelIsn: number | undefined;
  let sndNxt = 0;
  let rcvNxt = 0;

  return {
    isn,
    get kernelIsn() {
      return kernelIsn;
    },
    get sndNxt() {
      return sndNxt;
    },
    get rcvNxt() {
      return rcvNxt;
    },
    kernel: { address: k.address, port: k.port },
    peer: { address: p.address, port: p.port },

    send(flags, f = {}) {
      const data = bytes(f.data);
      const seq = f.seq ?? sndNxt;
      const ack = f.ack ?? (flags.includes('A') ? rcvNxt : undefined);
      if (ack !== undefined && kernelIsn === undefined) throw new Error(`tcpPeer: an ACK before the kernel's SYN was seen (no ISN to count from)`);
      const layers: Layer[] = [
        toKernel,
        tcp({
          sport: p.port, dport: k.port, flags, seq: u32(isn + seq), ack: ack === undefined ? 0 : u32((kernelIsn ?? 0) + ack),
          window: f.window ?? o.window ?? 65535, options: f.options ?? [],
        }),
      ];
      if (data.length) layers.push(raw(data));
      inject(net, layers);
      // Only an in-order segment moves our edge: a test may send out-of-window ones on purpose.
      if (seq === sndNxt) sndNxt += space(flags, data.length);
      return layers;
    },

    expect(flags, f = {}) {
      const data = bytes(f.data);
      const first = flags.includes('S') && kernelIsn === undefined;
      const ignore = [...(o.ignore ?? ['ipv4.id']), ...(f.ignore ?? [])];
      if (first) ignore.push('tcp.seq'); // the kernel's ISN is random by design: learnt from this segment
      const window = f.window ?? o.kernelWindow;
      if (window === undefined) ignore.push('tcp.window');
      const seq = f.seq ?? rcvNxt;
      const ack = f.ack ?? (flags.includes('A') ? sndNxt : undefined);
      const want: Layer[] = [
        fromKernel,
        tcp({
          sport: k.port, dport: p.port, flags, seq: u32((kernelIsn ?? 0) + seq), ack: ack === undefined ? 0 : u32(isn + ack),
          window: window ?? 0, options: f.options ?? [],
        }),
      ];
      if (data.length) want.push(raw(data));
      const got = expectPacket(net, want, { ignore, ...(f.timeoutMs !== undefined ? { timeoutMs: f.timeoutMs } : {}) });
      if (first) kernelIsn = u32(layer(got, 'tcp')!.seq - seq);
      if (seq === rcvNxt) rcvNxt += space(flags, data.length);
      return got;
    },
  };
}

export interface ListenOptions {
  /** 4 (default) or 6: the network's addr4 or addr6. */
  version?: 4 | 6;
  /** Set the network's fwmark on the socket, so its replies leave on this network (default true). */
  mark?: boolean;
  backlog?: number;
  /** Runs after bind(), before listen(): for options a listener needs first (TCP_FASTOPEN...). */
  setup?: (s: Socket<'inet'> | Socket<'inet6'>) => void;
}

/** A TCP listener on the network's address and `port`, marked to answer on that network. */
export function listenOn(net: Network, port: number, o: ListenOptions & { version: 6 }): Socket<'inet6'>;
export function listenOn(net: Network, port: number, o?: ListenOptions & { version?: 4 }): Socket<'inet'>;
export function listenOn(net: Network, port: number, o: ListenOptions = {}): Socket<'inet'> | Socket<'inet6'> {
  const s: Socket<'inet'> | Socket<'inet6'> = o.version === 6 ? tcpSocket(6) : tcpSocket(4);
  try {
    if (o.mark ?? true) s.setMark(net.mark);
    s.bind({ address: o.version === 6 ? net.addr6 : net.addr4, port });
    o.setup?.(s);
    s.listen(o.backlog);
    return s;
  } catch (e) {
    s.close();
    throw e;
  }
}

// ---- a passive open from the wire, as one object ----
//
// acceptFromWire() runs the handshake with tcpPeer() against a listener of its own and returns
// the accepted socket with its peer, addressed in absolute sequence numbers (what a parsed
// segment shows), for tests that read segments themselves (timers, probes):
//
//   const c = acceptFromWire(net, { port: 80 });
//   c.send('PA', 'hello');          // the peer's data
//   c.expect({ flags: 'A' });       // the kernel's ACK: seq, ack and window as tracked
//   c.sock.send(Buffer.from('x'));
//   c.expect({ flags: 'PA', data: 'x' });

export interface AcceptOptions {
  port: number;
  peerPort?: number;
  family?: 4 | 6;
  /** The peer's SYN options (default: MSS 1460 only: no scaling, SACK or timestamps). */
  synOptions?: TcpOption[];
  /** The SYN-ACK options the kernel must answer with (default: MSS 1460 for IPv4, 1440 for IPv6). */
  synAckOptions?: TcpOption[];
  /** Extra don't-care fields for the SYN-ACK (e.g. 'tcp.options[2].tsval'). */
  synAckIgnore?: string[];
  /** The SYN-ACK window (default 65535 rounded down to the kernel's MSS: 64240 for IPv4, 64800 for IPv6). */
  synAckWindow?: number;
  /** The listener's address (default: the network's address of the family), e.g. '::' for dual stack. */
  listenAddress?: string;
  /** The peer's initial sequence number (default 1000) and window (default 65535). */
  isn?: number;
  window?: number;
  /** Called on the listener before listen() (socket options it should have). */
  setup?: (listener: Socket<'inet'> | Socket<'inet6'>) => void;
}

/** A segment from the peer; seq and ack are absolute. */
export interface SegmentIn {
  seq?: number;
  ack?: number;
  window?: number;
  options?: TcpOption[];
}

/** A segment expected from the kernel; seq and ack are absolute. */
export interface SegmentOut {
  flags: string;
  /** Default: the kernel's next sequence number. */
  seq?: number;
  /** Default: the peer's next sequence number. */
  ack?: number;
  /** Default: the SYN-ACK's window less the sequence space the peer used since (data and FIN; unscaled, unread). */
  window?: number;
  data?: string | Uint8Array;
  options?: TcpOption[];
}

export class TcpConn {
  /** The tsval of the kernel's SYN-ACK (0 without timestamps). */
  kernelTsval = 0;
  constructor(
    readonly peer: TcpPeer,
    readonly n: Network,
    readonly sock: Socket<'inet' | 'inet6'>,
    readonly family: 4 | 6,
    /** The window of the kernel's SYN-ACK. */
    readonly kernelWindow: number,
  ) {}

  get port(): number {
    return this.peer.kernel.port;
  }

  get peerPort(): number {
    return this.peer.peer.port;
  }

  get remote(): string {
    return this.peer.peer.address;
  }

  get local(): string {
    return this.peer.kernel.address;
  }

  /** The peer's next sequence number, and the kernel's, absolute. */
  get peerNxt(): number {
    return u32(this.peer.isn + this.peer.sndNxt);
  }

  get kernelNxt(): number {
    return u32((this.peer.kernelIsn ?? 0) + this.peer.rcvNxt);
  }

  /** Inject a segment from the peer; in sequence, its data and FIN move the peer's edge. */
  send(flags: string, data: string | Uint8Array = '', o: SegmentIn = {}): void {
    this.peer.send(flags, {
      data,
      ...(o.seq !== undefined ? { seq: u32(o.seq - this.peer.isn) } : {}),
      ...(o.ack !== undefined ? { ack: u32(o.ack - (this.peer.kernelIsn ?? 0)) } : {}),
      ...(o.window !== undefined ? { window: o.window } : {}),
      ...(o.options !== undefined ? { options: o.options } : {}),
    });
  }

  /** Expect the kernel's next segment exactly (IPv4 id aside). */
  expect(f: SegmentOut, o: { ignore?: readonly string[]; timeoutMs?: number } = {}): Layer[] {
    return this.peer.expect(f.flags, {
      ...(f.data !== undefined ? { data: f.data } : {}),
      ...(f.seq !== undefined ? { seq: u32(f.seq - (this.peer.kernelIsn ?? 0)) } : {}),
      ...(f.ack !== undefined ? { ack: u32(f.ack - this.peer.isn) } : {}),
      window: f.window ?? this.kernelWindow - (this.peer.sndNxt - 1),
      options: f.options ?? [],
      ...(o.ignore ? { ignore: o.ignore } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    });
  }

  /** An in-sequence RST from the peer (at `seq`, absolute, if the peer's edge is not the kernel's). */
  reset(seq?: number): void {
    this.send('R', '', { window: 0, ...(seq !== undefined ? { seq } : {}) });
  }
}

/** Passive open from the wire on network n: SYN, the exact SYN-ACK, ACK, accept(). */
export function acceptFromWire(n: Network, o: AcceptOptions): TcpConn {
  const family = o.family ?? 4;
  const synAckWindow = o.synAckWindow ?? (family === 4 ? 64240 : 64800);
  const l: Socket<'inet'> | Socket<'inet6'> = o.listenAddress !== undefined && !isIp4(o.listenAddress) ? tcpSocket(6) : family === 4 ? tcpSocket(4) : tcpSocket(6);
  try {
    l.setMark(n.mark);
    l.bind({ address: o.listenAddress ?? (family === 4 ? n.addr4 : n.addr6), port: o.port });
    o.setup?.(l);
    l.listen();
    const peer = tcpPeer(n, {
      kernel: { address: family === 4 ? n.addr4 : n.addr6, port: o.port },
      peer: { address: REMOTE[family], port: o.peerPort ?? 40000 },
      isn: o.isn ?? 1000,
      window: o.window ?? 65535,
    });
    const syn = o.synOptions ?? [{ kind: 'mss', value: 1460 }];
    peer.send('S', { options: syn });
    const synack = peer.expect('SA', {
      window: synAckWindow,
      options: o.synAckOptions ?? [{ kind: 'mss', value: family === 4 ? 1460 : 1440 }],
      ignore: o.synAckIgnore ?? [],
    });
    // The ACK carries timestamps if the SYN did (the kernel drops it otherwise).
    const ts = syn.find((x) => x.kind === 'timestamp');
    peer.send('A', { options: ts ? [{ kind: 'nop' }, { kind: 'nop' }, ts] : [] });
    const { socket } = l.accept({ timeoutMs: 1000 });
    const c = new TcpConn(peer, n, socket, family, synAckWindow);
    const t = layer(synack, 'tcp')!.options.find((x) => x.kind === 'timestamp');
    if (t?.kind === 'timestamp') c.kernelTsval = t.tsval;
    return c;
  } finally {
    l.close();
  }
}
