// ESP in UDP (RFC 3948, NAT traversal): what an SA with XFRMA_ENCAP puts on the wire for each
// encapsulation type and family (esp_output_udp_encap(): ports, length, checksum 0 over IPv4 and
// computed over IPv6, the non-IKE marker), and how a UDP_ENCAP socket sorts what arrives
// (xfrm4_udp_encap_rcv()): ESP at the 8-byte edge, IKE behind the non-ESP marker, NAT keepalives;
// the SA's encapsulation type must match the packet's (XfrmInStateMismatch); a peer's new port
// is reported as XFRM_MSG_MAPPING; transport mode ignores the inner checksum (RFC 3948 3.1.2).
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { inject, nextPacket } from '../src/lib/expect.js';
import { openXfrm, setSocketPolicy, XFRMNLGRP, type SaSpec, type Xfrm } from '../src/lib/netlink/xfrm.js';
import { decodeMapping, XFRM_MSG } from '../src/lib/netlink/xfrm-events.js';
import { udpSocket, type IpVersion, type Socket } from '../src/lib/socket.js';
import { SOL_UDP } from '../src/lib/include/linux/socket.js';
import { UDP_ENCAP, UDP_ENCAP_ESPINUDP, UDP_ENCAP_ESPINUDP_NON_IKE } from '../src/lib/include/uapi/linux/udp.js';
import { espTransform, openEsp, sealEsp, xfrmStats, xfrmStatsDelta, saUnsupported } from '../src/lib/ipsec/index.js';
import { build, esp, ipv4, layer, parse, raw, udp, type Layer } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });
let x: Xfrm;
let skip: string | undefined;
const AEAD = { name: 'rfc4106(gcm(aes))', key: Buffer.alloc(20, 0x42), icvLen: 128 };
const NATT = 4500;

before(() => {
  x = openXfrm();
  skip = saUnsupported(x, { aead: AEAD, encap: { sport: NATT, dport: NATT } }, 'ESP-in-UDP with rfc4106(gcm(aes))');
});

function skipped(t: TestContext): boolean {
  if (skip) t.skip(skip);
  return skip !== undefined;
}

let nextSpi = 0x3000;
const remote = (v: IpVersion): string => (v === 4 ? REMOTE4 : REMOTE6);
const local = (n: Network, v: IpVersion): string => (v === 4 ? n.addr4 : n.addr6);

/** One datagram from a socket whose per-socket policy uses an outbound SA with `encap`: the IP packet on the wire. */
function sendOut(n: Network, v: IpVersion, encap: SaSpec['encap']): { frame: Buffer; spec: SaSpec } {
  x.flushSas();
  const spi = nextSpi++;
  const spec: SaSpec = { src: local(n, v), dst: remote(v), spi, reqid: spi, mode: 'transport', aead: AEAD, encap };
  x.addSa(spec);
  const s: Socket<'inet' | 'inet6'> = udpSocket(v);
  try {
    s.setMark(n.mark);
    setSocketPolicy(s.fd, v, { dir: 'out', sel: { family: v }, tmpls: [{ proto: 'esp', mode: 'transport', reqid: spi, family: v }] });
    s.sendTo(Buffer.from('natt'), v === 4 ? `${REMOTE4}:7999` : `[${REMOTE6}]:7999`);
  } finally {
    s.close();
  }
  const a = nextPacket(n, (p) => layer(p, 'udp')?.sport === encap?.sport);
  return { frame: a.frame.subarray(14), spec };
}

