/**
 * The packet library: build, parse, compare, describe, reply to and capture network packets.
 *
 * A packet is an array of plain layer objects, outermost first, each with a `type` discriminant:
 *
 *   const syn = [ipv6({ src: '2001:db8::2', dst: '2001:db8::1' }),
 *                tcp({ sport: 40000, dport: 80, flags: 'S', options: [{ kind: 'mss', value: 1460 }] })];
 *   tun.write(build(syn));                       // lengths, next headers, checksums filled in
 *   const got = parse(tun.read({ timeoutMs: 1000 })!, 'ip');
 *   assertMatch(got, reply(syn), { ignore: ['tcp.seq', 'tcp.options', 'ipv6.fl'] });
 *
 * Leave a length/next-header/checksum field undefined to have build() compute it, or set it
 * (also to a wrong value on purpose). parse() never throws and is lossless: build(parse(b))
 * equals b, with undecodable bytes kept as `raw` layers and bytes beyond a length field as
 * `padding`. summary()/show() describe a packet; openPcap()/writePcap() save one for Wireshark.
 */
// The constants of the wire formats, from their one home each (src/lib/include/, named by header).
export * from '../include/uapi/linux/if_ether.js';
export * from '../include/linux/if_vlan.js';
export { ARPHRD_ETHER, ARPOP_REQUEST, ARPOP_REPLY } from '../include/uapi/linux/if_arp.js';
export {
  IPPROTO_IP, IPPROTO_ICMP, IPPROTO_IGMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IPV6, IPPROTO_GRE, IPPROTO_ESP, IPPROTO_AH,
  IPPROTO_SCTP, IPPROTO_UDPLITE, IPPROTO_RAW,
} from '../include/uapi/linux/in.js';
export {
  IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_ICMPV6, IPPROTO_NONE, IPPROTO_DSTOPTS, IPPROTO_MH,
  IPV6_TLV_PAD1, IPV6_TLV_PADN, IPV6_TLV_ROUTERALERT, IPV6_TLV_CALIPSO, IPV6_TLV_IOAM, IPV6_TLV_JUMBO, IPV6_TLV_HAO,
} from '../include/uapi/linux/in6.js';
export * from '../include/uapi/linux/ip.js';
export * from '../include/uapi/linux/ipv6.js';
export * from '../include/uapi/linux/icmp.js';
export * from '../include/uapi/linux/icmpv6.js';
export * from '../include/uapi/linux/igmp.js';
export * from '../include/net/ndisc.js';
export * from '../include/net/tcp.js';
export * from './types.js';
export * from '../addr.js';
export * from './checksum.js';
export * from './raw.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './tcp.js';
export * from './udp.js';
export * from './virtio-net.js';
export * from '../include/uapi/linux/virtio_net.js';
export * from './icmpv4.js';
export * from './icmpv6.js';
export * from './igmp.js';
export * from './gre.js';
export * from './esp.js';
export { build, etherTypeOf, ipProtoOf } from './build.js';
export { parse, parseProto, decodeEspNull } from './parse.js';
export { defragment, fragment4, fragment6 } from './fragment.js';
export * from './compare.js';
export * from './describe.js';
export * from './reply.js';
export * from './pcap.js';
export { recordPcap } from './record.js';
export { ls, layerInfo, LAYER_TYPES, type FieldInfo, type LayerInfo } from './ls.js';
