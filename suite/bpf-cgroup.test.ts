// cgroup BPF programs on the network (kernel/bpf/cgroup.c, net/ipv4/ip_output.c, af_inet.c):
// skb programs on egress and ingress with each of their return values, seen on the wire and in
// the socket calls; sock-create programs that refuse sockets or set their mark, device and
// priority; and attachment: flags, replacement, several programs, the hierarchy. The test moves
// its own process into a cgroup of its own while it makes sockets (a socket belongs to the cgroup
// its creator was in).
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { procNetSockets } from '../src/lib/procnet.js';
import { mib } from '../src/lib/mib.js';
import {
  alu, atomic, attachCgroup, BPF_SOCK, call, createMap, detachCgroup, exit, HELPER, jmp, label, ldMapFd, ldx, loadProgram, makeCgroup, mov, queryCgroup, R0, R1, R2, R6, R7, R10, SK_BUFF, st, stx,
  type AttachType, type BpfMap, type BpfProgram, type Cgroup, type Item, type ProgType,
} from '../src/lib/bpf/index.js';
import { packetSocket, tcpSocket, udpSocket, type Socket } from '../src/lib/socket.js';
import { isSysError, K, type ErrnoCode } from '../src/lib/sys/index.js';
import { ipv4, raw, tcp, udp } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 3 });
const errno = (code: ErrnoCode) => (e: unknown): boolean => {
  if (isSysError(e, code)) return true;
  throw e;
};

let cg: Cgroup;
const open: { close(): void }[] = [];
before(() => {
  cg = makeCgroup(`nt-bpf-${process.pid}`);
});
after(() => {
  for (const o of open.reverse()) o.close();
  cg.remove();
});
function keep<T extends { close(): void }>(o: T): T {
  open.push(o);
  return o;
}

/** An array map of one u64 counter per slot. */
const counters = (slots = 1): BpfMap => keep(createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: slots }));
const count = (m: BpfMap, slot = 0): number => Number(m.lookup(Buffer.from([slot, 0, 0, 0])).readBigUInt64LE(0));

/** Add r7 to counter `slot` (clobbers r0-r5; r6-r9 survive the call). */
function addTo(m: BpfMap, slot: number): Item[] {
  return [
    st('w', R10, -4, slot), mov(R2, R10), alu('add', R2, -4), ldMapFd(R1, m.fd), call(HELPER.map_lookup_elem),
    jmp('jeq', R0, 0, `skip${slot}`), atomic('add', 'dw', R0, 0, R7), label(`skip${slot}`),
  ];
}

/** A cgroup skb program: counts packets in slot 0, their skb->len in slot 1, returns `verdict`. */
function skbProg(m: BpfMap, verdict: number, attach: AttachType): BpfProgram {
  return keep(loadProgram({
    type: 'cgroup_skb',
    expectedAttachType: attach,
    insns: [mov(R6, R1), mov(R7, 1), ...addTo(m, 0), ldx('w', R7, R6, SK_BUFF.len), ...addTo(m, 1), mov(R0, verdict), exit()],
  }));
}

/** Attach for the length of `fn`, then detach. */
function attached<T>(prog: BpfProgram, type: AttachType, fn: () => T): T {
  attachCgroup(cg.fd, prog, type);
  try {
    return fn();
  } finally {
    detachCgroup(cg.fd, type, prog);
  }
}

/** A UDP socket made inside the cgroup, marked for network n. */
function udpIn(n: Network): Socket<'inet'> {
  return keep(cg.run(() => {
    const s = udpSocket(4);
    s.setMark(n.mark);
    return s;
  }));
}

const outDatagram = (n: Network, sport: number, payload: string) =>
  [ipv4({ src: n.addr4, dst: REMOTE4, ttl: 64, df: true }), udp({ sport, dport: 9 }), raw(payload)];

const snmp = (group: string, name: string): number => mib('snmp', `${group}.${name}`);

