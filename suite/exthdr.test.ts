// IPv6 extension headers from the wire: unknown options and the action in their two top bits
// (RFC 8200 4.2), the padding rules, the option count and length limits
// (net.ipv6.max_{hbh,dst}_opts_number, max_hbh_length, max_dst_opts_length), the jumbo payload
// option's checks, options behind a fragment header, routing header types 0, 2 and 4 (with
// seg6_enabled off and on), unknown and misplaced next headers, options on forwarded packets and
// router alert; and the RFC 3542 socket API: sticky and per-packet IPV6_HOPOPTS / IPV6_DSTOPTS /
// IPV6_RTHDRDSTOPTS / IPV6_RTHDR, and IPV6_RECVHOPOPTS / IPV6_RECVDSTOPTS / IPV6_RECVRTHDR.
// Facts from net/ipv6/exthdrs.c (ip6_parse_tlv, ip6_tlvopt_unknown, ipv6_hop_jumbo,
// ipv6_rthdr_rcv, ipv6_srh_rcv), ip6_input.c, ip6_output.c (ip6_call_ra_chain), icmp.c
// (icmp6_send's multicast rule), ipv6_sockglue.c and datagram.c. Every error is checked whole
// (pointer and quoted packet), every drop by its counters. Type 2 routing headers and the home
// address option behave differently with CONFIG_IPV6_MIP6: each kernel runs its half.
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE6, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { rawSocket, tcpSocket, udpSocket, type Socket } from '../src/lib/socket.js';
import { mibCounters } from '../src/lib/mib.js';
import { withSysctl } from '../src/lib/sysctl.js';
import { asUser } from '../src/lib/creds.js';
import { K, errnoIs } from '../src/lib/sys/index.js';
import {
  build, destOpts, echoReply6, echoRequest6, fragment, fragment6, hopByHop, icmpv6, ipv6, ipv6ExtBytes, raw, routing, srh, tcp, udp,
  ICMPV6_EXC_HOPLIMIT, ICMPV6_HDR_FIELD, ICMPV6_PARAMPROB, ICMPV6_TIME_EXCEED, ICMPV6_UNK_NEXTHDR, ICMPV6_UNK_OPTION, IPPROTO_DSTOPTS, IPPROTO_HOPOPTS, IPPROTO_UDP,
  IPV6_SRCRT_TYPE_0, IPV6_SRCRT_TYPE_2, IPV6_TLV_HAO, ip6ToBytes,
  IPPROTO_ICMPV6, IPPROTO_RAW, type Ipv6Ext, type Ipv6Option, type Layer,
} from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });

/** The sending peer behind net1's router; a rule by destination routes our errors back to it. */
const PEER6 = '2001:db8:ff::17';
/** The all-nodes group every interface is in. */
const ALL_NODES = 'ff02::1';
/** RFC 4727 experimental option types, one per action (the two top bits). */
const UNKNOWN = [0x1e, 0x5e, 0x9e, 0xde] as const;
/** An experimental protocol number (RFC 3692) no handler claims. */
const UNKNOWN_PROTO = 253;
const DPORT = 7300;
/** An unprivileged uid (no CAP_NET_RAW once it is the effective one). */
const NOBODY = 65534;

const COUNTERS = ['Ip6InHdrErrors', 'Ip6InAddrErrors', 'Ip6InUnknownProtos', 'Icmp6OutParmProblems'] as const;
type Counts = Partial<Record<(typeof COUNTERS)[number], number>>;

/** Whether the kernel has CONFIG_IPV6_MIP6: it then accepts a sticky type 2 routing header. */
let mip6 = false;

before(() => {
  nets.addRule({ family: 'inet6', priority: 50, dst: `${PEER6}/128`, table: nets.net(1).table });
  nets.sysctl('net.ipv6.icmp.ratelimit', 0);
  const s = udpSocket(6);
  try {
    s.setOption(K.SOL_IPV6, K.IPV6_RTHDR, ipv6ExtBytes(routing({ routingType: IPV6_SRCRT_TYPE_2, addresses: ['2001:db8:1::9'] })));
    mip6 = true;
  } catch (e) {
    // Without MIP6 ipv6_set_opt_hdr() knows only type 4; anything but EINVAL is a real failure.
    if (!errnoIs('EINVAL')(e)) throw e;
    mip6 = false;
  } finally {
    s.close();
  }
});

const opt = (code: number, len = 0): Ipv6Option => ({ kind: 'option', code, data: Buffer.alloc(len) });

let seq = 0;
/** An echo request from PEER6 with these extension headers; returns it and the reply it should get. */
function echo(n: Network, exts: readonly Layer[], dst = n.addr6, size = 0): { sent: Layer[]; reply: Layer[] } {
  const s = ++seq;
  const data = Buffer.from(`exthdr ${s}`.padEnd(size, '.'));
  const sent = [ipv6({ src: PEER6, dst }), ...exts, echoRequest6({ id: 0x617, seq: s }), raw(data)];
  return { sent, reply: [ipv6({ src: n.addr6, dst: PEER6 }), echoReply6({ id: 0x617, seq: s }), raw(data)] };
}

/** Runs fn and asserts each of COUNTERS grew by exactly what `want` says (0 if unnamed). */
function counted(want: Counts, fn: () => void): void {
  const before = mibCounters('snmp6');
  fn();
  const after = mibCounters('snmp6');
  const got = Object.fromEntries(COUNTERS.map((c) => [c, (after.get(c) ?? NaN) - (before.get(c) ?? NaN)]));
  assert.deepEqual(got, Object.fromEntries(COUNTERS.map((c) => [c, want[c] ?? 0])));
}

function delivered(n: Network, exts: readonly Layer[], dst?: string): void {
  const e = echo(n, exts, dst);
  counted({}, () => {
    inject(n, e.sent);
    expectPacket(n, e.reply);
  });
}

