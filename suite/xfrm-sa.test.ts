// The SA database through xfrm netlink (net/xfrm/xfrm_user.c, xfrm_state.c): add, get, update,
// delete, flush and dump, field for field; the limits NEWSA checks at their edges (replay window,
// ESN bitmap); SPI allocation (exact SPI, taken, range, protocol limits) and the key manager's
// flow from a larval SA to a keyed one, checked on the wire; SAD counts and the notifications
// SA listeners receive.
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6 } from '../src/lib/networks.js';
import { nextPacket } from '../src/lib/expect.js';
import { isNetlinkError } from '../src/lib/netlink/core.js';
import { openXfrm, setSocketPolicy, XFRMNLGRP, type Sa, type SaSpec, type Xfrm } from '../src/lib/netlink/xfrm.js';
import { decodeDelsaNotification, decodeFlushSa, sadInfo, XFRM_MSG } from '../src/lib/netlink/xfrm-events.js';
import { decodeSa } from '../src/lib/netlink/xfrm.js';
import { udpSocket } from '../src/lib/socket.js';
import { espTransform, openEsp, saUnsupported } from '../src/lib/ipsec/index.js';
import { assertMatch, esp, ipv4, layer, parse, raw, udp } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });
let x: Xfrm;
let skip: string | undefined;

const GW = '203.0.113.2';
const NULL_ENC = { name: 'ecb(cipher_null)', key: Buffer.alloc(0) };
const AES = { name: 'cbc(aes)', key: Buffer.from('00112233445566778899aabbccddeeff', 'hex') };
const SHA = { name: 'hmac(sha256)', key: Buffer.alloc(32, 0x5a), truncLen: 128 };

before(() => {
  x = openXfrm();
  skip = saUnsupported(x, { crypt: NULL_ENC }, 'ESP');
});

function skipped(t: TestContext): boolean {
  if (skip) t.skip(skip);
  return skip !== undefined;
}

function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isNetlinkError(e)) return e.code;
    throw e;
  }
  return 'ok';
}

/** Each test starts from an empty SAD. */
function fresh(): void {
  x.flushSas();
  x.flushPolicies();
}

