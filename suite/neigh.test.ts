// Neighbour discovery (IPv6, RFC 4861) and ARP state machines, driven from the wire with
// shortened timers: solicitations sent, their count, answers that complete resolution, the
// STALE -> DELAY -> PROBE -> REACHABLE/FAILED path, and netlink notifications of each change.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject, readAll } from '../src/lib/expect.js';
import { openRoute, RTNLGRP } from '../src/lib/netlink/route.js';
import { multicastMac, solicitedNode } from '../src/lib/addr.js';
import { udpSocket } from '../src/lib/socket.js';
import { arp, ARPOP_REPLY, ARPOP_REQUEST, ether, ipv4, ipv6, ndOpt, neighborAdvert, neighborSolicit, raw, udp, type Layer } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });
const RETRANS_MS = 100;

before(() => {
  const dev = nets.net(1).ifname;
  for (const fam of ['ipv4', 'ipv6']) {
    nets.sysctl(`net/${fam}/neigh/${dev}/retrans_time_ms`, RETRANS_MS);
    nets.sysctl(`net/${fam}/neigh/${dev}/mcast_solicit`, 3);
    nets.sysctl(`net/${fam}/neigh/${dev}/ucast_solicit`, 3);
    nets.sysctl(`net/${fam}/neigh/${dev}/delay_first_probe_time`, 1);
  }
});

let hostCounter = 0x40;
/** A fresh on-link neighbour per test, so no test sees another's cache entry. */
function neighbour(n: Network): { ip6: string; ip4: string; mac: string; snm: string; snmMac: string } {
  const h = ++hostCounter;
  const hex = h.toString(16).padStart(2, '0');
  const ip6 = `2001:db8:${n.id}::${hex}`;
  return {
    ip6,
    ip4: `198.51.100.${h - 0x40 + 10}`, // inside net1's 198.51.100.0/26
    mac: `02:00:00:aa:00:${hex}`,
    snm: solicitedNode(ip6),
    snmMac: multicastMac(solicitedNode(ip6)),
  };
}

function neighState(n: Network, dst: string): string {
  const e = nets.rt.neighbours({ dev: n.ifindex }).find((x) => x.dst === dst);
  return e ? e.state.join(',') : 'none';
}

function waitState(n: Network, dst: string, want: string, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  let s = neighState(n, dst);
  while (s !== want && Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    s = neighState(n, dst);
  }
  assert.equal(s, want, `neighbour ${dst} state`);
}

function sendUdp6(n: Network, dst: string, payload = 'nd'): number {
  const s = udpSocket(6);
  s.setMark(n.mark);
  s.sendTo(Buffer.from(payload), { address: dst, port: 7000 });
  const port = s.localAddress().port;
  s.close();
  return port;
}

function sendUdp4(n: Network, dst: string, payload = 'arp'): number {
  const s = udpSocket(4);
  s.setMark(n.mark);
  s.sendTo(Buffer.from(payload), { address: dst, port: 7000 });
  const port = s.localAddress().port;
  s.close();
  return port;
}

function multicastNs(n: Network, nb: ReturnType<typeof neighbour>): Layer[] {
  return [
    ether({ src: n.mac, dst: nb.snmMac }),
    ipv6({ src: n.addr6, dst: nb.snm, hlim: 255 }),
    neighborSolicit({ target: nb.ip6, options: [ndOpt.srcLladdr(n.mac)] }),
  ];
}

/** A reachability probe: no packet is queued, so ndisc_solicit() leaves the source to the link-local. */
function unicastNs(n: Network, nb: ReturnType<typeof neighbour>): Layer[] {
  return [
    ether({ src: n.mac, dst: nb.mac }),
    ipv6({ src: n.ll6, dst: nb.ip6, hlim: 255 }),
    neighborSolicit({ target: nb.ip6, options: [ndOpt.srcLladdr(n.mac)] }),
  ];
}

function solicitedNa(n: Network, nb: ReturnType<typeof neighbour>, flags = 'SO'): Layer[] {
  return [
    ether({ src: nb.mac, dst: n.mac }),
    ipv6({ src: nb.ip6, dst: n.addr6, hlim: 255 }),
    neighborAdvert({ flags, target: nb.ip6, options: [ndOpt.tgtLladdr(nb.mac)] }),
  ];
}

