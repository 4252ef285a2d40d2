// IPv6 addresses and source address selection (RFC 6724, RFC 4862): tentative addresses and
// their duplicate address detection on the wire, DAD failure caused by an injected neighbour
// advertisement or solicitation, deprecated addresses avoided as sources, longest match.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { existsSync } from 'node:fs';
import { multicastMac, solicitedNode } from '../src/lib/addr.js';
import { udpSocket } from '../src/lib/socket.js';
import { isSysError } from '../src/lib/sys/index.js';
import { ether, ipv6, ndOpt, neighborAdvert, neighborSolicit, ND_OPT_NONCE, type Layer } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });
const RETRANS_MS = 200;

before(() => {
  const dev = nets.net(1).ifname;
  nets.sysctl(`net/ipv6/conf/${dev}/accept_dad`, 1);
  nets.sysctl(`net/ipv6/conf/${dev}/dad_transmits`, 1);
  nets.sysctl(`net/ipv6/neigh/${dev}/retrans_time_ms`, RETRANS_MS);
});

let counter = 0;
function freshAddress(n: Network): string {
  return `2001:db8:${n.id}::d${(++counter).toString(16).padStart(3, '0')}`;
}

function dadNsLayers(n: Network, addr: string, nonce: boolean): Layer[] {
  const snm = solicitedNode(addr);
  // From the unspecified address, so without a source link-layer option (RFC 4861 4.3); with
  // enhanced_dad (default on) a 6-byte random nonce option instead.
  const options = nonce ? [{ kind: 'option' as const, code: ND_OPT_NONCE, data: Buffer.alloc(6) }] : [];
  return [ether({ src: n.mac, dst: multicastMac(snm) }), ipv6({ src: '::', dst: snm, hlim: 255 }), neighborSolicit({ target: addr, options })];
}

/** Expect the DAD solicitation for addr; its nonce bytes are random, their length is checked. */
function expectDad(n: Network, addr: string, nonce = true): void {
  const p = expectPacket(n, dadNsLayers(n, addr, nonce), { timeoutMs: 2000, ignore: nonce ? ['icmpv6.options[0].data'] : [] });
  if (nonce) {
    const o = p.find((l) => l.type === 'icmpv6');
    const opt = o?.type === 'icmpv6' ? o.options?.[0] : undefined;
    assert.ok(opt?.kind === 'option' && opt.data.length === 6, 'a 6-byte nonce');
  }
}

function flagsOf(n: Network, addr: string): string[] {
  const a = nets.rt.addresses({ family: 'inet6', dev: n.ifindex }).find((x) => x.address === addr);
  return a ? a.flags : ['ABSENT'];
}

