// The security policy database (net/xfrm/xfrm_policy.c, xfrm_user.c): policies added, read back,
// updated, deleted by selector and by index, flushed, counted and announced; what they do to
// traffic, on the wire: selectors at their edges (prefix, port, protocol, mark), priorities,
// block in both directions with its counters, optional templates, the acquire a missing SA
// triggers in each xfrm_larval_drop mode, per-socket policies (IP_XFRM_POLICY and
// IPV6_XFRM_POLICY) and the default policy (XFRM_MSG_SETDEFAULT) in each direction.
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { expectNone, inject, nextPacket, readAll } from '../src/lib/expect.js';
import { isNetlinkError } from '../src/lib/netlink/core.js';
import { openXfrm, setSocketPolicy, XFRMNLGRP, decodePolicy, type PolicySpec, type Xfrm } from '../src/lib/netlink/xfrm.js';
import { decodeAcquire, getDefaultPolicy, setDefaultPolicy, spdInfo, XFRM_MSG } from '../src/lib/netlink/xfrm-events.js';
import { asUser } from '../src/lib/creds.js';
import { udpSocket, type Socket } from '../src/lib/socket.js';
import { xfrmStats, xfrmStatsDelta } from '../src/lib/ipsec/index.js';
import { ipv4, ipv6, layer, raw, udp, type Layer } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });
let x: Xfrm;
let skip: string | undefined;
const NULL_ENC = { name: 'ecb(cipher_null)', key: Buffer.alloc(0) };

before(() => {
  x = openXfrm();
  try {
    x.addPolicy({ dir: 'out', sel: { dst: '192.0.2.9/32' }, action: 'block' });
    x.addSa({ src: '192.0.2.1', dst: '192.0.2.2', spi: 1, crypt: NULL_ENC });
    x.flushPolicies();
    x.flushSas();
  } catch (e) {
    skip = `no xfrm policies or ESP here: ${(e as Error).message.split('\n')[0]}`;
  }
});

function skipped(t: TestContext): boolean {
  if (skip) t.skip(skip);
  return skip !== undefined;
}

function fresh(): void {
  x.flushPolicies();
  x.flushSas();
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    const c = (e as { code?: string }).code;
    if (c) return c;
    throw e;
  }
  return 'ok';
}

/** A UDP socket routed through network n (by mark), bound to its address. */
function sender(n: Network, port = 0): Socket<'inet'> {
  const s = udpSocket(4);
  s.setMark(n.mark);
  s.bind(`${n.addr4}:${port}`);
  return s;
}

/** Sends one datagram: 'ok' and what left on the wire, or the errno name. */
function send(n: Network, s: Socket<'inet'>, dst: string, port: number): { result: string; wire: string[] } {
  const result = code(() => s.sendTo(Buffer.from('policy'), `${dst}:${port}`));
  const wire = readAll(n, { timeoutMs: result === 'ok' ? 50 : 0, skipNoise: true }).map((a) => describeOut(a.packet));
  return { result, wire };
}

function describeOut(p: Layer[]): string {
  const e = layer(p, 'esp');
  if (e) return `esp ${e.spi.toString(16)}/${e.seq}`;
  const u = layer(p, 'udp');
  const ip = layer(p, 'ipv4') ?? layer(p, 'ipv6');
  return u && ip ? `udp ${ip.dst}:${u.dport}` : 'other';
}