function silent(n: Network, exts: readonly Layer[], want: Counts, dst?: string): void {
  const e = echo(n, exts, dst);
  counted(want, () => {
    inject(n, e.sent);
    expectNone(n, { timeoutMs: 200 });
  });
}

function paramProb(n: Network, exts: readonly Layer[], code: number, pointer: number, want: Counts, dst?: string): void {
  const e = echo(n, exts, dst);
  counted({ ...want, Icmp6OutParmProblems: 1 }, () => {
    inject(n, e.sent);
    expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6, hlim: 64 }), icmpv6({ icmpType: ICMPV6_PARAMPROB, code, pointer }), raw(build(e.sent))]);
  });
}

type OptHdr = 'hop-by-hop' | 'destination options';
/** The header kind with these options; a destination options header comes after an empty hop-by-hop one. */
function optsHeaders(kind: OptHdr, options: Ipv6Option[]): Ipv6Ext[] {
  return kind === 'hop-by-hop' ? [hopByHop({ options })] : [hopByHop(), destOpts({ options })];
}
/** Where the options of optsHeaders(kind, ...) start in the packet. */
const optsStart = (kind: OptHdr): number => (kind === 'hop-by-hop' ? 42 : 50);

describe('an unknown option: the action in its two top bits (RFC 8200 4.2)', () => {
  for (const kind of ['hop-by-hop', 'destination options'] as const) {
    // PadN of 2 first: the option sits 4 bytes into the header's options, so the pointer is not its start.
    const headers = (code: number): Ipv6Ext[] => optsHeaders(kind, [{ kind: 'padN', n: 2 }, opt(code, 2)]);
    const at = optsStart(kind) + 4;

    nets.it(`${kind}, action 00 (0x1e): skipped, the echo is answered`, () => {
      delivered(nets.net(1), headers(UNKNOWN[0]));
    });
    nets.it(`${kind}, action 01 (0x5e): discarded silently, Ip6InHdrErrors 1`, () => {
      silent(nets.net(1), headers(UNKNOWN[1]), { Ip6InHdrErrors: 1 });
    });
    nets.it(`${kind}, action 10 (0x9e): parameter problem code 2, pointer ${at} (the option)`, () => {
      paramProb(nets.net(1), headers(UNKNOWN[2]), ICMPV6_UNK_OPTION, at, { Ip6InHdrErrors: 1 });
    });
    nets.it(`${kind}, action 11 (0xde) to a unicast address: parameter problem code 2, pointer ${at}`, () => {
      paramProb(nets.net(1), headers(UNKNOWN[3]), ICMPV6_UNK_OPTION, at, { Ip6InHdrErrors: 1 });
    });
    nets.it(`${kind}, action 10 to ff02::1: parameter problem all the same`, () => {
      paramProb(nets.net(1), headers(UNKNOWN[2]), ICMPV6_UNK_OPTION, at, { Ip6InHdrErrors: 1 }, ALL_NODES);
    });
    nets.it(`${kind}, action 11 to ff02::1: discarded silently, Ip6InHdrErrors 1`, () => {
      silent(nets.net(1), headers(UNKNOWN[3]), { Ip6InHdrErrors: 1 }, ALL_NODES);
    });
  }
});

describe('the home address option (0xc9, RFC 6275) in destination options', () => {
  const mip6Kernel = (t: TestContext, want: boolean): boolean => {
    if (mip6 !== want) t.skip(`kernel built ${mip6 ? 'with' : 'without'} CONFIG_IPV6_MIP6 (probed by a sticky type 2 IPV6_RTHDR)`);
    return mip6 !== want;
  };
  // Type 201 = 11 001001: "discard and report, unless multicast" where nobody implements it.
  const hao = (): Ipv6Ext[] => [destOpts({ options: [{ kind: 'padN', n: 4 }, { kind: 'option', code: IPV6_TLV_HAO, data: ip6ToBytes('2001:db8:ff::71') }] })];
  nets.it('without MIP6: an unknown option of action 11, parameter problem code 2, pointer 48', (t) => {
    if (mip6Kernel(t, false)) return;
    paramProb(nets.net(1), hao(), ICMPV6_UNK_OPTION, 48, { Ip6InHdrErrors: 1 });
  });
  nets.it('with MIP6 and no xfrm state for the home address: dropped silently, Ip6InHdrErrors 1', (t) => {
    if (mip6Kernel(t, true)) return;
    silent(nets.net(1), hao(), { Ip6InHdrErrors: 1 });
  });
});

describe('the parameter problem\'s quote', () => {
  nets.it('a 1400-byte packet: the error quotes its first 1232 bytes (the error is 1280, the IPv6 minimum MTU)', () => {
    const n = nets.net(1);
    const e = echo(n, [destOpts({ options: [opt(UNKNOWN[2], 2)] })], n.addr6, 1400 - 40 - 8 - 8);
    assert.equal(build(e.sent).length, 1400);
    counted({ Ip6InHdrErrors: 1, Icmp6OutParmProblems: 1 }, () => {
      inject(n, e.sent);
      expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6 }), icmpv6({ icmpType: ICMPV6_PARAMPROB, code: ICMPV6_UNK_OPTION, pointer: 42 }), raw(build(e.sent).subarray(0, 1280 - 48))]);
    });
  });
});

