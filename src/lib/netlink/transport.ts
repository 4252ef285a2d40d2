// The netlink socket itself, over the sys layer: socket(AF_NETLINK), bind, options, send to the
// kernel, receive with a timeout. Kept behind a small interface so core.ts can be tested with a
// scripted fake.
import * as sys from '../sys/index.js';
import { NETLINK_OPT, SOL_NETLINK } from './uapi/manual.js';

export interface Transport {
  /** Port id the kernel assigned (nl_pid). */
  readonly portId: number;
  readonly fd: number;
  send(datagram: Buffer): void;
  /** Next datagram, or null when nothing arrived within timeoutMs (-1 waits forever). */
  recv(timeoutMs: number): Buffer | null;
  setOption(name: number, value: number): void;
  close(): void;
}

export interface TransportOptions {
  /** Receive buffer for one datagram; dumps use at most 32 KiB per datagram. */
  recvSize?: number;
  /** SO_RCVBUF(FORCE) in bytes, for sockets that subscribe to busy groups. */
  rcvbuf?: number;
}

const POLLIN = 0x1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;

/** struct sockaddr_nl (include/uapi/linux/netlink.h): family, pad, pid, groups. */
function sockaddrNl(pid: number, groups: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(sys.K.AF_NETLINK, 0);
  b.writeUInt32LE(pid >>> 0, 4);
  b.writeUInt32LE(groups >>> 0, 8);
  return b;
}

const KERNEL = sockaddrNl(0, 0);

export function openTransport(protocol: number, opts: TransportOptions = {}): Transport {
  const fd = sys.socket(sys.K.AF_NETLINK, sys.K.SOCK_RAW | sys.K.SOCK_CLOEXEC, protocol);
  try {
    if (opts.rcvbuf !== undefined) {
      try {
        sys.setsockopt(fd, sys.K.SOL_SOCKET, SO_RCVBUFFORCE, opts.rcvbuf);
      } catch {
        sys.setsockopt(fd, sys.K.SOL_SOCKET, SO_RCVBUF, opts.rcvbuf);
      }
    }
    sys.bind(fd, sockaddrNl(0, 0));
    const portId = sys.getsockname(fd).readUInt32LE(4);
    const recvSize = opts.recvSize ?? 65536;
    return {
      portId,
      fd,
      send(datagram) {
        sys.sendto(fd, datagram, 0, KERNEL);
      },
      recv(timeoutMs) {
        const [rev] = sys.poll([{ fd, events: POLLIN }], timeoutMs);
        if (!rev) return null;
        const r = sys.recvfrom(fd, recvSize, sys.K.MSG_TRUNC);
        if (r.length > r.data.length) {
          throw new RangeError(`netlink datagram of ${r.length} bytes truncated to ${r.data.length}; open with a larger recvSize`);
        }
        return r.data;
      },
      setOption(name, value) {
        sys.setsockopt(fd, SOL_NETLINK, name, value);
      },
      close() {
        sys.close(fd);
      },
    };
  } catch (e) {
    sys.close(fd);
    throw e;
  }
}

export { NETLINK_OPT };