function waitFlags(n: Network, addr: string, pred: (f: string[]) => boolean, timeoutMs: number, what: string): string[] {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = flagsOf(n, addr);
    if (pred(f)) return f;
    if (Date.now() > deadline) assert.fail(`${addr}: ${what}; flags ${f.join(',')}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

function bindFails(addr: string): boolean {
  const s = udpSocket(6);
  try {
    s.bind(addr);
    return false;
  } catch (e) {
    if (isSysError(e, 'EADDRNOTAVAIL')) return true;
    throw e;
  } finally {
    s.close();
  }
}

/** The source the kernel picks for a UDP flow to dst on network n (connect, getsockname). */
function sourceFor(n: Network, dst: string): string {
  const s = udpSocket(6);
  try {
    s.setMark(n.mark);
    s.connect({ address: dst, port: 9 });
    return s.localAddress().address;
  } finally {
    s.close();
  }
}

describe('duplicate address detection', () => {
  nets.it('a new address is TENTATIVE and the kernel sends the exact DAD solicitation', () => {
    const n = nets.net(1);
    const a = freshAddress(n);
    nets.rt.addAddress({ dev: n.ifindex, address: `${a}/64`, flags: ['noprefixroute'] });
    assert.ok(flagsOf(n, a).includes('TENTATIVE'), flagsOf(n, a).join(','));
    expectDad(n, a);
    nets.rt.deleteAddress(n.ifindex, `${a}/64`);
  });

  nets.it('a tentative address cannot be bound (EADDRNOTAVAIL); after DAD it can', () => {
    const n = nets.net(1);
    const a = freshAddress(n);
    nets.rt.addAddress({ dev: n.ifindex, address: `${a}/64`, flags: ['noprefixroute'] });
    assert.equal(bindFails(a), true);
    expectDad(n, a);
    waitFlags(n, a, (f) => !f.includes('TENTATIVE'), 3000, 'DAD did not finish');
    assert.equal(bindFails(a), false);
    nets.rt.deleteAddress(n.ifindex, `${a}/64`);
  });

  nets.it('with dad_transmits=1 exactly one solicitation is sent', () => {
    const n = nets.net(1);
    const a = freshAddress(n);
    nets.rt.addAddress({ dev: n.ifindex, address: `${a}/64`, flags: ['noprefixroute'] });
    expectDad(n, a);
    waitFlags(n, a, (f) => !f.includes('TENTATIVE'), 3000, 'DAD did not finish');
    expectNone(n, { timeoutMs: RETRANS_MS * 2, match: (p) => p.some((l) => l.type === 'icmpv6' && l.target === a) });
    nets.rt.deleteAddress(n.ifindex, `${a}/64`);
  });

  nets.it('enhanced_dad off on the device alone still sends the nonce (the all/ setting is ORed in)', () => {
    const n = nets.net(1);
    nets.sysctl(`net/ipv6/conf/${n.ifname}/enhanced_dad`, 0);
    const a = freshAddress(n);
    try {
      nets.rt.addAddress({ dev: n.ifindex, address: `${a}/64`, flags: ['noprefixroute'] });
      expectDad(n, a, true);
    } finally {
      nets.sysctl(`net/ipv6/conf/${n.ifname}/enhanced_dad`, 1);
      nets.rt.deleteAddress(n.ifindex, `${a}/64`);
    }
  });

  nets.it('enhanced_dad off on the device and in all/: the solicitation carries no nonce option', () => {
    const n = nets.net(1);
    nets.sysctl(`net/ipv6/conf/${n.ifname}/enhanced_dad`, 0);
    nets.sysctl('net/ipv6/conf/all/enhanced_dad', 0);
    const a = freshAddress(n);
    try {
      nets.rt.addAddress({ dev: n.ifindex, address: `${a}/64`, flags: ['noprefixroute'] });
      expectDad(n, a, false);
    } finally {
      nets.sysctl('net/ipv6/conf/all/enhanced_dad', 1);
      nets.sysctl(`net/ipv6/conf/${n.ifname}/enhanced_dad`, 1);
      nets.rt.deleteAddress(n.ifindex, `${a}/64`);
    }
  });


  nets.it('the nodad flag skips DAD: no solicitation and the address is usable at once', () => {
    const n = nets.net(1);
    const a = freshAddress(n);
    nets.rt.addAddress({ dev: n.ifindex, address: `${a}/64`, flags: ['nodad', 'noprefixroute'] });
    nets.rt.waitAddressUsable(n.ifindex, a, 1000);
    expectNone(n, { timeoutMs: RETRANS_MS * 2, match: (p) => p.some((l) => l.type === 'icmpv6' && l.target === a) });
    nets.rt.deleteAddress(n.ifindex, `${a}/64`);
  });

  nets.it('an NA for the tentative address from another node fails DAD (DADFAILED, never usable)', () => {
    const n = nets.net(1);
    const a = freshAddress(n);
    nets.rt.addAddress({ dev: n.ifindex, address: `${a}/64`, flags: ['noprefixroute'] });
    expectDad(n, a);
    inject(n, [
      ether({ src: '02:00:00:bb:00:01', dst: '33:33:00:00:00:01' }),
      ipv6({ src: a, dst: 'ff02::1', hlim: 255 }),
      neighborAdvert({ flags: 'O', target: a, options: [ndOpt.tgtLladdr('02:00:00:bb:00:01')] }),
    ]);
    const f = waitFlags(n, a, (x) => x.includes('DADFAILED'), 1000, 'DAD did not fail');
    assert.ok(f.includes('TENTATIVE'), 'a failed address stays tentative');
    assert.equal(bindFails(a), true);
    nets.rt.deleteAddress(n.ifindex, `${a}/64`);
  });

  nets.it('a DAD solicitation from another node for the same address fails DAD too', () => {
    const n = nets.net(1);
    const a = freshAddress(n);
    nets.rt.addAddress({ dev: n.ifindex, address: `${a}/64`, flags: ['noprefixroute'] });
    expectDad(n, a);
    const snm = solicitedNode(a);
    inject(n, [ether({ src: '02:00:00:bb:00:02', dst: multicastMac(snm) }), ipv6({ src: '::', dst: snm, hlim: 255 }), neighborSolicit({ target: a, options: [] })]);
    waitFlags(n, a, (x) => x.includes('DADFAILED'), 1000, 'DAD did not fail');
    nets.rt.deleteAddress(n.ifindex, `${a}/64`);
  });

  nets.it('an NA for the address after DAD finished does not fail it', () => {
    const n = nets.net(1);
    const a = freshAddress(n);
    nets.rt.addAddress({ dev: n.ifindex, address: `${a}/64`, flags: ['noprefixroute'] });
    expectDad(n, a);
    waitFlags(n, a, (f) => !f.includes('TENTATIVE'), 3000, 'DAD did not finish');
    inject(n, [
      ether({ src: '02:00:00:bb:00:03', dst: '33:33:00:00:00:01' }),
      ipv6({ src: a, dst: 'ff02::1', hlim: 255 }),
      neighborAdvert({ flags: 'O', target: a, options: [ndOpt.tgtLladdr('02:00:00:bb:00:03')] }),
    ]);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    assert.ok(!flagsOf(n, a).includes('DADFAILED'));
    assert.equal(bindFails(a), false);
    nets.rt.deleteAddress(n.ifindex, `${a}/64`);
  });
});

describe('source address selection', () => {
  nets.it('rule 8: the longer match wins, counted up to each address prefix length', () => {
    // A /128 can match 120 bits of ::beef; the SLAAC /64 is capped at 64 (ipv6_get_saddr_eval).
    const n = nets.net(1);
    const near = `2001:db8:${n.id}::be00`;
    nets.rt.addAddress({ dev: n.ifindex, address: `${near}/128`, flags: ['nodad'] });
    try {
      nets.rt.waitAddressUsable(n.ifindex, near, 1000);
      assert.equal(sourceFor(n, `2001:db8:${n.id}::beef`), near);
    } finally {
      nets.rt.deleteAddress(n.ifindex, `${near}/128`);
    }
  });


  nets.it('a deprecated address is avoided even with a longer match (rule 3)', () => {
    const n = nets.net(1);
    const near = `2001:db8:${n.id}::bee0`;
    nets.rt.addAddress({ dev: n.ifindex, address: `${near}/128`, flags: ['nodad'], validLft: 3600, preferredLft: 0 });
    try {
      nets.rt.waitAddressUsable(n.ifindex, near, 1000);
      assert.ok(flagsOf(n, near).includes('DEPRECATED'), flagsOf(n, near).join(','));
      assert.equal(sourceFor(n, `2001:db8:${n.id}::beef`), n.addr6);
      // Made preferred again, it wins by its longer match.
      nets.rt.addAddress({ dev: n.ifindex, address: `${near}/128`, flags: ['nodad'], validLft: 3600, preferredLft: 3600 }, { replace: true });
      assert.equal(sourceFor(n, `2001:db8:${n.id}::beef`), near);
    } finally {
      nets.rt.deleteAddress(n.ifindex, `${near}/128`);
    }
  });

  nets.it('a deprecated address can still be bound explicitly', () => {
    const n = nets.net(1);
    const old = freshAddress(n);
    nets.rt.addAddress({ dev: n.ifindex, address: `${old}/64`, flags: ['nodad', 'noprefixroute'], validLft: 3600, preferredLft: 0 });
    try {
      nets.rt.waitAddressUsable(n.ifindex, old, 1000);
      assert.equal(bindFails(old), false);
    } finally {
      nets.rt.deleteAddress(n.ifindex, `${old}/64`);
    }
  });

  nets.it('a tentative address is never chosen as a source', () => {
    const n = nets.net(1);
    const t = `2001:db8:${n.id}::beed`;
    nets.rt.addAddress({ dev: n.ifindex, address: `${t}/128` });
    try {
      assert.ok(flagsOf(n, t).includes('TENTATIVE'));
      assert.equal(sourceFor(n, `2001:db8:${n.id}::beef`), n.addr6);
    } finally {
      nets.rt.deleteAddress(n.ifindex, `${t}/128`);
    }
  });

  nets.it('a link-local destination gets the link-local source (rule 2, scope)', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    s.connect({ address: n.router.ll, port: 9, scopeId: n.ifindex });
    assert.equal(s.localAddress().address, n.ll6);
    s.close();
  });

  nets.it('optimistic flag without optimistic_dad is dropped: the address is plain TENTATIVE', () => {
    const n = nets.net(1);
    const a = freshAddress(n);
    nets.rt.addAddress({ dev: n.ifindex, address: `${a}/64`, flags: ['optimistic', 'noprefixroute'] });
    try {
      const f = flagsOf(n, a);
      assert.ok(f.includes('TENTATIVE') && !f.includes('OPTIMISTIC'), f.join(','));
      assert.equal(bindFails(a), true);
    } finally {
      nets.rt.deleteAddress(n.ifindex, `${a}/64`);
    }
  });

  nets.it('optimistic DAD: bindable while DAD runs, but avoided as a source without use_optimistic', (t) => {
    const n = nets.net(1);
    if (!existsSync(`/proc/sys/net/ipv6/conf/${n.ifname}/optimistic_dad`)) {
      t.skip('kernel built without CONFIG_IPV6_OPTIMISTIC_DAD');
      return;
    }
    nets.sysctl(`net/ipv6/conf/${n.ifname}/optimistic_dad`, 1);
    const a = `2001:db8:${n.id}::bee1`;
    try {
      nets.rt.addAddress({ dev: n.ifindex, address: `${a}/128`, flags: ['optimistic'] });
      const f = flagsOf(n, a);
      assert.ok(f.includes('OPTIMISTIC') && f.includes('TENTATIVE'), f.join(','));
      assert.equal(bindFails(a), false);
      assert.equal(sourceFor(n, `2001:db8:${n.id}::beef`), n.addr6);
      expectDad(n, a);
    } finally {
      nets.rt.deleteAddress(n.ifindex, `${a}/128`);
      nets.sysctl(`net/ipv6/conf/${n.ifname}/optimistic_dad`, 0);
    }
  });

});

