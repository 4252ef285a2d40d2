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
export * from './types.js';
export * from './addr.js';
export * from './checksum.js';
export * from './raw.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './tcp.js';
export * from './udp.js';
export * from './icmpv4.js';
export * from './icmpv6.js';
export * from './gre.js';
export * from './esp.js';
export { build, etherTypeOf, ipProtoOf } from './build.js';
export { parse, parseProto, decodeEspNull } from './parse.js';
export * from './compare.js';
export * from './describe.js';
export * from './reply.js';
export * from './pcap.js';
export { recordPcap } from './record.js';