// Earlier tests' neighbours may still be probing: count only solicitations for this test's target.
const isNsFor = (target: string) => (p: Layer[]): boolean => p.some((l) => l.type === 'icmpv6' && l.icmpType === 135 && l.target === target);
const isArpFor = (target: string) => (p: Layer[]): boolean => p.some((l) => l.type === 'arp' && l.targetIp === target);

describe('IPv6 address resolution', () => {
  nets.it('a packet to an unknown neighbour sends the exact multicast NS and creates an INCOMPLETE entry', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    sendUdp6(n, nb.ip6);
    expectPacket(n, multicastNs(n, nb));
    assert.equal(neighState(n, nb.ip6), 'INCOMPLETE');
  });

  nets.it('unanswered, exactly mcast_solicit (3) NS are sent, then the entry is FAILED', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    sendUdp6(n, nb.ip6);
    const got = readAll(n, { timeoutMs: RETRANS_MS * 6, skipNoise: true }).filter((a) => isNsFor(nb.ip6)(a.packet));
    assert.equal(got.length, 3, `NS count: ${got.length}`);
    waitState(n, nb.ip6, 'FAILED', 500);
  });

  nets.it('a solicited NA completes resolution: REACHABLE, and the queued packet goes to its MAC', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    const sport = sendUdp6(n, nb.ip6, 'queued');
    expectPacket(n, multicastNs(n, nb));
    inject(n, solicitedNa(n, nb));
    expectPacket(n, [ether({ src: n.mac, dst: nb.mac }), ipv6({ src: n.addr6, dst: nb.ip6, hlim: 64 }), udp({ sport, dport: 7000 }), raw('queued')]);
    assert.equal(neighState(n, nb.ip6), 'REACHABLE');
  });

  nets.it('an NA without the solicited flag makes the entry STALE; the queued packet then moves it to DELAY', () => {
    // RFC 4861 7.2.5: unsolicited -> STALE. Sending the queued packet uses the entry (7.3.3): DELAY.
    const n = nets.net(1);
    const nb = neighbour(n);
    const sport = sendUdp6(n, nb.ip6, 'q');
    expectPacket(n, multicastNs(n, nb));
    inject(n, solicitedNa(n, nb, 'O'));
    expectPacket(n, [ether({ src: n.mac, dst: nb.mac }), ipv6({ src: n.addr6, dst: nb.ip6 }), udp({ sport, dport: 7000 }), raw('q')]);
    waitState(n, nb.ip6, 'DELAY', 300);
  });

  nets.it('an NA for a target we never asked about creates no entry', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    inject(n, solicitedNa(n, nb));
    expectNone(n, { timeoutMs: 100 });
    assert.equal(neighState(n, nb.ip6), 'none');
  });

  nets.it('an NS for our address is answered with a solicited NA carrying our MAC', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    inject(n, [
      ether({ src: nb.mac, dst: multicastMac(solicitedNode(n.addr6)) }),
      ipv6({ src: nb.ip6, dst: solicitedNode(n.addr6), hlim: 255 }),
      neighborSolicit({ target: n.addr6, options: [ndOpt.srcLladdr(nb.mac)] }),
    ]);
    expectPacket(n, [
      ether({ src: n.mac, dst: nb.mac }),
      ipv6({ src: n.addr6, dst: nb.ip6, hlim: 255 }),
      neighborAdvert({ flags: 'SO', target: n.addr6, options: [ndOpt.tgtLladdr(n.mac)] }),
    ]);
    // The solicitation's source link-layer option created a STALE entry for the sender, and
    // sending the advertisement through it moved it to DELAY.
    assert.equal(neighState(n, nb.ip6), 'DELAY');
  });

  nets.it('an NS with hop limit below 255 is ignored', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    inject(n, [
      ether({ src: nb.mac, dst: n.mac }),
      ipv6({ src: nb.ip6, dst: n.addr6, hlim: 254 }),
      neighborSolicit({ target: n.addr6, options: [ndOpt.srcLladdr(nb.mac)] }),
    ]);
    expectNone(n, { timeoutMs: 150 });
    assert.equal(neighState(n, nb.ip6), 'none');
  });
});

