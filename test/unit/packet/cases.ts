/** A broad table of packets, each with the scapy expression that must build the same bytes. */
import {
  arp, destOpts, echoReply6, echoRequest4, echoRequest6, esp, ether, fragment, gre, hopByHop, icmp, icmpv6, igmp, ipv4, ipv6,
  ndOpt, neighborAdvert, neighborSolicit, raw, redirect6, routerAdvert, routerSolicit, routing, srh, tcp, udp, vlan, build,
  type Layer, type LinkType,
} from '../../../src/lib/packet/index.js';

export interface Case {
  name: string;
  link: LinkType;
  layers: Layer[];
  scapy: string;
}

const M1 = '02:00:00:00:00:01', M2 = '02:00:00:00:00:02';
const A1 = '2001:db8::1', A2 = '2001:db8::2', A3 = '2001:db8:1::3', A4 = '2001:db8:2::4';
const V1 = '192.0.2.1', V2 = '198.51.100.2';
const E = `Ether(src='${M1}',dst='${M2}')`;
const I6 = (extra = ''): string => `IPv6(src='${A1}',dst='${A2}'${extra})`;
const I4 = (extra = ''): string => `IP(src='${V1}',dst='${V2}'${extra})`;
const eth = (): Layer => ether({ src: M1, dst: M2 });
const ip6 = (f: Parameters<typeof ipv6>[0] = {}): Layer => ipv6({ src: A1, dst: A2, ...f });
const ip4 = (f: Parameters<typeof ipv4>[0] = {}): Layer => ipv4({ src: V1, dst: V2, ...f });

const innerUdp6 = [ipv6({ src: A2, dst: A1, hlim: 3 }), udp({ sport: 5000, dport: 53 }), raw('query')];
const innerUdp6Scapy = `IPv6(src='${A2}',dst='${A1}',hlim=3)/UDP(sport=5000,dport=53)/Raw(b'query')`;
const redirInner = build([ipv6({ src: A1, dst: A4, hlim: 63 }), udp({ sport: 1, dport: 2 })]);

