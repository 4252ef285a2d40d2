// ARP in every mode of its sysctls, from the wire (net/ipv4/arp.c, devinet.c; ip-sysctl.rst):
// which requests get an answer (arp_ignore, arp_filter, proxy_arp), which source address the
// kernel's own requests carry (arp_announce), which unsolicited ARP creates or updates a
// neighbour entry (arp_accept, drop_gratuitous_arp) and when gratuitous ARP goes out
// (arp_notify). Each sysctl also in its "all" vs per-device combination, as
// include/linux/inetdevice.h reads it: IN_DEV_MAXCONF (arp_ignore, arp_announce, arp_accept,
// arp_notify: the larger value wins) or IN_DEV_ORCONF (arp_filter, drop_gratuitous_arp,
// proxy_arp: either one on). Replies are compared byte for byte; neighbour entries are read
// back through rtnetlink. neigh.test.ts covers resolution and NUD; this file does not repeat it.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { mib } from '../src/lib/mib.js';
import { withSysctl } from '../src/lib/sysctl.js';
import { udpSocket } from '../src/lib/socket.js';
import { arp, echoReply4, echoRequest4, ether, ipv4, raw, ARPOP_REPLY, ARPOP_REQUEST, type Layer } from '../src/lib/packet/index.js';

// net1 is where requests arrive; net2 holds "another interface's" address and is where
// arp_filter's and proxy_arp's routes lead; net3's link goes down and up (arp_notify), last.
const nets = useNetworks({ count: 3 });

const BCAST = 'ff:ff:ff:ff:ff:ff';
const ZERO_MAC = '00:00:00:00:00:00';
/** On net1 with scope host (arp_ignore 3 does not answer for it). */
const SCOPE_HOST4 = '192.0.2.250';
/** A secondary address in net1's subnet, and a primary in another subnet on net1 (arp_announce). */
const SECONDARY4 = '198.51.100.3';
const OTHER_SUBNET4 = '192.0.2.1';
/** Off-link destinations net2's table routes (proxy_arp). */
const PROXIED4 = '203.0.113.0/24';
const FILTER_PRIO = 50;

before(() => {
  const [a] = [nets.net(1)];
  // Replies to senders outside net1's subnet need no reverse-path check in the way.
  nets.sysctl('net.ipv4.conf.all.rp_filter', 0);
  nets.sysctl(`net/ipv4/conf/${a.ifname}/rp_filter`, 0);
  // Gone with the tap at teardown.
  nets.rt.addAddress({ dev: a.ifname, address: `${SCOPE_HOST4}/32`, scope: 'host' });
  nets.rt.addAddress({ dev: a.ifname, address: `${SECONDARY4}/26` });
  nets.rt.addAddress({ dev: a.ifname, address: `${OTHER_SUBNET4}/26` });
});

/** A neighbour nobody has seen yet: a fresh IP and MAC per call, so no case sees another's entry. */
let inCount = 0;
let outCount = 0;
interface Host {
  ip: string;
  mac: string;
}
function onLink(): Host {
  if (10 + inCount > 62) {
    // The /26 has room for 53: start over once the earlier cases' entries are gone.
    const a = nets.net(1);
    for (const e of nets.rt.neighbours({ family: 'inet', dev: a.ifindex })) {
      if (e.dst && !e.state.includes('PERMANENT')) nets.rt.deleteNeighbour(a.ifindex, e.dst);
    }
    inCount = 0;
  }
  const h = 10 + inCount++;
  return { ip: `198.51.100.${h}`, mac: `02:00:00:a0:00:${h.toString(16).padStart(2, '0')}` };
}
/** Outside every subnet the guest has (192.0.2.0/26 is OTHER_SUBNET4's). */
function offLink(): Host {
  const h = 130 + outCount++;
  if (h > 190) throw new Error('out of off-link addresses');
  return { ip: `192.0.2.${h}`, mac: `02:00:00:b0:00:${h.toString(16).padStart(2, '0')}` };
}

const isArp = (p: Layer[]): boolean => p.some((l) => l.type === 'arp');

function neighState(n: Network, ip: string): string {
  const e = nets.rt.neighbours({ family: 'inet', dev: n.ifindex }).find((x) => x.dst === ip);
  return e ? `${e.state.join(',')} ${e.lladdr ?? ''}`.trim() : 'none';
}