describe('adding, reading and removing policies', () => {
  nets.it('GETPOLICY gives back every field: selector, direction, priority, action, flags, templates, mark, if_id', (t) => {
    if (skipped(t)) return;
    fresh();
    const spec: PolicySpec = {
      dir: 'out', sel: { src: '198.51.100.0/26', dst: '203.0.113.0/24', proto: 'tcp', sport: 1000, dport: 443 }, priority: 77, action: 'allow',
      flags: ['localok', 'icmp'], mark: { value: 0x30, mask: 0xf0 }, ifId: 9,
      tmpls: [
        { src: '198.51.100.2', dst: '203.0.113.1', proto: 'esp', mode: 'tunnel', reqid: 4 },
        { proto: 'comp', mode: 'transport', reqid: 5, share: 'unique', optional: true },
      ],
    };
    x.addPolicy(spec);
    const p = x.getPolicy({ dir: 'out', sel: spec.sel, mark: spec.mark, ifId: 9 });
    assert.deepEqual(
      { dir: p.dir, sel: p.sel, priority: p.priority, action: p.action, flags: p.flags, mark: p.mark, ifId: p.ifId, tmpls: p.tmpls.map((q) => [q.src, q.dst, q.proto, q.mode, q.reqid, q.optional, q.share]) },
      {
        dir: 'out', sel: { family: 'inet', src: '198.51.100.0/26', dst: '203.0.113.0/24', proto: 6, sport: 1000, sportMask: 0xffff, dport: 443, dportMask: 0xffff, ifindex: 0, user: 0 },
        priority: 77, action: 'allow', flags: ['LOCALOK', 'ICMP'], mark: { value: 0x30, mask: 0xf0 }, ifId: 9,
        tmpls: [['198.51.100.2', '203.0.113.1', 'esp', 'tunnel', 4, false, 'any'], ['0.0.0.0', '0.0.0.0', 'comp', 'transport', 5, true, 'unique']],
      },
    );
  });

  nets.it('an optional tunnel-mode template is refused in an outbound policy (EINVAL), allowed inbound; optional transport is allowed both ways', (t) => {
    if (skipped(t)) return;
    fresh();
    const tmpl = (mode: 'tunnel' | 'transport') => [{ src: '198.51.100.2', dst: '203.0.113.1', proto: 'esp' as const, mode, optional: true }];
    const add = (dir: 'in' | 'out', mode: 'tunnel' | 'transport', i: number): string =>
      code(() => x.addPolicy({ dir, sel: { dst: `203.0.113.${i}/32` }, tmpls: tmpl(mode) }));
    assert.deepEqual([add('out', 'tunnel', 1), add('in', 'tunnel', 2), add('out', 'transport', 3), add('in', 'transport', 4)], ['EINVAL', 'ok', 'ok', 'ok']);
  });

  nets.it('the kernel numbers policies with the direction in the low three bits of the index (in 0, out 1, fwd 2)', (t) => {
    if (skipped(t)) return;
    fresh();
    for (const dir of ['in', 'out', 'fwd'] as const) x.addPolicy({ dir, sel: { dst: '203.0.113.0/24' } });
    const byDir = Object.fromEntries(x.policies().map((p) => [String(p.dir), p.index & 7]));
    assert.deepEqual(byDir, { in: 0, out: 1, fwd: 2 });
  });

  nets.it('a second policy with the same selector, direction and mark is EEXIST; UPDPOLICY replaces it in place', (t) => {
    if (skipped(t)) return;
    fresh();
    const sel = { dst: '203.0.113.0/24', proto: 'udp' } as const;
    x.addPolicy({ dir: 'out', sel, priority: 5 });
    assert.equal(code(() => x.addPolicy({ dir: 'out', sel, priority: 6 })), 'EEXIST');
    const before = x.getPolicy({ dir: 'out', sel });
    x.updatePolicy({ dir: 'out', sel, priority: 7, action: 'block' });
    const after = x.getPolicy({ dir: 'out', sel });
    assert.deepEqual([after.priority, after.action, after.index], [7, 'block', before.index]);
    assert.equal(x.policies().length, 1);
    // With another mark the same selector is a different policy.
    x.addPolicy({ dir: 'out', sel, mark: { value: 1, mask: 0xff } });
    assert.equal(x.policies().length, 2);
  });

  nets.it('DELPOLICY by selector and by index; then GETPOLICY and a second delete are ENOENT', (t) => {
    if (skipped(t)) return;
    fresh();
    x.addPolicy({ dir: 'in', sel: { src: '203.0.113.0/24' } });
    x.addPolicy({ dir: 'fwd', sel: { src: '203.0.113.0/25' } });
    const idx = x.getPolicy({ dir: 'fwd', sel: { src: '203.0.113.0/25' } }).index;
    assert.equal(x.getPolicy({ dir: 'fwd', index: idx }).sel.src, '203.0.113.0/25');
    x.deletePolicy({ dir: 'in', sel: { src: '203.0.113.0/24' } });
    x.deletePolicy({ dir: 'fwd', index: idx });
    assert.deepEqual(
      [code(() => x.getPolicy({ dir: 'in', sel: { src: '203.0.113.0/24' } })), code(() => x.deletePolicy({ dir: 'fwd', index: idx })), code(() => x.getPolicy({ dir: 'fwd', index: idx })), x.policies().length],
      ['ENOENT', 'ENOENT', 'ENOENT', 0],
    );
  });

  nets.it('SPDINFO counts policies by direction, and per-socket policies apart; FLUSHPOLICY empties the database', (t) => {
    if (skipped(t)) return;
    fresh();
    const counts = (): number[] => {
      const i = spdInfo(x);
      return [i.in, i.out, i.fwd, i.inSocket, i.outSocket, i.fwdSocket];
    };
    assert.deepEqual(counts(), [0, 0, 0, 0, 0, 0]);
    x.addPolicy({ dir: 'in', sel: { src: '203.0.113.0/24' } });
    x.addPolicy({ dir: 'out', sel: { dst: '203.0.113.0/24' } });
    x.addPolicy({ dir: 'out', sel: { dst: '203.0.113.0/25' } });
    x.addPolicy({ dir: 'fwd', sel: { dst: '203.0.113.0/24' } });
    const s = udpSocket(4);
    setSocketPolicy(s.fd, 'inet', { dir: 'in', sel: {} });
    setSocketPolicy(s.fd, 'inet', { dir: 'out', sel: {} });
    assert.deepEqual(counts(), [1, 2, 1, 1, 1, 0]);
    s.close();
    assert.deepEqual(counts(), [1, 2, 1, 0, 0, 0], 'closing the socket frees its policies');
    x.flushPolicies();
    assert.deepEqual(counts(), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(x.policies(), []);
  });

  nets.it('policy listeners hear NEWPOLICY, UPDPOLICY, DELPOLICY and FLUSHPOLICY, in order', (t) => {
    if (skipped(t)) return;
    fresh();
    const ev = openXfrm({ groups: [XFRMNLGRP.POLICY] });
    try {
      ev.nl.drain();
      const sel = { dst: '203.0.113.0/24' };
      x.addPolicy({ dir: 'out', sel, priority: 1 });
      x.updatePolicy({ dir: 'out', sel, priority: 2 });
      x.deletePolicy({ dir: 'out', sel });
      x.addPolicy({ dir: 'in', sel: { src: '203.0.113.0/24' } });
      x.flushPolicies();
      const got = ev.nl.drain();
      assert.deepEqual(got.map((m) => m.type), [XFRM_MSG.NEWPOLICY, XFRM_MSG.UPDPOLICY, XFRM_MSG.DELPOLICY, XFRM_MSG.NEWPOLICY, XFRM_MSG.FLUSHPOLICY]);
      assert.deepEqual([decodePolicy(got[0]!).priority, decodePolicy(got[1]!).priority, decodePolicy(got[3]!).dir], [1, 2, 'in']);
    } finally {
      ev.close();
    }
  });
});

describe('what a policy matches, at the edges of its selector', () => {
  nets.it('a blocked destination port: N-1 and N+1 leave, N is EPERM and counted XfrmOutPolBlock', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32`, proto: 'udp', dport: 9000 }, action: 'block' });
    const s = sender(n);
    const st = xfrmStats()!;
    try {
      const got = [8999, 9000, 9001].map((p) => send(n, s, REMOTE4, p));
      assert.deepEqual(got, [
        { result: 'ok', wire: [`udp ${REMOTE4}:8999`] },
        { result: 'EPERM', wire: [] },
        { result: 'ok', wire: [`udp ${REMOTE4}:9001`] },
      ]);
      assert.deepEqual(xfrmStatsDelta(st), { XfrmOutPolBlock: 1 });
    } finally {
      s.close();
    }
  });

  nets.it('a blocked /30: its last address (.3) is blocked, the next (.4) is not', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addPolicy({ dir: 'out', sel: { dst: '203.0.113.0/30' }, action: 'block' });
    const s = sender(n);
    try {
      assert.deepEqual(['203.0.113.3', '203.0.113.4'].map((d) => send(n, s, d, 9000)), [{ result: 'EPERM', wire: [] }, { result: 'ok', wire: ['udp 203.0.113.4:9000'] }]);
    } finally {
      s.close();
    }
  });

  nets.it('a policy for UDP does not touch ICMP or TCP from the same host', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32`, proto: 'udp' }, action: 'block' });
    const s = sender(n);
    try {
      assert.equal(send(n, s, REMOTE4, 1).result, 'EPERM');
    } finally {
      s.close();
    }
    x.flushPolicies();
    x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32`, proto: 'tcp' }, action: 'block' });
    const u = sender(n);
    try {
      assert.deepEqual(send(n, u, REMOTE4, 1), { result: 'ok', wire: [`udp ${REMOTE4}:1`] });
    } finally {
      u.close();
    }
  });

  nets.it('a policy with a mark applies only to packets with that mark under its mask', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    // The fixture routes net 1 by mark 1 under 0xffff; the policy looks at bit 16 too.
    x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32` }, action: 'block', mark: { value: 0x10001, mask: 0x10001 } });
    const s = sender(n);
    try {
      const plain = send(n, s, REMOTE4, 2);
      s.setMark(0x10001);
      const marked = send(n, s, REMOTE4, 2);
      s.setMark(0x30001);
      const extraBits = send(n, s, REMOTE4, 2);
      assert.deepEqual([plain.result, marked.result, extraBits.result], ['ok', 'EPERM', 'EPERM']);
    } finally {
      s.close();
    }
  });

  nets.it('a policy for an if_id does not match traffic that no xfrm interface carries', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32` }, action: 'block', ifId: 5 });
    const s = sender(n);
    try {
      assert.deepEqual(send(n, s, REMOTE4, 3), { result: 'ok', wire: [`udp ${REMOTE4}:3`] });
    } finally {
      s.close();
    }
  });

  nets.it('the lower priority value wins: block at 10 over ESP at 20, ESP at 10 over block at 20', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addSa({ src: n.addr4, dst: REMOTE4, spi: 0x3100, reqid: 31, crypt: NULL_ENC });
    const sel = { dst: `${REMOTE4}/32`, proto: 'udp', dport: 9010 } as const;
    const esp = { dir: 'out' as const, tmpls: [{ src: n.addr4, dst: REMOTE4, proto: 'esp' as const, mode: 'transport' as const, reqid: 31 }] };
    const s = sender(n);
    try {
      x.addPolicy({ dir: 'out', sel, priority: 10, action: 'block' });
      x.addPolicy({ ...esp, sel: { ...sel, src: `${n.addr4}/32` }, priority: 20 });
      const blockFirst = send(n, s, REMOTE4, 9010);
      x.flushPolicies();
      x.addPolicy({ dir: 'out', sel, priority: 20, action: 'block' });
      x.addPolicy({ ...esp, sel: { ...sel, src: `${n.addr4}/32` }, priority: 10 });
      const espFirst = send(n, s, REMOTE4, 9010);
      assert.deepEqual([blockFirst, espFirst], [{ result: 'EPERM', wire: [] }, { result: 'ok', wire: ['esp 3100/1'] }]);
    } finally {
      s.close();
    }
  });

  nets.it('at equal priority the policy added first wins', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addSa({ src: n.addr4, dst: REMOTE4, spi: 0x3200, reqid: 32, crypt: NULL_ENC });
    const s = sender(n);
    try {
      x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32` }, priority: 50, action: 'block' });
      x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32`, proto: 'udp' }, priority: 50, tmpls: [{ proto: 'esp', mode: 'transport', reqid: 32 }] });
      const first = send(n, s, REMOTE4, 9020);
      x.flushPolicies();
      x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32`, proto: 'udp' }, priority: 50, tmpls: [{ proto: 'esp', mode: 'transport', reqid: 32 }] });
      x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32` }, priority: 50, action: 'block' });
      const second = send(n, s, REMOTE4, 9020);
      assert.deepEqual([first, second], [{ result: 'EPERM', wire: [] }, { result: 'ok', wire: ['esp 3200/1'] }]);
    } finally {
      s.close();
    }
  });

  nets.it('an inbound block policy drops matching packets (XfrmInPolBlock) and lets the port next to it through', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addPolicy({ dir: 'in', sel: { src: `${REMOTE4}/32`, proto: 'udp', dport: 5000 }, action: 'block' });
    const a = udpSocket(4);
    const b = udpSocket(4);
    try {
      a.bind(`${n.addr4}:5000`);
      b.bind(`${n.addr4}:5001`);
      const st = xfrmStats()!;
      for (const port of [5000, 5001]) inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), udp({ sport: 7, dport: port }), raw(`to ${port}`)]);
      assert.equal(b.recv({ timeoutMs: 1000 }).toString(), 'to 5001');
      assert.equal(code(() => a.recv({ timeoutMs: 0 })), 'EAGAIN');
      assert.deepEqual(xfrmStatsDelta(st), { XfrmInPolBlock: 1 });
    } finally {
      a.close();
      b.close();
    }
  });

  nets.it('an optional template ("level use"): without an SA the traffic leaves in the clear, with one as ESP', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32`, proto: 'udp' }, tmpls: [{ src: n.addr4, dst: REMOTE4, proto: 'esp', mode: 'transport', reqid: 33, optional: true }] });
    const s = sender(n);
    try {
      const clear = send(n, s, REMOTE4, 9030);
      x.addSa({ src: n.addr4, dst: REMOTE4, spi: 0x3300, reqid: 33, crypt: NULL_ENC });
      const protectedNow = send(n, s, REMOTE4, 9030);
      assert.deepEqual([clear, protectedNow], [{ result: 'ok', wire: [`udp ${REMOTE4}:9030`] }, { result: 'ok', wire: ['esp 3300/1'] }]);
    } finally {
      s.close();
    }
  });
});

