import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
// The helpers around the stack: namespaces (netns.ts), sysctls (sysctl.ts), /proc/net tables
// (procnet.ts), credentials (creds.ts); links and addresses through rtnetlink (netlink/route.ts).
import { asUser } from '../../../src/lib/creds.js';
import { withRoute } from '../../../src/lib/netlink/route.js';
import { enterNewNetns } from '../../../src/lib/netns.js';
import { procNetSockets } from '../../../src/lib/procnet.js';
import { sysctl, withSysctl } from '../../../src/lib/sysctl.js';
import { pingSocket, rawSocket, tcpSocket, udpSocket } from '../../../src/lib/socket.js';
import { K, errnoIs, getuid, geteuid } from '../../../src/lib/sys/index.js';

const netnsId = (): string => readlinkSync('/proc/thread-self/ns/net');

let leave: () => void = () => {};
let outer = '';
before(() => {
  outer = netnsId();
  leave = enterNewNetns();
});
after(() => {
  leave();
  assert.equal(netnsId(), outer, 'back in the original namespace');
});

describe('network namespace', () => {
  it('we are in a new namespace with only lo, up', () => {
    assert.notEqual(netnsId(), outer);
    withRoute((rt) => {
      assert.equal(rt.index('lo'), 1);
      assert.equal(rt.link(1).name, 'lo');
      assert.ok(rt.link('lo').flags.includes('UP'));
      assert.throws(() => rt.index('eth0'), errnoIs('ENODEV'));
    });
  });
});

describe('sysctl', () => {
  it('set returns a restore function', () => {
    const before = sysctl.get('net.ipv4.ip_forward');
    const restore = sysctl.set('net.ipv4.ip_forward', before === '1' ? 0 : 1);
    assert.notEqual(sysctl.get('net.ipv4.ip_forward'), before);
    restore();
    assert.equal(sysctl.get('net.ipv4.ip_forward'), before);
  });

  it('withSysctl restores even when the block throws', () => {
    const before = sysctl.get('net.ipv4.tcp_syn_retries');
    assert.throws(() =>
      withSysctl({ 'net.ipv4.tcp_syn_retries': 2 }, () => {
        assert.equal(sysctl.get('net.ipv4.tcp_syn_retries'), '2');
        throw new Error('boom');
      }),
    );
    assert.equal(sysctl.get('net.ipv4.tcp_syn_retries'), before);
  });

  it('slash form reaches names with dots', () => {
    assert.equal(sysctl.get('net/ipv4/conf/lo/forwarding'), sysctl.get('net.ipv4.conf.lo.forwarding'));
  });
});

describe('/proc/net tables', () => {
  it('finds our UDP, UDP6 and TCP sockets', () => {
    const u4 = udpSocket(4);
    const u6 = udpSocket(6);
    const t = tcpSocket(4);
    try {
      u4.bind('127.0.0.1:0');
      u6.bind('[::1]:0');
      t.bind('127.0.0.1:0');
      t.listen();
      const r4 = procNetSockets('udp').find((s) => s.local.port === u4.localAddress().port);
      assert.deepEqual(r4?.local, { address: '127.0.0.1', port: u4.localAddress().port });
      assert.equal(r4?.stateName, 'CLOSE');
      const r6 = procNetSockets('udp6').find((s) => s.local.port === u6.localAddress().port);
      assert.equal(r6?.local.address, '::1');
      const rt = procNetSockets('tcp').find((s) => s.local.port === t.localAddress().port);
      assert.equal(rt?.stateName, 'LISTEN');
      assert.equal(rt?.uid, geteuid());
    } finally {
      u4.close();
      u6.close();
      t.close();
    }
  });

  it('finds ping and raw sockets in icmp and raw6', () => {
    withSysctl({ 'net.ipv4.ping_group_range': '0 2147483647' }, () => {
      const p = pingSocket(4);
      const r = rawSocket(6, K.IPPROTO_ICMPV6);
      try {
        p.bind('127.0.0.1:0');
        // A ping socket's "port" is its ICMP id; a raw socket's is its protocol.
        const id = p.localAddress().port;
        assert.ok(procNetSockets('icmp').some((s) => s.local.port === id && s.local.address === '127.0.0.1'));
        assert.ok(procNetSockets('raw6').some((s) => s.local.port === K.IPPROTO_ICMPV6));
      } finally {
        p.close();
        r.close();
      }
    });
  });

  it('rx queue shows a pending datagram', () => {
    const a = udpSocket(4);
    try {
      a.bind('127.0.0.1:0');
      a.sendTo(Buffer.alloc(10), a.localAddress());
      a.poll(K.POLLIN, 1000);
      const row = procNetSockets('udp').find((s) => s.local.port === a.localAddress().port);
      assert.ok((row?.rxQueue ?? 0) > 0);
    } finally {
      a.close();
    }
  });
});

describe('interfaces', () => {
  it('addresses added by rtnetlink show up, IPv6 usable at once with { usable: true }', () => {
    const addrs = withRoute((rt) => {
      rt.addAddress({ dev: 'lo', address: '198.51.100.1/24' });
      rt.addAddress({ dev: 'lo', address: '2001:db8:1::1/64' }, { usable: true });
      return rt.addresses({ dev: 'lo' });
    });
    assert.ok(addrs.some((a) => a.address === '198.51.100.1' && a.prefixlen === 24));
    assert.ok(addrs.some((a) => a.address === '2001:db8:1::1' && a.prefixlen === 64 && a.usable));
    assert.ok(addrs.some((a) => a.address === '127.0.0.1'), 'adding did not replace the first address');
    const s = udpSocket(4);
    try {
      s.bind('198.51.100.1:0'); // local now
    } finally {
      s.close();
    }
  });
});

describe('credentials', () => {
  it('asUser switches uid on this thread and back; sockets belong to the user', () => {
    const uid = getuid();
    const port = asUser(65534, () => {
      assert.equal(geteuid(), 65534);
      const s = udpSocket(4);
      s.bind('127.0.0.1:0');
      const p = s.localAddress().port;
      const row = procNetSockets('udp').find((r) => r.local.port === p);
      assert.equal(row?.uid, 65534);
      s.close();
      // Unprivileged now: setting SO_MARK needs CAP_NET_ADMIN.
      const t = udpSocket(4);
      try {
        assert.throws(() => t.setMark(1), errnoIs('EPERM'));
      } finally {
        t.close();
      }
      return p;
    });
    assert.ok(port > 0);
    assert.equal(getuid(), uid);
    assert.equal(geteuid(), uid);
  });

  it('asUser restores after a throw', () => {
    const uid = geteuid();
    assert.throws(() =>
      asUser(65534, () => {
        throw new Error('inside');
      }),
    );
    assert.equal(geteuid(), uid);
  });

  it('fchown changes the socket owner seen by UID routing and /proc', () => {
    const s = udpSocket(4);
    try {
      s.bind('127.0.0.1:0');
      s.chown(4242);
      const row = procNetSockets('udp').find((r) => r.local.port === s.localAddress().port);
      assert.equal(row?.uid, 4242);
    } finally {
      s.close();
    }
  });
});