describe('egress: what each return value does to a datagram', () => {
  const cases: [number, string][] = [
    [1, 'leaves on the wire exactly; sendto returns its length'],
    [3, 'leaves on the wire too (allow + congestion notification, NET_XMIT_CN is not an error)'],
  ];
  for (const [verdict, what] of cases) {
    nets.it(`${verdict}: the datagram ${what}; the program saw it once, from the IP header (len 20 + 8 + 4)`, () => {
      const n = nets.net(1);
      const m = counters(2);
      const s = udpIn(n);
      s.bind(`${n.addr4}:4000${verdict}`);
      attached(skbProg(m, verdict, 'cgroup_inet_egress'), 'cgroup_inet_egress', () => {
        assert.equal(s.sendTo(Buffer.from('data'), { address: REMOTE4, port: 9 }), 4);
        expectPacket(n, outDatagram(n, 40000 + verdict, 'data'), { ignore: ['ipv4.id'] });
      });
      assert.deepEqual([count(m, 0), count(m, 1)], [1, 32]);
    });
  }

  nets.it('0: dropped; sendto fails EPERM and nothing leaves', () => {
    const n = nets.net(1);
    const m = counters(2);
    const s = udpIn(n);
    attached(skbProg(m, 0, 'cgroup_inet_egress'), 'cgroup_inet_egress', () => {
      assert.throws(() => s.sendTo(Buffer.from('data'), { address: REMOTE4, port: 9 }), errno('EPERM'));
    });
    expectNone(n, { timeoutMs: 100 });
    assert.equal(count(m, 0), 1);
  });

  nets.it('2 (drop + congestion notification): nothing leaves; UDP hides the ENOBUFS (sendto succeeds) and counts SndbufErrors', () => {
    const n = nets.net(1);
    const s = udpIn(n);
    const before0 = snmp('Udp', 'SndbufErrors');
    attached(skbProg(counters(2), 2, 'cgroup_inet_egress'), 'cgroup_inet_egress', () => {
      assert.equal(s.sendTo(Buffer.from('data'), { address: REMOTE4, port: 9 }), 4);
    });
    expectNone(n, { timeoutMs: 100 });
    assert.equal(snmp('Udp', 'SndbufErrors') - before0, 1);
  });

  nets.it('2 with IP_RECVERR on the socket: sendto fails ENOBUFS', () => {
    const n = nets.net(1);
    const s = udpIn(n);
    s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
    attached(skbProg(counters(2), 2, 'cgroup_inet_egress'), 'cgroup_inet_egress', () => {
      assert.throws(() => s.sendTo(Buffer.from('data'), { address: REMOTE4, port: 9 }), errno('ENOBUFS'));
    });
    expectNone(n, { timeoutMs: 100 });
  });

  nets.it('a socket made outside the cgroup is not filtered, even by a program that drops everything', () => {
    const n = nets.net(1);
    const s = keep(udpSocket(4));
    s.setMark(n.mark);
    s.bind(`${n.addr4}:40010`);
    const m = counters(2);
    attached(skbProg(m, 0, 'cgroup_inet_egress'), 'cgroup_inet_egress', () => {
      s.sendTo(Buffer.from('free'), { address: REMOTE4, port: 9 });
      expectPacket(n, outDatagram(n, 40010, 'free'), { ignore: ['ipv4.id'] });
    });
    assert.equal(count(m, 0), 0);
  });

  nets.it('a program returning 3 (loaded for egress) cannot attach at ingress: EINVAL', () => {
    const p = skbProg(counters(2), 3, 'cgroup_inet_egress');
    assert.throws(() => attachCgroup(cg.fd, p, 'cgroup_inet_ingress'), errno('EINVAL'));
  });
});

describe('ingress', () => {
  const inDatagram = (n: Network, port: number, payload: string) => inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), udp({ sport: 5000, dport: port }), raw(payload)]);

  for (const verdict of [0, 1]) {
    nets.it(`${verdict}: the datagram is ${verdict ? 'delivered' : 'dropped and counted in /proc/net/udp'}; the program saw it from the IP header (len 20 + 8 + 5)`, () => {
      const n = nets.net(1);
      const m = counters(2);
      const port = 6000 + verdict;
      const s = udpIn(n);
      s.bind(`${n.addr4}:${port}`);
      attached(skbProg(m, verdict, 'cgroup_inet_ingress'), 'cgroup_inet_ingress', () => {
        inDatagram(n, port, 'hello');
        if (verdict) assert.equal(s.recv({ timeoutMs: 500 }).toString(), 'hello');
        else assert.throws(() => s.recv({ timeoutMs: 100 }), errno('EAGAIN'));
      });
      assert.deepEqual([count(m, 0), count(m, 1)], [1, 33]);
      assert.equal(procNetSockets('udp').find((r) => r.local.port === port)?.drops, verdict ? 0 : 1);
    });
  }

  nets.it('0 on a TCP listener in the cgroup: a SYN gets no SYN-ACK', () => {
    const n = nets.net(1);
    const l = keep(cg.run(() => tcpSocket(4)));
    l.setMark(n.mark);
    l.bind(`${n.addr4}:8081`);
    l.listen();
    attached(skbProg(counters(2), 0, 'cgroup_inet_ingress'), 'cgroup_inet_ingress', () => {
      inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), tcp({ sport: 41000, dport: 8081, seq: 1, flags: 'S', window: 65535 })]);
      expectNone(n, { timeoutMs: 150 });
    });
  });
});