describe('padding (RFC 4942 2.1.9.5, as ip6_parse_tlv enforces it)', () => {
  const pad1 = (k: number): Ipv6Option[] => Array.from({ length: k }, () => ({ kind: 'pad1' }) as const);
  const dst = (options: Ipv6Option[]): Ipv6Ext[] => [destOpts({ options })];

  nets.it('seven Pad1 in a row, then an option: accepted', () => {
    delivered(nets.net(1), dst([...pad1(7), opt(UNKNOWN[0], 5)]));
  });
  nets.it('eight Pad1 in a row: dropped, Ip6InHdrErrors 1', () => {
    silent(nets.net(1), dst([...pad1(8), opt(UNKNOWN[0], 4)]), { Ip6InHdrErrors: 1 });
  });
  nets.it('PadN of 7 bytes, then an option: accepted', () => {
    delivered(nets.net(1), dst([{ kind: 'padN', n: 5 }, opt(UNKNOWN[0], 5)]));
  });
  nets.it('PadN of 8 bytes: dropped, Ip6InHdrErrors 1', () => {
    silent(nets.net(1), dst([{ kind: 'padN', n: 6 }, opt(UNKNOWN[0], 4)]), { Ip6InHdrErrors: 1 });
  });
  nets.it('Pad1 then PadN of 7 (8 bytes of padding together): dropped', () => {
    silent(nets.net(1), dst([...pad1(1), { kind: 'padN', n: 5 }, opt(UNKNOWN[0], 4)]), { Ip6InHdrErrors: 1 });
  });
  nets.it('PadN with a non-zero byte: dropped, Ip6InHdrErrors 1', () => {
    silent(nets.net(1), dst([{ kind: 'option', code: 1, data: Buffer.from([0, 0, 1, 0]) }]), { Ip6InHdrErrors: 1 });
  });
  nets.it('an option running past the end of the header: dropped, Ip6InHdrErrors 1', () => {
    silent(nets.net(1), dst([{ kind: 'raw', data: Buffer.from([UNKNOWN[0], 5, 0, 0, 0, 0]) }]), { Ip6InHdrErrors: 1 });
  });
  nets.it('hop-by-hop: eight Pad1 in a row dropped too, Ip6InHdrErrors 1', () => {
    silent(nets.net(1), [hopByHop({ options: [...pad1(8), opt(UNKNOWN[0], 4)] })], { Ip6InHdrErrors: 1 });
  });
});

describe('option count limits: max_hbh_opts_number, max_dst_opts_number', () => {
  for (const [kind, name] of [['hop-by-hop', 'max_hbh_opts_number'], ['destination options', 'max_dst_opts_number']] as const) {
    const many = (k: number): Ipv6Ext[] => optsHeaders(kind, Array.from({ length: k }, () => opt(UNKNOWN[0])));
    // Default 8 (IP6_DEFAULT_MAX_{HBH,DST}_OPTS_CNT); padding does not count.
    nets.it(`${kind}: 7 and 8 options accepted, 9 dropped (default ${name}=8), Ip6InHdrErrors 1`, () => {
      const n = nets.net(1);
      delivered(n, many(7));
      delivered(n, many(8));
      silent(n, many(9), { Ip6InHdrErrors: 1 });
    });
    nets.it(`${kind}: ${name}=2: 1 and 2 accepted, 3 dropped`, () => {
      const n = nets.net(1);
      withSysctl({ [`net.ipv6.${name}`]: 2 }, () => {
        delivered(n, many(1));
        delivered(n, many(2));
        silent(n, many(3), { Ip6InHdrErrors: 1 });
      });
    });
    nets.it(`${kind}: ${name}=-2 (unknown options refused): one action-00 option dropped silently, an action-10 one without an error`, () => {
      const n = nets.net(1);
      withSysctl({ [`net.ipv6.${name}`]: -2 }, () => {
        silent(n, optsHeaders(kind, [opt(UNKNOWN[0])]), { Ip6InHdrErrors: 1 });
        silent(n, optsHeaders(kind, [opt(UNKNOWN[2])]), { Ip6InHdrErrors: 1 });
      });
    });
  }
  nets.it('hop-by-hop: max_hbh_opts_number=-2: two router alerts (a known option) accepted, three dropped', () => {
    const n = nets.net(1);
    const ra = (k: number): Ipv6Ext[] => [hopByHop({ options: Array.from({ length: k }, () => ({ kind: 'routerAlert', value: 0 }) as const) })];
    withSysctl({ 'net.ipv6.max_hbh_opts_number': -2 }, () => {
      delivered(n, ra(2));
      silent(n, ra(3), { Ip6InHdrErrors: 1 });
    });
  });
});

describe('header length limits: max_hbh_length, max_dst_opts_length', () => {
  // Headers of 8, 16 and 24 bytes against a limit of 16: PadN fills them.
  const sized = (kind: OptHdr, bytes: number): Ipv6Ext[] =>
    optsHeaders(kind, bytes === 8 ? [] : [opt(UNKNOWN[0], bytes - 2 - 2 - 6), { kind: 'padN', n: 4 }]);
  nets.it('max_hbh_length=16: 8- and 16-byte hop-by-hop headers accepted, 24 dropped, Ip6InHdrErrors 1', () => {
    const n = nets.net(1);
    withSysctl({ 'net.ipv6.max_hbh_length': 16 }, () => {
      delivered(n, sized('hop-by-hop', 8));
      delivered(n, sized('hop-by-hop', 16));
      silent(n, sized('hop-by-hop', 24), { Ip6InHdrErrors: 1 });
    });
  });
  nets.it('max_dst_opts_length=16: 8 and 16 accepted, 24 dropped without any counter (ipv6_destopt_rcv skips Ip6InHdrErrors)', () => {
    const n = nets.net(1);
    withSysctl({ 'net.ipv6.max_dst_opts_length': 16 }, () => {
      delivered(n, sized('destination options', 8));
      delivered(n, sized('destination options', 16));
      silent(n, sized('destination options', 24), {});
    });
  });
});

