// A typed socket over a file descriptor: AF_INET, AF_INET6 (stream, dgram, raw, ping),
// AF_PACKET and AF_NETLINK. Synchronous, like the kernel API underneath; every failure throws
// SysError with the errno name in `code`.
//
//   const s = udpSocket(6);
//   s.bind('[::1]:0');
//   s.sendTo(Buffer.from('hi'), { address: '::1', port: 53 });
//   const { data, from } = s.recvFrom({ timeoutMs: 1000 });
import * as sys from './sys/calls.js';
import { SysError, isSysError } from './sys/error.js';
import { errnoNumber } from './sys/errno.js';
import { SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM } from './include/linux/net.js';
import { AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, MSG_DONTWAIT, MSG_ERRQUEUE, SOL_IP, SOL_IPV6, SOL_TCP } from './include/linux/socket.js';
import { F_GETFL, F_SETFL, O_NONBLOCK } from './include/uapi/asm-generic/fcntl.js';
import { POLLERR, POLLIN } from './include/uapi/asm-generic/poll.js';
import { SOL_SOCKET, SO_BINDTODEVICE, SO_COOKIE, SO_ERROR, SO_MARK, SO_RCVTIMEO, SO_SNDTIMEO } from './include/uapi/asm-generic/socket.js';
import { IPPROTO_ICMP, IP_UNICAST_IF } from './include/uapi/linux/in.js';
import { IPPROTO_ICMPV6, IPV6_UNICAST_IF } from './include/uapi/linux/in6.js';
import { TCP_INFO } from './include/uapi/linux/tcp.js';
import { tcp_info, timeval } from './uapi.js';
import type { StructValue } from './struct.js';
import {
  netlinkAddress,
  packetAddress,
  parseInetAddress,
  type InetAddressInput,
  type NetlinkAddressInput,
  type PacketAddressInput,
} from './socket/address.js';
import { decodeSockAddr, encodeSockAddr, type Inet4Address, type Inet6Address, type NetlinkAddress, type PacketAddress } from './socket/sockaddr.js';
import { decodeCmsgs, encodeCmsgs, findCmsg, type Cmsg, type CmsgOut, type RecvErr } from './socket/cmsg.js';

export * from './socket/address.js';
export * from './socket/sockaddr.js';
export * from './socket/cmsg.js';

export type Domain = 'inet' | 'inet6' | 'netlink' | 'packet';
export type SocketType = 'stream' | 'dgram' | 'raw' | 'seqpacket';

/** The address type a socket of domain D returns. */
export type AddrOf<D extends Domain> = D extends 'inet'
  ? Inet4Address
  : D extends 'inet6'
    ? Inet6Address
    : D extends 'netlink'
      ? NetlinkAddress
      : PacketAddress;

/** What a socket of domain D accepts as an address. */
export type AddrInputOf<D extends Domain> = D extends 'inet' | 'inet6'
  ? InetAddressInput
  : D extends 'netlink'
    ? NetlinkAddressInput
    : PacketAddressInput;

export interface OpenOptions {
  /** O_NONBLOCK from the start (default false). */
  nonBlocking?: boolean;
  /** Close on exec (default true). */
  cloexec?: boolean;
}

export interface RecvOptions {
  /** Buffer size (default 65536). */
  size?: number;
  /** MSG_* flags (MSG_PEEK, MSG_DONTWAIT, MSG_TRUNC, MSG_ERRQUEUE...). */
  flags?: number;
  /**
   * Wait at most this long (poll) before receiving. When nothing arrives the call throws
   * SysError with code 'EAGAIN', as a blocking socket with SO_RCVTIMEO would.
   */
  timeoutMs?: number;
}

export interface RecvMsgOptions extends RecvOptions {
  /** Control buffer size (default 1024). */
  controlSize?: number;
}

export interface SendMsgOptions<D extends Domain> {
  /** Payload, or a scatter list. */
  data: Uint8Array | readonly Uint8Array[];
  /** Destination (omit on connected sockets). */
  to?: AddrInputOf<D>;
  control?: readonly CmsgOut[];
  flags?: number;
}

export interface Message<D extends Domain> {
  data: Buffer;
  /** recvmsg's return value: exceeds data.length for a datagram truncated with MSG_TRUNC. */
  length: number;
  /** Source address, null when the kernel gave none (connected stream sockets). */
  from: AddrOf<D> | null;
  control: Cmsg[];
  /** msg_flags: MSG_TRUNC, MSG_CTRUNC, MSG_ERRQUEUE... */
  flags: number;
}

export interface ErrorQueueMessage<D extends Domain> extends Message<D> {
  /** The IP(V6)_RECVERR control message; `data` is the original payload (or headers). */
  error: RecvErr;
}

