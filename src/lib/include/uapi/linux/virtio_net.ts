// include/uapi/linux/virtio_net.h (Linux 6.1): struct virtio_net_hdr's flags and gso_type values.
// 6.1 has no VIRTIO_NET_HDR_GSO_UDP_L4 (5; added in 6.2 with TUN_F_USO4/6): see
// packet/virtio-net.ts. Checked against the header by test/unit/lib/constants.test.ts.

/** csum_start/csum_offset name a checksum the reader must complete. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** The checksum was verified. */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_F_RSC_INFO = 4;

export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
/** UFO: one UDP datagram to fragment (not segment). */
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;