describe('jumbo payload option (RFC 2675) in an ordinary packet', () => {
  nets.it('jumbo length 65535 (not above 64 KiB): parameter problem code 0, pointer 44 (its length)', () => {
    paramProb(nets.net(1), [hopByHop({ options: [{ kind: 'jumbo', length: 65535 }] })], ICMPV6_HDR_FIELD, 44, { Ip6InHdrErrors: 1 });
  });
  nets.it('jumbo length 65536 with a non-zero payload length: parameter problem code 0, pointer 42 (the option)', () => {
    paramProb(nets.net(1), [hopByHop({ options: [{ kind: 'jumbo', length: 65536 }] })], ICMPV6_HDR_FIELD, 42, { Ip6InHdrErrors: 1 });
  });
  nets.it('payload length 0 and jumbo length 70000 in a short packet (a jumbogram cut short): dropped silently, Ip6InHdrErrors 1', () => {
    const n = nets.net(1);
    const e = echo(n, [hopByHop({ options: [{ kind: 'jumbo', length: 70000 }] })]);
    const sent = [ipv6({ src: PEER6, dst: n.addr6, plen: 0 }), ...e.sent.slice(1)];
    counted({ Ip6InHdrErrors: 1 }, () => {
      inject(n, sent);
      expectNone(n, { timeoutMs: 200 });
    });
  });
  nets.it('a jumbo option not at 4n+2: dropped silently, Ip6InHdrErrors 1', () => {
    silent(nets.net(1), [hopByHop({ options: [{ kind: 'pad1' }, { kind: 'jumbo', length: 65536 }, { kind: 'pad1' }] })], { Ip6InHdrErrors: 1 });
  });
});

describe('routing headers', () => {
  const A = '2001:db8:ff::31';
  nets.it('type 0 with segments left 1: parameter problem code 0, pointer 42 (the routing type), Ip6InHdrErrors 1', () => {
    paramProb(nets.net(1), [routing({ routingType: IPV6_SRCRT_TYPE_0, addresses: [A], segmentsLeft: 1 })], ICMPV6_HDR_FIELD, 42, { Ip6InHdrErrors: 1 });
  });
  nets.it('type 0 after a destination options header: the pointer follows it (50)', () => {
    paramProb(nets.net(1), [destOpts(), routing({ routingType: IPV6_SRCRT_TYPE_0, addresses: [A], segmentsLeft: 1 })], ICMPV6_HDR_FIELD, 50, { Ip6InHdrErrors: 1 });
  });
  nets.it('type 0 with segments left 0: ignored, the echo is answered', () => {
    delivered(nets.net(1), [routing({ routingType: IPV6_SRCRT_TYPE_0, addresses: [A], segmentsLeft: 0 })]);
  });
  nets.it('an unassigned type (200) with segments left 1: parameter problem pointer 42; with 0: ignored', () => {
    const n = nets.net(1);
    paramProb(n, [routing({ routingType: 200, addresses: [A], segmentsLeft: 1 })], ICMPV6_HDR_FIELD, 42, { Ip6InHdrErrors: 1 });
    delivered(n, [routing({ routingType: 200, addresses: [A], segmentsLeft: 0 })]);
  });
  nets.it('any routing header to a multicast address (ff02::1): dropped, Ip6InAddrErrors 1', () => {
    silent(nets.net(1), [routing({ routingType: IPV6_SRCRT_TYPE_0, addresses: [A], segmentsLeft: 0 })], { Ip6InAddrErrors: 1 }, ALL_NODES);
  });
  nets.it('type 4 (segment routing) while seg6_enabled=0: dropped without any counter', () => {
    silent(nets.net(1), [srh({ segments: [nets.net(1).addr6, A], segmentsLeft: 1 })], {});
  });

  // seg6_enabled is the lower of all/ and the device's (ipv6_srh_rcv).
  const withSeg6 = <T>(n: Network, fn: () => T): T =>
    withSysctl({ 'net.ipv6.conf.all.seg6_enabled': 1, [`net.ipv6.conf.${n.ifname}.seg6_enabled`]: 1 }, fn);
  nets.it('type 4 with seg6_enabled=1, segments left 0: the echo is answered', () => {
    const n = nets.net(1);
    withSeg6(n, () => delivered(n, [srh({ segments: [n.addr6, A], segmentsLeft: 0 })]));
  });
  nets.it('type 4 with seg6_enabled=1, segments left 2 of 2 segments: parameter problem code 0, pointer 43 (segments left)', () => {
    const n = nets.net(1);
    withSeg6(n, () => paramProb(n, [srh({ segments: [n.addr6, A], segmentsLeft: 2 })], ICMPV6_HDR_FIELD, 43, { Ip6InHdrErrors: 1 }));
  });
  nets.it('type 4 with seg6_enabled=1, the next segment our own address: processed again locally and answered', () => {
    const n = nets.net(1);
    withSeg6(n, () => delivered(n, [srh({ segments: [n.addr6, n.addr6], segmentsLeft: 1 })]));
  });
  nets.it('type 4 with seg6_enabled=1, the next segment our own address but hop limit 1: time exceeded code 0, quoting the header as updated (segments left 0)', () => {
    const n = nets.net(1);
    withSeg6(n, () => {
      const data = Buffer.from('srh hlim 1');
      const sent = (segmentsLeft: number): Layer[] =>
        [ipv6({ src: PEER6, dst: n.addr6, hlim: 1 }), srh({ segments: [n.addr6, n.addr6], segmentsLeft }), echoRequest6({ id: 0x6174, seq: 1 }), raw(data)];
      counted({ Ip6InHdrErrors: 1 }, () => {
        inject(n, sent(1));
        expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6 }), icmpv6({ icmpType: ICMPV6_TIME_EXCEED, code: ICMPV6_EXC_HOPLIMIT }), raw(build(sent(0)))]);
      });
    });
  });

  const noMip6 = (t: TestContext): boolean => {
    if (mip6) t.skip('kernel built with CONFIG_IPV6_MIP6 (a sticky type 2 routing header is accepted): type 2 is not unknown there');
    return mip6;
  };
  const withMip6 = (t: TestContext): boolean => {
    if (!mip6) t.skip('kernel built without CONFIG_IPV6_MIP6 (IPV6_RTHDR of type 2 answers EINVAL)');
    return !mip6;
  };
  nets.it('type 2 without MIP6: unknown, segments left 1 gets parameter problem pointer 42, segments left 0 is ignored', (t) => {
    if (noMip6(t)) return;
    const n = nets.net(1);
    paramProb(n, [routing({ routingType: IPV6_SRCRT_TYPE_2, addresses: [A], segmentsLeft: 1 })], ICMPV6_HDR_FIELD, 42, { Ip6InHdrErrors: 1 });
    delivered(n, [routing({ routingType: IPV6_SRCRT_TYPE_2, addresses: [A], segmentsLeft: 0 })]);
  });
  nets.it('type 2 with MIP6, segments left 0 (not processed here): dropped silently, Ip6InAddrErrors 1', (t) => {
    if (withMip6(t)) return;
    silent(nets.net(1), [routing({ routingType: IPV6_SRCRT_TYPE_2, addresses: [A], segmentsLeft: 0 })], { Ip6InAddrErrors: 1 });
  });
  nets.it('type 2 with MIP6, one address, segments left 1, no xfrm state for it (xfrm6_input_addr): dropped silently, Ip6InAddrErrors 1', (t) => {
    if (withMip6(t)) return;
    silent(nets.net(1), [routing({ routingType: IPV6_SRCRT_TYPE_2, addresses: [A], segmentsLeft: 1 })], { Ip6InAddrErrors: 1 });
  });
  nets.it('type 2 with MIP6 and two addresses (length 4): dropped silently, Ip6InHdrErrors 1', (t) => {
    if (withMip6(t)) return;
    silent(nets.net(1), [routing({ routingType: IPV6_SRCRT_TYPE_2, addresses: [A, A], segmentsLeft: 1 })], { Ip6InHdrErrors: 1 });
  });
});

