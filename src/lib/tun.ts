// tun and tap devices: the test holds the "wire" end. Frames the kernel transmits on the device
// are read here; frames written here are received by the kernel as if they came off the wire.
import { IFF_NO_PI, IFF_TAP, IFF_TUN, TUNSETIFF } from './include/uapi/linux/if_tun.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from './include/uapi/asm-generic/fcntl.js';
import { POLLIN } from './include/uapi/asm-generic/poll.js';
import { withRoute, type LinkChange } from './netlink/route.js';
import * as sys from './sys/calls.js';
import { isSysError } from './sys/error.js';
import { ifreq_flags } from './uapi.js';

export interface TunOptions {
  /** Interface name, or a pattern like 'nt%d' (default: the kernel's 'tun%d' / 'tap%d'). */
  name?: string;
  /** Bring the link up after creation (default true). */
  up?: boolean;
  mtu?: number;
  /** Keep the 4-byte struct tun_pi before each frame (default false: IFF_NO_PI). */
  packetInfo?: boolean;
}

export interface TapOptions extends TunOptions {
  /** MAC address, e.g. '02:00:00:00:00:01' (default: random from the kernel). */
  mac?: string;
}

export interface TunDevice {
  readonly kind: 'tun' | 'tap';
  readonly fd: number;
  /** The name the kernel gave the device. */
  readonly name: string;
  readonly ifindex: number;
  /** Current MAC (tap). */
  mac(): string;
  setMac(mac: string): void;
  setUp(up: boolean): void;
  isUp(): boolean;
  setMtu(mtu: number): void;
  /** Next frame the kernel sent (IP packet for tun, Ethernet frame for tap), or null after timeoutMs (default 0). */
  read(opts?: { timeoutMs?: number; size?: number }): Buffer | null;
  /** Next frame for which `match` returns true; others are discarded. Null after timeoutMs. */
  readMatching(match: (frame: Buffer) => boolean, opts?: { timeoutMs?: number }): Buffer | null;
  /** Inject one frame into the kernel. */
  write(frame: Uint8Array): void;
  /** Discard queued frames; returns how many. */
  drain(): number;
  /** Close the fd: a non-persistent device disappears with it. Idempotent. */
  close(): void;
}

function create(kind: 'tun' | 'tap', opts: TapOptions): TunDevice {
  const fd = sys.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC);
  let name: string;
  let ifindex: number;
  try {
    const flags = (kind === 'tun' ? IFF_TUN : IFF_TAP) | (opts.packetInfo ? 0 : IFF_NO_PI);
    const req = ifreq_flags.pack({ name: opts.name ?? '', flags });
    sys.ioctl(fd, TUNSETIFF, req);
    name = ifreq_flags.unpack(req).name;
    // One RTM_NEWLINK for MAC, MTU and up: applied in that order (do_setlink), as the ioctls were.
    const change: LinkChange = { up: opts.up ?? true };
    if (opts.mac !== undefined) change.address = opts.mac;
    if (opts.mtu !== undefined) change.mtu = opts.mtu;
    ifindex = withRoute((rt) => {
      const i = rt.index(name);
      rt.setLink(i, change);
      return i;
    });
  } catch (e) {
    sys.close(fd);
    throw e;
  }
  let closed = false;

  const read = (o: { timeoutMs?: number; size?: number } = {}): Buffer | null => {
    const timeoutMs = o.timeoutMs ?? 0;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return sys.read(fd, o.size ?? 65536);
      } catch (e) {
        if (!isSysError(e, 'EAGAIN')) throw e;
      }
      const left = deadline - Date.now();
      if (left <= 0 || sys.poll([{ fd, events: POLLIN }], left)[0] === 0) return null;
    }
  };

  return {
    kind,
    fd,
    name,
    ifindex,
    mac: () => withRoute((rt) => rt.link(ifindex).address ?? ''),
    setMac: (mac) => withRoute((rt) => rt.setLink(ifindex, { address: mac })),
    setUp: (up) => withRoute((rt) => rt.setLink(ifindex, { up })),
    isUp: () => withRoute((rt) => rt.link(ifindex).up),
    setMtu: (mtu) => withRoute((rt) => rt.setLink(ifindex, { mtu })),
    read,
    readMatching(match, o = {}) {
      const deadline = Date.now() + (o.timeoutMs ?? 0);
      for (;;) {
        const f = read({ timeoutMs: Math.max(0, deadline - Date.now()) });
        if (f === null) return null;
        if (match(f)) return f;
      }
    },
    write(frame) {
      const n = sys.write(fd, frame);
      if (n !== frame.length) throw new RangeError(`tun write: ${n} of ${frame.length} bytes`);
    },
    drain() {
      let n = 0;
      while (read() !== null) n++;
      return n;
    },
    close() {
      if (closed) return;
      closed = true;
      sys.close(fd);
    },
  };
}

/** A layer-3 tun device: reads and writes bare IP packets. */
export function openTun(opts: TunOptions = {}): TunDevice {
  return create('tun', opts);
}

/** A layer-2 tap device: reads and writes Ethernet frames. */
export function openTap(opts: TapOptions = {}): TunDevice {
  return create('tap', opts);
}
