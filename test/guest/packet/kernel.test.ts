/**
 * Packets built by the library are accepted by the kernel, and what it answers parses and
 * matches. Runs in the UML guest or in a fresh network namespace on the host (it creates
 * tun/tap devices and addresses from the documentation ranges only).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withRoute } from '../../../src/lib/netlink/route.js';
import { sysctl } from '../../../src/lib/sysctl.js';
import {
  answerNeighbor, assertMatch, build, echoRequest4, echoRequest6, ether, hopByHop, icmpv6, ipv4, ipv6, layer, ndOpt, neighborAdvert, neighborSolicit, parse,
  raw, readPcap, recordPcap, reply, summary, tcp, type Layer,
} from '../../../src/lib/packet/index.js';
import { tcpSocket, udpSocket } from '../../../src/lib/socket.js';
import { openTap, openTun, type TunDevice } from '../../../src/lib/tun.js';

const US6 = '2001:db8::1', PEER6 = '2001:db8::2';
const US4 = '192.0.2.1', PEER4 = '192.0.2.2';
const TIMEOUT = { timeoutMs: 3000 };

/** Reads frames until one parses to something `want` accepts. */
function expectPacket(dev: TunDevice, link: 'ether' | 'ip', want: (p: Layer[]) => boolean): Layer[] {
  const seen: string[] = [];
  const f = dev.readMatching((frame) => {
    const p = parse(frame, link);
    seen.push(summary(p));
    return want(p);
  }, TIMEOUT);
  assert.ok(f, `no matching packet; saw:\n${seen.join('\n')}`);
  return parse(f, link);
}

describe('kernel accepts library packets on a tun device', () => {
  let tun: TunDevice;
  const dir = mkdtempSync(join(tmpdir(), 'net-test-packet-'));
  const pcapPath = join(dir, 'tun.pcap');
  before(() => {
    tun = recordPcap(openTun({ name: 'pkttun%d', up: false }), pcapPath);
    sysctl.set(`net.ipv6.conf.${tun.name}.accept_dad`, 0);
    tun.setUp(true);
    withRoute((rt) => rt.addAddress({ dev: tun.name, address: `${US6}/64` }, { usable: true }));
    withRoute((rt) => rt.addAddress({ dev: tun.name, address: `${US4}/24` }, { usable: true }));
  });
  after(() => {
    tun.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ICMPv6 echo request gets an echo reply', () => {
    const req = [ipv6({ src: PEER6, dst: US6 }), echoRequest6({ id: 0x4242, seq: 7 }), raw('library ping')];
    tun.write(build(req));
    const got = expectPacket(tun, 'ip', (p) => layer(p, 'icmpv6')?.icmpType === 129);
    assertMatch(got, reply(req), { ignore: ['ipv6.fl', 'ipv6.hlim'] });
  });

  it('ICMP echo request gets an echo reply', () => {
    const req = [ipv4({ src: PEER4, dst: US4, id: 99 }), echoRequest4({ id: 0x77, seq: 1 }), raw('v4 ping')];
    tun.write(build(req));
    const got = expectPacket(tun, 'ip', (p) => layer(p, 'icmp')?.icmpType === 0);
    assertMatch(got, reply(req), { ignore: ['ipv4.id', 'ipv4.ttl', 'ipv4.df'] });
  });

  it('a wrong ICMPv6 checksum is dropped', () => {
    tun.write(build([ipv6({ src: PEER6, dst: US6 }), echoRequest6({ id: 1, seq: 1, checksum: 0xbad }), raw('x')]));
    const got = tun.readMatching((f) => layer(parse(f, 'ip'), 'icmpv6')?.icmpType === 129, { timeoutMs: 500 });
    assert.equal(got, null);
  });

  it('TCP SYN to a listening socket gets a SYN-ACK that matches; the ACK completes the handshake', () => {
    const srv = tcpSocket(6);
    try {
      srv.bind(`[${US6}]:8080`);
      srv.listen();
      const syn = [ipv6({ src: PEER6, dst: US6 }), tcp({
        sport: 40000, dport: 8080, seq: 1000, flags: 'S', window: 64240,
        options: [{ kind: 'mss', value: 1400 }, { kind: 'sackOk' }, { kind: 'timestamp', tsval: 1, tsecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }],
      })];
      tun.write(build(syn));
      const synack = expectPacket(tun, 'ip', (p) => layer(p, 'tcp')?.flags === 'SA');
      // The kernel picks its ISN, window and option order; everything else is exact.
      assertMatch(synack, reply(syn), { ignore: ['ipv6.fl', 'tcp.seq', 'tcp.window', 'tcp.options'] });
      const opts = layer(synack, 'tcp')!.options;
      assert.ok(opts.some((o) => o.kind === 'mss'), summary(synack));
      assert.ok(opts.some((o) => o.kind === 'timestamp'), summary(synack));
      const ack = reply(synack, { flags: 'A' });
      tun.write(build(ack));
      const { socket, peer } = srv.accept(TIMEOUT);
      socket.close();
      assert.equal(peer?.address, PEER6);
      assert.equal(peer?.port, 40000);
    } finally {
      srv.close();
    }
  });

  it('the recorded pcap holds both directions', () => {
    tun.close();
    const f = readPcap(readFileSync(pcapPath))!;
    const icmp6 = f.records.map((r) => layer(parse(r.data, 'ip'), 'icmpv6')?.icmpType).filter((t) => t === 128 || t === 129);
    assert.deepEqual(icmp6.slice(0, 2), [128, 129]);
    assert.ok(f.records.some((r) => layer(parse(r.data, 'ip'), 'tcp')?.flags === 'SA'));
  });
});