describe('next headers', () => {
  nets.it(`an unknown next header (${UNKNOWN_PROTO}) in the IPv6 header: parameter problem code 1, pointer 6, Ip6InUnknownProtos 1`, () => {
    const n = nets.net(1);
    const sent = [ipv6({ src: PEER6, dst: n.addr6, nh: UNKNOWN_PROTO }), raw(Buffer.alloc(16, 0xab))];
    counted({ Ip6InUnknownProtos: 1, Icmp6OutParmProblems: 1 }, () => {
      inject(n, sent);
      expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6 }), icmpv6({ icmpType: ICMPV6_PARAMPROB, code: ICMPV6_UNK_NEXTHDR, pointer: 6 }), raw(build(sent))]);
    });
  });
  nets.it('an unknown next header after hop-by-hop and destination options: pointer 48 (the last next header field)', () => {
    const n = nets.net(1);
    const sent = [ipv6({ src: PEER6, dst: n.addr6 }), hopByHop(), destOpts({ nh: UNKNOWN_PROTO }), raw(Buffer.alloc(16, 0xab))];
    counted({ Ip6InUnknownProtos: 1, Icmp6OutParmProblems: 1 }, () => {
      inject(n, sent);
      expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6 }), icmpv6({ icmpType: ICMPV6_PARAMPROB, code: ICMPV6_UNK_NEXTHDR, pointer: 48 }), raw(build(sent))]);
    });
  });
  nets.it('hop-by-hop after a destination options header: parameter problem code 1, pointer 40', () => {
    paramProb(nets.net(1), [destOpts({ nh: IPPROTO_HOPOPTS }), hopByHop()], ICMPV6_UNK_NEXTHDR, 40, { Ip6InUnknownProtos: 1 });
  });
  nets.it('hop-by-hop twice: parameter problem code 1, pointer 40 (the first one\'s next header)', () => {
    paramProb(nets.net(1), [hopByHop({ nh: IPPROTO_HOPOPTS }), hopByHop()], ICMPV6_UNK_NEXTHDR, 40, { Ip6InUnknownProtos: 1 });
  });
});

describe('options behind a fragment header', () => {
  const options: Ipv6Option[] = [{ kind: 'padN', n: 2 }, opt(UNKNOWN[2], 2)];
  nets.it('an atomic fragment (offset 0, no more fragments) with an action-10 option: the pointer counts the fragment header (54)', () => {
    paramProb(nets.net(1), [fragment({ id: 0x617a }), destOpts({ options })], ICMPV6_UNK_OPTION, 54, { Ip6InHdrErrors: 1 });
  });
  nets.it('three fragments with an action-10 option: reassembled first, the pointer (46) and the quote are the whole packet\'s', () => {
    const n = nets.net(1);
    const e = echo(n, [destOpts({ options })], n.addr6, 64);
    const pieces = fragment6(e.sent, 40 + 8 + 32, 0x617b);
    assert.equal(pieces.length, 3);
    counted({ Ip6InHdrErrors: 1, Icmp6OutParmProblems: 1 }, () => {
      for (const p of pieces) inject(n, p);
      expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6 }), icmpv6({ icmpType: ICMPV6_PARAMPROB, code: ICMPV6_UNK_OPTION, pointer: 46 }), raw(build(e.sent))]);
    });
  });
});