/** A broadcast request from `from` asking for `tip`. */
function request(n: Network, from: Host, tip: string): void {
  inject(n, [ether({ src: from.mac, dst: BCAST }), arp({ op: ARPOP_REQUEST, senderMac: from.mac, senderIp: from.ip, targetMac: ZERO_MAC, targetIp: tip })]);
}

/** The exact reply: from our MAC on n, for tip, straight back to the asker's MAC. */
function expectReply(n: Network, to: Host, tip: string): void {
  expectPacket(n, [ether({ src: n.mac, dst: to.mac }), arp({ op: ARPOP_REPLY, senderMac: n.mac, senderIp: tip, targetMac: to.mac, targetIp: to.ip })]);
}

function expectNoArp(n: Network, timeoutMs = 150): void {
  expectNone(n, { timeoutMs, match: isArp });
}

/** A gratuitous ARP (sender IP = target IP) as a broadcast request, or as a reply with tha = sha. */
function garp(n: Network, from: Host, op = ARPOP_REQUEST): void {
  const targetMac = op === ARPOP_REPLY ? from.mac : ZERO_MAC;
  inject(n, [ether({ src: from.mac, dst: BCAST }), arp({ op, senderMac: from.mac, senderIp: from.ip, targetMac, targetIp: from.ip })]);
}

const conf = (dev: string, name: string): string => `net/ipv4/conf/${dev}/${name}`;

describe('arp_ignore: which requests for a local address are answered', () => {
  // What is asked for, by whom; then the verdict for arp_ignore 0, 1, 2, 3, 8. 1 and 2 need the
  // address on the receiving interface (inet_confirm_addr with that in_device), 2 also the sender
  // in the subnet of that very address; 3 looks on every interface for the address with at
  // most link scope; 8 never answers.
  type Tip = 'own' | 'other-if' | 'scope-host';
  const rows: { tip: Tip; sender: 'on-link' | 'off-link'; answer: Record<0 | 1 | 2 | 3 | 8, boolean> }[] = [
    { tip: 'own', sender: 'on-link', answer: { 0: true, 1: true, 2: true, 3: true, 8: false } },
    { tip: 'own', sender: 'off-link', answer: { 0: true, 1: true, 2: false, 3: true, 8: false } },
    { tip: 'other-if', sender: 'on-link', answer: { 0: true, 1: false, 2: false, 3: true, 8: false } },
    { tip: 'scope-host', sender: 'on-link', answer: { 0: true, 1: true, 2: false, 3: false, 8: false } },
  ];
  const tipName: Record<Tip, string> = { own: "the receiving interface's address", 'other-if': "another interface's address", 'scope-host': 'a scope host /32 on the receiving interface' };
  for (const r of rows) {
    for (const mode of [0, 1, 2, 3, 8] as const) {
      const verdict = r.answer[mode] ? 'answered' : 'ignored';
      const who = r.sender === 'on-link' ? "a sender in net1's subnet" : 'a sender outside every subnet';
      nets.it(`arp_ignore=${mode}: a request for ${tipName[r.tip]} from ${who} is ${verdict}`, () => {
        const a = nets.net(1);
        const tip = r.tip === 'own' ? a.addr4 : r.tip === 'other-if' ? nets.net(2).addr4 : SCOPE_HOST4;
        const from = r.sender === 'on-link' ? onLink() : offLink();
        withSysctl({ [conf(a.ifname, 'arp_ignore')]: mode }, () => {
          request(a, from, tip);
          if (r.answer[mode]) {
            expectReply(a, from, tip);
            // neigh_event_ns: the asker is cached, STALE (a request proves nothing about reachability).
            assert.equal(neighState(a, from.ip), `STALE ${from.mac}`);
          } else {
            expectNoArp(a);
            assert.equal(neighState(a, from.ip), 'none');
          }
        });
      });
    }
  }

  // IN_DEV_MAXCONF: the larger of conf/all and conf/<dev>.
  const combos: { all: number; dev: number; tip: 'own-off-link' | 'other-if'; answer: boolean }[] = [
    { all: 1, dev: 0, tip: 'other-if', answer: false },
    { all: 0, dev: 1, tip: 'other-if', answer: false },
    { all: 2, dev: 1, tip: 'own-off-link', answer: false },
    { all: 1, dev: 2, tip: 'own-off-link', answer: false },
    { all: 1, dev: 3, tip: 'other-if', answer: true },
    { all: 8, dev: 0, tip: 'other-if', answer: false },
  ];
  for (const c of combos) {
    const what = c.tip === 'own-off-link' ? 'our address from a sender outside every subnet' : "another interface's address";
    nets.it(`arp_ignore all=${c.all}, dev=${c.dev}: max = ${Math.max(c.all, c.dev)} decides: a request for ${what} is ${c.answer ? 'answered' : 'ignored'}`, () => {
      const a = nets.net(1);
      const from = c.tip === 'own-off-link' ? offLink() : onLink();
      const tip = c.tip === 'own-off-link' ? a.addr4 : nets.net(2).addr4;
      withSysctl({ [conf('all', 'arp_ignore')]: c.all, [conf(a.ifname, 'arp_ignore')]: c.dev }, () => {
        request(a, from, tip);
        if (c.answer) expectReply(a, from, tip);
        else expectNoArp(a);
      });
    });
  }
});

