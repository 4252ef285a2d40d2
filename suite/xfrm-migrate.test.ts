// XFRM_MSG_MIGRATE (CONFIG_XFRM_MIGRATE; xfrm_migrate()): a key manager moves a tunnel to new
// endpoints, as MOBIKE does when a host changes networks. The SA is cloned to the new addresses
// with its keys, sequence numbers and counters; the policy's templates follow; the next packet
// leaves from the new network. Also the XFRMNLGRP_MIGRATE notification and the checks that
// refuse a migration (no policy, unspecified or duplicated addresses).
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, type Network } from '../src/lib/networks.js';
import { expectNone, nextPacket } from '../src/lib/expect.js';
import { openXfrm, XFRMNLGRP, type SaSpec, type Xfrm } from '../src/lib/netlink/xfrm.js';
import { decodeMigrate, migrate, XFRM_MSG, type Migration } from '../src/lib/netlink/xfrm-events.js';
import { udpSocket } from '../src/lib/socket.js';
import { espTransform, openEsp, saUnsupported } from '../src/lib/ipsec/index.js';
import { layer, parse } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 2 });
let x: Xfrm;
let skip: string | undefined;
const AEAD = { name: 'rfc4106(gcm(aes))', key: Buffer.alloc(20, 0x42), icvLen: 128 };
/** The inner peer, and the gateway the tunnel moves to (routed through net2). */
const PEER = '203.0.113.79';
const NEWGW = '203.0.113.12';

before(() => {
  x = openXfrm();
  const n1 = nets.net(1);
  const n2 = nets.net(2);
  skip = saUnsupported(x, { mode: 'tunnel', aead: AEAD }, 'ESP tunnel mode with rfc4106(gcm(aes))');
  if (skip) return;
  try {
    migrate(x, { sel: { family: 4 }, dir: 'out', migrations: [{ oldSrc: '192.0.2.1', oldDst: '192.0.2.2', newSrc: '192.0.2.3', newDst: '192.0.2.4', proto: 'esp', mode: 'tunnel' }] });
  } catch (e) {
    // ENOENT (no such policy) means the call is there; ENOPROTOOPT, that the kernel lacks it.
    if ((e as { code?: string }).code !== 'ENOENT') skip = `no XFRM_MSG_MIGRATE here (CONFIG_XFRM_MIGRATE): ${(e as Error).message.split('\n')[0]}`;
  }
  // Outer packets carry no mark (no output mark): route each gateway by address.
  nets.addRule({ family: 'inet', priority: 90, dst: `${REMOTE4}/32`, table: n1.table });
  nets.addRule({ family: 'inet', priority: 90, dst: `${NEWGW}/32`, table: n2.table });
});

function skipped(t: TestContext): boolean {
  if (skip) t.skip(skip);
  return skip !== undefined;
}

let nextSpi = 0x6000;
const SEL = { dst: `${PEER}/32` };

/** An outbound tunnel from net1 to REMOTE4 for traffic to PEER: the SA and its policy. */
function tunnel(n1: Network): SaSpec {
  x.flushPolicies();
  x.flushSas();
  const reqid = nextSpi;
  const sa: SaSpec = { src: n1.addr4, dst: REMOTE4, spi: nextSpi++, mode: 'tunnel', reqid, aead: AEAD, sel: { family: 4 } };
  x.addSa(sa);
  x.addPolicy({ dir: 'out', sel: SEL, tmpls: [{ src: n1.addr4, dst: REMOTE4, proto: 'esp', mode: 'tunnel', reqid }] });
  return sa;
}

const move = (n1: Network, n2: Network, sa: SaSpec): Migration => ({ oldSrc: n1.addr4, oldDst: REMOTE4, newSrc: n2.addr4, newDst: NEWGW, proto: 'esp', mode: 'tunnel', reqid: sa.reqid! });

function send(n1: Network, text: string): void {
  const s = udpSocket(4);
  try {
    s.setMark(n1.mark);
    s.sendTo(Buffer.from(text), `${PEER}:9`);
  } finally {
    s.close();
  }
}

/** The next ESP packet with `spi` on `n`: outer addresses, sequence number, inner text (opened with `sa`'s key). */
function espOn(n: Network, sa: SaSpec): { src: string; dst: string; seq: number; text: string } {
  const f = nextPacket(n, (p) => layer(p, 'esp')?.spi === sa.spi).frame.subarray(14);
  const p = parse(f, 'ip');
  const outer = p[0]!;
  const { packet, esp } = openEsp(p, espTransform(sa));
  const body = packet.at(-1);
  return {
    src: outer.type === 'ipv4' ? outer.src : '',
    dst: outer.type === 'ipv4' ? outer.dst : '',
    seq: esp.seq,
    text: body?.type === 'raw' ? Buffer.from(body.data).toString() : '',
  };
}

