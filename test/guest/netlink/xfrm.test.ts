// xfrm against the real kernel: SAs and policies compared with `ip xfrm` both ways, SPI
// allocation, and ESP on the wire (global and per-socket policy), captured with a packet socket
// on the far end of a veth pair. SA tests skip when the kernel has no ESP (the host's kernel).
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { openRoute, type Rtnl } from '../../../src/lib/netlink/route.js';
import { openXfrm, setSocketPolicy, type SaSpec, type Xfrm } from '../../../src/lib/netlink/xfrm.js';
import { isNetlinkError } from '../../../src/lib/netlink/core.js';
import { packetSocket, udpSocket, type Socket } from '../../../src/lib/socket.js';
import { ETH_P_ALL } from '../../../src/lib/include/uapi/linux/if_ether.js';
import { ip } from './ip.js';

const A = 'nlx0';
const B = 'nlx1';
const LOCAL = '192.0.2.1';
const PEER = '192.0.2.99';
const AUTH_KEY = '0x' + '0123456789abcdef'.repeat(4);
const ENC_KEY = '0x' + 'fedcba9876543210'.repeat(2);
let rt: Rtnl;
let x: Xfrm;
let esp = true;

const sa = (over: Partial<SaSpec> = {}): SaSpec => ({
  src: LOCAL,
  dst: PEER,
  proto: 'esp',
  spi: 0x1001,
  mode: 'transport',
  reqid: 7,
  replayWindow: 32,
  auth: { name: 'hmac(sha256)', key: AUTH_KEY, truncLen: 128 },
  crypt: { name: 'cbc(aes)', key: ENC_KEY },
  ...over,
});

function needEsp(t: TestContext): boolean {
  if (!esp) t.skip('kernel has no ESP (CONFIG_INET_ESP)');
  return esp;
}

/** Send one UDP datagram from LOCAL and return the first IPv4 frame B sees for PEER. */
function sendAndCapture(payload: Buffer, prepare?: (s: Socket<'inet'>) => void): Buffer {
  const cap = packetSocket('raw', ETH_P_ALL);
  try {
    cap.bind({ ifindex: rt.index(B), protocol: ETH_P_ALL });
    const u = udpSocket(4);
    try {
      u.bind(`${LOCAL}:0`);
      prepare?.(u);
      u.sendTo(payload, `${PEER}:9`);
    } finally {
      u.close();
    }
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const f = cap.recv({ timeoutMs: Math.max(1, deadline - Date.now()) });
      // Ethernet II, IPv4, to PEER.
      if (f.length >= 34 && f.readUInt16BE(12) === 0x0800 && f.subarray(30, 34).equals(Buffer.from([192, 0, 2, 99]))) return f;
    }
    throw new Error('no IPv4 frame to the peer captured');
  } finally {
    cap.close();
  }
}

before(() => {
  rt = openRoute();
  rt.addLink({ name: A, kind: 'veth', peer: { name: B } });
  rt.setLink(A, { up: true });
  rt.setLink(B, { up: true });
  rt.addAddress({ dev: A, address: `${LOCAL}/24` });
  // A static neighbour: frames leave at once, without ARP.
  rt.addNeighbour({ dev: A, dst: PEER, lladdr: '02:00:00:00:00:99' });
  x = openXfrm();
  try {
    x.addSa(sa({ spi: 0x99 }));
    x.deleteSa({ dst: PEER, spi: 0x99 });
  } catch (e) {
    if (!isNetlinkError(e, 'EPROTONOSUPPORT')) throw e;
    esp = false;
  }
});

after(() => {
  try {
    x.flushPolicies();
    x.flushSas();
    rt.deleteLink(A);
  } finally {
    x.close();
    rt.close();
  }
});

