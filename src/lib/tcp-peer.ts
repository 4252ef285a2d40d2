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