describe('output', () => {
  for (const v of [4, 6] as const) {
    nets.it(`IPv${v}: UDP ${NATT} -> ${NATT}, length 8 + ESP, checksum ${v === 4 ? '0' : 'computed'}; the ESP inside opens to the datagram`, (t) => {
      if (skipped(t)) return;
      const n = nets.net(1);
      const { frame, spec } = sendOut(n, v, { sport: NATT, dport: NATT });
      const p = parse(frame, 'ip');
      const u = layer(p, 'udp')!;
      const outer = p[0]!;
      assert.equal(outer.type === 'ipv4' ? outer.protocol : outer.type === 'ipv6' ? outer.nh : -1, 17);
      assert.equal(u.len, frame.length - (v === 4 ? 20 : 40));
      // Over IPv6 a zero checksum is not allowed (esp_output_encap_csum()); the value a sender computes:
      const want = v === 4 ? 0 : build([{ ...outer }, { ...u, checksum: undefined }, ...p.slice(2)]).readUInt16BE(40 + 6);
      assert.equal(u.checksum, want);
      const { packet, esp: o } = openEsp(p, espTransform(spec));
      assert.deepEqual([o.spi, o.seq, o.nextHeader], [spec.spi, 1, 17]);
      const inner = layer(packet.slice(3), 'udp');
      assert.deepEqual([inner?.dport, packet.at(-1)?.type === 'raw' ? Buffer.from((packet.at(-1) as { data: Uint8Array }).data).toString() : ''], [7999, 'natt']);
    });
  }

  nets.it('the SA\'s ports are used as they are: 4501 -> 31000', (t) => {
    if (skipped(t)) return;
    const { frame } = sendOut(nets.net(1), 4, { sport: 4501, dport: 31000 });
    const u = layer(parse(frame, 'ip'), 'udp')!;
    assert.deepEqual([u.sport, u.dport], [4501, 31000]);
  });

  nets.it('espinudp-nonike: eight zero bytes (the non-IKE marker) between the UDP header and the SPI', (t) => {
    if (skipped(t)) return;
    const { frame, spec } = sendOut(nets.net(1), 4, { type: 'espinudp-nonike', sport: NATT, dport: NATT });
    const body = frame.subarray(20 + 8);
    assert.deepEqual([body.readUInt32BE(0), body.readUInt32BE(4), body.readUInt32BE(8), body.readUInt32BE(12)], [0, 0, spec.spi, 1]);
    assert.equal(layer(parse(frame, 'ip'), 'udp')!.len, frame.length - 20);
  });
});

/** An inbound SA (encapsulated or not), a UDP_ENCAP socket on 4500 (or a plain one), and a datagram socket behind the SA. */
interface Rx {
  spi: number;
  /** Injects `layers` then an ESP marker; returns what each socket received. */
  send(layers: Layer[]): { inner: string[]; encap: string[] };
  /** An ESP-in-UDP packet for the SA from `sport` carrying a datagram `text`, inner UDP checksum as given. */
  natt(text: string, opts?: { sport?: number; checksum?: number }): Layer[];
  /** The same datagram in plain ESP. */
  plain(text: string, opts?: { checksum?: number }): Layer[];
  close(): void;
}

function receiver(t: TestContext, opts: { saEncap: boolean; sockEncap?: number }, fn: (rx: Rx, n: Network) => void): void {
  if (skipped(t)) return;
  const n = nets.net(1);
  x.flushSas();
  const spi = nextSpi++;
  const spec: SaSpec = { src: REMOTE4, dst: n.addr4, spi, mode: 'transport', aead: AEAD, replayWindow: 32, ...(opts.saEncap ? { encap: { sport: NATT, dport: NATT } } : {}) };
  x.addSa(spec);
  const tr = espTransform(spec);
  const inner = udpSocket(4);
  inner.bind(`${n.addr4}:7500`);
  const encap = udpSocket(4);
  encap.bind(`${n.addr4}:${NATT}`);
  if (opts.sockEncap !== undefined) encap.setOption(SOL_UDP, UDP_ENCAP, opts.sockEncap);
  // The marker is plain ESP on an SA of its own: transport-mode input reaches sockets through
  // xfrm_trans_queue(), in order, so once it is in, everything sent before it was handled.
  const marker = udpSocket(4);
  marker.bind(`${n.addr4}:0`);
  const mspec: SaSpec = { src: REMOTE4, dst: n.addr4, spi: nextSpi++, mode: 'transport', aead: AEAD };
  x.addSa(mspec);
  const mtr = espTransform(mspec);
  let seq = 1;
  const all = (s: Socket<'inet'>): string[] => {
    const out: string[] = [];
    for (;;) {
      try {
        out.push(s.recv({ timeoutMs: 0 }).toString('latin1'));
      } catch (e) {
        if ((e as { code?: string }).code === 'EAGAIN') return out;
        throw e;
      }
    }
  };
  const rx: Rx = {
    spi,
    send(layers) {
      inject(n, layers);
      inject(n, sealEsp([ipv4({ src: REMOTE4, dst: n.addr4 }), esp({ spi: mspec.spi, seq: seq++ }), udp({ sport: 1, dport: marker.localAddress().port }), raw('marker')], mtr));
      marker.recv({ timeoutMs: 2000 });
      return { inner: all(inner), encap: all(encap) };
    },
    natt: (text, o = {}) => sealEsp([ipv4({ src: REMOTE4, dst: n.addr4 }), udp({ sport: o.sport ?? NATT, dport: NATT }), esp({ spi, seq: seq++ }), udp({ sport: 1, dport: 7500, checksum: o.checksum }), raw(text)], tr),
    plain: (text, o = {}) => sealEsp([ipv4({ src: REMOTE4, dst: n.addr4 }), esp({ spi, seq: seq++ }), udp({ sport: 1, dport: 7500, checksum: o.checksum }), raw(text)], tr),
    close() {
      inner.close();
      encap.close();
      marker.close();
    },
  };
  try {
    fn(rx, n);
  } finally {
    rx.close();
  }
}