describe('xfrm policies', () => {
  const sel = { src: `${LOCAL}/32`, dst: `${PEER}/32`, proto: 'udp', dport: 9 } as const;

  it('adds a policy with selector, mark, priority and template that ip xfrm shows', () => {
    x.addPolicy({ dir: 'out', sel, priority: 10, mark: { value: 5, mask: 0xff }, tmpls: [{ src: LOCAL, dst: PEER, proto: 'esp', mode: 'transport', reqid: 7 }] });
    const text = ip('xfrm', 'policy', 'show', 'dir', 'out');
    assert.match(text, /src 192\.0\.2\.1\/32 dst 192\.0\.2\.99\/32 proto udp dport 9/);
    assert.match(text, /dir out priority 10/);
    assert.match(text, /mark 0x5\/0xff/);
    assert.match(text, /tmpl src 192\.0\.2\.1 dst 192\.0\.2\.99\s+proto esp reqid 7 mode transport/);
    const p = x.getPolicy({ dir: 'out', sel, mark: { value: 5, mask: 0xff } });
    assert.deepEqual([p.dir, p.priority, p.sel.dst, p.sel.dport, p.mark, p.tmpls[0]?.reqid, p.tmpls[0]?.proto], ['out', 10, `${PEER}/32`, 9, { value: 5, mask: 0xff }, 7, 'esp']);
  });

  it('refuses a duplicate policy with EEXIST; update replaces; delete twice gives ENOENT', () => {
    assert.throws(() => x.addPolicy({ dir: 'out', sel, priority: 10, mark: { value: 5, mask: 0xff } }), (e) => isNetlinkError(e, 'EEXIST'));
    x.updatePolicy({ dir: 'out', sel, priority: 20, mark: { value: 5, mask: 0xff }, action: 'block' });
    assert.match(ip('xfrm', 'policy', 'show', 'dir', 'out'), /dir out action block priority 20/);
    x.deletePolicy({ dir: 'out', sel, mark: { value: 5, mask: 0xff } });
    assert.throws(() => x.deletePolicy({ dir: 'out', sel, mark: { value: 5, mask: 0xff } }), (e) => isNetlinkError(e, 'ENOENT'));
  });

  it('reads a policy ip xfrm adds, identically', () => {
    ip('xfrm', 'policy', 'add', 'src', '198.51.100.0/24', 'dst', '203.0.113.0/24', 'proto', 'tcp', 'dir', 'fwd', 'priority', '77', 'if_id', '0x33',
      'tmpl', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'mode', 'tunnel', 'reqid', '9', 'level', 'use');
    const p = x.policies().find((q) => q.dir === 'fwd' && q.priority === 77);
    assert.ok(p);
    assert.deepEqual(
      [p.sel.src, p.sel.dst, p.sel.proto, p.ifId, p.tmpls.length, p.tmpls[0]?.mode, p.tmpls[0]?.reqid, p.tmpls[0]?.optional, p.tmpls[0]?.dst],
      ['198.51.100.0/24', '203.0.113.0/24', 6, 0x33, 1, 'tunnel', 9, true, '192.0.2.2'],
    );
    x.deletePolicy({ dir: 'fwd', sel: { src: '198.51.100.0/24', dst: '203.0.113.0/24', proto: 'tcp' }, ifId: 0x33 });
    assert.equal(x.policies().filter((q) => q.dir === 'fwd').length, 0);
  });
});