describe('IPv6 neighbour unreachability detection', () => {
  nets.it('STALE -> DELAY on use (packet sent at once to the cached MAC) -> PROBE with unicast NS', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    // A slow retransmit timer here, so our answer lands before a second probe could go out.
    nets.sysctl(`net/ipv6/neigh/${n.ifname}/retrans_time_ms`, 1000);
    nets.rt.addNeighbour({ dev: n.ifindex, dst: nb.ip6, lladdr: nb.mac, state: ['stale'] });
    const sport = sendUdp6(n, nb.ip6, 'stale');
    expectPacket(n, [ether({ src: n.mac, dst: nb.mac }), ipv6({ src: n.addr6, dst: nb.ip6 }), udp({ sport, dport: 7000 }), raw('stale')]);
    assert.equal(neighState(n, nb.ip6), 'DELAY');
    // delay_first_probe_time (1 s) later: the first unicast probe.
    expectPacket(n, unicastNs(n, nb), { timeoutMs: 2000 });
    assert.equal(neighState(n, nb.ip6), 'PROBE');
    inject(n, solicitedNa(n, nb, 'S'));
    waitState(n, nb.ip6, 'REACHABLE', 300);
    expectNone(n, { timeoutMs: 300, match: isNsFor(nb.ip6) });
    nets.sysctl(`net/ipv6/neigh/${n.ifname}/retrans_time_ms`, RETRANS_MS);
  });

  nets.it('PROBE unanswered: exactly ucast_solicit (3) unicast NS, then FAILED', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    nets.rt.addNeighbour({ dev: n.ifindex, dst: nb.ip6, lladdr: nb.mac, state: ['stale'] });
    sendUdp6(n, nb.ip6);
    const probes = readAll(n, { timeoutMs: 1000 + RETRANS_MS * 6, skipNoise: true }).filter((a) => isNsFor(nb.ip6)(a.packet));
    assert.equal(probes.length, 3, `probes: ${probes.length}`);
    for (const p of probes) assert.equal(p.packet[0]?.type === 'ether' ? p.packet[0].dst : '', nb.mac);
    waitState(n, nb.ip6, 'FAILED', 500);
  });

  nets.it('raising ucast_solicit while probing extends the probing', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    nets.rt.addNeighbour({ dev: n.ifindex, dst: nb.ip6, lladdr: nb.mac, state: ['stale'] });
    sendUdp6(n, nb.ip6);
    expectPacket(n, unicastNs(n, nb), { timeoutMs: 2000 });
    nets.sysctl(`net/ipv6/neigh/${n.ifname}/ucast_solicit`, 5);
    const more = readAll(n, { timeoutMs: RETRANS_MS * 8, skipNoise: true }).filter((a) => isNsFor(nb.ip6)(a.packet));
    nets.sysctl(`net/ipv6/neigh/${n.ifname}/ucast_solicit`, 3);
    assert.equal(more.length, 4, `probes after the first: ${more.length}`);
    waitState(n, nb.ip6, 'FAILED', 500);
  });

  nets.it('netlink: no notification for INCOMPLETE; the first one is REACHABLE with the MAC', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    const mon = openRoute();
    try {
      mon.subscribe(RTNLGRP.NEIGH);
      sendUdp6(n, nb.ip6);
      expectPacket(n, multicastNs(n, nb));
      inject(n, solicitedNa(n, nb));
      const e = mon.waitEvent((x) => x.kind === 'neighbour' && x.neighbour.dst === nb.ip6, 1000);
      assert.ok(e.kind === 'neighbour');
      assert.equal(e.op, 'new');
      assert.deepEqual(e.neighbour.state, ['REACHABLE']);
      assert.equal(e.neighbour.lladdr, nb.mac);
    } finally {
      mon.close();
    }
  });

  nets.it('netlink: an unanswered resolution is notified as FAILED', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    const mon = openRoute();
    try {
      mon.subscribe(RTNLGRP.NEIGH);
      sendUdp6(n, nb.ip6);
      const e = mon.waitEvent((x) => x.kind === 'neighbour' && x.neighbour.dst === nb.ip6, 1000);
      assert.ok(e.kind === 'neighbour');
      assert.deepEqual(e.neighbour.state, ['FAILED']);
    } finally {
      mon.close();
    }
  });

});