describe('adding and reading SAs', () => {
  nets.it('GETSA gives back every field NEWSA set: addresses, SPI, mode, reqid, flags, selector, algorithms, keys, lifetime, replay, marks, if_id, encapsulation, TFC pad, extra flags', (t) => {
    if (skipped(t)) return;
    fresh();
    const spec: SaSpec = {
      src: '198.51.100.2', dst: GW, proto: 'esp', spi: 0x12345678, mode: 'tunnel', reqid: 0x2a, replayWindow: 24, flags: ['noecn', 'decap_dscp'],
      sel: { src: '198.51.100.0/26', dst: '203.0.113.64/27', proto: 'udp', sport: 53, dport: 5353 },
      auth: SHA, crypt: AES, mark: { value: 0x10, mask: 0xf0 }, outputMark: { value: 0x700, mask: 0xf00 }, ifId: 0x77,
      encap: { type: 'espinudp', sport: 4500, dport: 4501 }, tfcPad: 1200, extraFlags: ['dont_encap_dscp'],
      lifetime: { softByteLimit: 1000n, hardByteLimit: 2000n, softPacketLimit: 10n, hardPacketLimit: 20n, softAddExpiresSeconds: 100n, hardAddExpiresSeconds: 200n, softUseExpiresSeconds: 50n, hardUseExpiresSeconds: 60n },
    };
    x.addSa(spec);
    const sa = x.getSa({ dst: GW, spi: 0x12345678, mark: { value: 0x10, mask: 0xf0 } });
    assert.deepEqual(
      {
        family: sa.family, src: sa.src, dst: sa.dst, proto: sa.proto, spi: sa.spi, mode: sa.mode, reqid: sa.reqid, replayWindow: sa.replayWindow,
        flags: sa.flags, sel: sa.sel, auth: sa.auth, crypt: sa.crypt, mark: sa.mark, outputMark: sa.outputMark, ifId: sa.ifId, encap: sa.encap,
        tfcPad: sa.tfcPad, extraFlags: sa.extraFlags, lifetime: sa.lifetime, current: { bytes: sa.current.bytes, packets: sa.current.packets }, stats: sa.stats,
      },
      {
        family: 'inet', src: '198.51.100.2', dst: GW, proto: 'esp', spi: 0x12345678, mode: 'tunnel', reqid: 0x2a, replayWindow: 24,
        flags: ['NOECN', 'DECAP_DSCP'],
        sel: { family: 'inet', src: '198.51.100.0/26', dst: '203.0.113.64/27', proto: 17, sport: 53, sportMask: 0xffff, dport: 5353, dportMask: 0xffff, ifindex: 0, user: 0 },
        auth: { name: 'hmac(sha256)', key: SHA.key, truncLen: 128 }, crypt: { name: 'cbc(aes)', key: AES.key },
        mark: { value: 0x10, mask: 0xf0 }, outputMark: { value: 0x700, mask: 0xf00 }, ifId: 0x77,
        encap: { type: 'espinudp', sport: 4500, dport: 4501, oa: '0.0.0.0' }, tfcPad: 1200, extraFlags: ['DONT_ENCAP_DSCP'],
        lifetime: spec.lifetime, current: { bytes: 0n, packets: 0n }, stats: { replayWindow: 0, replay: 0, integrityFailed: 0 },
      },
    );
    assert.ok(sa.current.addTime > 0n, 'add time set');
    assert.equal(sa.current.useTime, 0n, 'never used');
  });

  nets.it('an IPv6 SA with an AEAD reads back the same, its selector defaulting to the SA\'s family', (t) => {
    if (skipped(t)) return;
    fresh();
    const aead = { name: 'rfc4106(gcm(aes))', key: Buffer.alloc(20, 3), icvLen: 96 };
    x.addSa({ src: '2001:db8:1::2', dst: REMOTE6, spi: 0x600, mode: 'transport', reqid: 6, aead });
    const sa = x.getSa({ dst: REMOTE6, spi: 0x600 });
    assert.deepEqual([sa.family, sa.src, sa.dst, sa.mode, sa.reqid, sa.aead, sa.crypt, sa.auth, sa.sel.family, sa.sel.src, sa.sel.dst], ['inet6', '2001:db8:1::2', REMOTE6, 'transport', 6, aead, undefined, undefined, 'inet6', '::/0', '::/0']);
  });

  nets.it('GETSA with another SPI, protocol, destination or mark is ESRCH', (t) => {
    if (skipped(t)) return;
    fresh();
    x.addSa({ src: '198.51.100.2', dst: GW, spi: 0x700, crypt: NULL_ENC, mark: { value: 5, mask: 0xff } });
    const mark = { value: 5, mask: 0xff };
    assert.equal(x.getSa({ dst: GW, spi: 0x700, mark }).spi, 0x700);
    assert.deepEqual(
      [
        errno(() => x.getSa({ dst: GW, spi: 0x701, mark })),
        errno(() => x.getSa({ dst: GW, spi: 0x700, proto: 'comp', mark })),
        errno(() => x.getSa({ dst: REMOTE4, spi: 0x700, mark })),
        errno(() => x.getSa({ dst: GW, spi: 0x700, mark: { value: 6, mask: 0xff } })),
        errno(() => x.getSa({ dst: GW, spi: 0x700 })),
      ],
      ['ESRCH', 'ESRCH', 'ESRCH', 'ESRCH', 'ESRCH'],
    );
  });

  nets.it('NEWSA of an existing destination, SPI and protocol is EEXIST, whatever the source; an unmarked SA (mask 0) collides with every mark, a marked one only with its own', (t) => {
    if (skipped(t)) return;
    fresh();
    const base = { src: '198.51.100.2', dst: GW, spi: 0x800, crypt: NULL_ENC };
    x.addSa(base);
    assert.deepEqual(
      [errno(() => x.addSa(base)), errno(() => x.addSa({ ...base, src: '198.51.100.3' })), errno(() => x.addSa({ ...base, mark: { value: 1, mask: 0xff } }))],
      ['EEXIST', 'EEXIST', 'EEXIST'],
    );
    x.flushSas();
    x.addSa({ ...base, mark: { value: 1, mask: 0xff } });
    assert.deepEqual(
      [errno(() => x.addSa({ ...base, mark: { value: 1, mask: 0xff } })), errno(() => x.addSa({ ...base, mark: { value: 2, mask: 0xff } }))],
      ['EEXIST', 'ok'],
    );
    assert.deepEqual(x.sas().filter((s) => s.spi === 0x800).map((s) => s.mark?.value).sort(), [1, 2]);
    assert.equal(x.getSa({ dst: GW, spi: 0x800, mark: { value: 2, mask: 0xff } }).mark?.value, 2);
  });

  nets.it('the dump lists each SA once and SADINFO counts them: 0, 5, 4 after a delete, 0 after a flush', (t) => {
    if (skipped(t)) return;
    fresh();
    const count = (): [number, number] => [x.sas().length, sadInfo(x).count];
    assert.deepEqual(count(), [0, 0]);
    for (let i = 0; i < 5; i++) x.addSa({ src: '198.51.100.2', dst: GW, spi: 0x900 + i, crypt: NULL_ENC });
    assert.deepEqual(count(), [5, 5]);
    assert.deepEqual(x.sas().map((s) => s.spi).sort(), [0x900, 0x901, 0x902, 0x903, 0x904]);
    x.deleteSa({ dst: GW, spi: 0x902 });
    assert.deepEqual(count(), [4, 4]);
    x.flushSas();
    assert.deepEqual(count(), [0, 0]);
  });
});