const udpTo = (n: Network, payload: Buffer | string, sport = NATT): Layer[] => [ipv4({ src: REMOTE4, dst: n.addr4 }), udp({ sport, dport: NATT }), raw(payload)];

describe('input on a UDP_ENCAP_ESPINUDP socket', () => {
  nets.it('ESP in UDP reaches the SA and its datagram the inner socket; the encapsulation socket gets nothing', (t) => receiver(t, { saEncap: true, sockEncap: UDP_ENCAP_ESPINUDP }, (rx) => {
    assert.deepEqual(rx.send(rx.natt('one')), { inner: ['one'], encap: [] });
  }));

  nets.it('a payload of 8 non-zero bytes is IKE (passed to the socket); 9 is ESP (not delivered); 20 reaches the SA lookup (XfrmInNoStates)', (t) => receiver(t, { saEncap: true, sockEncap: UDP_ENCAP_ESPINUDP }, (rx, n) => {
    const st = xfrmStats()!;
    assert.deepEqual(rx.send(udpTo(n, 'ABCDEFGH')), { inner: [], encap: ['ABCDEFGH'] });
    assert.deepEqual(xfrmStatsDelta(st), {});
    // 6.1 drops ESP-in-UDP payloads under 20 bytes without a counter: xfrm4_udp_encap_rcv()
    // compares skb->len, counted from the UDP header, with the IP header's length plus 8.
    assert.deepEqual(rx.send(udpTo(n, 'ABCDEFGHI')), { inner: [], encap: [] });
    const st20 = xfrmStats()!;
    assert.deepEqual(rx.send(udpTo(n, 'ABCDEFGHIJKLMNOPQRST')), { inner: [], encap: [] });
    assert.deepEqual(xfrmStatsDelta(st20), { XfrmInNoStates: 1 });
  }));

  nets.it('the non-ESP marker (four zero bytes) makes it IKE: delivered to the socket with the marker', (t) => receiver(t, { saEncap: true, sockEncap: UDP_ENCAP_ESPINUDP }, (rx, n) => {
    const ike = Buffer.concat([Buffer.alloc(4), Buffer.from('IKE_SA_INIT.....')]);
    assert.deepEqual(rx.send(udpTo(n, ike)), { inner: [], encap: [ike.toString('latin1')] });
  }));

  nets.it('a NAT keepalive (one byte 0xff) is eaten; one byte 0xfe and two bytes 0xff 0xff are IKE', (t) => receiver(t, { saEncap: true, sockEncap: UDP_ENCAP_ESPINUDP }, (rx, n) => {
    assert.deepEqual(rx.send(udpTo(n, Buffer.from([0xff]))), { inner: [], encap: [] });
    assert.deepEqual(rx.send(udpTo(n, Buffer.from([0xfe]))), { inner: [], encap: ['\xfe'] });
    assert.deepEqual(rx.send(udpTo(n, Buffer.from([0xff, 0xff]))), { inner: [], encap: ['\xff\xff'] });
  }));

  nets.it('ESP in UDP for an SA without encapsulation is dropped as XfrmInStateMismatch', (t) => receiver(t, { saEncap: false, sockEncap: UDP_ENCAP_ESPINUDP }, (rx) => {
    const st = xfrmStats()!;
    assert.deepEqual(rx.send(rx.natt('mismatch')), { inner: [], encap: [] });
    assert.deepEqual(xfrmStatsDelta(st), { XfrmInStateMismatch: 1 });
  }));

  nets.it('plain ESP for an SA with encapsulation is dropped as XfrmInStateMismatch', (t) => receiver(t, { saEncap: true, sockEncap: UDP_ENCAP_ESPINUDP }, (rx) => {
    const st = xfrmStats()!;
    assert.deepEqual(rx.send(rx.plain('mismatch')), { inner: [], encap: [] });
    assert.deepEqual(xfrmStatsDelta(st), { XfrmInStateMismatch: 1 });
  }));

  nets.it('transport mode over UDP ignores a wrong inner UDP checksum (RFC 3948 3.1.2); plain ESP does not', (t) => {
    receiver(t, { saEncap: true, sockEncap: UDP_ENCAP_ESPINUDP }, (rx) => {
      assert.deepEqual(rx.send(rx.natt('bad sum', { checksum: 0x1234 })), { inner: ['bad sum'], encap: [] });
    });
    receiver(t, { saEncap: false }, (rx) => {
      assert.deepEqual(rx.send(rx.plain('bad sum', { checksum: 0x1234 })), { inner: [], encap: [] });
      assert.deepEqual(rx.send(rx.plain('good sum')), { inner: ['good sum'], encap: [] });
    });
  });
});

