// The netlink socket under core.ts: a Socket<'netlink'> (socket.ts, the library's one socket
// wrapper) bound to a kernel-assigned port id, seen through the small interface core.ts needs,
// so core.ts can also be tested with a scripted fake.
import { MSG_TRUNC, SOL_NETLINK } from '../include/linux/socket.js';
import { POLLIN } from '../include/uapi/asm-generic/poll.js';
import { SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE } from '../include/uapi/asm-generic/socket.js';
import { netlinkSocket } from '../socket.js';

export interface Transport {
  /** Port id the kernel assigned (nl_pid). */
  readonly portId: number;
  readonly fd: number;
  send(datagram: Buffer): void;
  /** Next datagram, or null when nothing arrived within timeoutMs (-1 waits forever). */
  recv(timeoutMs: number): Buffer | null;
  /** A SOL_NETLINK option (NETLINK_EXT_ACK, NETLINK_ADD_MEMBERSHIP, ...). */
  setOption(name: number, value: number): void;
  close(): void;
}

export interface TransportOptions {
  /** Receive buffer for one datagram; dumps use at most 32 KiB per datagram. */
  recvSize?: number;
  /** SO_RCVBUF(FORCE) in bytes, for sockets that subscribe to busy groups. */
  rcvbuf?: number;
}

export function openTransport(protocol: number, opts: TransportOptions = {}): Transport {
  const s = netlinkSocket(protocol);
  try {
    if (opts.rcvbuf !== undefined) {
      try {
        s.setOption(SOL_SOCKET, SO_RCVBUFFORCE, opts.rcvbuf);
      } catch {
        s.setOption(SOL_SOCKET, SO_RCVBUF, opts.rcvbuf);
      }
    }
    s.bind({ pid: 0 });
    const portId = s.localAddress().pid;
    const recvSize = opts.recvSize ?? 65536;
    return {
      portId,
      fd: s.fd,
      send(datagram) {
        s.sendTo(datagram, { pid: 0 }); // to the kernel
      },
      recv(timeoutMs) {
        if (s.poll(POLLIN, timeoutMs) === 0) return null;
        const r = s.recvFrom({ size: recvSize, flags: MSG_TRUNC });
        if (r.length > r.data.length) {
          throw new RangeError(`netlink datagram of ${r.length} bytes truncated to ${r.data.length}; open with a larger recvSize`);
        }
        return r.data;
      },
      setOption(name, value) {
        s.setOption(SOL_NETLINK, name, value);
      },
      close() {
        s.close();
      },
    };
  } catch (e) {
    s.close();
    throw e;
  }
}