describe('limits NEWSA checks, at their edges', () => {
  nets.it('a legacy replay window holds at most 32: 31 and 32 are kept, 33 and 255 become 32', (t) => {
    if (skipped(t)) return;
    fresh();
    const got = [31, 32, 33, 255].map((w, i) => {
      x.addSa({ src: '198.51.100.2', dst: GW, spi: 0xa00 + i, crypt: NULL_ENC, replayWindow: w });
      return x.getSa({ dst: GW, spi: 0xa00 + i }).replayWindow;
    });
    assert.deepEqual(got, [31, 32, 32, 32]);
  });

  nets.it('ESN needs the ESN replay attribute, a window above 0 and no legacy window (EINVAL otherwise)', (t) => {
    if (skipped(t)) return;
    fresh();
    const esn = (over: Partial<SaSpec>): string => errno(() => x.addSa({ src: '198.51.100.2', dst: GW, spi: 0xb00, crypt: AES, auth: SHA, flags: ['esn'], ...over }));
    assert.deepEqual(
      [esn({}), esn({ replayEsn: { replayWindow: 0 } }), esn({ replayEsn: { replayWindow: 64 }, replayWindow: 32 }), esn({ replayEsn: { replayWindow: 1 } })],
      ['EINVAL', 'EINVAL', 'EINVAL', 'ok'],
    );
    assert.deepEqual(x.getSa({ dst: GW, spi: 0xb00 }).replayEsn, { oseq: 0, seq: 0, oseqHi: 0, seqHi: 0, replayWindow: 1, bmpLen: 1 });
  });

  nets.it('an ESN window must fit its bitmap: 4 words hold 127 and 128, not 129', (t) => {
    if (skipped(t)) return;
    fresh();
    const got = [127, 128, 129].map((w, i) => errno(() => x.addSa({ src: '198.51.100.2', dst: GW, spi: 0xc00 + i, crypt: AES, auth: SHA, flags: ['esn'], replayEsn: { replayWindow: w, bmpLen: 4 } })));
    assert.deepEqual(got, ['ok', 'ok', 'EINVAL']);
  });

  nets.it('the replay bitmap is at most 128 words (4096 packets): 127 and 128 accepted, 129 EINVAL', (t) => {
    if (skipped(t)) return;
    fresh();
    const got = [127, 128, 129].map((b, i) => errno(() => x.addSa({ src: '198.51.100.2', dst: GW, spi: 0xd00 + i, crypt: AES, auth: SHA, flags: ['esn'], replayEsn: { replayWindow: 32, bmpLen: b } })));
    assert.deepEqual(got, ['ok', 'ok', 'EINVAL']);
    assert.equal(x.getSa({ dst: GW, spi: 0xd01 }).replayEsn?.bmpLen, 128);
  });
});