describe('IPv4 ARP', () => {
  nets.it('a packet to an unknown neighbour sends the exact broadcast ARP request', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    sendUdp4(n, nb.ip4);
    expectPacket(n, [
      ether({ src: n.mac, dst: 'ff:ff:ff:ff:ff:ff' }),
      arp({ op: ARPOP_REQUEST, senderMac: n.mac, senderIp: n.addr4, targetMac: '00:00:00:00:00:00', targetIp: nb.ip4 }),
    ]);
    assert.equal(neighState(n, nb.ip4), 'INCOMPLETE');
  });

  nets.it('unanswered, exactly mcast_solicit (3) ARP requests, then FAILED', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    sendUdp4(n, nb.ip4);
    const got = readAll(n, { timeoutMs: RETRANS_MS * 6 }).filter((a) => isArpFor(nb.ip4)(a.packet));
    assert.equal(got.length, 3, `ARP requests: ${got.length}`);
    waitState(n, nb.ip4, 'FAILED', 500);
  });

  nets.it('an ARP reply completes resolution and the queued packet goes to its MAC', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    const sport = sendUdp4(n, nb.ip4, 'queued4');
    expectPacket(n, [ether({ src: n.mac, dst: 'ff:ff:ff:ff:ff:ff' }), arp({ op: ARPOP_REQUEST, senderMac: n.mac, senderIp: n.addr4, targetIp: nb.ip4 })]);
    inject(n, [ether({ src: nb.mac, dst: n.mac }), arp({ op: ARPOP_REPLY, senderMac: nb.mac, senderIp: nb.ip4, targetMac: n.mac, targetIp: n.addr4 })]);
    expectPacket(n, [ether({ src: n.mac, dst: nb.mac }), ipv4({ src: n.addr4, dst: nb.ip4, df: true }), udp({ sport, dport: 7000 }), raw('queued4')], { ignore: ['ipv4.id'] });
    assert.equal(neighState(n, nb.ip4), 'REACHABLE');
  });

  nets.it('ARP NUD: STALE -> DELAY on use -> PROBE with a unicast request to the cached MAC -> REACHABLE on reply', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    nets.sysctl(`net/ipv4/neigh/${n.ifname}/retrans_time_ms`, 1000); // answer before a second probe
    nets.rt.addNeighbour({ dev: n.ifindex, dst: nb.ip4, lladdr: nb.mac, state: ['stale'] });
    const sport = sendUdp4(n, nb.ip4, 'stale4');
    expectPacket(n, [ether({ src: n.mac, dst: nb.mac }), ipv4({ src: n.addr4, dst: nb.ip4, df: true }), udp({ sport, dport: 7000 }), raw('stale4')], { ignore: ['ipv4.id'] });
    assert.equal(neighState(n, nb.ip4), 'DELAY');
    // No packet is queued for a probe, so the sender address comes from inet_select_addr().
    expectPacket(n, [ether({ src: n.mac, dst: nb.mac }), arp({ op: ARPOP_REQUEST, senderMac: n.mac, senderIp: n.addr4, targetMac: '00:00:00:00:00:00', targetIp: nb.ip4 })], { timeoutMs: 2000 });
    assert.equal(neighState(n, nb.ip4), 'PROBE');
    inject(n, [ether({ src: nb.mac, dst: n.mac }), arp({ op: ARPOP_REPLY, senderMac: nb.mac, senderIp: nb.ip4, targetMac: n.mac, targetIp: n.addr4 })]);
    waitState(n, nb.ip4, 'REACHABLE', 300);
    nets.sysctl(`net/ipv4/neigh/${n.ifname}/retrans_time_ms`, RETRANS_MS);
  });

  nets.it('raising mcast_solicit while resolving sends more ARP requests', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    sendUdp4(n, nb.ip4);
    expectPacket(n, [ether({ src: n.mac, dst: 'ff:ff:ff:ff:ff:ff' }), arp({ op: ARPOP_REQUEST, senderMac: n.mac, senderIp: n.addr4, targetIp: nb.ip4 })]);
    nets.sysctl(`net/ipv4/neigh/${n.ifname}/mcast_solicit`, 5);
    const more = readAll(n, { timeoutMs: RETRANS_MS * 8 }).filter((a) => isArpFor(nb.ip4)(a.packet));
    nets.sysctl(`net/ipv4/neigh/${n.ifname}/mcast_solicit`, 3);
    assert.equal(more.length, 4, `requests after the first: ${more.length}`);
    waitState(n, nb.ip4, 'FAILED', 500);
  });

  nets.it('an ARP request for our address is answered with our MAC', () => {
    const n = nets.net(1);
    const nb = neighbour(n);
    inject(n, [ether({ src: nb.mac, dst: 'ff:ff:ff:ff:ff:ff' }), arp({ op: ARPOP_REQUEST, senderMac: nb.mac, senderIp: nb.ip4, targetIp: n.addr4 })]);
    expectPacket(n, [ether({ src: n.mac, dst: nb.mac }), arp({ op: ARPOP_REPLY, senderMac: n.mac, senderIp: n.addr4, targetMac: nb.mac, targetIp: nb.ip4 })]);
  });
});
