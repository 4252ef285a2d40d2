// fwmark reflection and tcp_fwmark_accept, seen on the wire. Netfilter marks every packet that
// arrives on network N with mark N (mangle PREROUTING). A rule after the mark rules sends every
// unmarked lookup to network 2's table, so where a reply to a packet from network 1 leaves says
// which mark the kernel used: mark 1 (reflected or accepted) → net1, no mark → net2.
//
//   net.ipv{4,6}.fwmark_reflect  replies the kernel sends on its own (TCP resets and ACKs through
//                                ip_send_unicast_reply / tcp_v6_send_response, ICMP echo replies
//                                and errors) take the mark of the packet they answer
//                                (IP4_REPLY_MARK / IP6_REPLY_MARK); tested here for a closed
//                                port's RST, echo replies and port unreachables.
//   net.ipv4.tcp_fwmark_accept   (both families) a listener without SO_MARK gives the request,
//                                its SYN-ACK and the accepted socket the SYN's mark
//                                (inet_request_mark); a listener's own mark wins.
//
// The rules use the legacy x_tables interface (iptables-legacy): Debian's UML kernel has no
// nf_tables IPv4/IPv6/inet families (CONFIG_NF_TABLES_IPV4/IPV6/INET unset), so neither nft nor
// iptables-nft works there, while both kernels have x_tables with the mangle table and MARK.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { tcpSocket } from '../src/lib/socket.js';
import { K } from '../src/lib/sys/index.js';
import {
  echoReply4,
  echoReply6,
  echoRequest4,
  echoRequest6,
  ether,
  icmp,
  icmpv6,
  ipv4,
  ipv6,
  layer,
  raw,
  tcp,
  udp,
  ICMP_DEST_UNREACH,
  ICMP_PORT_UNREACH,
  ICMPV6_DEST_UNREACH,
  ICMPV6_PORT_UNREACH,
  type Layer,
} from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 3 });
/** After the mark rules (101-103), before the uid (201+) and oif (301+) rules. */
const UNMARKED_PRIO = 150;
/** The network unmarked replies are routed to. */
const UNMARKED_NET = 2;
const CLOSED_PORT = 9;

type V = 4 | 6;

/**
 * Load rules with iptables-legacy-restore / ip6tables-legacy-restore (one process per family: a
 * process start is slow in UML); a failure throws with its message.
 */