describe('updating and deleting SAs', () => {
  nets.it('UPDSA replaces the lifetime and the output mark; keys, reqid and replay window stay as they were', (t) => {
    if (skipped(t)) return;
    fresh();
    x.addSa({ src: '198.51.100.2', dst: GW, spi: 0xe00, crypt: AES, reqid: 1, replayWindow: 4, lifetime: { hardPacketLimit: 10n }, outputMark: { value: 1, mask: 0xff } });
    x.updateSa({ src: '198.51.100.2', dst: GW, spi: 0xe00, crypt: { name: 'cbc(aes)', key: Buffer.alloc(16, 9) }, reqid: 2, replayWindow: 8, lifetime: { hardPacketLimit: 20n }, outputMark: { value: 2, mask: 0xff } });
    const sa = x.getSa({ dst: GW, spi: 0xe00 });
    assert.deepEqual([sa.crypt?.key, sa.reqid, sa.replayWindow, sa.lifetime.hardPacketLimit, sa.outputMark], [AES.key, 1, 4, 20n, { value: 2, mask: 0xff }]);
  });

  nets.it('UPDSA of an absent SA is ESRCH; adding UDP encapsulation by UPDSA is EINVAL', (t) => {
    if (skipped(t)) return;
    fresh();
    x.addSa({ src: '198.51.100.2', dst: GW, spi: 0xe10, crypt: AES });
    assert.equal(errno(() => x.updateSa({ src: '198.51.100.2', dst: GW, spi: 0xe11, crypt: AES })), 'ESRCH');
    assert.equal(errno(() => x.updateSa({ src: '198.51.100.2', dst: GW, spi: 0xe10, crypt: AES, encap: { sport: 4500, dport: 4500 } })), 'EINVAL');
    assert.equal(x.getSa({ dst: GW, spi: 0xe10 }).encap, undefined);
  });

  nets.it('DELSA removes the SA: GETSA and a second DELSA are then ESRCH, its neighbours stay', (t) => {
    if (skipped(t)) return;
    fresh();
    for (const spi of [0xf00, 0xf01]) x.addSa({ src: '198.51.100.2', dst: GW, spi, crypt: AES });
    x.deleteSa({ dst: GW, spi: 0xf00 });
    assert.deepEqual([errno(() => x.getSa({ dst: GW, spi: 0xf00 })), errno(() => x.deleteSa({ dst: GW, spi: 0xf00 })), x.getSa({ dst: GW, spi: 0xf01 }).spi], ['ESRCH', 'ESRCH', 0xf01]);
  });

  nets.it('FLUSHSA by protocol: flushing ESP leaves the IPcomp SA, flushing all leaves none', (t) => {
    if (skipped(t)) return;
    fresh();
    x.addSa({ src: '198.51.100.2', dst: GW, spi: 0x1000, crypt: AES });
    x.addSa({ src: '198.51.100.2', dst: GW, spi: 0x1001, crypt: AES });
    try {
      x.addSa({ src: '198.51.100.2', dst: GW, proto: 'comp', spi: 0x1002, comp: { name: 'deflate' } });
    } catch (e) {
      if (isNetlinkError(e, 'EPROTONOSUPPORT') || isNetlinkError(e, 'ENOSYS')) return void t.skip(`no IPcomp here (CONFIG_INET_IPCOMP): ${e.message}`);
      throw e;
    }
    x.flushSas('esp');
    assert.deepEqual(x.sas().map((s) => [s.proto, s.spi, s.comp?.name]), [['comp', 0x1002, 'deflate']]);
    x.flushSas();
    assert.deepEqual(x.sas(), []);
  });
});

describe('SPI allocation', () => {
  nets.it('ALLOCSPI with min = max gives exactly that SPI, a larval SA with the reqid and mode and no algorithms', (t) => {
    if (skipped(t)) return;
    fresh();
    const a = x.allocSpi({ src: '198.51.100.2', dst: GW, reqid: 31, mode: 'tunnel', min: 0x4242, max: 0x4242 });
    assert.equal(a.spi, 0x4242);
    const listed = x.sas();
    assert.deepEqual(listed.map((s) => [s.spi, s.src, s.dst, s.reqid, s.mode, s.crypt, s.auth, s.aead]), [[0x4242, '198.51.100.2', GW, 31, 'tunnel', undefined, undefined, undefined]]);
  });

  nets.it('ALLOCSPI of an SPI in use is ENOENT, with min > max or a non-IPsec protocol EINVAL; IPcomp CPIs stop at 0xffff', (t) => {
    if (skipped(t)) return;
    fresh();
    x.addSa({ src: '198.51.100.2', dst: GW, spi: 0x5000, crypt: AES });
    const alloc = (min: number, max: number, proto: SaSpec['proto'] = 'esp', reqid = 1): string => errno(() => x.allocSpi({ src: '198.51.100.2', dst: GW, proto, reqid, min, max }));
    assert.deepEqual(
      [alloc(0x5000, 0x5000), alloc(0x5002, 0x5001), alloc(0x5001, 0x5001), alloc(0x100, 0x100, 17, 2), alloc(0xffff, 0xffff, 'comp', 3), alloc(0xfffe, 0x10000, 'comp', 4)],
      ['ENOENT', 'EINVAL', 'ok', 'EINVAL', 'ok', 'EINVAL'],
    );
  });

  nets.it('ALLOCSPI over a range stays inside it and never repeats an SPI (8 allocations in 4096)', (t) => {
    if (skipped(t)) return;
    fresh();
    const spis = Array.from({ length: 8 }, (_, i) => x.allocSpi({ src: '198.51.100.2', dst: GW, reqid: 100 + i, min: 0x10000, max: 0x10fff }).spi);
    assert.ok(spis.every((s) => s >= 0x10000 && s <= 0x10fff), spis.map((s) => s.toString(16)).join(' '));
    assert.equal(new Set(spis).size, 8);
    assert.equal(sadInfo(x).count, 8);
  });

  nets.it('UPDSA keys the larval SA ALLOCSPI made: the same SPI then carries traffic, sequence 1', (t) => {
    if (skipped(t)) return;
    fresh();
    const n = nets.net(1);
    const larval = x.allocSpi({ src: n.addr4, dst: REMOTE4, reqid: 77, min: 0x7700, max: 0x77ff });
    const keyed: SaSpec = { src: n.addr4, dst: REMOTE4, spi: larval.spi, reqid: 77, mode: 'transport', crypt: AES, auth: SHA };
    x.updateSa(keyed);
    const sa = x.getSa({ dst: REMOTE4, spi: larval.spi });
    assert.deepEqual([sa.crypt?.name, sa.auth?.name, sa.reqid], ['cbc(aes)', 'hmac(sha256)', 77]);
    assert.equal(x.sas().length, 1, 'the larval SA became the keyed one, not a second SA');
    const s = udpSocket(4);
    try {
      s.setMark(n.mark);
      setSocketPolicy(s.fd, 'inet', { dir: 'out', sel: {}, tmpls: [{ proto: 'esp', mode: 'transport', reqid: 77 }] });
      s.sendTo(Buffer.from('keyed'), `${REMOTE4}:7777`);
      const { frame } = nextPacket(n, (p) => layer(p, 'esp')?.spi === larval.spi, { what: `ESP with the allocated SPI 0x${larval.spi.toString(16)}` });
      const { packet } = openEsp(parse(frame.subarray(14), 'ip'), espTransform(keyed));
      assertMatch(packet, [ipv4({ src: n.addr4, dst: REMOTE4, df: true }), esp({ spi: larval.spi, seq: 1, nullCipher: {} }), udp({ sport: s.localAddress().port, dport: 7777 }), raw('keyed')], { ignore: ['ipv4.id', 'esp.nullCipher'] });
    } finally {
      s.close();
    }
  });
});