const TYPES: Record<SocketType, number> = {
  stream: SOCK_STREAM,
  dgram: SOCK_DGRAM,
  raw: SOCK_RAW,
  seqpacket: SOCK_SEQPACKET,
};
const BACKOFF = new Int32Array(new SharedArrayBuffer(4));
const FAMILIES: Record<Domain, number> = { inet: AF_INET, inet6: AF_INET6, netlink: AF_NETLINK, packet: AF_PACKET };

export class Socket<D extends Domain> {
  #closed = false;

  /** Wrap an fd you already own (e.g. from accept); the Socket closes it. */
  constructor(
    readonly fd: number,
    readonly domain: D,
    readonly type: SocketType,
    readonly protocol: number,
  ) {}

  // ---- addresses ----

  /** Encode caller input for this socket's family. */
  address(input: AddrInputOf<D>): AddrOf<D> {
    switch (this.domain) {
      case 'inet':
      case 'inet6':
        return parseInetAddress(input as InetAddressInput, this.domain) as AddrOf<D>;
      case 'netlink':
        return netlinkAddress(input as NetlinkAddressInput) as AddrOf<D>;
      default:
        return packetAddress(input as PacketAddressInput) as AddrOf<D>;
    }
  }

  #encode(input: AddrInputOf<D>): Buffer {
    return encodeSockAddr(this.address(input));
  }

  #decode(raw: Buffer): AddrOf<D> | null {
    const a = decodeSockAddr(raw);
    if (a === null || a.family === 'unspec') return null;
    if (a.family !== this.domain) throw new TypeError(`socket of domain ${this.domain} got a ${a.family} address`);
    return a as AddrOf<D>;
  }

  bind(addr: AddrInputOf<D>): void {
    sys.bind(this.fd, this.#encode(addr));
  }

  connect(addr: AddrInputOf<D>): void {
    sys.connect(this.fd, this.#encode(addr));
  }

  /** connect(AF_UNSPEC): dissolve a datagram socket's peer association. */
  disconnect(): void {
    sys.connect(this.fd, encodeSockAddr({ family: 'unspec' }));
  }

  localAddress(): AddrOf<D> {
    const a = this.#decode(sys.getsockname(this.fd));
    if (!a) throw new TypeError('getsockname returned no address');
    return a;
  }

  peerAddress(): AddrOf<D> {
    const a = this.#decode(sys.getpeername(this.fd));
    if (!a) throw new TypeError('getpeername returned no address');
    return a;
  }

  // ---- stream ----

  listen(backlog = 128): void {
    sys.listen(this.fd, backlog);
  }

  accept(opts: { timeoutMs?: number } = {}): { socket: Socket<D>; peer: AddrOf<D> | null } {
    // accept4 has no per-call MSG_DONTWAIT; after poll reports a connection it does not block
    // unless another thread took it, and tests have one thread.
    const r = this.#timed(POLLIN, opts.timeoutMs, 'accept', () => sys.accept(this.fd, SOCK_CLOEXEC));
    return { socket: new Socket(r.fd, this.domain, this.type, this.protocol), peer: this.#decode(r.addr) };
  }

  shutdown(how: 'read' | 'write' | 'both' = 'both'): void {
    sys.shutdown(this.fd, how === 'read' ? SHUT_RD : how === 'write' ? SHUT_WR : SHUT_RDWR);
  }

  // ---- data ----

  send(data: Uint8Array, flags = 0): number {
    return sys.send(this.fd, data, flags);
  }

  sendTo(data: Uint8Array, to: AddrInputOf<D>, flags = 0): number {
    return sys.sendto(this.fd, data, flags, this.#encode(to));
  }

  sendMsg(msg: SendMsgOptions<D>): number {
    return sys.sendmsg(
      this.fd,
      {
        name: msg.to === undefined ? null : this.#encode(msg.to),
        iov: msg.data,
        control: msg.control?.length ? encodeCmsgs(msg.control) : null,
      },
      msg.flags ?? 0,
    );
  }

  recv(opts: RecvOptions = {}): Buffer {
    return this.recvFrom(opts).data;
  }

  /** recv(), but null instead of EAGAIN when nothing came within timeoutMs: "was it delivered?". */
  tryRecv(opts: RecvOptions = {}): Buffer | null {
    try {
      return this.recv(opts);
    } catch (e) {
      if (isSysError(e, 'EAGAIN')) return null;
      throw e;
    }
  }

  recvFrom(opts: RecvOptions = {}): { data: Buffer; length: number; from: AddrOf<D> | null } {
    const flags = opts.flags ?? 0;
    const r = this.#timed(POLLIN, opts.timeoutMs, 'recvfrom', (nb) =>
      sys.recvfrom(this.fd, opts.size ?? 65536, flags | (nb ? MSG_DONTWAIT : 0)),
    );
    return { data: r.data, length: r.length, from: this.#decode(r.addr) };
  }

  recvMsg(opts: RecvMsgOptions = {}): Message<D> {
    const flags = opts.flags ?? 0;
    const sizes = { size: opts.size ?? 65536, controlSize: opts.controlSize ?? 1024 };
    const r = this.#timed(flags & MSG_ERRQUEUE ? POLLERR : POLLIN, opts.timeoutMs, 'recvmsg', (nb) =>
      sys.recvmsg(this.fd, sizes, flags | (nb ? MSG_DONTWAIT : 0)),
    );
    return {
      data: r.data,
      length: r.length,
      from: this.#decode(r.addr),
      control: decodeCmsgs(r.control),
      flags: r.flags,
    };
  }

  /**
   * Read one message from the error queue (needs IP_RECVERR / IPV6_RECVERR set to 1).
   * Throws EAGAIN when the queue stays empty for timeoutMs (default: do not wait).
   */
  recvError(opts: Omit<RecvMsgOptions, 'flags'> = {}): ErrorQueueMessage<D> {
    const m = this.recvMsg({ ...opts, flags: MSG_ERRQUEUE, timeoutMs: opts.timeoutMs ?? 0 });
    const error = findCmsg(m.control, 'recverr');
    if (!error) throw new TypeError('error queue message carried no IP(V6)_RECVERR control message');
    return { ...m, error };
  }

  /** Wait for events; returns revents (0 on timeout). POLLERR/POLLHUP are always reported. */
  poll(events: number, timeoutMs: number): number {
    return sys.poll([{ fd: this.fd, events }], timeoutMs)[0] ?? 0;
  }

  /**
   * Run a receive-type call with an optional deadline: poll, then call without blocking (a
   * wake-up does not guarantee data for this call), again until the deadline. Without a
   * timeout the call simply blocks (or not) as the socket is configured.
   */
  #timed<T>(events: number, timeoutMs: number | undefined, call: string, fn: (nonBlocking: boolean) => T): T {
    if (timeoutMs === undefined) return fn(false);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Error-queue reads wait for POLLERR; data reads also wake on errors, so they surface.
      const got = this.poll(events, Math.max(0, deadline - Date.now()));
      const ready = events === POLLERR ? (got & POLLERR) !== 0 : got !== 0;
      if (ready) {
        try {
          return fn(true);
        } catch (e) {
          if (!isSysError(e, 'EAGAIN')) throw e;
        }
        // Woken by a condition this call does not consume (e.g. a queued error while reading
        // data): poll would return at once again, so back off instead of spinning.
        Atomics.wait(BACKOFF, 0, 0, 1);
      }
      if (Date.now() >= deadline) {
        throw new SysError(call, errnoNumber('EAGAIN'), [this.fd, `nothing within ${timeoutMs} ms`]);
      }
    }
  }

  // ---- options ----

  setOption(level: number, name: number, value: number | Uint8Array): void {
    sys.setsockopt(this.fd, level, name, value);
  }

  /**
   * getsockopt: `size` bytes for the answer, or an input buffer for options the kernel reads
   * first (IPV6_FLOWLABEL_MGR GET takes a struct in6_flowlabel_req); returns what it wrote.
   */
  getOption(level: number, name: number, sizeOrInput: number | Uint8Array): Buffer {
    return sys.getsockopt(this.fd, level, name, sizeOrInput);
  }

  getIntOption(level: number, name: number): number {
    return sys.getsockoptInt(this.fd, level, name);
  }

  /** SO_MARK (needs CAP_NET_ADMIN). */
  setMark(mark: number): void {
    this.setOption(SOL_SOCKET, SO_MARK, mark);
  }

  /** SO_BINDTODEVICE; null or '' unbinds. */
  bindToDevice(ifname: string | null): void {
    const name = ifname ?? '';
    this.setOption(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(name.length ? `${name}\0` : '', 'utf8'));
  }

  /** IP_UNICAST_IF / IPV6_UNICAST_IF; 0 clears. */
  setUnicastIf(ifindex: number): void {
    // Both options take the index in network byte order (ntohl in do_ip_setsockopt and
    // do_ipv6_setsockopt).
    const b = Buffer.alloc(4);
    b.writeUInt32BE(ifindex);
    if (this.domain === 'inet6') this.setOption(SOL_IPV6, IPV6_UNICAST_IF, b);
    else this.setOption(SOL_IP, IP_UNICAST_IF, b);
  }

  /** The IP(V6)_UNICAST_IF index (0 = none). */
  unicastIf(): number {
    const b = this.domain === 'inet6' ? this.getOption(SOL_IPV6, IPV6_UNICAST_IF, 4) : this.getOption(SOL_IP, IP_UNICAST_IF, 4);
    return b.readUInt32BE(0);
  }

  /** SO_COOKIE: the socket's unique 64-bit id (as in sock_diag). */
  cookie(): bigint {
    return this.getOption(SOL_SOCKET, SO_COOKIE, 8).readBigUInt64LE(0);
  }

  /** SO_ERROR: pending error (and clear it); 0 for none. */
  pendingError(): number {
    return this.getIntOption(SOL_SOCKET, SO_ERROR);
  }

  /**
   * fchown the socket inode: its owner uid (sk_uid) is what UID routing rules match, so a test
   * can route as another user without switching credentials. -1 keeps a field.
   */
  chown(uid: number, gid = -1): void {
    sys.fchown(this.fd, uid >>> 0, gid >>> 0);
  }

  setNonBlocking(on: boolean): void {
    const fl = sys.fcntl(this.fd, F_GETFL);
    sys.fcntl(this.fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
  }

  /** SO_RCVTIMEO / SO_SNDTIMEO (0 = wait forever). Blocking calls then fail with EAGAIN. */
  setTimeouts(t: { recvMs?: number; sendMs?: number }): void {
    const tv = (ms: number): Buffer => timeval.pack({ sec: Math.floor(ms / 1000), usec: (ms % 1000) * 1000 });
    if (t.recvMs !== undefined) this.setOption(SOL_SOCKET, SO_RCVTIMEO, tv(t.recvMs));
    if (t.sendMs !== undefined) this.setOption(SOL_SOCKET, SO_SNDTIMEO, tv(t.sendMs));
  }

  /** TCP_INFO for stream sockets. */
  tcpInfo(): StructValue<(typeof tcp_info)['fields']> {
    const raw = this.getOption(SOL_TCP, TCP_INFO, tcp_info.size);
    const full = Buffer.alloc(tcp_info.size);
    raw.copy(full);
    return tcp_info.unpack(full);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Close the fd; closing twice is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    sys.close(this.fd);
  }
}

/** socket(2) for any supported domain; `protocol` is the raw protocol number (IPPROTO_*, ETH_P_* in network order for packet sockets, NETLINK_*). */
export function openSocket<D extends Domain>(domain: D, type: SocketType, protocol = 0, opts: OpenOptions = {}): Socket<D> {
  const flags = (opts.cloexec === false ? 0 : SOCK_CLOEXEC) | (opts.nonBlocking ? SOCK_NONBLOCK : 0);
  const fd = sys.socket(FAMILIES[domain], TYPES[type] | flags, protocol);
  return new Socket(fd, domain, type, protocol);
}

export type IpVersion = 4 | 6;
export type InetDomain<V extends IpVersion> = V extends 4 ? 'inet' : 'inet6';

function inetDomain<V extends IpVersion>(v: V): InetDomain<V> {
  return (v === 4 ? 'inet' : 'inet6') as InetDomain<V>;
}

export function udpSocket<V extends IpVersion>(v: V, opts?: OpenOptions): Socket<InetDomain<V>> {
  return openSocket(inetDomain(v), 'dgram', 0, opts);
}

export function tcpSocket<V extends IpVersion>(v: V, opts?: OpenOptions): Socket<InetDomain<V>> {
  return openSocket(inetDomain(v), 'stream', 0, opts);
}

/** Unprivileged ICMP echo socket (needs net.ipv4.ping_group_range to cover the gid, or root in the guest). */
export function pingSocket<V extends IpVersion>(v: V, opts?: OpenOptions): Socket<InetDomain<V>> {
  return openSocket(inetDomain(v), 'dgram', v === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, opts);
}

export function rawSocket<V extends IpVersion>(v: V, protocol: number, opts?: OpenOptions): Socket<InetDomain<V>> {
  return openSocket(inetDomain(v), 'raw', protocol, opts);
}

/** AF_PACKET socket; `ethertype` in host order (e.g. ETH_P_ALL), converted to network order here. */
export function packetSocket(type: 'raw' | 'dgram', ethertype: number, opts?: OpenOptions): Socket<'packet'> {
  return openSocket('packet', type, ((ethertype & 0xff) << 8) | ((ethertype >> 8) & 0xff), opts);
}

/** AF_NETLINK socket of the given protocol (NETLINK_ROUTE, NETLINK_SOCK_DIAG, ...). */
export function netlinkSocket(protocol: number, opts?: OpenOptions): Socket<'netlink'> {
  return openSocket('netlink', 'raw', protocol, opts);
}

/** Runs fn(s) and closes s whatever fn does: a socket (or anything with close()) for one block. */
export function closing<S extends { close(): void }, T>(s: S, fn: (s: S) => T): T {
  try {
    return fn(s);
  } finally {
    s.close();
  }
}