const exists = (dst: string, spi: number): boolean => {
  try {
    x.getSa({ dst, spi });
    return true;
  } catch {
    return false;
  }
};

describe('a tunnel moves to another network', () => {
  nets.it('after two packets from net1, MIGRATE to net2: the third leaves on net2 from the new addresses, same SPI and key, sequence 3', (t) => {
    if (skipped(t)) return;
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const sa = tunnel(n1);
    send(n1, 'one');
    send(n1, 'two');
    assert.deepEqual([espOn(n1, sa).seq, espOn(n1, sa).seq], [1, 2]);
    migrate(x, { sel: SEL, dir: 'out', migrations: [move(n1, n2, sa)] });
    send(n1, 'three');
    assert.deepEqual(espOn(n2, sa), { src: n2.addr4, dst: NEWGW, seq: 3, text: 'three' });
    expectNone(n1, { timeoutMs: 50, match: (p) => layer(p, 'esp') !== undefined });
  });

  nets.it('the SA is gone from the old address and at the new one with its counters (2 packets) and reqid; the template names the new addresses', (t) => {
    if (skipped(t)) return;
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const sa = tunnel(n1);
    send(n1, 'one');
    send(n1, 'two');
    migrate(x, { sel: SEL, dir: 'out', migrations: [move(n1, n2, sa)] });
    assert.equal(exists(REMOTE4, sa.spi), false);
    const moved = x.getSa({ dst: NEWGW, spi: sa.spi });
    assert.deepEqual([moved.src, moved.reqid, moved.current.packets, moved.replay?.oseq, moved.aead?.key], [n2.addr4, sa.reqid, 2n, 2, AEAD.key]);
    const pol = x.getPolicy({ dir: 'out', sel: SEL });
    assert.deepEqual(pol.tmpls.map((q) => [q.src, q.dst, q.reqid]), [[n2.addr4, NEWGW, sa.reqid]]);
  });

  nets.it('a migration for a template without an SA still moves the policy (no SA is created)', (t) => {
    if (skipped(t)) return;
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const sa = tunnel(n1);
    x.flushSas();
    migrate(x, { sel: SEL, dir: 'out', migrations: [move(n1, n2, sa)] });
    assert.deepEqual(x.getPolicy({ dir: 'out', sel: SEL }).tmpls.map((q) => [q.src, q.dst]), [[n2.addr4, NEWGW]]);
    assert.deepEqual(x.sas(), []);
  });

  nets.it('XFRMNLGRP_MIGRATE hears the selector, direction, each migration and the key manager addresses', (t) => {
    if (skipped(t)) return;
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const sa = tunnel(n1);
    const ev = openXfrm({ groups: [XFRMNLGRP.MIGRATE] });
    try {
      ev.nl.drain();
      migrate(x, { sel: SEL, dir: 'out', migrations: [move(n1, n2, sa)], kmaddress: { local: n2.addr4, remote: NEWGW } });
      const m = decodeMigrate(ev.nl.waitFor((q) => q.type === XFRM_MSG.MIGRATE, 2000));
      assert.deepEqual([m.sel.dst, m.dir, m.migrations, m.kmaddress], [`${PEER}/32`, 'out', [{ ...move(n1, n2, sa) }], { local: n2.addr4, remote: NEWGW }]);
    } finally {
      ev.close();
    }
  });
});

describe('refused migrations', () => {
  const errno = (fn: () => void): string => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      return (e as { code?: string }).code ?? String(e);
    }
  };

  nets.it('no policy with that selector and direction: ENOENT, the SA stays where it was', (t) => {
    if (skipped(t)) return;
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const sa = tunnel(n1);
    assert.equal(errno(() => migrate(x, { sel: SEL, dir: 'in', migrations: [move(n1, n2, sa)] })), 'ENOENT');
    assert.equal(errno(() => migrate(x, { sel: { dst: `${PEER}/31` }, dir: 'out', migrations: [move(n1, n2, sa)] })), 'ENOENT');
    assert.deepEqual([exists(REMOTE4, sa.spi), exists(NEWGW, sa.spi)], [true, false]);
  });

  nets.it('an unspecified new address (0.0.0.0) or the same migration twice: EINVAL, nothing moves', (t) => {
    if (skipped(t)) return;
    const [n1, n2] = [nets.net(1), nets.net(2)];
    const sa = tunnel(n1);
    assert.equal(errno(() => migrate(x, { sel: SEL, dir: 'out', migrations: [{ ...move(n1, n2, sa), newSrc: '0.0.0.0' }] })), 'EINVAL');
    assert.equal(errno(() => migrate(x, { sel: SEL, dir: 'out', migrations: [move(n1, n2, sa), move(n1, n2, sa)] })), 'EINVAL');
    assert.deepEqual([exists(REMOTE4, sa.spi), x.getPolicy({ dir: 'out', sel: SEL }).tmpls[0]?.dst], [true, REMOTE4]);
  });
});