describe('address conflict probes (RFC 5227: sender IP 0.0.0.0)', () => {
  // arp_process's sip == 0 branch: answered for a local address arp_ignore allows, straight to
  // the prober's MAC with target IP 0.0.0.0; no neighbour entry (there is no address to cache).
  for (const [mode, tip, answer] of [
    [0, 'own', true],
    [1, 'other-if', false],
    [8, 'own', false],
  ] as const) {
    const what = tip === 'own' ? "the receiving interface's address" : "another interface's address";
    nets.it(`arp_ignore=${mode}: a probe for ${what} is ${answer ? 'answered with target IP 0.0.0.0' : 'ignored'}`, () => {
      const a = nets.net(1);
      const prober = onLink();
      const target = tip === 'own' ? a.addr4 : nets.net(2).addr4;
      withSysctl({ [conf(a.ifname, 'arp_ignore')]: mode }, () => {
        inject(a, [ether({ src: prober.mac, dst: BCAST }), arp({ op: ARPOP_REQUEST, senderMac: prober.mac, senderIp: '0.0.0.0', targetMac: ZERO_MAC, targetIp: target })]);
        if (answer) expectReply(a, { ip: '0.0.0.0', mac: prober.mac }, target);
        else expectNoArp(a);
        assert.equal(neighState(a, '0.0.0.0'), 'none');
      });
    });
  }
});

describe("arp_announce: the sender address in the kernel's own requests", () => {
  /** Send a datagram from `src` to a fresh on-link host through net1; return the request's sender IP. */
  function requestSender(src: string): string {
    const a = nets.net(1);
    const to = onLink();
    const s = udpSocket(4);
    try {
      s.bind(`${src}:0`);
      s.setMark(a.mark);
      s.sendTo(Buffer.from('announce'), { address: to.ip, port: 7000 });
    } finally {
      s.close();
    }
    try {
      const got = expectPacket(a, [ether({ src: a.mac, dst: BCAST }), arp({ op: ARPOP_REQUEST, senderMac: a.mac, targetMac: ZERO_MAC, targetIp: to.ip })], {
        ignore: ['arp.senderIp'],
      });
      const l = got.find((x) => x.type === 'arp');
      return l?.type === 'arp' ? l.senderIp : '';
    } finally {
      // No retransmissions into later cases: the INCOMPLETE entry goes, and its timer with it.
      nets.rt.deleteNeighbour(a.ifindex, to.ip);
    }
  }

  // The packet's source: a secondary in net1's subnet, a primary of another subnet on net1, net2's
  // address. 0: any local source; 1: only one in the target's subnet on this interface; 2: the
  // interface's primary address for the target (inet_select_addr).
  const primary = (): string => nets.net(1).addr4;
  const sources: { name: string; src: () => string; want: Record<0 | 1 | 2, 'source' | 'primary'> }[] = [
    { name: "a secondary in the target's subnet", src: () => SECONDARY4, want: { 0: 'source', 1: 'source', 2: 'primary' } },
    { name: 'another subnet on the same interface', src: () => OTHER_SUBNET4, want: { 0: 'source', 1: 'primary', 2: 'primary' } },
    { name: 'an address of another interface', src: () => nets.net(2).addr4, want: { 0: 'source', 1: 'primary', 2: 'primary' } },
  ];
  for (const s of sources) {
    for (const mode of [0, 1, 2] as const) {
      const w = s.want[mode];
      nets.it(`arp_announce=${mode}, source ${s.name}: the request's sender IP is ${w === 'source' ? 'the source' : "net1's primary"}`, () => {
        const src = s.src();
        const got = withSysctl({ [conf(nets.net(1).ifname, 'arp_announce')]: mode }, () => requestSender(src));
        assert.equal(got, w === 'source' ? src : primary());
      });
    }
  }

  for (const [all, dev] of [
    [2, 0],
    [1, 0],
    [0, 2],
  ] as const) {
    nets.it(`arp_announce all=${all}, dev=${dev}: max = ${Math.max(all, dev)} (secondary source gives ${Math.max(all, dev) === 2 ? 'the primary' : 'itself'}, other interface's gives the primary)`, () => {
      const a = nets.net(1);
      withSysctl({ [conf('all', 'arp_announce')]: all, [conf(a.ifname, 'arp_announce')]: dev }, () => {
        assert.equal(requestSender(SECONDARY4), Math.max(all, dev) === 2 ? a.addr4 : SECONDARY4);
        assert.equal(requestSender(nets.net(2).addr4), a.addr4);
      });
    });
  }
});