function xtRestore(v: V, rules: string): void {
  const cmd = v === 4 ? 'iptables-legacy-restore' : 'ip6tables-legacy-restore';
  const r = spawnSync(cmd, ['-w', '--noflush'], {
    input: rules,
    encoding: 'utf8',
    env: { ...process.env, PATH: `/usr/sbin:/sbin:${process.env['PATH'] ?? '/usr/bin:/bin'}` },
  });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr.trim()}\n${rules}`);
}

before(() => {
  // Deterministic SYN-ACKs (see tcp.test.ts); no ICMP rate limit between the cases.
  nets.sysctl('net.ipv4.tcp_timestamps', 0);
  nets.sysctl('net.ipv4.tcp_rmem', '4096\t131072\t6291456');
  nets.sysctl('net.ipv4.icmp_ratelimit', 0);
  nets.sysctl('net.ipv6.icmp.ratelimit', 0);
  for (const family of ['inet', 'inet6'] as const) nets.addRule({ family, priority: UNMARKED_PRIO, table: nets.net(UNMARKED_NET).table });
  // The rules live in the fixture's fresh namespace and go away with it at teardown.
  const marks = nets.all.map((n) => `-A PREROUTING -i ${n.ifname} -j MARK --set-mark ${n.mark}\n`).join('');
  for (const v of [4, 6] as const) xtRestore(v, `*mangle\n${marks}COMMIT\n`);
});

const remote = (v: V): string => (v === 4 ? REMOTE4 : REMOTE6);
const addr = (n: Network, v: V): string => (v === 4 ? n.addr4 : n.addr6);
const toKernel = (n: Network, v: V): Layer => (v === 4 ? ipv4({ src: REMOTE4, dst: n.addr4 }) : ipv6({ src: REMOTE6, dst: n.addr6 }));

/** Ethernet from the guest to out's router: the reply was routed through network `out`. */
const onWire = (out: Network): Layer => ether({ src: out.mac, dst: out.router.mac });

type Kind = 'echo reply' | 'TCP reset' | 'port unreachable';

/** The packet from the wire that provokes the reply, and the exact reply leaving through `out`. */
function exchange(v: V, kind: Kind, from: Network, out: Network, tag: number): { request: Layer[]; reply: Layer[]; ignore: string[] } {
  const src = addr(from, v);
  const dst = remote(v);
  switch (kind) {
    case 'echo reply': {
      const request = [toKernel(from, v), v === 4 ? echoRequest4({ id: 0x4200 + tag, seq: tag }) : echoRequest6({ id: 0x4200 + tag, seq: tag }), raw('reflect')];
      // icmp_reply: the request's TOS, no DF (the ICMP socket never sets it), so a hashed IP id
      // (__ip_select_ident).
      const ip = v === 4 ? ipv4({ src, dst, ttl: 64 }) : ipv6({ src, dst, hlim: 64 });
      const echo = v === 4 ? echoReply4({ id: 0x4200 + tag, seq: tag }) : echoReply6({ id: 0x4200 + tag, seq: tag });
      return { request, reply: [onWire(out), ip, echo, raw('reflect')], ignore: v === 4 ? ['ipv4.id'] : [] };
    }
    case 'TCP reset': {
      const sport = 43000 + tag;
      const request = [toKernel(from, v), tcp({ sport, dport: CLOSED_PORT, seq: 5000, flags: 'S', window: 65535 })];
      // ip_send_unicast_reply sets DF and the control socket has no peer: IP id 0 (ip_select_ident_segs).
      const ip = v === 4 ? ipv4({ src, dst, df: true, ttl: 64, id: 0 }) : ipv6({ src, dst, hlim: 64 });
      return { request, reply: [onWire(out), ip, tcp({ sport: CLOSED_PORT, dport: sport, seq: 0, ack: 5001, flags: 'RA', window: 0 })], ignore: [] };
    }
    case 'port unreachable': {
      const request = [toKernel(from, v), udp({ sport: 44000 + tag, dport: CLOSED_PORT }), raw('closed')];
      // icmp_send: precedence "internetwork control" (0xc0) over the quoted TOS, no DF, hashed id.
      const ip = v === 4 ? ipv4({ src, dst, tos: 0xc0, ttl: 64 }) : ipv6({ src, dst, hlim: 64 });
      const err = v === 4 ? icmp({ icmpType: ICMP_DEST_UNREACH, code: ICMP_PORT_UNREACH }) : icmpv6({ icmpType: ICMPV6_DEST_UNREACH, code: ICMPV6_PORT_UNREACH });
      return { request, reply: [onWire(out), ip, err, ...request], ignore: v === 4 ? ['ipv4.id'] : [] };
    }
  }
}

describe('fwmark_reflect: replies sent for no socket', () => {
  const kinds: Kind[] = ['echo reply', 'TCP reset', 'port unreachable'];
  let tag = 0;
  for (const v of [4, 6] as const) {
    kinds.forEach((kind) => {
      for (const reflect of [0, 1] as const) {
        const t = ++tag;
        const outcome = reflect ? 'carries the ingress mark 1 and leaves on net1' : 'is unmarked and follows the catch-all rule to net2';
        nets.it(`IPv${v} ${kind} with fwmark_reflect=${reflect} ${outcome}`, () => {
          nets.sysctl(`net.ipv${v}.fwmark_reflect`, reflect);
          const from = nets.net(1);
          const out = reflect ? from : nets.net(UNMARKED_NET);
          const other = reflect ? nets.net(UNMARKED_NET) : from;
          const x = exchange(v, kind, from, out, t);
          inject(from, x.request);
          expectPacket(out, x.reply, { ignore: x.ignore });
          expectNone(other, { timeoutMs: 150 });
        });
      }
    });
  }

  nets.it('IPv6 echo replies are looked up with the input interface as oif: without the catch-all rule the unmarked reply takes the oif rule back to net1', () => {
    // icmpv6_echo_reply sets flowi6_oif = icmp6_iif(skb); IPv4's icmp_reply leaves oif 0.
    nets.sysctl('net.ipv6.fwmark_reflect', 0);
    const spec = { family: 'inet6' as const, priority: UNMARKED_PRIO, table: nets.net(UNMARKED_NET).table };
    nets.rt.deleteRule(spec);
    try {
      const from = nets.net(1);
      const x = exchange(6, 'echo reply', from, from, 99);
      inject(from, x.request);
      expectPacket(from, x.reply);
      expectNone(nets.net(UNMARKED_NET), { timeoutMs: 150 });
    } finally {
      nets.rt.addRule(spec);
    }
  });
});

const SYN_OPTS = [{ kind: 'mss' as const, value: 1400 }];

/**
 * A SYN from network 1 to a listener (marked or not); the SYN-ACK is expected on `out`, the
 * handshake completed from network 1, and the accepted socket's SO_MARK and first data segment
 * checked. The connection is reset from the wire at the end.
 */
function acceptVia(v: V, port: number, listenerMark: number, out: Network, wantMark: number): void {
  const from = nets.net(1);
  const l = tcpSocket(v);
  if (listenerMark) l.setMark(listenerMark);
  l.bind(v === 4 ? `${from.addr4}:${port}` : `[${from.addr6}]:${port}`);
  l.listen();
  const peer = 45000 + port;
  const src = addr(from, v);
  const dst = remote(v);
  try {
    inject(from, [toKernel(from, v), tcp({ sport: peer, dport: port, seq: 1000, flags: 'S', window: 65535, options: SYN_OPTS })]);
    // SYN-ACK window and MSS as in routing.test.ts (65535 rounded down to the MSS, timestamps off).
    const synack = expectPacket(
      out,
      [
        onWire(out),
        v === 4 ? ipv4({ src, dst, df: true, ttl: 64, id: 0 }) : ipv6({ src, dst, hlim: 64 }),
        tcp({ sport: port, dport: peer, ack: 1001, flags: 'SA', window: v === 4 ? 64240 : 64800, options: [{ kind: 'mss', value: v === 4 ? 1460 : 1440 }] }),
      ],
      { ignore: ['tcp.seq'] }, // the initial sequence number is random by design
    );
    for (const o of nets.all) if (o !== out) expectNone(o, { timeoutMs: 50 });
    const iss = layer(synack, 'tcp')!.seq + 1;
    inject(from, [toKernel(from, v), tcp({ sport: peer, dport: port, seq: 1001, ack: iss, flags: 'A', window: 65535 })]);
    const { socket } = l.accept({ timeoutMs: 1000 });
    try {
      assert.equal(socket.getIntOption(K.SOL_SOCKET, K.SO_MARK), wantMark);
      socket.send(Buffer.from('data'));
      expectPacket(
        out,
        [
          onWire(out),
          v === 4 ? ipv4({ src, dst, df: true, ttl: 64 }) : ipv6({ src, dst, hlim: 64 }),
          tcp({ sport: port, dport: peer, seq: iss, ack: 1001, flags: 'PA', window: v === 4 ? 64240 : 64800 }),
          raw('data'),
        ],
        { ignore: v === 4 ? ['ipv4.id'] : [] }, // a connected socket's id counter starts at random
      );
      inject(from, [toKernel(from, v), tcp({ sport: peer, dport: port, seq: 1001, flags: 'R', window: 0 })]);
    } finally {
      socket.close();
    }
  } finally {
    l.close();
  }
}

describe('tcp_fwmark_accept', () => {
  nets.it('off: an unmarked listener answers a SYN from net1 unmarked (SYN-ACK and data via net2), SO_MARK 0', () => {
    nets.sysctl('net.ipv4.tcp_fwmark_accept', 0);
    acceptVia(4, 8001, 0, nets.net(UNMARKED_NET), 0);
  });

  nets.it('on: the request and the accepted socket take the SYN mark (SYN-ACK and data via net1), SO_MARK 1', () => {
    nets.sysctl('net.ipv4.tcp_fwmark_accept', 1);
    acceptVia(4, 8002, 0, nets.net(1), 1);
  });

  nets.it('on: a listener with its own mark (3) keeps it: SYN-ACK and data via net3, SO_MARK 3', () => {
    nets.sysctl('net.ipv4.tcp_fwmark_accept', 1);
    acceptVia(4, 8003, nets.net(3).mark, nets.net(3), 3);
  });

  nets.it('IPv6 off: SYN-ACK and data via net2, SO_MARK 0', () => {
    nets.sysctl('net.ipv4.tcp_fwmark_accept', 0);
    acceptVia(6, 8004, 0, nets.net(UNMARKED_NET), 0);
  });

  nets.it('IPv6 on (the net.ipv4 sysctl governs both families): SYN-ACK and data via net1, SO_MARK 1', () => {
    nets.sysctl('net.ipv4.tcp_fwmark_accept', 1);
    acceptVia(6, 8005, 0, nets.net(1), 1);
  });

  nets.it('fwmark_reflect does not apply to a listener\'s SYN-ACK: with reflect on and accept off it stays unmarked (via net2)', () => {
    nets.sysctl('net.ipv4.tcp_fwmark_accept', 0);
    nets.sysctl('net.ipv4.fwmark_reflect', 1);
    acceptVia(4, 8006, 0, nets.net(UNMARKED_NET), 0);
  });
});