describe('sending: sticky options and per-packet control messages (RFC 3542)', () => {
  const HBH = hopByHop({ options: [{ kind: 'routerAlert', value: 0 }, opt(UNKNOWN[0], 2)] });
  const DST = destOpts({ options: [opt(UNKNOWN[2], 4)] });
  const DST0 = destOpts({ options: [opt(UNKNOWN[1], 10)] });
  const SEG = '2001:db8:ff::41';
  /** A mobile node's home address (RFC 6275), off-link behind net1's router. */
  const HOME = '2001:db8:ff::61';

  function sock(n: Network): Socket<'inet6'> {
    const s = udpSocket(6);
    s.setMark(n.mark);
    s.bind({ address: '::', port: 0 });
    return s;
  }
  function sendExpect(n: Network, s: Socket<'inet6'>, send: (data: Buffer) => void, exts: Ipv6Ext[], dst = REMOTE6): void {
    const data = Buffer.from(`opts ${++seq}`);
    send(data);
    expectPacket(n, [ipv6({ src: n.addr6, dst }), ...exts, udp({ sport: s.localAddress().port, dport: DPORT }), raw(data)]);
  }
  const to = { address: REMOTE6, port: DPORT };

  nets.it('IPV6_HOPOPTS and IPV6_DSTOPTS sticky: the packet carries exactly those headers, hop-by-hop first', () => {
    const n = nets.net(1);
    const s = sock(n);
    try {
      s.setOption(K.SOL_IPV6, K.IPV6_HOPOPTS, ipv6ExtBytes(HBH, 0x77));
      sendExpect(n, s, (d) => s.sendTo(d, to), [HBH]);
      s.setOption(K.SOL_IPV6, K.IPV6_DSTOPTS, ipv6ExtBytes(DST));
      sendExpect(n, s, (d) => s.sendTo(d, to), [HBH, DST]);
      // An empty value removes a sticky header.
      s.setOption(K.SOL_IPV6, K.IPV6_HOPOPTS, Buffer.alloc(0));
      sendExpect(n, s, (d) => s.sendTo(d, to), [DST]);
    } finally {
      s.close();
    }
  });

  nets.it('a TCP listener\'s sticky IPV6_HOPOPTS is on its SYN-ACK; the advertised MSS stays 1440 (tcp_dst_advmss() ignores extension headers)', () => {
    const n = nets.net(1);
    const l = tcpSocket(6);
    const port = 7350;
    try {
      l.setOption(K.SOL_IPV6, K.IPV6_HOPOPTS, ipv6ExtBytes(HBH));
      l.bind({ address: n.addr6, port });
      l.listen(4);
      inject(n, [ipv6({ src: PEER6, dst: n.addr6 }), tcp({ sport: 40001, dport: port, seq: 1000, flags: 'S', window: 1000 })]);
      // Ignored: the initial sequence number (random) and the window (tcp_rmem's, not this file's subject).
      expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6 }), HBH, tcp({ sport: port, dport: 40001, ack: 1001, flags: 'SA', options: [{ kind: 'mss', value: 1440 }] })], { ignore: ['tcp.seq', 'tcp.window'] });
      // A reset at the expected sequence number ends the request before its SYN-ACK timer fires again.
      inject(n, [ipv6({ src: PEER6, dst: n.addr6 }), tcp({ sport: 40001, dport: port, seq: 1001, flags: 'R', window: 0 })]);
    } finally {
      l.close();
    }
  });

  nets.it('IPV6_RTHDRDSTOPTS without a routing header: not sent', () => {
    const n = nets.net(1);
    const s = sock(n);
    try {
      s.setOption(K.SOL_IPV6, K.IPV6_RTHDRDSTOPTS, ipv6ExtBytes(DST0));
      sendExpect(n, s, (d) => s.sendTo(d, to), []);
    } finally {
      s.close();
    }
  });

  nets.it('sticky IPV6_RTHDR type 4 with IPV6_RTHDRDSTOPTS and IPV6_DSTOPTS: destination = the active segment, segment 0 = the real destination, headers in RFC 8200 order', () => {
    const n = nets.net(1);
    const s = sock(n);
    try {
      // Segment 0 is a placeholder: the kernel writes the socket's destination there (ipv6_push_rthdr4).
      s.setOption(K.SOL_IPV6, K.IPV6_RTHDR, ipv6ExtBytes(srh({ segments: ['::', SEG], segmentsLeft: 1 })));
      s.setOption(K.SOL_IPV6, K.IPV6_RTHDRDSTOPTS, ipv6ExtBytes(DST0));
      s.setOption(K.SOL_IPV6, K.IPV6_DSTOPTS, ipv6ExtBytes(DST));
      sendExpect(n, s, (d) => s.sendTo(d, to), [DST0, srh({ segments: [REMOTE6, SEG], segmentsLeft: 1 }), DST], SEG);
    } finally {
      s.close();
    }
  });

  nets.it('sticky IPV6_RTHDR type 0: EINVAL; IPV6_HOPOPTS of 12 bytes or shorter than its length field says: EINVAL', () => {
    const s = udpSocket(6);
    try {
      assert.throws(() => s.setOption(K.SOL_IPV6, K.IPV6_RTHDR, ipv6ExtBytes(routing({ routingType: 0, addresses: ['2001:db8:ff::1'] }))), errnoIs('EINVAL'));
      assert.throws(() => s.setOption(K.SOL_IPV6, K.IPV6_HOPOPTS, Buffer.alloc(12)), errnoIs('EINVAL'));
      const long = ipv6ExtBytes(hopByHop({ options: [opt(UNKNOWN[0], 10)] }));
      assert.throws(() => s.setOption(K.SOL_IPV6, K.IPV6_HOPOPTS, long.subarray(0, 8)), errnoIs('EINVAL'));
    } finally {
      s.close();
    }
  });

  nets.it('without CAP_NET_RAW: IPV6_HOPOPTS, IPV6_DSTOPTS, IPV6_RTHDRDSTOPTS are EPERM, sticky and per packet; IPV6_RTHDR (type 4) is allowed', () => {
    const s = udpSocket(6);
    try {
      asUser(NOBODY, () => {
        for (const o of [K.IPV6_HOPOPTS, K.IPV6_DSTOPTS, K.IPV6_RTHDRDSTOPTS]) {
          assert.throws(() => s.setOption(K.SOL_IPV6, o, ipv6ExtBytes(DST)), errnoIs('EPERM'), `option ${o}`);
          const control = [{ kind: 'raw', level: K.SOL_IPV6, type: o, data: ipv6ExtBytes(DST) }] as const;
          assert.throws(() => s.sendMsg({ data: Buffer.from('x'), to, control }), errnoIs('EPERM'), `cmsg ${o}`);
        }
        s.setOption(K.SOL_IPV6, K.IPV6_RTHDR, ipv6ExtBytes(srh({ segments: ['::', SEG], segmentsLeft: 1 })));
      });
    } finally {
      s.close();
    }
  });

  nets.it('per-packet IPV6_HOPOPTS and IPV6_DSTOPTS control messages: those headers, and the sticky ones are not added', () => {
    const n = nets.net(1);
    const s = sock(n);
    try {
      s.setOption(K.SOL_IPV6, K.IPV6_DSTOPTS, ipv6ExtBytes(DST0));
      const control = [
        { kind: 'raw', level: K.SOL_IPV6, type: K.IPV6_HOPOPTS, data: ipv6ExtBytes(HBH) },
        { kind: 'raw', level: K.SOL_IPV6, type: K.IPV6_DSTOPTS, data: ipv6ExtBytes(DST) },
      ] as const;
      sendExpect(n, s, (d) => s.sendMsg({ data: d, to, control }), [HBH, DST]);
      // A control message that is no extension header leaves the sticky ones in place.
      sendExpect(n, s, (d) => s.sendMsg({ data: d, to, control: [{ kind: 'hoplimit', value: 64 }] }), [DST0]);
    } finally {
      s.close();
    }
  });

  nets.it('IPV6_RTHDR type 2 with MIP6, sticky and per packet: sent to the home address, the destination in the routing header', (t) => {
    if (!mip6) {
      t.skip('kernel built without CONFIG_IPV6_MIP6 (IPV6_RTHDR of type 2 answers EINVAL)');
      return;
    }
    const n = nets.net(1);
    const s = sock(n);
    try {
      const rh = routing({ routingType: IPV6_SRCRT_TYPE_2, addresses: [HOME] });
      const control = [{ kind: 'raw', level: K.SOL_IPV6, type: K.IPV6_RTHDR, data: ipv6ExtBytes(rh) }] as const;
      // ipv6_push_rthdr0(): the header's address becomes the IPv6 destination and the real one takes its place.
      const onWire = routing({ routingType: IPV6_SRCRT_TYPE_2, addresses: [REMOTE6] });
      sendExpect(n, s, (d) => s.sendMsg({ data: d, to, control }), [onWire], HOME);
      s.setOption(K.SOL_IPV6, K.IPV6_RTHDR, ipv6ExtBytes(rh));
      sendExpect(n, s, (d) => s.sendTo(d, to), [onWire], HOME);
    } finally {
      s.close();
    }
  });

  nets.it('IPV6_RTHDR type 2 without MIP6: EINVAL sticky and per packet', (t) => {
    if (mip6) {
      t.skip('kernel built with CONFIG_IPV6_MIP6: type 2 is accepted there');
      return;
    }
    const s = udpSocket(6);
    try {
      const rh = ipv6ExtBytes(routing({ routingType: IPV6_SRCRT_TYPE_2, addresses: [HOME] }));
      assert.throws(() => s.setOption(K.SOL_IPV6, K.IPV6_RTHDR, rh), errnoIs('EINVAL'));
      assert.throws(() => s.sendMsg({ data: Buffer.from('x'), to, control: [{ kind: 'raw', level: K.SOL_IPV6, type: K.IPV6_RTHDR, data: rh }] }), errnoIs('EINVAL'));
    } finally {
      s.close();
    }
  });

  nets.it('a per-packet IPV6_RTHDR of type 0 or 4: EINVAL, nothing sent', () => {
    const n = nets.net(1);
    const s = sock(n);
    try {
      for (const rh of [routing({ routingType: 0, addresses: [SEG] }), srh({ segments: ['::', SEG], segmentsLeft: 1 })]) {
        const control = [{ kind: 'raw', level: K.SOL_IPV6, type: K.IPV6_RTHDR, data: ipv6ExtBytes(rh) }] as const;
        assert.throws(() => s.sendMsg({ data: Buffer.from('x'), to, control }), errnoIs('EINVAL'));
      }
      expectNone(n, { timeoutMs: 100 });
    } finally {
      s.close();
    }
  });
});