describe('arp_filter: answer only if the route back to the asker leaves through this interface', () => {
  /** A rule sending output lookups for the asker to network `via`'s table; removed afterwards. */
  function withRouteBack(to: Host, via: number, fn: () => void): void {
    const rule = { family: 'inet' as const, priority: FILTER_PRIO, dst: `${to.ip}/32`, table: nets.net(via).table };
    nets.rt.addRule(rule);
    try {
      fn();
    } finally {
      nets.rt.deleteRule(rule);
    }
  }
  const arpFilterMib = (): number => mib('netstat', 'TcpExt.ArpFilter');

  for (const [filter, via, answer] of [
    [0, 2, true],
    [1, 1, true],
    [1, 2, false],
  ] as const) {
    nets.it(`arp_filter=${filter}, route to the asker via net${via}: ${answer ? 'answered' : 'ignored, ArpFilter counts 1'}`, () => {
      const a = nets.net(1);
      const from = onLink();
      withRouteBack(from, via, () => {
        withSysctl({ [conf(a.ifname, 'arp_filter')]: filter }, () => {
          const before = arpFilterMib();
          request(a, from, a.addr4);
          if (answer) expectReply(a, from, a.addr4);
          else expectNoArp(a);
          assert.equal(arpFilterMib() - before, answer ? 0 : 1, 'LINUX_MIB_ARPFILTER');
          assert.equal(neighState(a, from.ip), answer ? `STALE ${from.mac}` : 'none');
        });
      });
    });
  }

  nets.it('arp_filter=1 and no route to the asker at all (the unreachable rule): ignored, not counted', () => {
    const a = nets.net(1);
    const from = onLink();
    withSysctl({ [conf(a.ifname, 'arp_filter')]: 1 }, () => {
      const before = arpFilterMib();
      request(a, from, a.addr4);
      expectNoArp(a);
      assert.equal(arpFilterMib() - before, 0);
    });
  });

  for (const [all, dev] of [
    [1, 0],
    [0, 1],
  ] as const) {
    nets.it(`arp_filter all=${all}, dev=${dev}: either one on filters (IN_DEV_ORCONF)`, () => {
      const a = nets.net(1);
      const from = onLink();
      withRouteBack(from, 2, () => {
        withSysctl({ [conf('all', 'arp_filter')]: all, [conf(a.ifname, 'arp_filter')]: dev }, () => {
          request(a, from, a.addr4);
          expectNoArp(a);
        });
      });
    });
  }
});