describe('neighbour discovery on a tap device', () => {
  let tap: TunDevice;
  const PEER_MAC = '02:00:00:00:00:02';
  before(() => {
    tap = openTap({ name: 'pkttap%d', up: false, mac: '02:00:00:00:00:01' });
    sysctl.set(`net.ipv6.conf.${tap.name}.accept_dad`, 0);
    tap.setUp(true);
    withRoute((rt) => rt.addAddress({ dev: tap.name, address: '2001:db8:1::1/64' }, { usable: true }));
    withRoute((rt) => rt.addAddress({ dev: tap.name, address: '198.51.100.1/24' }, { usable: true }));
  });
  after(() => tap.close());

  it('a neighbour solicitation gets a solicited neighbour advertisement with the target link-layer option', () => {
    const ns = [
      ether({ src: PEER_MAC, dst: '33:33:ff:00:00:01' }),
      ipv6({ src: '2001:db8:1::2', dst: 'ff02::1:ff00:1', hlim: 255 }),
      neighborSolicit({ target: '2001:db8:1::1', options: [ndOpt.srcLladdr(PEER_MAC)] }),
    ];
    tap.write(build(ns));
    const na = expectPacket(tap, 'ether', (p) => layer(p, 'icmpv6')?.icmpType === 136);
    assertMatch(na, [
      ether({ src: '02:00:00:00:00:01', dst: PEER_MAC }),
      ipv6({ src: '2001:db8:1::1', dst: '2001:db8:1::2', hlim: 255 }),
      neighborAdvert({ flags: 'SO', target: '2001:db8:1::1', options: [ndOpt.tgtLladdr('02:00:00:00:00:01')] }),
    ], { ignore: ['ipv6.fl'] });
  });

  it('an MLDv2 general query gets an MLDv2 report of current state (MODE_IS_EXCLUDE) for the solicited-node group', () => {
    const query = [
      ether({ src: PEER_MAC, dst: '33:33:00:00:00:01' }),
      ipv6({ src: 'fe80::2', dst: 'ff02::1', hlim: 1 }),
      hopByHop({ options: [{ kind: 'routerAlert', value: 0 }] }),
      icmpv6({ icmpType: 130, maxDelay: 1, mcastAddr: '::', sources: [] }),
    ];
    tap.write(build(query));
    // Unsolicited reports (after link up) use CHANGE_TO_EXCLUDE (4); only a query answer says MODE_IS_EXCLUDE (2).
    const report = expectPacket(tap, 'ether', (p) => layer(p, 'icmpv6')?.icmpType === 143 && (layer(p, 'icmpv6')?.records ?? []).some((r) => r.recordType === 2));
    const groups = layer(report, 'icmpv6')!.records!.map((r) => r.mcastAddr);
    assert.ok(groups.includes('ff02::1:ff00:1'), groups.join(' '));
    assert.equal(layer(report, 'ipv6')!.hlim, 1);
    assert.equal(layer(report, 'ipv6')!.dst, 'ff02::16');
  });

  // Peers the kernel has not heard of yet (the solicitation above taught it 2001:db8:1::2).
  for (const [v, peer] of [[6, '2001:db8:1::3'], [4, '198.51.100.3']] as const) {
    it(`answering the kernel's ${v === 6 ? 'neighbour solicitation' : 'ARP request'} lets its UDP datagram out to our MAC`, () => {
      const s = udpSocket(v);
      try {
        s.sendTo(Buffer.from('to the peer'), v === 6 ? `[${peer}]:9999` : `${peer}:9999`);
        const ask = expectPacket(tap, 'ether', (p) => answerNeighbor(p, PEER_MAC) !== undefined);
        tap.write(build(answerNeighbor(ask, PEER_MAC)!));
        const dgram = expectPacket(tap, 'ether', (p) => layer(p, 'udp')?.dport === 9999);
        assert.equal(layer(dgram, 'ether')!.dst, PEER_MAC);
        assert.equal(Buffer.from((layer(dgram, 'raw')?.data ?? new Uint8Array())).toString(), 'to the peer');
      } finally {
        s.close();
      }
    });
  }
});
