// Netlink core: attribute and message framing, extended ACK parsing, and the request/dump/
// notification logic driven through a scripted transport.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attrSet, attrs, encodeAttr, nla, parseAttrs, NLA_F_NESTED } from '../../../src/lib/netlink/attr.js';
import { encodeMessage, parseAck, parseMessages } from '../../../src/lib/netlink/message.js';
import { openNetlink, isNetlinkError, type Transport } from '../../../src/lib/netlink/core.js';
import { bytesToIp, ipToBytes, parsePrefix } from '../../../src/lib/addr.js';
import { flagNames, nameOf, valueOf } from '../../../src/lib/names.js';
import { isSysError } from '../../../src/lib/sys/error.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');

describe('attributes', () => {
  it('pads to 4 bytes but nla_len excludes the pad', () => {
    assert.deepEqual(nla.str(3, 'lo'), hex('0700 0300 6c6f00 00'));
    assert.deepEqual(nla.u8(1, 7), hex('0500 0100 07 000000'));
    assert.deepEqual(nla.flag(9), hex('0400 0900'));
    assert.deepEqual(nla.be16(2, 0x1234), hex('0600 0200 1234 0000'));
    assert.deepEqual(nla.u64(4, 1n << 40n), hex('0c00 0400 0000000000010000'));
  });

  it('nests, optionally with NLA_F_NESTED, and skips absent attributes', () => {
    const n = nla.nest(5, [nla.u32(1, 1), undefined, false, nla.u16(2, 2)], true);
    assert.deepEqual(n, hex('1400 0580 | 0800 0100 01000000 | 0600 0200 0200 0000'));
    const [outer] = parseAttrs(n);
    assert.equal(outer?.type, 5);
    assert.equal(outer?.nested, true);
    const inner = attrSet(n).nested(5);
    assert.equal(inner?.u32(1), 1);
    assert.equal(inner?.u16(2), 2);
    assert.equal(inner?.u32(3), undefined);
    assert.equal(NLA_F_NESTED, 0x8000);
  });

  it('round-trips a run of attributes; the last duplicate wins in a set', () => {
    const buf = attrs([nla.str(1, 'abc'), nla.u32(2, 5), nla.u32(2, 6), nla.ip(3, '2001:db8::1')]);
    const s = attrSet(buf);
    assert.equal(s.str(1), 'abc');
    assert.equal(s.u32(2), 6);
    assert.deepEqual(s.all(2).map((b) => b.readUInt32LE(0)), [5, 6]);
    assert.equal(s.ip(3), '2001:db8::1');
  });

  it('rejects an attribute running past the buffer', () => {
    assert.throws(() => parseAttrs(hex('0c00 0100 0000')), RangeError);
    assert.throws(() => encodeAttr(1, Buffer.alloc(70000)), RangeError);
  });
});

describe('messages', () => {
  it('frames and splits several messages in one datagram', () => {
    const a = encodeMessage({ type: 16, flags: 2, seq: 7, pid: 99 }, Buffer.from([1, 2, 3]));
    const b = encodeMessage({ type: 3, flags: 2, seq: 7, pid: 99 }, Buffer.alloc(4));
    assert.equal(a.readUInt32LE(0), 19);
    assert.equal(a.length, 20);
    const [m1, m2] = parseMessages(Buffer.concat([a, b]));
    assert.deepEqual([m1?.type, m1?.payload.length, m2?.type, m2?.seq], [16, 3, 3, 7]);
  });

  it('decodes a capped NLMSG_ERROR with extack message and offset', () => {
    // error -17, request header (len 44, RTM_NEWROUTE, seq 5), then MSG "boom" and OFFS 28.
    const payload = hex('efffffff | 2c000000 1800 0506 05000000 00000000 | 0900 0100 626f6f6d00 000000 | 0800 0200 1c000000');
    const ack = parseAck({ type: 2, flags: 0x100 | 0x200, seq: 5, pid: 1, payload });
    assert.deepEqual([ack.errno, ack.code, ack.extack, ack.offset, ack.request.type], [17, 'EEXIST', 'boom', 28, 24]);
  });

  it('skips the echoed request in an uncapped NLMSG_ERROR', () => {
    const req = encodeMessage({ type: 24, flags: 5, seq: 5, pid: 0 }, Buffer.alloc(12));
    const payload = Buffer.concat([hex('eaffffff'), req, hex('0800 0100 78797a00')]);
    const ack = parseAck({ type: 2, flags: 0x200, seq: 5, pid: 1, payload });
    assert.deepEqual([ack.code, ack.extack], ['EINVAL', 'xyz']);
  });
});

