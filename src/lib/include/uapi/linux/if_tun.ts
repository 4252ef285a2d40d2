// include/uapi/linux/if_tun.h (Linux 6.1): tun/tap ioctls (_IOW/_IOR('T', n, int) expanded per
// asm-generic/ioctl.h) and TUNSETIFF flags. Checked against the header by
// test/unit/lib/constants.test.ts.

export const TUNSETNOCSUM = 0x400454c8;
export const TUNSETIFF = 0x400454ca;
export const TUNSETPERSIST = 0x400454cb;
export const TUNSETOWNER = 0x400454cc;
export const TUNSETLINK = 0x400454cd;
export const TUNSETGROUP = 0x400454ce;
export const TUNGETFEATURES = 0x800454cf;
export const TUNSETOFFLOAD = 0x400454d0;
export const TUNGETIFF = 0x800454d2;
export const TUNGETVNETHDRSZ = 0x800454d7;
export const TUNSETVNETHDRSZ = 0x400454d8;
export const TUNSETQUEUE = 0x400454d9;
export const TUNSETVNETLE = 0x400454dc;
export const TUNGETVNETLE = 0x800454dd;
export const TUNSETVNETBE = 0x400454de;
export const TUNGETVNETBE = 0x800454df;
export const TUNSETCARRIER = 0x400454e2;

export const IFF_TUN = 0x0001;
export const IFF_TAP = 0x0002;
export const IFF_NAPI = 0x0010;
export const IFF_NAPI_FRAGS = 0x0020;
export const IFF_MULTI_QUEUE = 0x0100;
export const IFF_ATTACH_QUEUE = 0x0200;
export const IFF_DETACH_QUEUE = 0x0400;
export const IFF_PERSIST = 0x0800;
/** No struct tun_pi before each frame. */
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;

// TUNSETOFFLOAD flags: what the reader of the device accepts (6.1 has no USO flags: any other
// bit is EINVAL, drivers/net/tun.c set_offload).
/** Unchecksummed packets (virtio_net_hdr NEEDS_CSUM): the device gets NETIF_F_HW_CSUM. */
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
export const TUN_F_TSO_ECN = 0x08;
/** Accepted and ignored since UFO was removed (4.14). */
export const TUN_F_UFO = 0x10;