describe('acquire: a policy whose SA does not exist yet', () => {
  nets.it('XFRM_MSG_ACQUIRE names the template and the flow; one per larval SA; the larval SA lives xfrm_acq_expires seconds', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    nets.sysctl('net.core.xfrm_acq_expires', 7);
    const ev = openXfrm({ groups: [XFRMNLGRP.ACQUIRE] });
    const s = sender(n, 4444);
    try {
      ev.nl.drain();
      x.addPolicy({ dir: 'out', sel: { src: `${n.addr4}/32`, dst: `${REMOTE4}/32`, proto: 'udp', dport: 9100 }, priority: 3, tmpls: [{ src: n.addr4, dst: REMOTE4, proto: 'esp', mode: 'tunnel', reqid: 9 }] });
      const pol = x.getPolicy({ dir: 'out', sel: { src: `${n.addr4}/32`, dst: `${REMOTE4}/32`, proto: 'udp', dport: 9100 } });
      const first = send(n, s, REMOTE4, 9100);
      const second = send(n, s, REMOTE4, 9100);
      const acq = ev.nl.drain().filter((m) => m.type === XFRM_MSG.ACQUIRE).map(decodeAcquire);
      assert.equal(acq.length, 1, 'one acquire while the larval SA exists');
      const a = acq[0]!;
      assert.deepEqual(
        [a.family, a.dst, a.src, a.proto, a.spi, a.sel.src, a.sel.dst, a.sel.proto, a.sel.sport, a.sel.dport, a.policy.dir, a.policy.priority, a.policy.index],
        ['inet', REMOTE4, n.addr4, 'esp', 0, `${n.addr4}/32`, `${REMOTE4}/32`, 17, 4444, 9100, 'out', 3, pol.index],
      );
      assert.deepEqual([first.wire, second.wire], [[], []], 'nothing leaves without the SA');
      const larval = x.sas();
      assert.deepEqual(larval.map((q) => [q.spi, q.dst, q.reqid, q.mode, q.lifetime.hardAddExpiresSeconds]), [[0, REMOTE4, 9, 'tunnel', 7n]]);
    } finally {
      s.close();
      ev.close();
    }
  });

  nets.it('xfrm_larval_drop=1 (default): packets without an SA are dropped, counted XfrmOutNoStates, and stay dropped', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    nets.sysctl('net.core.xfrm_larval_drop', 1);
    x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32`, proto: 'udp', dport: 9200 }, tmpls: [{ src: n.addr4, dst: REMOTE4, proto: 'esp', mode: 'transport', reqid: 12 }] });
    const s = sender(n);
    const st = xfrmStats()!;
    try {
      const before = [send(n, s, REMOTE4, 9200), send(n, s, REMOTE4, 9200)];
      x.addSa({ src: n.addr4, dst: REMOTE4, spi: 0x1200, reqid: 12, crypt: NULL_ENC });
      expectNone(n, { timeoutMs: 300, match: (p) => layer(p, 'esp') !== undefined });
      const after = send(n, s, REMOTE4, 9200);
      assert.deepEqual(before.map((b) => b.wire), [[], []]);
      assert.deepEqual(after, { result: 'ok', wire: ['esp 1200/1'] }, 'the first packet after the SA has sequence 1: nothing was queued');
      assert.equal(xfrmStatsDelta(st)['XfrmOutNoStates'], 2);
    } finally {
      s.close();
    }
  });

  nets.it('xfrm_larval_drop=0: packets wait for the SA and leave, in order, once it is added', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    nets.sysctl('net.core.xfrm_larval_drop', 0);
    x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32`, proto: 'udp', dport: 9300 }, tmpls: [{ src: n.addr4, dst: REMOTE4, proto: 'esp', mode: 'transport', reqid: 13 }] });
    const s = sender(n);
    try {
      const queued = [send(n, s, REMOTE4, 9300), send(n, s, REMOTE4, 9300)];
      assert.deepEqual(queued, [{ result: 'ok', wire: [] }, { result: 'ok', wire: [] }]);
      x.addSa({ src: n.addr4, dst: REMOTE4, spi: 0x1300, reqid: 13, crypt: NULL_ENC });
      const seqs = [1, 2].map(() => layer(nextPacket(n, (p) => layer(p, 'esp')?.spi === 0x1300, { timeoutMs: 3000, what: 'a queued packet leaving as ESP' }).packet, 'esp')!.seq);
      assert.deepEqual(seqs, [1, 2]);
    } finally {
      s.close();
    }
  });
});