describe('addresses and names', () => {
  it('prints IPv6 the way iproute2 does (RFC 5952)', () => {
    for (const a of ['2001:db8::1', '::', '::1', '2001:db8:0:1:1:1:1:1', '2001:0:0:1::1', 'fe80::54ff:f9ff:fe26:d19f', '::ffff:192.0.2.1']) {
      assert.equal(bytesToIp(ipToBytes(a)), a);
    }
    assert.equal(bytesToIp(ipToBytes('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
    assert.equal(bytesToIp(ipToBytes('2001:DB8:0:0:0:0:0:1')), '2001:db8::1');
    assert.deepEqual(parsePrefix('192.0.2.0/24').len, 24);
    assert.throws(() => parsePrefix('192.0.2.0/33'), RangeError);
  });

  it('names values and flag bits, and parses names back', () => {
    const T = { BASE: 16, NEWLINK: 16, UP: 1, RUNNING: 0x40 } as const;
    assert.equal(nameOf(T, 16), 'newlink');
    assert.equal(nameOf(T, 99), 99);
    assert.deepEqual(flagNames({ UP: 1, RUNNING: 0x40 }, 0x41 | 0x1000), ['UP', 'RUNNING', '0x1000']);
    assert.equal(valueOf(T, 'newlink'), 16);
    assert.throws(() => valueOf(T, 'nope'), RangeError);
  });
});

/** A transport answering from a script: each send returns the datagrams the kernel would queue. */
function fakeTransport(answer: (req: { type: number; flags: number; seq: number }) => Buffer[]): Transport & { sent: Buffer[]; queue: Buffer[]; opts: number[] } {
  const queue: Buffer[] = [];
  const sent: Buffer[] = [];
  const opts: number[] = [];
  return {
    portId: 4242,
    fd: -1,
    sent,
    queue,
    opts,
    send(d) {
      sent.push(d);
      const [m] = parseMessages(d);
      if (m) queue.push(...answer(m));
    },
    recv: () => queue.shift() ?? null,
    setOption: (name) => void opts.push(name),
    close: () => undefined,
  };
}

const ack = (seq: number, errno: number, extra: Buffer = Buffer.alloc(0)): Buffer =>
  encodeMessage({ type: 2, flags: extra.length ? 0x300 : 0x100, seq, pid: 4242 }, [
    Buffer.from(new Int32Array([-errno]).buffer),
    encodeMessage({ type: 24, flags: 5, seq, pid: 0 }, Buffer.alloc(0)),
    extra,
  ]);

describe('request, dump and notifications (scripted transport)', () => {
  it('sets EXT_ACK, CAP_ACK and GET_STRICT_CHK, and returns on the ACK', () => {
    const t = fakeTransport((r) => [ack(r.seq, 0)]);
    const nl = openNetlink(0, { transport: t });
    assert.deepEqual(t.opts, [11, 10, 12]);
    assert.deepEqual(nl.request(24, Buffer.alloc(12)), []);
    const [sent] = parseMessages(t.sent[0] ?? Buffer.alloc(0));
    assert.equal((sent?.flags ?? 0) & 0x5, 0x5);
  });

  it('throws a NetlinkError (a SysError) with errno name and extack', () => {
    const t = fakeTransport((r) => [ack(r.seq, 17, nla.str(1, 'Route exists'))]);
    const nl = openNetlink(0, { transport: t, typeName: () => 'RTM_NEWROUTE' });
    assert.throws(() => nl.request(24, Buffer.alloc(12)), (e) => {
      assert.ok(isNetlinkError(e, 'EEXIST'));
      assert.ok(isSysError(e, 'EEXIST'));
      assert.equal(e.extack, 'Route exists');
      assert.match(e.message, /RTM_NEWROUTE.*EEXIST.*Route exists/);
      return true;
    });
  });

  it('collects a dump over several datagrams, queueing interleaved notifications', () => {
    const t = fakeTransport((r) => [
      encodeMessage({ type: 16, flags: 2, seq: r.seq, pid: 4242 }, Buffer.from('a')),
      encodeMessage({ type: 28, flags: 0, seq: 0, pid: 0 }, Buffer.from('notification')),
      Buffer.concat([
        encodeMessage({ type: 16, flags: 2, seq: r.seq, pid: 4242 }, Buffer.from('b')),
        encodeMessage({ type: 3, flags: 2, seq: r.seq, pid: 4242 }, Buffer.alloc(4)),
      ]),
    ]);
    const nl = openNetlink(0, { transport: t });
    const parts = nl.dump(18, Buffer.alloc(16));
    assert.deepEqual(parts.map((m) => m.payload.toString()), ['a', 'b']);
    const n = nl.waitFor((m) => m.type === 28, 10);
    assert.equal(n.payload.toString(), 'notification');
    assert.throws(() => nl.waitFor(() => true, 5), (e) => isSysError(e, 'ETIMEDOUT'));
  });

  it('reports a dump error carried in NLMSG_DONE', () => {
    const t = fakeTransport((r) => [encodeMessage({ type: 3, flags: 2, seq: r.seq, pid: 4242 }, hex('a1ffffff'))]);
    const nl = openNetlink(0, { transport: t });
    assert.throws(() => nl.dump(18, Buffer.alloc(16)), (e) => isNetlinkError(e, 'EOPNOTSUPP'));
  });

  it('ignores answers to other sequence numbers and times out without an answer', () => {
    const t = fakeTransport((r) => [ack(r.seq + 1000, 0)]);
    const nl = openNetlink(0, { transport: t, timeoutMs: 20 });
    assert.throws(() => nl.request(24, Buffer.alloc(0)), (e) => isSysError(e, 'ETIMEDOUT'));
  });
});