describe('receiving: IPV6_RECVHOPOPTS, IPV6_RECVDSTOPTS, IPV6_RECVRTHDR', () => {
  const HBH = hopByHop({ options: [opt(UNKNOWN[0], 3), { kind: 'routerAlert', value: 2 }] });
  const D0 = destOpts({ options: [opt(UNKNOWN[0], 1)] });
  const RH = routing({ routingType: IPV6_SRCRT_TYPE_0, addresses: ['2001:db8:ff::51'], segmentsLeft: 0 });
  const D1 = destOpts({ options: [opt(UNKNOWN[0], 9)] });
  let port = 7400;

  /** Sends a datagram with HBH, D0, RH, D1 to a socket with these options on; returns its cmsgs as [type, bytes]. */
  function receive(n: Network, on: number[]): [number, string][] {
    const s = udpSocket(6);
    try {
      s.bind({ address: '::', port: ++port });
      for (const o of on) s.setOption(K.SOL_IPV6, o, 1);
      const data = Buffer.from('with headers');
      inject(n, [ipv6({ src: PEER6, dst: n.addr6 }), HBH, D0, RH, D1, udp({ sport: 5000, dport: port }), raw(data)]);
      const m = s.recvMsg({ timeoutMs: 2000 });
      assert.deepEqual(m.data, data);
      return m.control.map((c) => {
        assert.equal(c.kind, 'raw');
        return c.kind === 'raw' ? [c.type, c.data.toString('hex')] : [-1, ''];
      });
    } finally {
      s.close();
    }
  }
  const hex = (l: Ipv6Ext, nh: number): string => ipv6ExtBytes(l, nh).toString('hex');

  nets.it('none of them: no control messages', () => {
    assert.deepEqual(receive(nets.net(1), []), []);
  });
  nets.it('IPV6_RECVHOPOPTS: one IPV6_HOPOPTS with the header\'s bytes', () => {
    assert.deepEqual(receive(nets.net(1), [K.IPV6_RECVHOPOPTS]), [[K.IPV6_HOPOPTS, hex(HBH, IPPROTO_DSTOPTS)]]);
  });
  nets.it('IPV6_RECVDSTOPTS: both destination options headers, in order, as IPV6_DSTOPTS', () => {
    assert.deepEqual(receive(nets.net(1), [K.IPV6_RECVDSTOPTS]), [[K.IPV6_DSTOPTS, hex(D0, 43)], [K.IPV6_DSTOPTS, hex(D1, IPPROTO_UDP)]]);
  });
  nets.it('IPV6_RECVRTHDR: the routing header as IPV6_RTHDR', () => {
    assert.deepEqual(receive(nets.net(1), [K.IPV6_RECVRTHDR]), [[K.IPV6_RTHDR, hex(RH, IPPROTO_DSTOPTS)]]);
  });
  nets.it('all three: hop-by-hop, then the rest in packet order', () => {
    assert.deepEqual(receive(nets.net(1), [K.IPV6_RECVHOPOPTS, K.IPV6_RECVDSTOPTS, K.IPV6_RECVRTHDR]), [
      [K.IPV6_HOPOPTS, hex(HBH, IPPROTO_DSTOPTS)], [K.IPV6_DSTOPTS, hex(D0, 43)], [K.IPV6_RTHDR, hex(RH, IPPROTO_DSTOPTS)], [K.IPV6_DSTOPTS, hex(D1, IPPROTO_UDP)],
    ]);
  });
});

