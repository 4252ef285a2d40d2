// IFLA_INFO_DATA of the IP tunnel kinds compared with what iproute2 6.1 sends. ip(8) adds every
// attribute with its default (encap, fwmark, link 0...), so each attribute ours sends must be
// byte-identical to the one of the same type in ip(8)'s nest, and ours must send no other type.
// The nests below were copied from `unshare -n strace -x -e trace=sendmsg ip link add ...`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAttrs } from '../../../src/lib/netlink/attr.js';
import { encodeLinkCreate, type LinkSpec } from '../../../src/lib/netlink/rt-link.js';
import { IFLA, IFLA_INFO } from '../../../src/lib/include/uapi/linux/if_link.js';
import { IFLA_GRE, IFLA_IPTUN } from '../../../src/lib/include/uapi/linux/if_tunnel.js';
import { IP6_TNL_F_IGN_ENCAP_LIMIT } from '../../../src/lib/include/uapi/linux/ip6_tunnel.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');

/** type -> attribute bytes (header included) of one nest's payload. */
function byType(payload: Buffer): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (const a of parseAttrs(payload)) {
    const b = Buffer.alloc(4 + a.data.length);
    b.writeUInt16LE(4 + a.data.length, 0);
    b.writeUInt16LE(a.type, 2);
    a.data.copy(b, 4);
    m.set(a.type, b);
  }
  return m;
}

/** Our IFLA_LINKINFO/IFLA_INFO_DATA payload for `spec`. */
function infoData(spec: LinkSpec): Buffer {
  const body = encodeLinkCreate(spec);
  const linkinfo = parseAttrs(body, 16).find((a) => a.type === IFLA.LINKINFO);
  const data = linkinfo && parseAttrs(linkinfo.data).find((a) => a.type === IFLA_INFO.DATA);
  assert.ok(data, 'no IFLA_INFO_DATA');
  return data.data;
}

function agrees(spec: LinkSpec, iproute2: string, want: number[]): void {
  const ours = byType(infoData(spec));
  const theirs = byType(hex(iproute2));
  assert.deepEqual([...ours.keys()].sort((a, b) => a - b), [...want].sort((a, b) => a - b));
  for (const [type, bytes] of ours) assert.deepEqual(bytes, theirs.get(type), `attribute type ${type}`);
}

describe('tunnel link data against ip(8)', () => {
  it('ip link add t1 type ipip local 192.0.2.1 remote 192.0.2.2 ttl 77 (proto and pmtudisc as ip(8) sends them)', () => {
    agrees(
      { name: 't1', kind: 'ipip', local: '192.0.2.1', remote: '192.0.2.2', ttl: 77, proto: 0, pmtudisc: true, link: 0, fwmark: 0, tos: 0 },
      '05000900 00000000 08000200 c0000201 08000300 c0000202 05000a00 01000000 05000500 00000000 05000400 4d000000 ' +
        '08000100 00000000 08001400 00000000 06000f00 00000000 06001000 00000000 06001100 00000000 06001200 00000000',
      [IFLA_IPTUN.PROTO, IFLA_IPTUN.LOCAL, IFLA_IPTUN.REMOTE, IFLA_IPTUN.PMTUDISC, IFLA_IPTUN.TOS, IFLA_IPTUN.TTL, IFLA_IPTUN.LINK, IFLA_IPTUN.FWMARK],
    );
  });

  it('ip link add g1 type gre local 192.0.2.1 remote 192.0.2.2 ikey 1 okey 2 icsum oseq ttl 64 tos 0x10: flags are be16 GRE_* bits', () => {
    agrees(
      { name: 'g1', kind: 'gre', local: '192.0.2.1', remote: '192.0.2.2', ikey: 1, okey: 2, icsum: true, oseq: true, ttl: 64, tos: 0x10, pmtudisc: true, fwmark: 0 },
      '08000400 00000001 08000500 00000002 06000200 a0000000 06000300 30000000 08000600 c0000201 08000700 c0000202 ' +
        '05000a00 01000000 05000900 10000000 05000800 40000000 08001400 00000000 06000e00 00000000 06000f00 00000000 ' +
        '06001000 00000000 06001100 00000000',
      [IFLA_GRE.IKEY, IFLA_GRE.OKEY, IFLA_GRE.IFLAGS, IFLA_GRE.OFLAGS, IFLA_GRE.LOCAL, IFLA_GRE.REMOTE, IFLA_GRE.PMTUDISC, IFLA_GRE.TOS, IFLA_GRE.TTL, IFLA_GRE.FWMARK],
    );
  });

  it('ip link add t2 type ip6tnl local 2001:db8::1 remote 2001:db8::2 encaplimit none: flags are u32 IP6_TNL_F_*', () => {
    agrees(
      { name: 't2', kind: 'ip6tnl', local: '2001:db8::1', remote: '2001:db8::2', ttl: 64, encapLimit: 4, flowinfo: 0, flags: IP6_TNL_F_IGN_ENCAP_LIMIT, proto: 0 },
      '05000900 00000000 14000200 20010db8000000000000000000000001 14000300 20010db8000000000000000000000002 ' +
        '05000400 40000000 05000600 04000000 08000700 00000000 08000800 01000000 08000100 00000000 08001400 00000000 ' +
        '06000f00 00000000 06001000 02000000 06001100 00000000 06001200 00000000',
      [IFLA_IPTUN.PROTO, IFLA_IPTUN.LOCAL, IFLA_IPTUN.REMOTE, IFLA_IPTUN.TTL, IFLA_IPTUN.ENCAP_LIMIT, IFLA_IPTUN.FLOWINFO, IFLA_IPTUN.FLAGS],
    );
  });

  it('a GRE key sets GRE_KEY on its side only; no key sends key 0 and no K flag', () => {
    const d = byType(infoData({ name: 'g', kind: 'gre', okey: 0x01020304 }));
    assert.deepEqual(d.get(IFLA_GRE.IFLAGS), hex('06000200 0000'));
    assert.deepEqual(d.get(IFLA_GRE.OFLAGS), hex('06000300 2000'));
    assert.deepEqual(d.get(IFLA_GRE.IKEY), hex('08000400 00000000'));
    assert.deepEqual(d.get(IFLA_GRE.OKEY), hex('08000500 01020304'));
  });
});