describe('arp_accept: unsolicited ARP and new neighbour entries', () => {
  const cases: { mode: 0 | 1 | 2; kind: 'garp request' | 'garp reply' | 'reply to us'; sender: 'on-link' | 'off-link'; state: string | null }[] = [
    { mode: 0, kind: 'garp request', sender: 'on-link', state: null },
    { mode: 0, kind: 'garp reply', sender: 'on-link', state: null },
    { mode: 0, kind: 'reply to us', sender: 'on-link', state: null },
    { mode: 1, kind: 'garp request', sender: 'on-link', state: 'STALE' },
    { mode: 1, kind: 'garp request', sender: 'off-link', state: 'STALE' },
    { mode: 1, kind: 'garp reply', sender: 'on-link', state: 'STALE' },
    // Unicast to our MAC: a reply to us asserts reachability.
    { mode: 1, kind: 'reply to us', sender: 'on-link', state: 'REACHABLE' },
    { mode: 2, kind: 'garp request', sender: 'on-link', state: 'STALE' },
    { mode: 2, kind: 'garp request', sender: 'off-link', state: null },
    { mode: 2, kind: 'reply to us', sender: 'off-link', state: null },
  ];
  for (const c of cases) {
    nets.it(`arp_accept=${c.mode}, ${c.kind} from an ${c.sender} sender: ${c.state ?? 'no entry'}`, () => {
      const a = nets.net(1);
      const from = c.sender === 'on-link' ? onLink() : offLink();
      withSysctl({ [conf(a.ifname, 'arp_accept')]: c.mode }, () => {
        if (c.kind === 'reply to us') {
          inject(a, [ether({ src: from.mac, dst: a.mac }), arp({ op: ARPOP_REPLY, senderMac: from.mac, senderIp: from.ip, targetMac: a.mac, targetIp: a.addr4 })]);
        } else {
          garp(a, from, c.kind === 'garp reply' ? ARPOP_REPLY : ARPOP_REQUEST);
        }
        expectNoArp(a, 50);
        assert.equal(neighState(a, from.ip), c.state === null ? 'none' : `${c.state} ${from.mac}`);
      });
    });
  }

  nets.it('a gratuitous ARP replaces the MAC of an existing entry even with arp_accept=0', () => {
    const a = nets.net(1);
    const from = onLink();
    nets.rt.addNeighbour({ dev: a.ifindex, dst: from.ip, lladdr: '02:00:00:c0:00:01', state: ['stale'] });
    garp(a, from);
    assert.equal(neighState(a, from.ip), `STALE ${from.mac}`);
  });

  for (const [all, dev] of [
    [2, 1],
    [1, 2],
    [1, 0],
  ] as const) {
    const m = Math.max(all, dev);
    nets.it(`arp_accept all=${all}, dev=${dev}: max = ${m} (an off-link sender's gratuitous ARP ${m === 1 ? 'creates an entry' : 'creates none'})`, () => {
      const a = nets.net(1);
      const from = offLink();
      withSysctl({ [conf('all', 'arp_accept')]: all, [conf(a.ifname, 'arp_accept')]: dev }, () => {
        garp(a, from);
        expectNoArp(a, 50);
        assert.equal(neighState(a, from.ip), m === 1 ? `STALE ${from.mac}` : 'none');
      });
    });
  }
});

describe('drop_gratuitous_arp', () => {
  for (const [all, dev] of [
    [0, 1],
    [1, 0],
  ] as const) {
    nets.it(`drop_gratuitous_arp all=${all}, dev=${dev}: a gratuitous ARP neither creates (arp_accept=1) nor updates an entry (IN_DEV_ORCONF)`, () => {
      const a = nets.net(1);
      const [fresh, known] = [onLink(), onLink()];
      const oldMac = '02:00:00:c0:00:02';
      nets.rt.addNeighbour({ dev: a.ifindex, dst: known.ip, lladdr: oldMac, state: ['stale'] });
      withSysctl({ [conf('all', 'drop_gratuitous_arp')]: all, [conf(a.ifname, 'drop_gratuitous_arp')]: dev, [conf(a.ifname, 'arp_accept')]: 1 }, () => {
        garp(a, fresh);
        garp(a, known, ARPOP_REPLY);
        expectNoArp(a, 50);
        assert.equal(neighState(a, fresh.ip), 'none');
        assert.equal(neighState(a, known.ip), `STALE ${oldMac}`);
      });
    });
  }

  nets.it('drop_gratuitous_arp=1 leaves ordinary requests alone: answered', () => {
    const a = nets.net(1);
    const from = onLink();
    withSysctl({ [conf(a.ifname, 'drop_gratuitous_arp')]: 1 }, () => {
      request(a, from, a.addr4);
      expectReply(a, from, a.addr4);
    });
  });
});