describe('input elsewhere', () => {
  nets.it('without UDP_ENCAP the socket on 4500 receives ESP in UDP as plain data', (t) => receiver(t, { saEncap: true }, (rx) => {
    const pkt = rx.natt('data');
    const got = rx.send(pkt);
    assert.deepEqual([got.inner, got.encap.length, got.encap[0]?.length], [[], 1, build(pkt).length - 28]);
  }));

  nets.it('UDP_ENCAP_ESPINUDP_NON_IKE: ESP needs the 8-byte zero marker; without it the packet is IKE', (t) => receiver(t, { saEncap: false, sockEncap: UDP_ENCAP_ESPINUDP_NON_IKE }, (rx, n) => {
    assert.deepEqual(rx.send(udpTo(n, 'ABCDEFGHIJKLMNOP')), { inner: [], encap: ['ABCDEFGHIJKLMNOP'] });
  }));
});

describe('NAT mappings (XFRMNLGRP_MAPPING)', () => {
  function mappings(t: TestContext, sports: number[]): { delivered: string[]; heard: [number, number, string, string][] } {
    const ev = openXfrm({ groups: [XFRMNLGRP.MAPPING] });
    const out = { delivered: [] as string[], heard: [] as [number, number, string, string][] };
    try {
      receiver(t, { saEncap: true, sockEncap: UDP_ENCAP_ESPINUDP }, (rx) => {
        ev.nl.drain();
        for (const sport of sports) {
          out.delivered.push(...rx.send(rx.natt(`from ${sport}`, { sport })).inner);
          for (const m of ev.nl.drain().filter((q) => q.type === XFRM_MSG.MAPPING).map(decodeMapping)) {
            assert.equal(m.spi, rx.spi);
            out.heard.push([m.oldSport, m.newSport, m.oldSrc, m.newSrc]);
          }
        }
      });
    } finally {
      ev.close();
    }
    return out;
  }

  nets.it('from the SA\'s port: delivered, no mapping event', (t) => {
    if (skipped(t)) return;
    assert.deepEqual(mappings(t, [NATT, NATT]), { delivered: [`from ${NATT}`, `from ${NATT}`], heard: [] });
  });

  nets.it('from another port: delivered, and each such packet reports old and new port (no XFRMA_MTIMER_THRESH)', (t) => {
    if (skipped(t)) return;
    assert.deepEqual(mappings(t, [4501, 4501]), {
      delivered: ['from 4501', 'from 4501'],
      heard: [[NATT, 4501, REMOTE4, REMOTE4], [NATT, 4501, REMOTE4, REMOTE4]],
    });
  });
});