export const CASES: Case[] = [
  // Link layer
  { name: 'ether/arp request', link: 'ether', layers: [ether({ src: M1, dst: 'ff:ff:ff:ff:ff:ff' }), arp({ op: 1, senderMac: M1, senderIp: V1, targetIp: V2 })],
    scapy: `Ether(src='${M1}',dst='ff:ff:ff:ff:ff:ff')/ARP(op=1,hwsrc='${M1}',psrc='${V1}',hwdst='00:00:00:00:00:00',pdst='${V2}')` },
  { name: 'ether/arp reply', link: 'ether', layers: [eth(), arp({ op: 2, senderMac: M1, senderIp: V1, targetMac: M2, targetIp: V2 })],
    scapy: `${E}/ARP(op=2,hwsrc='${M1}',psrc='${V1}',hwdst='${M2}',pdst='${V2}')` },
  { name: 'ether/vlan/ipv4/icmp echo', link: 'ether', layers: [eth(), vlan({ vid: 100, pcp: 3, dei: 1 }), ip4(), echoRequest4({ id: 7, seq: 1 }), raw('ping')],
    scapy: `${E}/Dot1Q(vlan=100,prio=3,id=1)/${I4()}/ICMP(type=8,id=7,seq=1)/Raw(b'ping')` },
  { name: 'ether/qinq/ipv6/udp', link: 'ether', layers: [ether({ src: M1, dst: M2, etherType: 0x88a8 }), vlan({ vid: 10 }), vlan({ vid: 20 }), ip6(), udp({ sport: 1, dport: 2 })],
    scapy: `Ether(src='${M1}',dst='${M2}',type=0x88a8)/Dot1AD(vlan=10)/Dot1Q(vlan=20)/${I6()}/UDP(sport=1,dport=2)` },
  // IPv4
  { name: 'ipv4/tcp syn', link: 'ether', layers: [eth(), ip4({ id: 0x1234, df: true, ttl: 17, tos: 0x10 }), tcp({ sport: 40000, dport: 80, seq: 1000, flags: 'S', window: 65535 })],
    scapy: `${E}/${I4(",id=0x1234,flags='DF',ttl=17,tos=0x10")}/TCP(sport=40000,dport=80,seq=1000,flags='S',window=65535)` },
  { name: 'ipv4 router alert option', link: 'ip', layers: [ip4({ options: [{ kind: 'routerAlert', value: 0 }] }), udp({ sport: 9, dport: 9 })],
    scapy: `${I4(',options=[IPOption_Router_Alert()]')}/UDP(sport=9,dport=9)` },
  { name: 'ipv4 record route + nop (padded)', link: 'ip', layers: [ip4({ options: [{ kind: 'nop' }, { kind: 'option', code: 7, data: Buffer.from([4, 0, 0, 0, 0]) }] }), udp({ sport: 9, dport: 9 })],
    scapy: `${I4(",options=[IPOption_NOP(), IPOption(b'\\x07\\x07\\x04\\x00\\x00\\x00\\x00')]")}/UDP(sport=9,dport=9)` },
  { name: 'ipv4 first fragment', link: 'ip', layers: [ip4({ id: 0x42, mf: true }), udp({ sport: 7, dport: 7, len: 1000 }), raw(Buffer.alloc(16, 0x61))],
    scapy: `${I4(",id=0x42,flags='MF'")}/UDP(sport=7,dport=7,len=1000)/Raw(b'a'*16)` },
  { name: 'ipv4 later fragment', link: 'ip', layers: [ip4({ id: 0x42, fragOffset: 3, protocol: 17 }), raw(Buffer.alloc(8, 0x62))],
    scapy: `${I4(',id=0x42,frag=3,proto=17')}/Raw(b'b'*8)` },
  { name: 'ipv4 evil bit, wrong header checksum', link: 'ip', layers: [ip4({ rf: true, checksum: 0xbeef }), udp({ sport: 1, dport: 2 })],
    scapy: `${I4(",flags='evil',chksum=0xbeef")}/UDP(sport=1,dport=2)` },
  { name: 'ipv4/udp zero checksum', link: 'ip', layers: [ip4(), udp({ sport: 1, dport: 2, checksum: 0 }), raw('x')],
    scapy: `${I4()}/UDP(sport=1,dport=2,chksum=0)/Raw(b'x')` },
  { name: 'ipv4 in ipv4', link: 'ip', layers: [ip4(), ipv4({ src: '203.0.113.1', dst: '203.0.113.2' }), udp({ sport: 3, dport: 4 })],
    scapy: `${I4()}/IP(src='203.0.113.1',dst='203.0.113.2')/UDP(sport=3,dport=4)` },
  // TCP options
  { name: 'tcp syn linux options', link: 'ether', layers: [eth(), ip6(), tcp({ sport: 1000, dport: 80, flags: 'S', options: [{ kind: 'mss', value: 1460 }, { kind: 'sackOk' }, { kind: 'timestamp', tsval: 1, tsecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }] })],
    scapy: `${E}/${I6()}/TCP(sport=1000,dport=80,flags='S',options=[('MSS',1460),('SAckOK',b''),('Timestamp',(1,0)),('NOP',None),('WScale',7)])` },
  { name: 'tcp sack blocks', link: 'ip', layers: [ip6(), tcp({ flags: 'A', seq: 5, ack: 1000, options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [[2000, 3000], [4000, 5000]] }] })],
    scapy: `${I6()}/TCP(flags='A',seq=5,ack=1000,options=[('NOP',None),('NOP',None),('SAck',(2000,3000,4000,5000))])` },
  { name: 'tcp md5 placeholder', link: 'ip', layers: [ip4(), tcp({ flags: 'S', options: [{ kind: 'md5', digest: Buffer.alloc(16, 0xab) }, { kind: 'eol' }] })],
    scapy: `${I4()}/TCP(flags='S',options=[('MD5',b'\\xab'*16),('EOL',None)])` },
  { name: 'tcp fast open cookie + data', link: 'ip', layers: [ip6(), tcp({ flags: 'S', options: [{ kind: 'fastOpen', cookie: Buffer.from('0102030405060708', 'hex') }] }), raw('GET /')],
    scapy: `${I6()}/TCP(flags='S',options=[('TFO',(0x01020304,0x05060708))])/Raw(b'GET /')` },
  { name: 'tcp fast open cookie request', link: 'ip', layers: [ip6(), tcp({ flags: 'S', options: [{ kind: 'fastOpen', cookie: new Uint8Array(0) }] })],
    scapy: `${I6()}/TCP(flags='S',options=[('TFO',b'')])` },
  { name: 'tcp all flags, reserved bits, urgent, wrong checksum', link: 'ip', layers: [ip4(), tcp({ flags: 'FSRPAUECN', reserved: 5, urgent: 9, checksum: 0xdead })],
    scapy: `${I4()}/TCP(flags='FSRPAUECN',reserved=5,urgptr=9,chksum=0xdead)` },
  { name: 'tcp psh-ack with payload', link: 'ether', layers: [eth(), ip6({ fl: 0x12345, tc: 0xb8 }), tcp({ sport: 80, dport: 40000, seq: 0xfffffff0, ack: 0x80000000, flags: 'PA', window: 502 }), raw('HTTP/1.1 200 OK\r\n')],
    scapy: `${E}/${I6(',fl=0x12345,tc=0xb8')}/TCP(sport=80,dport=40000,seq=0xfffffff0,ack=0x80000000,flags='PA',window=502)/Raw(b'HTTP/1.1 200 OK\\r\\n')` },
  // IPv6 extension headers
  { name: 'ipv6 hop-by-hop router alert', link: 'ip', layers: [ip6(), hopByHop({ options: [{ kind: 'routerAlert', value: 0 }] }), udp({ sport: 1, dport: 2 })],
    scapy: `${I6()}/IPv6ExtHdrHopByHop(options=[RouterAlert()])/UDP(sport=1,dport=2)` },
  { name: 'ipv6 hop-by-hop jumbo', link: 'ip', layers: [ip6({ plen: 0 }), hopByHop({ options: [{ kind: 'jumbo', length: 100000 }] }), raw('j')],
    scapy: `${I6(',plen=0')}/IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=100000)])/Raw(b'j')` },
  { name: 'ipv6 destination options unknown + pad1', link: 'ip', layers: [ip6(), destOpts({ options: [{ kind: 'option', code: 0x1e, data: Buffer.from('abc') }] }), tcp({ flags: 'S' })],
    scapy: `${I6()}/IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1e,optdata=b'abc')])/TCP(flags='S')` },
  { name: 'ipv6 destination options padN only', link: 'ip', layers: [ip6(), destOpts({ options: [{ kind: 'padN', n: 4 }] }), udp({ sport: 1, dport: 2 })],
    scapy: `${I6()}/IPv6ExtHdrDestOpt(options=[PadN(optdata=b'\\x00'*4)])/UDP(sport=1,dport=2)` },
  { name: 'ipv6 routing type 0 (checksum to final hop)', link: 'ip', layers: [ip6(), routing({ routingType: 0, addresses: [A3, A4], segmentsLeft: 2 }), udp({ sport: 1, dport: 2 }), raw('rh0')],
    scapy: `${I6()}/IPv6ExtHdrRouting(type=0,addresses=['${A3}','${A4}'],segleft=2)/UDP(sport=1,dport=2)/Raw(b'rh0')` },
  { name: 'ipv6 segment routing header', link: 'ip', layers: [ip6(), srh({ segments: [A4, A3], segmentsLeft: 1, tag: 7 }), tcp({ flags: 'S' })],
    scapy: `${I6()}/IPv6ExtHdrSegmentRouting(addresses=['${A4}','${A3}'],segleft=1,tag=7)/TCP(flags='S')` },
  { name: 'ipv6 fragment first', link: 'ip', layers: [ip6(), fragment({ id: 0x12345678, m: true }), udp({ sport: 1, dport: 2, len: 3000 }), raw(Buffer.alloc(24, 0x63))],
    scapy: `${I6()}/IPv6ExtHdrFragment(id=0x12345678,m=1)/UDP(sport=1,dport=2,len=3000)/Raw(b'c'*24)` },
  { name: 'ipv6 fragment later', link: 'ip', layers: [ip6(), fragment({ id: 9, offset: 100, nh: 17 }), raw(Buffer.alloc(16, 0x64))],
    scapy: `${I6()}/IPv6ExtHdrFragment(id=9,offset=100,m=0,nh=17)/Raw(b'd'*16)` },
  { name: 'ipv6 hbh + dstopts + fragment chain', link: 'ip', layers: [ip6(), hopByHop(), destOpts(), fragment({ id: 1 }), echoRequest6({ id: 1, seq: 2 })],
    scapy: `${I6()}/IPv6ExtHdrHopByHop()/IPv6ExtHdrDestOpt()/IPv6ExtHdrFragment(id=1)/ICMPv6EchoRequest(id=1,seq=2)` },
  { name: 'ipv6 no next header', link: 'ip', layers: [ip6()],
    scapy: `${I6()}` },
  // ICMPv6
  { name: 'icmpv6 echo request', link: 'ether', layers: [eth(), ip6(), echoRequest6({ id: 0x1234, seq: 1 }), raw('abcdefgh')],
    scapy: `${E}/${I6()}/ICMPv6EchoRequest(id=0x1234,seq=1,data=b'abcdefgh')` },
  { name: 'icmpv6 echo reply', link: 'ip', layers: [ip6(), echoReply6({ id: 1, seq: 65535 })],
    scapy: `${I6()}/ICMPv6EchoReply(id=1,seq=65535)` },
  { name: 'icmpv6 port unreachable quoting udp', link: 'ip', layers: [ip6(), icmpv6({ icmpType: 1, code: 4 }), ...innerUdp6],
    scapy: `${I6()}/ICMPv6DestUnreach(code=4)/${innerUdp6Scapy}` },
  { name: 'icmpv6 packet too big', link: 'ip', layers: [ip6(), icmpv6({ icmpType: 2, mtu: 1280 }), ...innerUdp6],
    scapy: `${I6()}/ICMPv6PacketTooBig(mtu=1280)/${innerUdp6Scapy}` },
  { name: 'icmpv6 time exceeded', link: 'ip', layers: [ip6(), icmpv6({ icmpType: 3, code: 0 }), ...innerUdp6],
    scapy: `${I6()}/ICMPv6TimeExceeded(code=0)/${innerUdp6Scapy}` },
  { name: 'icmpv6 parameter problem', link: 'ip', layers: [ip6(), icmpv6({ icmpType: 4, code: 1, pointer: 40 }), ...innerUdp6],
    scapy: `${I6()}/ICMPv6ParamProblem(code=1,ptr=40)/${innerUdp6Scapy}` },
  { name: 'icmpv6 wrong checksum', link: 'ip', layers: [ip6(), echoRequest6({ checksum: 0x1111 })],
    scapy: `${I6()}/ICMPv6EchoRequest(cksum=0x1111)` },
  { name: 'nd router solicitation', link: 'ether', layers: [eth(), ip6({ dst: 'ff02::2', hlim: 255 }), routerSolicit({ options: [ndOpt.srcLladdr(M1)] })],
    scapy: `${E}/IPv6(src='${A1}',dst='ff02::2',hlim=255)/ICMPv6ND_RS()/ICMPv6NDOptSrcLLAddr(lladdr='${M1}')` },
  { name: 'nd router advertisement with all options', link: 'ether', layers: [eth(), ip6({ src: 'fe80::1', dst: 'ff02::1', hlim: 255 }), routerAdvert({
    curHopLimit: 64, flags: 'MO', prf: 1, routerLifetime: 1800, reachableTime: 30000, retransTimer: 1000,
    options: [ndOpt.srcLladdr(M1), ndOpt.mtu(1500), ndOpt.prefixInfo({ prefix: '2001:db8:1::', validLifetime: 86400, preferredLifetime: 14400 }),
      { kind: 'routeInfo', prefixLen: 48, prf: 3, reserved: 0, lifetime: 600, prefix: '2001:db8:2::', len: 3 },
      ndOpt.rdnss([A3, A4], 600), ndOpt.pref64({ prefix: '64:ff9b::', scaledLifetime: 100, plc: 0 })],
  })],
    scapy: `${E}/IPv6(src='fe80::1',dst='ff02::1',hlim=255)/ICMPv6ND_RA(chlim=64,M=1,O=1,prf=1,routerlifetime=1800,reachabletime=30000,retranstimer=1000)`
      + `/ICMPv6NDOptSrcLLAddr(lladdr='${M1}')/ICMPv6NDOptMTU(mtu=1500)/ICMPv6NDOptPrefixInfo(prefixlen=64,L=1,A=1,validlifetime=86400,preferredlifetime=14400,prefix='2001:db8:1::')`
      + `/ICMPv6NDOptRouteInfo(plen=48,prf=3,rtlifetime=600,prefix='2001:db8:2::')/ICMPv6NDOptRDNSS(lifetime=600,dns=['${A3}','${A4}'])`
      + `/ICMPv6NDOptUnknown(type=38,len=2,data=struct.pack('!H',(100<<3)|0)+socket.inet_pton(socket.AF_INET6,'64:ff9b::')[:12])` },
  { name: 'nd router advertisement H/P flags, low prf, route info len 1', link: 'ip', layers: [ip6({ hlim: 255 }), routerAdvert({ flags: 'HP', prf: 3, routerLifetime: 0, options: [{ kind: 'routeInfo', prefixLen: 0, prf: 1, reserved: 0, lifetime: 60, prefix: '::' }] })],
    scapy: `${I6(',hlim=255')}/ICMPv6ND_RA(M=0,O=0,H=1,P=1,prf=3,routerlifetime=0,chlim=0)/ICMPv6NDOptRouteInfo(len=1,plen=0,prf=1,rtlifetime=60)` },
  { name: 'nd neighbour solicitation', link: 'ether', layers: [eth(), ip6({ dst: 'ff02::1:ff00:2', hlim: 255 }), neighborSolicit({ target: A2, options: [ndOpt.srcLladdr(M1)] })],
    scapy: `${E}/IPv6(src='${A1}',dst='ff02::1:ff00:2',hlim=255)/ICMPv6ND_NS(tgt='${A2}')/ICMPv6NDOptSrcLLAddr(lladdr='${M1}')` },
  { name: 'nd neighbour advertisement', link: 'ether', layers: [eth(), ip6({ hlim: 255 }), neighborAdvert({ flags: 'SO', target: A1, options: [ndOpt.tgtLladdr(M1)] })],
    scapy: `${E}/${I6(',hlim=255')}/ICMPv6ND_NA(R=0,S=1,O=1,tgt='${A1}')/ICMPv6NDOptDstLLAddr(lladdr='${M1}')` },
  // scapy 2.5's ICMPv6NDOptUnknown computes len in bytes, not 8-byte units: len=1 is given explicitly.
  { name: 'nd neighbour advertisement router, unknown option', link: 'ip', layers: [ip6({ hlim: 255 }), neighborAdvert({ flags: 'R', target: A1, options: [{ kind: 'option', code: 99, data: Buffer.from('abcdef') }] })],
    scapy: `${I6(',hlim=255')}/ICMPv6ND_NA(R=1,S=0,O=0,tgt='${A1}')/ICMPv6NDOptUnknown(type=99,len=1,data=b'abcdef')` },
  { name: 'nd redirect with redirected header', link: 'ip', layers: [ip6({ hlim: 255 }), redirect6({ target: 'fe80::2', dest: A4, options: [ndOpt.tgtLladdr(M2), { kind: 'redirectedHeader', data: Buffer.concat([Buffer.alloc(6), redirInner]) }] })],
    scapy: `${I6(',hlim=255')}/ICMPv6ND_Redirect(tgt='fe80::2',dst='${A4}')/ICMPv6NDOptDstLLAddr(lladdr='${M2}')/ICMPv6NDOptRedirectedHdr(pkt=bytes.fromhex('${redirInner.toString('hex')}'))` },
  // MLD
  { name: 'mld v1 report with router alert', link: 'ip', layers: [ipv6({ src: 'fe80::1', dst: 'ff02::1:ff00:1', hlim: 1 }), hopByHop({ options: [{ kind: 'routerAlert', value: 0 }] }), icmpv6({ icmpType: 131, mcastAddr: 'ff02::1:ff00:1' })],
    scapy: `IPv6(src='fe80::1',dst='ff02::1:ff00:1',hlim=1)/IPv6ExtHdrHopByHop(options=[RouterAlert()])/ICMPv6MLReport(mladdr='ff02::1:ff00:1')` },
  { name: 'mld v1 query', link: 'ip', layers: [ipv6({ src: 'fe80::1', dst: 'ff02::1', hlim: 1 }), icmpv6({ icmpType: 130, maxDelay: 10000, mcastAddr: '::' })],
    scapy: `IPv6(src='fe80::1',dst='ff02::1',hlim=1)/ICMPv6MLQuery(mrd=10000,mladdr='::')` },
  { name: 'mld v2 query with sources', link: 'ip', layers: [ipv6({ src: 'fe80::1', dst: 'ff02::1', hlim: 1 }), icmpv6({ icmpType: 130, maxDelay: 1000, mcastAddr: 'ff02::1:ff00:1', sFlag: true, qrv: 2, qqic: 125, sources: [A1, A3] })],
    scapy: `IPv6(src='fe80::1',dst='ff02::1',hlim=1)/ICMPv6MLQuery2(mrd=1000,mladdr='ff02::1:ff00:1',S=1,QRV=2,QQIC=125,sources=['${A1}','${A3}'])` },
  { name: 'mld v2 general query', link: 'ip', layers: [ipv6({ src: 'fe80::1', dst: 'ff02::1', hlim: 1 }), icmpv6({ icmpType: 130, maxDelay: 10000, sources: [] })],
    scapy: `IPv6(src='fe80::1',dst='ff02::1',hlim=1)/ICMPv6MLQuery2(mrd=10000,QRV=2,QQIC=125)` },
  { name: 'mld v1 done', link: 'ip', layers: [ipv6({ src: 'fe80::1', dst: 'ff02::2', hlim: 1 }), icmpv6({ icmpType: 132, mcastAddr: 'ff02::1:ff00:1' })],
    scapy: `IPv6(src='fe80::1',dst='ff02::2',hlim=1)/ICMPv6MLDone(mladdr='ff02::1:ff00:1')` },
  { name: 'mld v2 report', link: 'ip', layers: [ipv6({ src: 'fe80::1', dst: 'ff02::16', hlim: 1 }), hopByHop({ options: [{ kind: 'routerAlert', value: 0 }] }),
    icmpv6({ icmpType: 143, records: [{ recordType: 4, mcastAddr: 'ff02::1:ff00:1', sources: [] }, { recordType: 1, mcastAddr: 'ff05::1', sources: [A3, A4] }] })],
    scapy: `IPv6(src='fe80::1',dst='ff02::16',hlim=1)/IPv6ExtHdrHopByHop(options=[RouterAlert()])/ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4,dst='ff02::1:ff00:1'),ICMPv6MLDMultAddrRec(rtype=1,dst='ff05::1',sources=['${A3}','${A4}'])])` },
  // IGMP (the kernel's reports: TOS 0xc0, TTL 1, router alert)
  { name: 'igmp v2 report with router alert', link: 'ip', layers: [ipv4({ src: V2, dst: '239.1.2.3', tos: 0xc0, ttl: 1, df: true, options: [{ kind: 'routerAlert', value: 0 }] }), igmp({ igmpType: 0x16, group: '239.1.2.3' })],
    scapy: `IP(src='${V2}',dst='239.1.2.3',tos=0xc0,ttl=1,flags='DF',options=[IPOption_Router_Alert()])/IGMP(type=0x16,mrcode=0,gaddr='239.1.2.3')` },
  { name: 'igmp v1 report', link: 'ip', layers: [ipv4({ src: V2, dst: '239.1.2.3', ttl: 1 }), igmp({ igmpType: 0x12, group: '239.1.2.3' })],
    scapy: `IP(src='${V2}',dst='239.1.2.3',ttl=1)/IGMP(type=0x12,mrcode=0,gaddr='239.1.2.3')` },
  { name: 'igmp v2 leave', link: 'ip', layers: [ipv4({ src: V2, dst: '224.0.0.2', ttl: 1 }), igmp({ igmpType: 0x17, group: '239.1.2.3' })],
    scapy: `IP(src='${V2}',dst='224.0.0.2',ttl=1)/IGMP(type=0x17,mrcode=0,gaddr='239.1.2.3')` },
  { name: 'igmp v2 general query', link: 'ip', layers: [ipv4({ src: V1, dst: '224.0.0.1', ttl: 1 }), igmp({ igmpType: 0x11, code: 100 })],
    scapy: `IP(src='${V1}',dst='224.0.0.1',ttl=1)/IGMP(type=0x11,mrcode=100,gaddr='0.0.0.0')` },
  { name: 'igmp v3 group-and-source query', link: 'ip', layers: [ipv4({ src: V1, dst: '239.1.2.3', tos: 0xc0, ttl: 1 }), igmp({ code: 20, group: '239.1.2.3', sFlag: true, qrv: 2, qqic: 125, sources: [V1, '203.0.113.9'] })],
    scapy: `IP(src='${V1}',dst='239.1.2.3',tos=0xc0,ttl=1)/IGMPv3(type=0x11,mrcode=20)/IGMPv3mq(gaddr='239.1.2.3',s=1,qrv=2,qqic=125,srcaddrs=['${V1}','203.0.113.9'])` },
  { name: 'igmp v3 report, two records', link: 'ip', layers: [ipv4({ src: V2, dst: '224.0.0.22', tos: 0xc0, ttl: 1, df: true, options: [{ kind: 'routerAlert', value: 0 }] }),
    igmp({ igmpType: 0x22, records: [{ recordType: 4, group: '239.1.2.3', sources: [] }, { recordType: 5, group: '239.4.5.6', sources: [V1, '203.0.113.9'] }] })],
    scapy: `IP(src='${V2}',dst='224.0.0.22',tos=0xc0,ttl=1,flags='DF',options=[IPOption_Router_Alert()])/IGMPv3(type=0x22)/IGMPv3mr(records=[IGMPv3gr(rtype=4,maddr='239.1.2.3'),IGMPv3gr(rtype=5,maddr='239.4.5.6',srcaddrs=['${V1}','203.0.113.9'])])` },
  // ICMPv4
  { name: 'icmp echo reply', link: 'ip', layers: [ip4(), icmp({ icmpType: 0, id: 5, seq: 6 }), raw('pong')],
    scapy: `${I4()}/ICMP(type=0,id=5,seq=6)/Raw(b'pong')` },
  { name: 'icmp port unreachable quoting udp', link: 'ip', layers: [ip4(), icmp({ icmpType: 3, code: 3 }), ipv4({ src: V2, dst: V1 }), udp({ sport: 1234, dport: 53 })],
    scapy: `${I4()}/ICMP(type=3,code=3)/IP(src='${V2}',dst='${V1}')/UDP(sport=1234,dport=53)` },
  { name: 'icmp frag needed with mtu', link: 'ip', layers: [ip4(), icmp({ icmpType: 3, code: 4, mtu: 1400 }), ipv4({ src: V2, dst: V1, df: true }), tcp({ sport: 1, dport: 2 })],
    scapy: `${I4()}/ICMP(type=3,code=4,nexthopmtu=1400)/IP(src='${V2}',dst='${V1}',flags='DF')/TCP(sport=1,dport=2)` },
  { name: 'icmp time exceeded', link: 'ip', layers: [ip4(), icmp({ icmpType: 11, code: 0 }), ipv4({ src: V2, dst: V1, ttl: 1 }), udp({ sport: 33434, dport: 33435 })],
    scapy: `${I4()}/ICMP(type=11,code=0)/IP(src='${V2}',dst='${V1}',ttl=1)/UDP(sport=33434,dport=33435)` },
  { name: 'icmp redirect', link: 'ip', layers: [ip4(), icmp({ icmpType: 5, code: 1, gateway: '192.0.2.254' }), ipv4({ src: V2, dst: '203.0.113.9' }), udp({ sport: 1, dport: 2 })],
    scapy: `${I4()}/ICMP(type=5,code=1,gw='192.0.2.254')/IP(src='${V2}',dst='203.0.113.9')/UDP(sport=1,dport=2)` },
  { name: 'icmp parameter problem', link: 'ip', layers: [ip4(), icmp({ icmpType: 12, pointer: 20 }), ipv4({ src: V2, dst: V1 }), udp({ sport: 1, dport: 2 })],
    scapy: `${I4()}/ICMP(type=12,ptr=20)/IP(src='${V2}',dst='${V1}')/UDP(sport=1,dport=2)` },
  // GRE
  { name: 'gre key carrying ipv6 icmpv6', link: 'ip', layers: [ip4(), gre({ key: 5 }), ip6(), echoRequest6({ id: 1, seq: 1 })],
    scapy: `${I4()}/GRE(key_present=1,key=5)/${I6()}/ICMPv6EchoRequest(id=1,seq=1)` },
  { name: 'gre checksum + seq carrying ipv4', link: 'ip', layers: [ip6(), gre({ c: true, seq: 77 }), ip4(), udp({ sport: 1, dport: 2 }), raw('gre')],
    scapy: `${I6()}/GRE(chksum_present=1,seqnum_present=1,sequence_number=77)/${I4()}/UDP(sport=1,dport=2)/Raw(b'gre')` },
  // What a gre tunnel with ocsum, okey and oseq sends (__gre_xmit): all three, in RFC 2890 order.
  { name: 'gre checksum + key + seq carrying ipv4 udp', link: 'ip', layers: [ip4(), gre({ c: true, key: 0x200, seq: 0xfffffffe }), ip4(), udp({ sport: 1, dport: 2 }), raw('cks')],
    scapy: `${I4()}/GRE(chksum_present=1,key_present=1,key=0x200,seqnum_present=1,sequence_number=0xfffffffe)/${I4()}/UDP(sport=1,dport=2)/Raw(b'cks')` },
  { name: 'gretap ethernet', link: 'ip', layers: [ip4(), gre(), eth(), ip6(), udp({ sport: 1, dport: 2 })],
    scapy: `${I4()}/GRE(proto=0x6558)/${E}/${I6()}/UDP(sport=1,dport=2)` },
  // ESP
  { name: 'esp header with opaque payload', link: 'ip', layers: [ip6(), esp({ spi: 0x100, seq: 3 }), raw(Buffer.from('00112233445566778899', 'hex'))],
    scapy: `${I6()}/ESP(spi=0x100,seq=3,data=bytes.fromhex('00112233445566778899'))` },
  { name: 'esp null cipher transport udp', link: 'ip', layers: [ip6(), esp({ spi: 0x100, seq: 1, nullCipher: {} }), udp({ sport: 1, dport: 2 }), raw('hello')],
    scapy: `SecurityAssociation(ESP,spi=0x100,crypt_algo='NULL',crypt_key=b'',auth_algo='NULL').encrypt(${I6()}/UDP(sport=1,dport=2)/Raw(b'hello'),seq_num=1)` },
  { name: 'esp null cipher ipv4 tcp', link: 'ip', layers: [ip4({ id: 9 }), esp({ spi: 0xdeadbeef, seq: 7, nullCipher: {} }), tcp({ sport: 1, dport: 2, flags: 'S' })],
    scapy: `SecurityAssociation(ESP,spi=0xdeadbeef,crypt_algo='NULL',crypt_key=b'',auth_algo='NULL').encrypt(${I4(',id=9')}/TCP(sport=1,dport=2,flags='S'),seq_num=7)` },
];