describe('forwarded packets: options on the way, router alert (IPV6_ROUTER_ALERT, RFC 2711)', () => {
  /** Off-link: with forwarding on, net1's table sends it back out net1 to the router. */
  const FAR = '2001:db8:ff::99';
  const SEL = 7;

  nets.it('IPV6_ROUTER_ALERT on a UDP or a raw ICMPv6 socket: ENOPROTOOPT; on an IPPROTO_RAW socket accepted, again EADDRINUSE', () => {
    const [u, i, r] = [udpSocket(6), rawSocket(6, IPPROTO_ICMPV6), rawSocket(6, IPPROTO_RAW)];
    try {
      assert.throws(() => u.setOption(K.SOL_IPV6, K.IPV6_ROUTER_ALERT, SEL), errnoIs('ENOPROTOOPT'));
      assert.throws(() => i.setOption(K.SOL_IPV6, K.IPV6_ROUTER_ALERT, SEL), errnoIs('ENOPROTOOPT'));
      r.setOption(K.SOL_IPV6, K.IPV6_ROUTER_ALERT, SEL);
      assert.throws(() => r.setOption(K.SOL_IPV6, K.IPV6_ROUTER_ALERT, SEL + 1), errnoIs('EADDRINUSE'));
    } finally {
      u.close();
      i.close();
      r.close();
    }
  });

  nets.it('forwarding on: an action-10 option in hop-by-hop gets a parameter problem from this router; in destination options it is forwarded untouched', () => {
    const n = nets.net(1);
    const rule = { family: 'inet6', priority: 60, iif: n.ifname, table: n.table } as const;
    nets.rt.addRule(rule);
    try {
      withSysctl({ 'net.ipv6.conf.all.forwarding': 1 }, () => {
        const options: Ipv6Option[] = [{ kind: 'padN', n: 2 }, opt(UNKNOWN[2], 2)];
        const pkt = (ext: Ipv6Ext, hlim: number): Layer[] => [ipv6({ src: PEER6, dst: FAR, hlim }), ext, echoRequest6({ id: 0x6173, seq: 1 }), raw('transit')];
        const hbh = pkt(hopByHop({ options }), 64);
        counted({ Ip6InHdrErrors: 1, Icmp6OutParmProblems: 1 }, () => {
          inject(n, hbh);
          expectPacket(n, [ipv6({ src: n.addr6, dst: PEER6 }), icmpv6({ icmpType: ICMPV6_PARAMPROB, code: ICMPV6_UNK_OPTION, pointer: 46 }), raw(build(hbh))]);
          expectNone(n, { timeoutMs: 200 });
        });
        // RFC 8200 4: destination options are examined at the destination only.
        counted({}, () => {
          inject(n, pkt(destOpts({ options }), 64));
          expectPacket(n, pkt(destOpts({ options }), 63));
        });
      });
    } finally {
      nets.rt.deleteRule(rule);
    }
  });

  nets.it(`forwarding on: router alert ${SEL} goes to the IPPROTO_RAW socket that asked for ${SEL}, whole and unforwarded; ${SEL + 1} is forwarded (hop limit 63)`, () => {
    const n = nets.net(1);
    const rule = { family: 'inet6', priority: 60, iif: n.ifname, table: n.table } as const;
    nets.rt.addRule(rule);
    const r = rawSocket(6, IPPROTO_RAW);
    try {
      r.setOption(K.SOL_IPV6, K.IPV6_ROUTER_ALERT, SEL);
      withSysctl({ 'net.ipv6.conf.all.forwarding': 1 }, () => {
        const pkt = (value: number, hlim: number): Layer[] =>
          [ipv6({ src: PEER6, dst: FAR, hlim }), hopByHop({ options: [{ kind: 'routerAlert', value }] }), echoRequest6({ id: 0x6172, seq: value }), raw('alert')];
        inject(n, pkt(SEL, 64));
        // ip6_forward() hands it over before the hop limit is decremented, from the IPv6 header on.
        assert.equal(r.recv({ timeoutMs: 1000 }).toString('hex'), build(pkt(SEL, 64)).toString('hex'));
        expectNone(n, { timeoutMs: 200 });
        inject(n, pkt(SEL + 1, 64));
        expectPacket(n, pkt(SEL + 1, 63));
        assert.throws(() => r.recv({ timeoutMs: 100 }), errnoIs('EAGAIN'));
      });
    } finally {
      r.close();
      nets.rt.deleteRule(rule);
    }
  });
});