describe('sock-create programs (BPF_CGROUP_INET_SOCK_CREATE)', () => {
  const sockProg = (insns: Item[]): BpfProgram => keep(loadProgram({ type: 'cgroup_sock', expectedAttachType: 'cgroup_inet_sock_create', insns }));

  nets.it('returning 0: socket() fails EPERM for UDP and TCP over IPv4 and IPv6; a packet socket is not an inet socket and is made', () => {
    attached(sockProg([mov(R0, 0), exit()]), 'cgroup_inet_sock_create', () => {
      cg.run(() => {
        for (const make of [() => udpSocket(4), () => tcpSocket(4), () => udpSocket(6), () => tcpSocket(6)]) assert.throws(make, errno('EPERM'));
        packetSocket('dgram', 0x0800).close();
      });
    });
  });

  nets.it('a program that allows only SOCK_DGRAM: UDP is made, TCP is EPERM', () => {
    const prog = sockProg([ldx('w', R2, R1, BPF_SOCK.type), mov(R0, 0), jmp('jne', R2, 2 /* SOCK_DGRAM */, 'out'), mov(R0, 1), label('out'), exit()]);
    attached(prog, 'cgroup_inet_sock_create', () => {
      cg.run(() => {
        udpSocket(4).close();
        assert.throws(() => tcpSocket(4), errno('EPERM'));
      });
    });
  });

  nets.it('writing mark 3: every new socket has SO_MARK 3, and its datagram leaves on network 3', () => {
    const n = nets.net(3);
    const prog = sockProg([mov(R2, 3), stx('w', R1, BPF_SOCK.mark, R2), mov(R0, 1), exit()]);
    const s = keep(attached(prog, 'cgroup_inet_sock_create', () => cg.run(() => udpSocket(4))));
    assert.equal(s.getIntOption(K.SOL_SOCKET, K.SO_MARK), 3);
    s.bind(`${n.addr4}:40020`);
    s.sendTo(Buffer.from('mark'), { address: REMOTE4, port: 9 });
    expectPacket(n, outDatagram(n, 40020, 'mark'), { ignore: ['ipv4.id'] });
    expectNone(nets.net(1), { timeoutMs: 50 });
  });

  nets.it('writing bound_dev_if and priority: SO_BINDTODEVICE names network 2, SO_PRIORITY reads 5, and the datagram leaves on network 2', () => {
    const n = nets.net(2);
    const prog = sockProg([mov(R2, n.ifindex), stx('w', R1, BPF_SOCK.bound_dev_if, R2), mov(R2, 5), stx('w', R1, BPF_SOCK.priority, R2), mov(R0, 1), exit()]);
    const s = keep(attached(prog, 'cgroup_inet_sock_create', () => cg.run(() => udpSocket(4))));
    assert.equal(s.getOption(K.SOL_SOCKET, K.SO_BINDTODEVICE, 16).toString('utf8').replace(/\0.*$/s, ''), n.ifname);
    assert.equal(s.getIntOption(K.SOL_SOCKET, K.SO_PRIORITY), 5);
    s.sendTo(Buffer.from('dev'), { address: REMOTE4, port: 9 });
    const sport = s.localAddress().port;
    expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4, ttl: 64, df: true }), udp({ sport, dport: 9 }), raw('dev')], { ignore: ['ipv4.id'] });
  });
});

