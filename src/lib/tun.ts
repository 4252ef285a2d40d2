// tun and tap devices: the test holds the "wire" end. Frames the kernel transmits on the device
// are read here; frames written here are received by the kernel as if they came off the wire.
import { IFF_NAPI, IFF_NO_PI, IFF_TAP, IFF_TUN, IFF_VNET_HDR, TUNSETIFF, TUNSETOFFLOAD, TUNSETVNETHDRSZ } from './include/uapi/linux/if_tun.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from './include/uapi/asm-generic/fcntl.js';
import { POLLIN } from './include/uapi/asm-generic/poll.js';
import { withRoute, type LinkChange } from './netlink/route.js';
import * as sys from './sys/calls.js';
import { isSysError } from './sys/error.js';
import { decodeVnetHdr, encodeVnetHdr, VIRTIO_NET_HDR_LEN, type VirtioNetHdr } from './packet/virtio-net.js';
import { ifreq_flags } from './uapi.js';

export interface TunOptions {
  /** Interface name, or a pattern like 'nt%d' (default: the kernel's 'tun%d' / 'tap%d'). */
  name?: string;
  /** Bring the link up after creation (default true). */
  up?: boolean;
  mtu?: number;
  /** Keep the 4-byte struct tun_pi before each frame (default false: IFF_NO_PI). */
  packetInfo?: boolean;
  /**
   * IFF_VNET_HDR: a struct virtio_net_hdr before each frame (default false). read()/write() then
   * hide it (a zero header on write); readVnet()/writeVnet() see it.
   */
  vnetHdr?: boolean;
  /** TUNSETVNETHDRSZ (default the kernel's, 10); needs vnetHdr. */
  vnetHdrSize?: number;
  /** TUNSETOFFLOAD TUN_F_* flags set before the link comes up (default: none, the kernel's default). */
  offload?: number;
  /** IFF_NAPI: written frames go through NAPI and GRO (default false). */
  napi?: boolean;
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
  /** The virtio_net_hdr size before each frame (0 without IFF_VNET_HDR). */
  readonly vnetHdrSize: number;
  /** TUNSETOFFLOAD: TUN_F_* flags (0 turns every offload off). */
  setOffload(flags: number): void;
  /** Next frame with its virtio_net_hdr (vnetHdr devices only), or null after timeoutMs. */
  readVnet(opts?: { timeoutMs?: number }): { hdr: VirtioNetHdr; frame: Buffer } | null;
  /** Inject one frame behind the given virtio_net_hdr (vnetHdr devices only). */
  writeVnet(hdr: Partial<VirtioNetHdr>, frame: Uint8Array): void;
  /** Discard queued frames; returns how many. */
  drain(): number;
  /** Close the fd: a non-persistent device disappears with it. Idempotent. */
  close(): void;
}

function create(kind: 'tun' | 'tap', opts: TapOptions): TunDevice {
  const fd = sys.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC);
  let name: string;
  let ifindex: number;
  const vnet = opts.vnetHdr ?? false;
  if (!vnet && opts.vnetHdrSize !== undefined) throw new RangeError('tun: vnetHdrSize needs vnetHdr: true');
  const hdrSize = vnet ? (opts.vnetHdrSize ?? VIRTIO_NET_HDR_LEN) : 0;
  const setOffload = (flags: number): void => {
    sys.ioctl(fd, TUNSETOFFLOAD, flags);
  };
  try {
    const flags = (kind === 'tun' ? IFF_TUN : IFF_TAP) | (opts.packetInfo ? 0 : IFF_NO_PI) | (vnet ? IFF_VNET_HDR : 0) | (opts.napi ? IFF_NAPI : 0);
    const req = ifreq_flags.pack({ name: opts.name ?? '', flags });
    sys.ioctl(fd, TUNSETIFF, req);
    name = ifreq_flags.unpack(req).name;
    if (opts.vnetHdrSize !== undefined) {
      const sz = Buffer.alloc(4);
      sz.writeInt32LE(opts.vnetHdrSize);
      sys.ioctl(fd, TUNSETVNETHDRSZ, sz);
    }
    if (opts.offload !== undefined) setOffload(opts.offload);
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

  const readRaw = (o: { timeoutMs?: number; size?: number } = {}): Buffer | null => {
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

  const read = (o: { timeoutMs?: number; size?: number } = {}): Buffer | null => {
    const f = readRaw({ ...o, size: (o.size ?? 65536) + hdrSize });
    return f && hdrSize ? f.subarray(hdrSize) : f;
  };
  const writeRaw = (frame: Uint8Array): void => {
    const n = sys.write(fd, frame);
    if (n !== frame.length) throw new RangeError(`tun write: ${n} of ${frame.length} bytes`);
  };
  const needVnet = (what: string): void => {
    if (!vnet) throw new Error(`tun ${name}: ${what} needs a device opened with vnetHdr: true`);
  };

  return {
    kind,
    fd,
    vnetHdrSize: hdrSize,
    setOffload,
    readVnet(o = {}) {
      needVnet('readVnet');
      const f = readRaw({ timeoutMs: o.timeoutMs ?? 0, size: 65536 + hdrSize });
      if (f === null) return null;
      return { hdr: decodeVnetHdr(f, { size: hdrSize }), frame: f.subarray(hdrSize) };
    },
    writeVnet(hdr, frame) {
      needVnet('writeVnet');
      writeRaw(Buffer.concat([encodeVnetHdr(hdr, { size: hdrSize }), frame]));
    },
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
      writeRaw(hdrSize ? Buffer.concat([Buffer.alloc(hdrSize), frame]) : frame);
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