describe('drop_unicast_in_l2_multicast (RFC 1122 3.3.6)', () => {
  // An echo request to our unicast address in a link-layer broadcast frame, from the router.
  for (const [all, dev, dropped] of [
    [0, 0, false],
    [0, 1, true],
    [1, 0, true],
  ] as const) {
    nets.it(`drop_unicast_in_l2_multicast all=${all}, dev=${dev}: a unicast IP packet in a broadcast frame is ${dropped ? 'dropped (IN_DEV_ORCONF)' : 'answered'}`, () => {
      const a = nets.net(1);
      // The echo reply's output lookup carries no mark: route it by destination for this case.
      const rule = { family: 'inet' as const, priority: FILTER_PRIO + 2, dst: `${a.router.ip4}/32`, table: a.table };
      nets.rt.addRule(rule);
      try {
        withSysctl({ [conf('all', 'drop_unicast_in_l2_multicast')]: all, [conf(a.ifname, 'drop_unicast_in_l2_multicast')]: dev }, () => {
          inject(a, [ether({ src: a.router.mac, dst: BCAST }), ipv4({ src: a.router.ip4, dst: a.addr4 }), echoRequest4({ id: 0x4c2, seq: all * 2 + dev }), raw('l2mc')]);
          const reply = [ether({ src: a.mac, dst: a.router.mac }), ipv4({ src: a.addr4, dst: a.router.ip4, ttl: 64 }), echoReply4({ id: 0x4c2, seq: all * 2 + dev }), raw('l2mc')];
          if (dropped) expectNone(a, { timeoutMs: 150 });
          else expectPacket(a, reply, { ignore: ['ipv4.id'] });
        });
      } finally {
        nets.rt.deleteRule(rule);
      }
    });
  }
});

describe('proxy_arp', () => {
  const PROXIED_HOST = '203.0.113.5';
  before(() => {
    // Arrivals on net1 for the proxied prefix route through net2 (another interface).
    nets.addRule({ family: 'inet', priority: FILTER_PRIO + 1, iif: nets.net(1).ifname, dst: PROXIED4, table: nets.net(2).table });
  });
  for (const [proxy, forward, answer] of [
    [1, 1, true],
    [0, 1, false],
    [1, 0, false],
  ] as const) {
    nets.it(`proxy_arp=${proxy}, forwarding=${forward}: a request for an address routed via net2 is ${answer ? 'answered with our MAC' : 'ignored'}`, () => {
      const a = nets.net(1);
      const from = onLink();
      withSysctl(
        {
          'net.ipv4.ip_forward': forward,
          [conf(a.ifname, 'proxy_arp')]: proxy,
          // Answer at once, not after a random proxy delay (pneigh_enqueue).
          [`net/ipv4/neigh/${a.ifname}/proxy_delay`]: 0,
        },
        () => {
          request(a, from, PROXIED_HOST);
          if (answer) expectReply(a, from, PROXIED_HOST);
          else expectNoArp(a);
        },
      );
    });
  }
});

describe('arp_notify: gratuitous ARP on link up and MAC change', () => {
  /** net3's own gratuitous ARP: a broadcast request for its address from and to itself. */
  const notify = (n: Network, mac = n.mac): Layer[] => [
    ether({ src: mac, dst: BCAST }),
    arp({ op: ARPOP_REQUEST, senderMac: mac, senderIp: n.addr4, targetMac: ZERO_MAC, targetIp: n.addr4 }),
  ];
  function bounce(n: Network): void {
    n.tap.setUp(false);
    n.tap.setUp(true);
  }
  for (const [all, dev, sent] of [
    [0, 0, false],
    [0, 1, true],
    [1, 0, true],
  ] as const) {
    nets.it(`arp_notify all=${all}, dev=${dev}: link up ${sent ? 'sends one gratuitous ARP per address' : 'sends no ARP'} (IN_DEV_MAXCONF)`, () => {
      const c = nets.net(3);
      withSysctl({ [conf('all', 'arp_notify')]: all, [conf(c.ifname, 'arp_notify')]: dev }, () => {
        bounce(c);
        if (sent) expectPacket(c, notify(c));
        expectNoArp(c);
      });
    });
  }

  for (const on of [0, 1] as const) {
    nets.it(`arp_notify=${on}: a MAC change ${on ? 'sends a gratuitous ARP with the new MAC' : 'sends no ARP'}`, () => {
      const c = nets.net(3);
      const newMac = '02:00:00:00:03:99';
      withSysctl({ [conf(c.ifname, 'arp_notify')]: on }, () => {
        c.tap.setMac(newMac);
        try {
          if (on) expectPacket(c, notify(c, newMac));
          expectNoArp(c);
        } finally {
          c.tap.setMac(c.mac);
        }
      });
    });
  }
});