describe('SA notifications (XFRMNLGRP_SA)', () => {
  nets.it('a listener hears NEWSA, UPDSA, DELSA and FLUSHSA in order, each with the SA it concerns', (t) => {
    if (skipped(t)) return;
    fresh();
    const ev = openXfrm({ groups: [XFRMNLGRP.SA] });
    try {
      ev.nl.drain();
      const spec: SaSpec = { src: '198.51.100.2', dst: GW, spi: 0x2100, reqid: 5, crypt: AES, mark: { value: 3, mask: 0xff } };
      x.addSa(spec);
      x.updateSa({ ...spec, lifetime: { hardPacketLimit: 99n } });
      x.deleteSa({ dst: GW, spi: 0x2100, mark: { value: 3, mask: 0xff } });
      x.addSa({ ...spec, spi: 0x2101 });
      x.flushSas('esp');
      const got = ev.nl.drain();
      assert.deepEqual(got.map((m) => m.type), [XFRM_MSG.NEWSA, XFRM_MSG.UPDSA, XFRM_MSG.DELSA, XFRM_MSG.NEWSA, XFRM_MSG.FLUSHSA]);
      const [added, updated, deleted] = [decodeSa(got[0]!), decodeSa(got[1]!), decodeDelsaNotification(got[2]!)];
      const brief = (s: Sa): unknown[] => [s.spi, s.dst, s.reqid, s.crypt?.key, s.mark, s.lifetime.hardPacketLimit];
      assert.deepEqual(brief(added), [0x2100, GW, 5, AES.key, { value: 3, mask: 0xff }, 0xffffffffffffffffn]);
      assert.deepEqual(brief(updated), [0x2100, GW, 5, AES.key, { value: 3, mask: 0xff }, 99n]);
      assert.deepEqual(brief(deleted), [0x2100, GW, 5, AES.key, { value: 3, mask: 0xff }, 99n]);
      assert.equal(decodeFlushSa(got[4]!), 50, 'flushed protocol: ESP');
    } finally {
      ev.close();
    }
  });

  nets.it('a listener on the policy group hears nothing of SA changes', (t) => {
    if (skipped(t)) return;
    fresh();
    const ev = openXfrm({ groups: [XFRMNLGRP.POLICY] });
    try {
      ev.nl.drain();
      x.addSa({ src: '198.51.100.2', dst: GW, spi: 0x2200, crypt: AES });
      x.deleteSa({ dst: GW, spi: 0x2200 });
      assert.deepEqual(ev.nl.drain().map((m) => m.type), []);
    } finally {
      ev.close();
    }
  });
});