describe('per-socket policies', () => {
  nets.it('IP_XFRM_POLICY out with a template: that socket\'s datagrams leave as ESP, another socket\'s in the clear', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addSa({ src: n.addr4, dst: REMOTE4, spi: 0x4000, reqid: 40, crypt: NULL_ENC });
    const a = sender(n);
    const b = sender(n);
    try {
      setSocketPolicy(a.fd, 'inet', { dir: 'out', sel: {}, tmpls: [{ proto: 'esp', mode: 'transport', reqid: 40 }] });
      assert.deepEqual([send(n, a, REMOTE4, 9400), send(n, b, REMOTE4, 9400), send(n, a, REMOTE4, 9401)], [
        { result: 'ok', wire: ['esp 4000/1'] }, { result: 'ok', wire: [`udp ${REMOTE4}:9400`] }, { result: 'ok', wire: ['esp 4000/2'] },
      ]);
    } finally {
      a.close();
      b.close();
    }
  });

  nets.it('IPV6_XFRM_POLICY out: an IPv6 socket\'s datagrams leave as ESP over IPv6', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addSa({ src: n.addr6, dst: REMOTE6, spi: 0x4600, reqid: 46, crypt: NULL_ENC });
    const s = udpSocket(6);
    try {
      s.setMark(n.mark);
      setSocketPolicy(s.fd, 'inet6', { dir: 'out', sel: { family: 'inet6' }, tmpls: [{ proto: 'esp', mode: 'transport', reqid: 46, family: 'inet6' }] });
      s.sendTo(Buffer.from('v6'), `[${REMOTE6}]:9460`);
      const p = nextPacket(n, (q) => layer(q, 'esp')?.spi === 0x4600, { what: 'ESP over IPv6' }).packet;
      assert.deepEqual([layer(p, 'ipv6')?.src, layer(p, 'ipv6')?.dst, layer(p, 'ipv6')?.nh, layer(p, 'esp')?.seq], [n.addr6, REMOTE6, 50, 1]);
    } finally {
      s.close();
    }
  });

  nets.it('a per-socket block: EPERM for that socket (XfrmOutPolBlock), nothing on the wire', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    const s = sender(n);
    const st = xfrmStats()!;
    try {
      setSocketPolicy(s.fd, 'inet', { dir: 'out', sel: {}, action: 'block' });
      assert.deepEqual(send(n, s, REMOTE4, 9500), { result: 'EPERM', wire: [] });
      assert.deepEqual(xfrmStatsDelta(st), { XfrmOutPolBlock: 1 });
    } finally {
      s.close();
    }
  });

  nets.it('a per-socket allow without templates bypasses a global block, for that socket only', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32` }, action: 'block' });
    const bypass = sender(n);
    const other = sender(n);
    try {
      setSocketPolicy(bypass.fd, 'inet', { dir: 'out', sel: {} });
      assert.deepEqual([send(n, bypass, REMOTE4, 9600), send(n, other, REMOTE4, 9600)], [{ result: 'ok', wire: [`udp ${REMOTE4}:9600`] }, { result: 'EPERM', wire: [] }]);
    } finally {
      bypass.close();
      other.close();
    }
  });

  nets.it('IP_XFRM_POLICY in with an ESP template: clear datagrams to that socket are dropped (XfrmInTmplMismatch), ESP ones delivered', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    x.addSa({ src: REMOTE4, dst: n.addr4, spi: 0x4700, crypt: NULL_ENC });
    const r = udpSocket(4);
    try {
      r.bind(`${n.addr4}:5700`);
      setSocketPolicy(r.fd, 'inet', { dir: 'in', sel: {}, tmpls: [{ proto: 'esp', mode: 'transport' }] });
      const st = xfrmStats()!;
      inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), udp({ sport: 1, dport: 5700 }), raw('clear')]);
      inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), { type: 'esp', spi: 0x4700, seq: 1, nullCipher: {} }, udp({ sport: 1, dport: 5700 }), raw('esp')]);
      assert.equal(r.recv({ timeoutMs: 1000 }).toString(), 'esp');
      assert.equal(code(() => r.recv({ timeoutMs: 0 })), 'EAGAIN');
      assert.deepEqual(xfrmStatsDelta(st), { XfrmInTmplMismatch: 1 });
    } finally {
      r.close();
    }
  });

  nets.it('a per-socket policy for the forward direction is refused; without CAP_NET_ADMIN any is EPERM', (t) => {
    if (skipped(t)) return;
    const s = udpSocket(4);
    try {
      // xfrm_user_policy() asks each key manager in turn and returns the last one's error:
      // xfrm_user's EINVAL, or PF_KEY's EOPNOTSUPP (it only knows IP_IPSEC_POLICY) when af_key is loaded.
      const pfkey = existsSync('/proc/net/pfkey');
      assert.equal(code(() => setSocketPolicy(s.fd, 'inet', { dir: 'fwd', sel: {} })), pfkey ? 'EOPNOTSUPP' : 'EINVAL');
    } finally {
      s.close();
    }
    const unpriv = asUser(20001, () => {
      const u = udpSocket(4);
      try {
        return code(() => setSocketPolicy(u.fd, 'inet', { dir: 'out', sel: {} }));
      } finally {
        u.close();
      }
    });
    assert.equal(unpriv, 'EPERM');
  });
});

describe('the default policy (XFRM_MSG_SETDEFAULT)', () => {
  function withDefault(fn: () => void): void {
    try {
      fn();
    } finally {
      setDefaultPolicy(x, { in: 'accept', fwd: 'accept', out: 'accept' });
    }
  }

  nets.it('it starts as accept in every direction and reads back what is set, one direction at a time', (t) => {
    if (skipped(t)) return;
    let initial;
    try {
      initial = getDefaultPolicy(x);
    } catch (e) {
      if (isNetlinkError(e)) return void t.skip(`no XFRM_MSG_GETDEFAULT here (Linux 5.16+): ${e.code}`);
      throw e;
    }
    assert.deepEqual(initial, { in: 'accept', fwd: 'accept', out: 'accept' });
    withDefault(() => {
      setDefaultPolicy(x, { out: 'block' });
      const a = getDefaultPolicy(x);
      setDefaultPolicy(x, { in: 'block' });
      const b = getDefaultPolicy(x);
      setDefaultPolicy(x, { fwd: 'block', out: 'accept' });
      const c = getDefaultPolicy(x);
      assert.deepEqual([a, b, c], [
        { in: 'accept', fwd: 'accept', out: 'block' },
        { in: 'block', fwd: 'accept', out: 'block' },
        { in: 'block', fwd: 'block', out: 'accept' },
      ]);
    });
  });

  nets.it('out block: traffic no policy matches is EPERM, loopback is exempt, a policy that allows still allows', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    withDefault(() => {
      setDefaultPolicy(x, { out: 'block' });
      const s = sender(n);
      const lo = udpSocket(4);
      const loRx = udpSocket(4);
      try {
        loRx.bind('127.0.0.1:0');
        const blocked = send(n, s, REMOTE4, 9700);
        lo.sendTo(Buffer.from('lo'), loRx.localAddress());
        assert.equal(loRx.recv({ timeoutMs: 1000 }).toString(), 'lo');
        x.addPolicy({ dir: 'out', sel: { dst: `${REMOTE4}/32` } });
        const allowed = send(n, s, REMOTE4, 9700);
        assert.deepEqual([blocked, allowed], [{ result: 'EPERM', wire: [] }, { result: 'ok', wire: [`udp ${REMOTE4}:9700`] }]);
      } finally {
        s.close();
        lo.close();
        loRx.close();
      }
    });
  });

  nets.it('in block: inbound traffic no policy matches is dropped (XfrmInNoPols); with accept it is delivered', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    const r = udpSocket(4);
    try {
      r.bind(`${n.addr4}:5800`);
      withDefault(() => {
        setDefaultPolicy(x, { in: 'block' });
        const st = xfrmStats()!;
        inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), udp({ sport: 1, dport: 5800 }), raw('blocked')]);
        setDefaultPolicy(x, { in: 'accept' });
        inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), udp({ sport: 1, dport: 5800 }), raw('accepted')]);
        assert.equal(r.recv({ timeoutMs: 1000 }).toString(), 'accepted');
        assert.equal(code(() => r.recv({ timeoutMs: 0 })), 'EAGAIN');
        assert.deepEqual(xfrmStatsDelta(st), { XfrmInNoPols: 1 });
      });
    } finally {
      r.close();
    }
  });

  nets.it('in block holds for IPv6 too; an inbound allow policy lets its traffic in', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    const r = udpSocket(6);
    try {
      r.bind(`[${n.addr6}]:5900`);
      withDefault(() => {
        setDefaultPolicy(x, { in: 'block' });
        inject(n, [ipv6({ src: REMOTE6, dst: n.addr6 }), udp({ sport: 1, dport: 5900 }), raw('blocked')]);
        x.addPolicy({ dir: 'in', sel: { src: `${REMOTE6}/128`, proto: 'udp', dport: 5900 } });
        inject(n, [ipv6({ src: REMOTE6, dst: n.addr6 }), udp({ sport: 1, dport: 5900 }), raw('allowed')]);
        assert.equal(r.recv({ timeoutMs: 1000 }).toString(), 'allowed');
        assert.equal(code(() => r.recv({ timeoutMs: 0 })), 'EAGAIN');
      });
    } finally {
      r.close();
    }
  });
});
