// Route-based IPsec: xfrm interfaces (if_id: the interface's id selects policies and SAs with
// the same id, both ways; xfrmi_xmit2(), xfrmi_rcv_cb()), VTI (the tunnel's okey is the mark of
// the output lookup, its ikey the mark of the input SA lookup; vti_tunnel_xmit(), vti_rcv()), and
// SA output marks (XFRMA_SET_MARK: the mark the transformed packet is routed with). Tunnel mode,
// IPv4 in IPv4, checked on the wire and in the interfaces' counters.
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, type Network } from '../src/lib/networks.js';
import { expectNone, inject, nextPacket } from '../src/lib/expect.js';
import { openXfrm, type SaSpec, type Xfrm } from '../src/lib/netlink/xfrm.js';
import type { LinkStats } from '../src/lib/netlink/route.js';
import { udpSocket } from '../src/lib/socket.js';
import { espTransform, openEsp, sealEsp, xfrmStats, xfrmStatsDelta, type XfrmStats, saUnsupported } from '../src/lib/ipsec/index.js';
import { esp, ipv4, layer, parse, raw, udp } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 2 });
let x: Xfrm;
let skip: string | undefined;
/** Per device kind, why its cases skip (the kernel lacks it). */
const missing: Partial<Record<'xfrm' | 'vti', string>> = {};
const gcm = (tag: number): NonNullable<SaSpec['aead']> => ({ name: 'rfc4106(gcm(aes))', key: Buffer.alloc(20, tag), icvLen: 128 });

/** Inner peers, each routed through one kind of device (own table, rule above the fixture's). */
const XPEER = '203.0.113.77';
const VPEER = '203.0.113.78';
const MPEER = '203.0.113.79';
/** A gateway only the fixture's mark rules route (the output-mark cases). */
const MGW = '203.0.113.9';
const XFRMI = 'ipsec5';
const IF_ID = 5;
const VTI = 'vti9';
/** The VTI's remote end: not REMOTE4, or the VTI (vti_input() looks tunnels up by address) would take the xfrm interface's ESP. */
const VGW = '203.0.113.10';
const IKEY = 0x20;
const OKEY = 0x10;

before(() => {
  x = openXfrm();
  skip = saUnsupported(x, { mode: 'tunnel', aead: gcm(1) }, 'ESP tunnel mode with rfc4106(gcm(aes))');
  if (skip) return;
  const n = nets.net(1);
  for (const [kind, add] of [
    ['xfrm', () => nets.rt.addLink({ kind: 'xfrm', name: XFRMI, ifId: IF_ID, link: n.ifindex })],
    ['vti', () => nets.rt.addLink({ kind: 'vti', name: VTI, local: n.addr4, remote: VGW, ikey: IKEY, okey: OKEY })],
  ] as const) {
    try {
      add();
    } catch (e) {
      missing[kind] = `no ${kind === 'xfrm' ? 'xfrm interfaces (CONFIG_XFRM_INTERFACE)' : 'VTI (CONFIG_NET_IPVTI)'} here: ${(e as Error).message.split('\n')[0]}`;
      continue;
    }
    const dev = kind === 'xfrm' ? XFRMI : VTI;
    // No IPv6 on it: its own traffic (MLD, router solicitations) would reach the counters.
    nets.sysctl(`net.ipv6.conf.${dev}.disable_ipv6`, 1);
    nets.rt.setLink(dev, { up: true });
    nets.rt.addRoute({ dst: `${kind === 'xfrm' ? XPEER : VPEER}/32`, dev, table: kind === 'xfrm' ? 2005 : 2009 });
    nets.addRule({ family: 'inet', priority: 80, dst: `${kind === 'xfrm' ? XPEER : VPEER}/32`, table: kind === 'xfrm' ? 2005 : 2009 });
  }
  // The tunnels' outer packets carry no mark: route the gateway by address (not MGW).
  nets.addRule({ family: 'inet', priority: 90, dst: `${REMOTE4}/32`, table: n.table });
  nets.addRule({ family: 'inet', priority: 90, dst: `${VGW}/32`, table: n.table });
});

function skipped(t: TestContext, kind?: 'xfrm' | 'vti'): boolean {
  const why = skip ?? (kind && missing[kind]);
  if (why) t.skip(why);
  return why !== undefined;
}

let nextSpi = 0x5000;
let port = 7600;

