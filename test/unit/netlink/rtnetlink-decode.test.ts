// rtnetlink decoders on messages captured from a real kernel (6.18, fresh netns) after:
//   ip link add v0 type veth peer name v1; ip link set v0 up          (v0 = ifindex 3, v1 down)
//   ip addr add 192.0.2.1/24 brd + dev v0
//   ip route add 198.51.100.0/24 via 192.0.2.2 dev v0 table 100 metric 5 mtu 1300 proto static
//   ip neigh add 192.0.2.9 lladdr 02:00:00:00:00:09 dev v0 nud reachable
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRoute } from '../../../src/lib/netlink/rt-route.js';
import { decodeAddress } from '../../../src/lib/netlink/rt-addr.js';
import { decodeNeighbour } from '../../../src/lib/netlink/rt-neigh.js';
import type { NlMessage } from '../../../src/lib/netlink/message.js';

const msg = (type: number, hex: string): NlMessage => ({ type, flags: 2, seq: 1, pid: 1, payload: Buffer.from(hex, 'hex') });

describe('decoding kernel messages', () => {
  it('RTM_NEWROUTE: table 100, static, gateway, metric, mtu, linkdown', () => {
    const r = decodeRoute(msg(24, '02180000640400011000000008000f006400000008000100c633640008000600050000000c000800080002001405000008000500c00002020800040003000000'));
    assert.deepEqual(r, {
      family: 'inet', dst: '198.51.100.0/24', table: 100, type: 'unicast', protocol: 'static', scope: 'universe', tos: 0,
      flags: ['LINKDOWN'], gateway: '192.0.2.2', oif: 3, priority: 5, metrics: { mtu: 1300 },
    });
  });

  it('RTM_NEWADDR: local, broadcast, label, permanent, lifetimes', () => {
    const a = decodeAddress(msg(20, '021880000300000008000100c000020108000200c000020108000400c00002ff0700030076300000080008008000000014000600ffffffffffffffff6194050061940500'));
    assert.deepEqual(a, {
      family: 'inet', index: 3, address: '192.0.2.1', prefixlen: 24, prefix: '192.0.2.1/24', flags: ['PERMANENT'], scope: 'universe',
      usable: true, broadcast: '192.0.2.255', label: 'v0', validLft: 0xffffffff, preferredLft: 0xffffffff,
    });
  });

  it('RTM_NEWNEIGH: reachable with lladdr, probes and cache info', () => {
    const n = decodeNeighbour(msg(28, '02000000030000000200000108000100c00002090a00020002000000000900000800040000000000140003000b0000000b0000000b00000001000000'));
    assert.deepEqual(n, {
      family: 'inet', index: 3, state: ['REACHABLE'], flags: [], type: 'unicast', dst: '192.0.2.9', lladdr: '02:00:00:00:00:09', probes: 0,
      cacheinfo: { confirmed: 11, used: 11, updated: 11, refcnt: 1 },
    });
  });
});