describe('attaching programs to a cgroup', () => {
  const ret = (r: number, type: ProgType = 'cgroup_skb'): BpfProgram => keep(loadProgram({ type, insns: [mov(R0, r), exit()] }));

  nets.it('BPF_PROG_QUERY lists the attached program with its flags; without flags a second attach replaces the first', () => {
    const a = ret(1);
    const b = ret(1);
    attachCgroup(cg.fd, a, 'cgroup_inet_egress');
    try {
      assert.deepEqual(queryCgroup(cg.fd, 'cgroup_inet_egress'), { attachFlags: 0, progIds: [a.id()] });
      attachCgroup(cg.fd, b, 'cgroup_inet_egress');
      assert.deepEqual(queryCgroup(cg.fd, 'cgroup_inet_egress'), { attachFlags: 0, progIds: [b.id()] });
    } finally {
      detachCgroup(cg.fd, 'cgroup_inet_egress');
    }
    assert.deepEqual(queryCgroup(cg.fd, 'cgroup_inet_egress'), { attachFlags: 0, progIds: [] });
  });

  nets.it('detaching when nothing is attached: ENOENT; changing the flags of an attachment: EPERM', () => {
    assert.throws(() => detachCgroup(cg.fd, 'cgroup_inet_ingress'), errno('ENOENT'));
    const a = ret(1);
    attachCgroup(cg.fd, a, 'cgroup_inet_ingress', { mode: 'override' });
    try {
      assert.throws(() => attachCgroup(cg.fd, ret(1), 'cgroup_inet_ingress', { mode: 'multi' }), errno('EPERM'));
      assert.equal(queryCgroup(cg.fd, 'cgroup_inet_ingress').attachFlags, 1 /* BPF_F_ALLOW_OVERRIDE */);
    } finally {
      detachCgroup(cg.fd, 'cgroup_inet_ingress');
    }
  });

  nets.it('BPF_F_ALLOW_MULTI: two programs both run, in attach order; BPF_F_REPLACE swaps one in place', () => {
    const n = nets.net(1);
    const m = counters(3);
    // Each program adds its own weight to slot 0 and records the running total in its slot:
    // the first records 1, the second 1 + 10.
    const weighted = (w: number, slot: number): BpfProgram => keep(loadProgram({
      type: 'cgroup_skb',
      insns: [mov(R6, R1), mov(R7, w), ...addTo(m, 0), st('w', R10, -4, 0), mov(R2, R10), alu('add', R2, -4), ldMapFd(R1, m.fd), call(HELPER.map_lookup_elem),
        jmp('jeq', R0, 0, 'z'), ldx('dw', R7, R0, 0), ...addTo(m, slot), label('z'), mov(R0, 1), exit()],
    }));
    const a = weighted(1, 1);
    const b = weighted(10, 2);
    const c = weighted(100, 2);
    attachCgroup(cg.fd, a, 'cgroup_inet_egress', { mode: 'multi' });
    attachCgroup(cg.fd, b, 'cgroup_inet_egress', { mode: 'multi' });
    try {
      assert.deepEqual(queryCgroup(cg.fd, 'cgroup_inet_egress'), { attachFlags: 2, progIds: [a.id(), b.id()] });
      const s = udpIn(n);
      s.sendTo(Buffer.from('x'), { address: REMOTE4, port: 9 });
      assert.deepEqual([count(m, 0), count(m, 1), count(m, 2)], [11, 1, 11]);
      attachCgroup(cg.fd, c, 'cgroup_inet_egress', { mode: 'multi', replace: b });
      assert.deepEqual(queryCgroup(cg.fd, 'cgroup_inet_egress').progIds, [a.id(), c.id()]);
      // Replacing a program that is not attached is ENOENT.
      assert.throws(() => attachCgroup(cg.fd, ret(1), 'cgroup_inet_egress', { mode: 'multi', replace: b }), errno('ENOENT'));
    } finally {
      detachCgroup(cg.fd, 'cgroup_inet_egress', a);
      detachCgroup(cg.fd, 'cgroup_inet_egress', c);
    }
  });

  nets.it('the hierarchy: a socket in a child cgroup runs the parent\'s multi programs (the effective query lists them); under a parent attached without flags the child may not attach (EPERM)', () => {
    const n = nets.net(1);
    const child = makeCgroup('child', cg.path);
    const m = counters(2);
    const parentProg = skbProg(m, 1, 'cgroup_inet_egress');
    try {
      attachCgroup(cg.fd, parentProg, 'cgroup_inet_egress', { mode: 'multi' });
      assert.deepEqual(queryCgroup(child.fd, 'cgroup_inet_egress', { effective: true }).progIds, [parentProg.id()]);
      assert.deepEqual(queryCgroup(child.fd, 'cgroup_inet_egress').progIds, []);
      const s = keep(child.run(() => udpSocket(4)));
      s.setMark(n.mark);
      s.sendTo(Buffer.from('kid'), { address: REMOTE4, port: 9 });
      assert.equal(count(m, 0), 1);
      detachCgroup(cg.fd, 'cgroup_inet_egress', parentProg);
      attachCgroup(cg.fd, parentProg, 'cgroup_inet_egress');
      assert.throws(() => attachCgroup(child.fd, ret(1), 'cgroup_inet_egress'), errno('EPERM'));
    } finally {
      try {
        detachCgroup(cg.fd, 'cgroup_inet_egress');
      } catch {
        // already detached
      }
      child.remove();
    }
  });
});