const stats = (dev: string): LinkStats => nets.rt.stats(dev);
const delta = (before: LinkStats, dev: string): Record<string, bigint> => {
  const now = stats(dev);
  const out: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(now)) if (v !== (before[k as keyof LinkStats] ?? 0n)) out[k] = v - (before[k as keyof LinkStats] ?? 0n);
  return out;
};

/** Waits until the xfrm counters moved by `want` (input drops happen after the injection returns). */
function waitStats(st: XfrmStats, want: XfrmStats): void {
  const until = Date.now() + 3000;
  while (Date.now() < until && JSON.stringify(xfrmStatsDelta(st)) !== JSON.stringify(want)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  assert.deepEqual(xfrmStatsDelta(st), want);
}

/** A tunnel SA pair between net1 and `gw` with `extra` (if_id, mark...), and policies for any inner flow. */
function tunnel(n: Network, extra: { out?: Partial<SaSpec>; in?: Partial<SaSpec>; polOut?: object; polIn?: object }, gw = REMOTE4): { out: SaSpec; in: SaSpec } {
  x.flushPolicies();
  x.flushSas();
  const reqid = nextSpi;
  const out: SaSpec = { src: n.addr4, dst: gw, spi: nextSpi++, mode: 'tunnel', reqid, aead: gcm(2), sel: { family: 4 }, ...extra.out };
  const inn: SaSpec = { src: gw, dst: n.addr4, spi: nextSpi++, mode: 'tunnel', reqid, aead: gcm(3), sel: { family: 4 }, ...extra.in };
  x.addSa(out);
  x.addSa(inn);
  x.addPolicy({ dir: 'out', sel: { family: 4 }, tmpls: [{ src: n.addr4, dst: gw, proto: 'esp', mode: 'tunnel', reqid }], ...extra.polOut });
  x.addPolicy({ dir: 'in', sel: { family: 4 }, tmpls: [{ src: gw, dst: n.addr4, proto: 'esp', mode: 'tunnel', reqid }], ...extra.polIn });
  return { out, in: inn };
}

/** Sends one datagram from net1's address to `peer`; returns the errno or 'ok'. */
function send(n: Network, peer: string, text: string, mark = 0): string {
  const s = udpSocket(4);
  try {
    if (mark) s.setMark(mark);
    s.bind(`${n.addr4}:0`);
    s.sendTo(Buffer.from(text), `${peer}:9`);
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  } finally {
    s.close();
  }
}

/** The inner packet of the first ESP with this SPI on `n`. */
function opened(n: Network, sa: SaSpec): { src: string; dst: string; text: string } {
  const f = nextPacket(n, (p) => layer(p, 'esp')?.spi === sa.spi).frame.subarray(14);
  const { packet } = openEsp(parse(f, 'ip'), espTransform(sa));
  const inner = packet.filter((l) => l.type === 'ipv4')[1];
  const body = packet.at(-1);
  return { src: inner?.type === 'ipv4' ? inner.src : '', dst: inner?.type === 'ipv4' ? inner.dst : '', text: body?.type === 'raw' ? Buffer.from(body.data).toString() : '' };
}

/** Injects tunnel-mode ESP for `sa` carrying a datagram from `peer` to net1's port; returns the socket to read it on. */
function injectIn(n: Network, sa: SaSpec, peer: string, text: string, gw = REMOTE4): { recv(timeoutMs?: number): string | null; close(): void } {
  const dport = port++;
  const r = udpSocket(4);
  r.bind(`${n.addr4}:${dport}`);
  inject(n, sealEsp([ipv4({ src: gw, dst: n.addr4 }), esp({ spi: sa.spi, seq: 1 }), ipv4({ src: peer, dst: n.addr4, ttl: 50 }), udp({ sport: 9, dport }), raw(text)], espTransform(sa)));
  return {
    recv(timeoutMs = 2000): string | null {
      try {
        return r.recv({ timeoutMs }).toString();
      } catch (e) {
        if ((e as { code?: string }).code === 'EAGAIN') return null;
        throw e;
      }
    },
    close: () => r.close(),
  };
}

describe('xfrm interface (if_id)', () => {
  nets.it(`output: a datagram routed into ${XFRMI} uses the policy and SA with if_id ${IF_ID}; counted on the interface`, (t) => {
    if (skipped(t, 'xfrm')) return;
    const n = nets.net(1);
    const p = tunnel(n, { out: { ifId: IF_ID }, in: { ifId: IF_ID }, polOut: { ifId: IF_ID }, polIn: { ifId: IF_ID } });
    const st = stats(XFRMI);
    assert.equal(send(n, XPEER, 'via xfrmi'), 'ok');
    assert.deepEqual(opened(n, p.out), { src: n.addr4, dst: XPEER, text: 'via xfrmi' });
    assert.deepEqual(delta(st, XFRMI), { tx_packets: 1n, tx_bytes: BigInt(20 + 8 + 9) });
  });

  nets.it('output: with the policy for if_id 6, nothing leaves; the interface counts a carrier error', (t) => {
    if (skipped(t, 'xfrm')) return;
    const n = nets.net(1);
    tunnel(n, { out: { ifId: 6 }, polOut: { ifId: 6 } });
    const st = stats(XFRMI);
    send(n, XPEER, 'no policy');
    expectNone(n, { timeoutMs: 100, match: (pk) => layer(pk, 'esp') !== undefined });
    assert.deepEqual(delta(st, XFRMI), { tx_errors: 1n, tx_dropped: 1n, tx_carrier_errors: 1n });
  });

  nets.it('output: a policy without if_id takes the flow at the socket\'s route lookup, before the interface: ESP leaves, the interface counts nothing', (t) => {
    if (skipped(t, 'xfrm')) return;
    const n = nets.net(1);
    const p = tunnel(n, {});
    const st = stats(XFRMI);
    assert.equal(send(n, XPEER, 'no if_id'), 'ok');
    assert.deepEqual(opened(n, p.out), { src: n.addr4, dst: XPEER, text: 'no if_id' });
    assert.deepEqual(delta(st, XFRMI), {});
  });

  nets.it('output: a policy with an if_id does not apply to plain routes: the datagram leaves in the clear', (t) => {
    if (skipped(t, 'xfrm')) return;
    const n = nets.net(1);
    tunnel(n, { out: { ifId: IF_ID }, polOut: { ifId: IF_ID } });
    assert.equal(send(n, REMOTE4, 'plain route', n.mark), 'ok');
    const f = nextPacket(n, (pk) => layer(pk, 'udp')?.dport === 9);
    assert.equal(layer(f.packet, 'esp'), undefined);
  });

  nets.it(`input: ESP for an SA with if_id ${IF_ID} is decapsulated onto ${XFRMI} and delivered under the if_id ${IF_ID} input policy`, (t) => {
    if (skipped(t, 'xfrm')) return;
    const n = nets.net(1);
    const p = tunnel(n, { out: { ifId: IF_ID }, in: { ifId: IF_ID }, polOut: { ifId: IF_ID }, polIn: { ifId: IF_ID } });
    const st = stats(XFRMI);
    const r = injectIn(n, p.in, XPEER, 'in via xfrmi');
    try {
      assert.equal(r.recv(), 'in via xfrmi');
      assert.deepEqual(delta(st, XFRMI), { rx_packets: 1n, rx_bytes: BigInt(20 + 8 + 12) });
    } finally {
      r.close();
    }
  });

  nets.it('input: with the input policy for if_id 0 instead, the packet is dropped (XfrmInNoPols)', (t) => {
    if (skipped(t, 'xfrm')) return;
    const n = nets.net(1);
    const p = tunnel(n, { out: { ifId: IF_ID }, in: { ifId: IF_ID }, polOut: { ifId: IF_ID } });
    const xs = xfrmStats()!;
    const r = injectIn(n, p.in, XPEER, 'no in policy');
    try {
      waitStats(xs, { XfrmInNoPols: 1 });
      assert.equal(r.recv(0), null);
    } finally {
      r.close();
    }
  });
});

describe('VTI (marks)', () => {
  nets.it(`output: the okey 0x${OKEY.toString(16)} is the lookup mark: the policy and SA with that mark are used`, (t) => {
    if (skipped(t, 'vti')) return;
    const n = nets.net(1);
    const m = { value: OKEY, mask: 0xffffffff };
    const p = tunnel(n, { out: { mark: m }, polOut: { mark: m } }, VGW);
    const st = stats(VTI);
    assert.equal(send(n, VPEER, 'via vti'), 'ok');
    assert.deepEqual(opened(n, p.out), { src: n.addr4, dst: VPEER, text: 'via vti' });
    assert.deepEqual(delta(st, VTI), { tx_packets: 1n, tx_bytes: BigInt(20 + 8 + 7) });
  });

  nets.it('output: with policy and SA marked 0x11 (not the okey), nothing leaves', (t) => {
    if (skipped(t, 'vti')) return;
    const n = nets.net(1);
    const m = { value: OKEY + 1, mask: 0xffffffff };
    tunnel(n, { out: { mark: m }, polOut: { mark: m } }, VGW);
    send(n, VPEER, 'wrong mark');
    expectNone(n, { timeoutMs: 100, match: (pk) => layer(pk, 'esp') !== undefined });
  });

  nets.it(`input: an SA marked with the ikey 0x${IKEY.toString(16)} is found, the packet arrives on ${VTI}; marked otherwise, XfrmInNoStates`, (t) => {
    if (skipped(t, 'vti')) return;
    const n = nets.net(1);
    const m = { value: IKEY, mask: 0xffffffff };
    let p = tunnel(n, { in: { mark: m }, polIn: { mark: m } }, VGW);
    const st = stats(VTI);
    const r = injectIn(n, p.in, VPEER, 'in via vti', VGW);
    try {
      assert.equal(r.recv(), 'in via vti');
      assert.deepEqual(delta(st, VTI), { rx_packets: 1n, rx_bytes: BigInt(20 + 8 + 10) });
    } finally {
      r.close();
    }
    const wrong = { value: IKEY + 1, mask: 0xffffffff };
    p = tunnel(n, { in: { mark: wrong }, polIn: { mark: wrong } }, VGW);
    const xs = xfrmStats()!;
    const r2 = injectIn(n, p.in, VPEER, 'wrong ikey', VGW);
    try {
      waitStats(xs, { XfrmInNoStates: 1 });
      assert.equal(r2.recv(0), null);
    } finally {
      r2.close();
    }
  });
});

describe('output mark (XFRMA_SET_MARK)', () => {
  function markCase(n1: Network, outputMark: SaSpec['outputMark']): SaSpec {
    x.flushPolicies();
    x.flushSas();
    const reqid = nextSpi;
    const out: SaSpec = { src: n1.addr4, dst: MGW, spi: nextSpi++, mode: 'tunnel', reqid, aead: gcm(4), sel: { family: 4 }, ...(outputMark ? { outputMark } : {}) };
    x.addSa(out);
    x.addPolicy({ dir: 'out', sel: { dst: `${MPEER}/32` }, tmpls: [{ src: n1.addr4, dst: MGW, proto: 'esp', mode: 'tunnel', reqid }] });
    return out;
  }

  nets.it('without an output mark the outer lookup has no mark, whatever the socket\'s: ENETUNREACH, nothing on either network', (t) => {
    if (skipped(t)) return;
    const [n1, n2] = [nets.net(1), nets.net(2)];
    markCase(n1, undefined);
    assert.equal(send(n1, MPEER, 'no output mark', n1.mark), 'ENETUNREACH');
    expectNone(n1, { timeoutMs: 50, match: (pk) => layer(pk, 'esp') !== undefined });
    expectNone(n2, { timeoutMs: 50, match: (pk) => layer(pk, 'esp') !== undefined });
  });

  for (const to of [1, 2]) {
    nets.it(`output mark ${to} (mask 0xffffffff): the ESP packet is routed with mark ${to} and leaves on net${to} only`, (t) => {
      if (skipped(t)) return;
      const [n1, n2] = [nets.net(1), nets.net(2)];
      const sa = markCase(n1, { value: to, mask: 0xffffffff });
      assert.equal(send(n1, MPEER, `mark ${to}`, n1.mark), 'ok');
      assert.deepEqual(opened(to === 1 ? n1 : n2, sa), { src: n1.addr4, dst: MPEER, text: `mark ${to}` });
      expectNone(to === 1 ? n2 : n1, { timeoutMs: 50, match: (pk) => layer(pk, 'esp') !== undefined });
    });
  }

  nets.it('the mask: value 0x2 mask 0x2 on a packet marked 0x1 gives 0x3 (no network: ENETUNREACH); mask 0x3 gives 0x2 (net2)', (t) => {
    if (skipped(t)) return;
    const [n1, n2] = [nets.net(1), nets.net(2)];
    markCase(n1, { value: 0x2, mask: 0x2 });
    assert.equal(send(n1, MPEER, 'mark 3', 0x1), 'ENETUNREACH');
    const sa = markCase(n1, { value: 0x2, mask: 0x3 });
    assert.equal(send(n1, MPEER, 'mark 2', 0x1), 'ok');
    assert.equal(opened(n2, sa).text, 'mark 2');
    expectNone(n1, { timeoutMs: 50, match: (pk) => layer(pk, 'esp') !== undefined });
  });
});
