// xfrm and generic netlink encodings: struct layouts against gcc's sizeof/offsetof for the 6.1
// uapi headers on x86-64 (printed by a small C program when this was written), and request
// bodies decoded back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeSa, encodePolicy, encodeSa, encodeSaId, encodeSocketPolicy, xfrmAlgo, xfrmAlgoAead, xfrmAlgoAuth, xfrmEncapTmpl, xfrmId,
  xfrmLifetimeCfg, xfrmLifetimeCur, xfrmMark, xfrmReplayState, xfrmReplayStateEsn, xfrmSelector, xfrmStats, xfrmUserTmpl,
  xfrmUserpolicyId, xfrmUserpolicyInfo, xfrmUsersaId, xfrmUsersaInfo, xfrmUserspiInfo,
} from '../../../src/lib/netlink/xfrm.js';
import { attrSet } from '../../../src/lib/netlink/attr.js';
import { encodeGenl, genlmsghdr } from '../../../src/lib/netlink/genl.js';
import { nla } from '../../../src/lib/netlink/attr.js';

describe('xfrm struct layouts (gcc, x86-64)', () => {
  it('sizes', () => {
    const sizes: [string, number, number][] = [
      ['xfrm_usersa_info', xfrmUsersaInfo.size, 224], ['xfrm_selector', xfrmSelector.size, 56], ['xfrm_id', xfrmId.size, 24],
      ['xfrm_lifetime_cfg', xfrmLifetimeCfg.size, 64], ['xfrm_lifetime_cur', xfrmLifetimeCur.size, 32], ['xfrm_stats', xfrmStats.size, 12],
      ['xfrm_userpolicy_info', xfrmUserpolicyInfo.size, 168], ['xfrm_user_tmpl', xfrmUserTmpl.size, 64], ['xfrm_userspi_info', xfrmUserspiInfo.size, 232],
      ['xfrm_usersa_id', xfrmUsersaId.size, 24], ['xfrm_userpolicy_id', xfrmUserpolicyId.size, 64], ['xfrm_algo', xfrmAlgo.size, 68],
      ['xfrm_algo_auth', xfrmAlgoAuth.size, 72], ['xfrm_algo_aead', xfrmAlgoAead.size, 72], ['xfrm_encap_tmpl', xfrmEncapTmpl.size, 24],
      ['xfrm_mark', xfrmMark.size, 8], ['xfrm_replay_state', xfrmReplayState.size, 12], ['xfrm_replay_state_esn', xfrmReplayStateEsn.size, 24],
    ];
    for (const [name, got, want] of sizes) assert.equal(got, want, name);
  });
  it('offsets', () => {
    assert.deepEqual(
      ['id', 'saddr', 'lft', 'curlft', 'stats', 'seq', 'reqid', 'family', 'mode', 'replayWindow', 'flags'].map((k) => xfrmUsersaInfo.offsets[k]),
      [56, 80, 96, 160, 192, 204, 208, 212, 214, 215, 216],
    );
    assert.deepEqual(['lft', 'curlft', 'priority', 'index', 'dir', 'action', 'flags', 'share'].map((k) => xfrmUserpolicyInfo.offsets[k]), [56, 120, 152, 156, 160, 161, 162, 163]);
    assert.deepEqual(['family', 'saddr', 'reqid', 'mode', 'share', 'optional', 'aalgos'].map((k) => xfrmUserTmpl.offsets[k]), [24, 28, 44, 48, 49, 50, 52]);
    assert.deepEqual(['daddr', 'saddr', 'dport', 'family', 'prefixlenD', 'proto', 'ifindex', 'user'].map((k) => xfrmSelector.offsets[k]), [0, 16, 32, 40, 42, 44, 48, 52]);
  });
});

describe('xfrm messages', () => {
  it('an SA body decodes back to the same SA', () => {
    const body = encodeSa({
      src: '192.0.2.1', dst: '192.0.2.2', spi: 0x1234, reqid: 9, mode: 'tunnel', replayWindow: 64,
      auth: { name: 'hmac(sha256)', key: 'aa'.repeat(32), truncLen: 128 }, crypt: { name: 'cbc(aes)', key: Buffer.alloc(16, 0xbb) },
      mark: { value: 1, mask: 3 }, outputMark: { value: 7, mask: 0xff }, ifId: 42, flags: ['af_unspec'],
    });
    const sa = decodeSa({ type: 16, flags: 0, seq: 0, pid: 0, payload: body });
    assert.deepEqual(
      [sa.src, sa.dst, sa.spi, sa.proto, sa.mode, sa.reqid, sa.replayWindow, sa.flags, sa.ifId, sa.mark, sa.outputMark],
      ['192.0.2.1', '192.0.2.2', 0x1234, 'esp', 'tunnel', 9, 64, ['AF_UNSPEC'], 42, { value: 1, mask: 3 }, { value: 7, mask: 0xff }],
    );
    assert.equal(sa.auth?.key.toString('hex'), 'aa'.repeat(32));
    assert.equal(sa.auth?.truncLen, 128);
    assert.equal(sa.crypt?.key.length, 16);
    assert.equal(sa.sel.family, 'inet');
    // id.spi is in network order at offset 56 + 16.
    assert.equal(body.readUInt32BE(72), 0x1234);
  });
  it('an SA id carries daddr, spi (network order), family and proto', () => {
    const b = encodeSaId({ dst: '2001:db8::2', spi: 0x100, proto: 'ah' });
    assert.equal(b.readUInt32BE(16), 0x100);
    assert.equal(b.readUInt16LE(20), 10);
    assert.equal(b.readUInt8(22), 51);
  });
  it('a policy with two templates puts both in one XFRMA_TMPL', () => {
    const b = encodePolicy({ dir: 'out', sel: { src: '192.0.2.0/24', dst: '198.51.100.0/24' }, tmpls: [{ proto: 'esp', reqid: 1 }, { proto: 'ah', reqid: 2 }] });
    const a = attrSet(b, xfrmUserpolicyInfo.size);
    assert.equal(a.get(5)?.length, 128);
    assert.equal(b.readUInt8(160), 1);
    const sock = encodeSocketPolicy({ dir: 'out', sel: {}, tmpls: [{ proto: 'esp' }] });
    assert.equal(sock.length, 168 + 64);
  });
});

describe('generic netlink header', () => {
  it('genlmsghdr then attributes', () => {
    assert.equal(genlmsghdr.size, 4);
    // cmd 3 (GETFAMILY), version 1, reserved 0; CTRL_ATTR_FAMILY_NAME (len 16) "tcp_metrics\0".
    const want = Buffer.concat([Buffer.from('0301000010000200', 'hex'), Buffer.from('tcp_metrics\0')]);
    assert.deepEqual(encodeGenl(3, 1, [nla.str(2, 'tcp_metrics')]), want);
  });
});
