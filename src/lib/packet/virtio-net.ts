// struct virtio_net_hdr (include/uapi/linux/virtio_net.h), the header a tun/tap device with
// IFF_VNET_HDR puts before each frame: offload metadata between the kernel and the device's
// reader. Layout (10 bytes; 12 with num_buffers, struct virtio_net_hdr_mrg_rxbuf):
//   0 flags u8 | 1 gso_type u8 | 2 hdr_len | 4 gso_size | 6 csum_start | 8 csum_offset | 10 num_buffers
// The 16-bit fields are __virtio16: tun uses little-endian unless TUNSETVNETBE (and the host is
// little-endian anyway on x86), so that is the default here.
import { finish, sum16 } from './checksum.js';

/** The size of struct virtio_net_hdr, the kernel's default TUNSETVNETHDRSZ. */
export const VIRTIO_NET_HDR_LEN = 10;
/** sizeof(struct virtio_net_hdr_mrg_rxbuf): the header plus num_buffers. */
export const VIRTIO_NET_HDR_MRG_RXBUF_LEN = 12;
/** gso_type for UDP segmentation offload: Linux 6.2 and later only (6.1's tun refuses it). */
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;

export interface VirtioNetHdr {
  /** VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID | ... */
  flags: number;
  /** VIRTIO_NET_HDR_GSO_*, possibly | VIRTIO_NET_HDR_GSO_ECN. */
  gsoType: number;
  /** Length of the headers (Ethernet + IP + transport): a hint for the linear part. */
  hdrLen: number;
  /** Payload bytes per segment of a GSO frame. */
  gsoSize: number;
  /** Where the checksum to complete starts, from the start of the frame. */
  csumStart: number;
  /** Where, after csumStart, the checksum goes. */
  csumOffset: number;
  /** virtio_net_hdr_mrg_rxbuf.num_buffers (12-byte headers only). */
  numBuffers?: number;
}

export interface VnetHdrLayout {
  /** Header size, TUNSETVNETHDRSZ (default 10; at least 10, the rest is zero padding). */
  size?: number;
  /** Byte order of the 16-bit fields (default true). */
  littleEndian?: boolean;
}

const FIELDS = ['hdrLen', 'gsoSize', 'csumStart', 'csumOffset', 'numBuffers'] as const;

function layout(o: VnetHdrLayout): { size: number; le: boolean } {
  const size = o.size ?? VIRTIO_NET_HDR_LEN;
  if (!Number.isInteger(size) || size < VIRTIO_NET_HDR_LEN) throw new RangeError(`virtio_net_hdr: size ${size} is below ${VIRTIO_NET_HDR_LEN}`);
  return { size, le: o.littleEndian ?? true };
}

/** The header's bytes; absent fields are zero. */
export function encodeVnetHdr(h: Partial<VirtioNetHdr>, opts: VnetHdrLayout = {}): Buffer {
  const { size, le } = layout(opts);
  const buf = Buffer.alloc(size);
  for (const [name, v, max] of [['flags', h.flags ?? 0, 0xff], ['gsoType', h.gsoType ?? 0, 0xff]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`virtio_net_hdr: ${name} ${v} out of 0..${max}`);
  }
  buf[0] = h.flags ?? 0;
  buf[1] = h.gsoType ?? 0;
  FIELDS.forEach((name, i) => {
    const v = h[name];
    if (v === undefined) return;
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`virtio_net_hdr: ${name} ${v} out of 0..65535`);
    const off = 2 + 2 * i;
    if (off + 2 > size) throw new RangeError(`virtio_net_hdr: ${name} does not fit a ${size}-byte header`);
    if (le) buf.writeUInt16LE(v, off);
    else buf.writeUInt16BE(v, off);
  });
  return buf;
}

/** Decode the header at the start of buf (numBuffers only when the header has room for it). */
export function decodeVnetHdr(buf: Uint8Array, opts: VnetHdrLayout = {}): VirtioNetHdr {
  const { size, le } = layout(opts);
  if (buf.length < size) throw new RangeError(`virtio_net_hdr: ${buf.length} bytes, the header has ${size}`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, size);
  const u16 = (off: number): number => (le ? b.readUInt16LE(off) : b.readUInt16BE(off));
  const h: VirtioNetHdr = { flags: b[0]!, gsoType: b[1]!, hdrLen: u16(2), gsoSize: u16(4), csumStart: u16(6), csumOffset: u16(8) };
  if (size >= VIRTIO_NET_HDR_MRG_RXBUF_LEN) h.numBuffers = u16(10);
  return h;
}

/**
 * What a device does for NEEDS_CSUM: checksum frame[csumStart, end) (the field at csumStart +
 * csumOffset holds the pseudo-header sum the kernel left there) and store the result in that
 * field. Returns a completed copy; the input is left alone.
 */
export function completeChecksum(frame: Uint8Array, csumStart: number, csumOffset: number): Buffer {
  const at = csumStart + csumOffset;
  if (at + 2 > frame.length) throw new RangeError(`checksum at ${at} is beyond the ${frame.length}-byte frame`);
  const out = Buffer.from(frame);
  out.writeUInt16BE(finish(sum16(out, csumStart, out.length)), at);
  return out;
}