describe('xfrm SAs', () => {
  it('allocates an SPI in the requested range', () => {
    const s = x.allocSpi({ src: LOCAL, dst: PEER, proto: 'esp', reqid: 3, min: 0x5000, max: 0x5fff });
    assert.ok(s.spi >= 0x5000 && s.spi <= 0x5fff, s.spi.toString(16));
    assert.match(ip('xfrm', 'state', 'show'), new RegExp(`spi 0x${s.spi.toString(16).padStart(8, '0')} reqid 3`));
    x.deleteSa({ dst: PEER, spi: s.spi });
  });

  it('adds an SA with algorithms, marks, output mark, if_id and replay window that ip xfrm shows', (t) => {
    if (!needEsp(t)) return;
    x.addSa(sa({ spi: 0x2002, mark: { value: 0x10, mask: 0xf0 }, outputMark: { value: 0x42, mask: 0xff }, ifId: 0x77 }));
    const text = ip('xfrm', 'state', 'show', 'spi', '0x2002');
    assert.match(text, /proto esp spi 0x00002002 reqid 7 mode transport/);
    assert.match(text, /replay-window 32/);
    assert.match(text, new RegExp(`auth-trunc hmac\\(sha256\\) ${AUTH_KEY} 128`));
    assert.match(text, new RegExp(`enc cbc\\(aes\\) ${ENC_KEY}`));
    assert.match(text, /mark 0x10\/0xf0/);
    assert.match(text, /output-mark 0x42\/0xff/);
    assert.match(text, /if_id 0x77/);
    const got = x.getSa({ dst: PEER, spi: 0x2002, mark: { value: 0x10, mask: 0xf0 } });
    assert.equal(got.auth?.key.toString('hex'), AUTH_KEY.slice(2));
    assert.equal(got.crypt?.key.toString('hex'), ENC_KEY.slice(2));
    assert.deepEqual([got.auth?.truncLen, got.mark, got.outputMark, got.ifId, got.replayWindow], [128, { value: 0x10, mask: 0xf0 }, { value: 0x42, mask: 0xff }, 0x77, 32]);
    assert.throws(() => x.addSa(sa({ spi: 0x2002, mark: { value: 0x10, mask: 0xf0 } })), (e) => isNetlinkError(e, 'EEXIST'));
    x.deleteSa({ dst: PEER, spi: 0x2002, mark: { value: 0x10, mask: 0xf0 } });
    assert.throws(() => x.getSa({ dst: PEER, spi: 0x2002, mark: { value: 0x10, mask: 0xf0 } }), (e) => isNetlinkError(e, 'ESRCH'));
  });

  it('adds an ESN SA with replay state and UDP encapsulation that ip xfrm shows', (t) => {
    if (!needEsp(t)) return;
    x.addSa(sa({
      spi: 0x2102,
      flags: ['esn'],
      replayWindow: 0,
      replayEsn: { replayWindow: 128, oseq: 5, seq: 3 },
      encap: { type: 'espinudp', sport: 4500, dport: 4501 },
    }));
    const text = ip('xfrm', 'state', 'show', 'spi', '0x2102');
    assert.match(text, /flag esn/);
    assert.match(text, /encap type espinudp sport 4500 dport 4501 addr 0\.0\.0\.0/);
    assert.match(text, /anti-replay esn context:/);
    assert.match(text, /replay_window 128/);
    const got = x.getSa({ dst: PEER, spi: 0x2102 });
    assert.deepEqual(
      [got.flags.includes('ESN'), got.replayEsn?.replayWindow, got.replayEsn?.oseq, got.replayEsn?.seq, got.encap?.type, got.encap?.sport, got.encap?.dport],
      [true, 128, 5, 3, 'espinudp', 4500, 4501],
    );
    x.deleteSa({ dst: PEER, spi: 0x2102 });
  });

  it('reads an AEAD SA with UDP encapsulation that ip xfrm adds, identically', (t) => {
    if (!needEsp(t)) return;
    const key = '0x' + '11'.repeat(20);
    try {
      ip('xfrm', 'state', 'add', 'src', LOCAL, 'dst', PEER, 'proto', 'esp', 'spi', '0x3003', 'reqid', '5', 'mode', 'tunnel',
        'aead', 'rfc4106(gcm(aes))', key, '128', 'encap', 'espinudp', '4500', '4501', '0.0.0.0');
    } catch (e) {
      return t.skip(`ip xfrm could not add an AEAD SA here: ${String(e).split('\n')[0]}`);
    }
    const s = x.sas().find((q) => q.spi === 0x3003);
    assert.ok(s);
    assert.deepEqual(
      [s.mode, s.reqid, s.aead?.name, s.aead?.key.toString('hex'), s.aead?.icvLen, s.encap?.type, s.encap?.sport, s.encap?.dport],
      ['tunnel', 5, 'rfc4106(gcm(aes))', key.slice(2), 128, 'espinudp', 4500, 4501],
    );
    x.deleteSa({ dst: PEER, spi: 0x3003 });
  });

  it('sends ESP on the wire through an SA and an output policy', (t) => {
    if (!needEsp(t)) return;
    x.addSa(sa({ spi: 0x4004 }));
    x.addPolicy({ dir: 'out', sel: { src: `${LOCAL}/32`, dst: `${PEER}/32`, proto: 'udp' }, tmpls: [{ src: LOCAL, dst: PEER, proto: 'esp', mode: 'transport', reqid: 7 }] });
    const marker = Buffer.from('plaintext-marker-4004');
    try {
      const f = sendAndCapture(marker);
      assert.equal(f[14 + 9], 50, 'IP protocol is ESP');
      const ihl = (f[14]! & 0xf) * 4;
      assert.equal(f.readUInt32BE(14 + ihl), 0x4004, 'SPI');
      assert.equal(f.indexOf(marker), -1, 'payload is not visible');
      assert.ok(x.getSa({ dst: PEER, spi: 0x4004 }).current.packets >= 1n);
    } finally {
      x.deletePolicy({ dir: 'out', sel: { src: `${LOCAL}/32`, dst: `${PEER}/32`, proto: 'udp' } });
    }
    // Without the policy the same datagram goes out in the clear.
    const plain = sendAndCapture(marker);
    assert.equal(plain[14 + 9], 17);
    assert.notEqual(plain.indexOf(marker), -1);
    x.deleteSa({ dst: PEER, spi: 0x4004 });
  });

  it('applies a per-socket policy (IP_XFRM_POLICY) to that socket only', (t) => {
    if (!needEsp(t)) return;
    x.addSa(sa({ spi: 0x5005 }));
    const marker = Buffer.from('per-socket-marker');
    const f = sendAndCapture(marker, (s) =>
      setSocketPolicy(s.fd, 'inet', { dir: 'out', sel: {}, tmpls: [{ src: LOCAL, dst: PEER, proto: 'esp', mode: 'transport', reqid: 7 }] }),
    );
    assert.equal(f[14 + 9], 50);
    assert.equal(f.indexOf(marker), -1);
    const other = sendAndCapture(marker);
    assert.equal(other[14 + 9], 17);
    x.flushSas('esp');
    assert.equal(x.sas().filter((q) => q.proto === 'esp').length, 0);
  });
});
