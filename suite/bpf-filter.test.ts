// Socket filters from the wire (net/core/filter.c, sock.c): classic programs (SO_ATTACH_FILTER)
// and eBPF socket filter programs (SO_ATTACH_BPF) on UDP, TCP and packet sockets, fed datagrams
// injected on the fixture's networks. What a filter returns is how many bytes to keep, from
// the socket's view of the packet (a UDP socket's starts at the UDP header and never keeps less
// than it: sk_filter_trim_cap); 0 drops and counts a drop. Also: the classic checker's limits,
// reading a program back, detaching, locking, and the socket helpers (cookie, uid).
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { expectNone, expectPacket, inject } from '../src/lib/expect.js';
import { procNetSockets } from '../src/lib/procnet.js';
import {
  alu, attachBpf, attachFilter, SO_ATTACH_FILTER, SO_ATTACH_REUSEPORT_CBPF, call, cbpf, createMap, detachFilter, exit, getFilter, getFilterLen, HELPER, jmp, label, ldAbs, ldMapFd, ldx, loadProgram, lockFilter, mov, R0, R1, R2, R3, R4, R6, R10, SK_BUFF, st, stx,
  type BpfMap, type BpfProgram, type Item,
} from '../src/lib/bpf/index.js';
import { packetSocket, tcpSocket, udpSocket, type Socket } from '../src/lib/socket.js';
import { isSysError, K, type ErrnoCode } from '../src/lib/sys/index.js';

const { SOL_SOCKET, SO_REUSEPORT } = K;
import { ether, ipv4, ipv6, layer, raw, tcp, udp } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 2 });
const { ret, retA, ldLen, ldImm, ldMem, st: cst, jeq, raw: craw } = cbpf;

const errno = (code: ErrnoCode) => (e: unknown): boolean => {
  if (isSysError(e, code)) return true;
  throw e;
};

const PORT = 7000;
const open: { close(): void }[] = [];
after(() => {
  for (const o of open.reverse()) o.close();
});
function keep<T extends { close(): void }>(o: T): T {
  open.push(o);
  return o;
}

before(() => {
  // Datagrams to a subnet's broadcast address reach sockets bound to the wildcard address.
  nets.sysctl('net.ipv4.icmp_echo_ignore_broadcasts', 1);
});

/** A UDP socket bound to `addr`:port (default: network 1's address). */
function udpOn(n: Network, port: number, addr = n.addr4): Socket<'inet'> {
  const s = keep(udpSocket(4));
  s.bind(`${addr}:${port}`);
  return s;
}

/** A datagram from the remote host through network n's router, to `dst`:port. */
function datagram(n: Network, port: number, payload: string, o: { sport?: number; ttl?: number; dst?: string } = {}): void {
  inject(n, [ipv4({ src: REMOTE4, dst: o.dst ?? n.addr4, ttl: o.ttl ?? 64 }), udp({ sport: o.sport ?? 5000, dport: port }), raw(payload)]);
}

/** Everything queued on a socket now (after a short wait for the injected frames to land). */
function received(s: Socket<'inet' | 'inet6'>, waitMs = 50): string[] {
  const out: string[] = [];
  for (;;) {
    try {
      out.push(s.recv({ timeoutMs: out.length ? 0 : waitMs }).toString());
    } catch (e) {
      if (isSysError(e, 'EAGAIN')) return out;
      throw e;
    }
  }
}

const drops = (port: number): number | undefined => procNetSockets('udp').find((r) => r.local.port === port)?.drops;

describe('classic filters on a UDP socket (SO_ATTACH_FILTER)', () => {
  nets.it('returning 0 drops every datagram, and /proc/net/udp counts each drop', () => {
    const n = nets.net(1);
    const s = udpOn(n, PORT);
    attachFilter(s, [ret(0)]);
    for (const p of ['a', 'b', 'c']) datagram(n, PORT, p);
    assert.deepEqual(received(s), []);
    assert.equal(drops(PORT), 3);
  });

  nets.it('returning 0xffff delivers whole datagrams', () => {
    const n = nets.net(1);
    const s = udpOn(n, PORT + 1);
    attachFilter(s, [ret(0xffff)]);
    datagram(n, PORT + 1, 'whole');
    assert.deepEqual(received(s), ['whole']);
    assert.equal(drops(PORT + 1), 0);
  });

  // The kept length counts from the UDP header (8 bytes), and never goes below it.
  for (const [k, want] of [[7, ''], [8, ''], [9, 'h'], [12, 'hell'], [13, 'hello'], [14, 'hello']] as const) {
    nets.it(`returning ${k} keeps ${Math.max(k, 8)} bytes of header and data: the 5-byte payload arrives as "${want}"`, () => {
      const n = nets.net(1);
      const port = PORT + 10 + k;
      const s = udpOn(n, port);
      attachFilter(s, [ret(k)]);
      datagram(n, port, 'hello');
      assert.deepEqual(received(s), [want]);
    });
  }

  nets.it('offsets start at the UDP header: a filter on the source port (bytes 0-1) passes 5000 only', () => {
    const n = nets.net(1);
    const s = udpOn(n, PORT + 2);
    attachFilter(s, [cbpf.ldAbs('h', 0), jeq(5000, 'yes', 0), ret(0), label('yes'), ret(0xffff)]);
    datagram(n, PORT + 2, 'from 5001', { sport: 5001 });
    datagram(n, PORT + 2, 'from 5000', { sport: 5000 });
    assert.deepEqual(received(s), ['from 5000']);
    assert.equal(drops(PORT + 2), 1);
  });

  nets.it('SKF_NET_OFF reaches the IP header: a filter on the TTL passes 64 only', () => {
    const n = nets.net(1);
    const s = udpOn(n, PORT + 3);
    attachFilter(s, [cbpf.ldAbs('b', cbpf.SKF_NET_OFF + 8), jeq(64, 'yes', 0), ret(0), label('yes'), ret(0xffff)]);
    datagram(n, PORT + 3, 'ttl 63', { ttl: 63 });
    datagram(n, PORT + 3, 'ttl 64', { ttl: 64 });
    datagram(n, PORT + 3, 'ttl 65', { ttl: 65 });
    assert.deepEqual(received(s), ['ttl 64']);
  });

  for (const [limit, label_] of [[4, 'one byte short'], [5, 'exactly'], [6, 'one byte over']] as const) {
    nets.it(`BPF_LEN is the UDP length: "len <= 13" passes 4- and 5-byte payloads, not 6 (${label_}: ${limit})`, () => {
      const n = nets.net(1);
      const port = PORT + 30 + limit;
      const s = udpOn(n, port);
      attachFilter(s, [ldLen(), cbpf.jmp('jgt', 8 + 5, 'no', 0), ret(0xffff), label('no'), ret(0)]);
      datagram(n, port, 'x'.repeat(limit));
      assert.deepEqual(received(s), limit <= 5 ? ['x'.repeat(limit)] : []);
    });
  }

  nets.it('SKF_AD_IFINDEX: on a wildcard socket, a filter for network 2 passes its datagrams and not network 1\'s', () => {
    const s = udpOn(nets.net(1), PORT + 4, '0.0.0.0');
    attachFilter(s, [cbpf.ldAbs('w', cbpf.SKF_AD_OFF + cbpf.SKF_AD.ifindex), jeq(nets.net(2).ifindex, 'yes', 0), ret(0), label('yes'), ret(0xffff)]);
    datagram(nets.net(1), PORT + 4, 'net1');
    datagram(nets.net(2), PORT + 4, 'net2');
    assert.deepEqual(received(s), ['net2']);
  });

  nets.it('SKF_AD_PKTTYPE: a filter for PACKET_BROADCAST passes a subnet broadcast and not a unicast datagram', () => {
    const n = nets.net(1);
    const s = udpOn(n, PORT + 5, '0.0.0.0');
    attachFilter(s, [cbpf.ldAbs('w', cbpf.SKF_AD_OFF + cbpf.SKF_AD.pkttype), jeq(1 /* PACKET_BROADCAST */, 'yes', 0), ret(0), label('yes'), ret(0xffff)]);
    datagram(n, PORT + 5, 'unicast');
    inject(n, [ether({ src: n.router.mac, dst: 'ff:ff:ff:ff:ff:ff' }), ipv4({ src: n.router.ip4, dst: '198.51.100.63' }), udp({ sport: 5000, dport: PORT + 5 }), raw('broadcast')]);
    assert.deepEqual(received(s), ['broadcast']);
  });

  nets.it('SKF_AD_PROTOCOL: on a dual-stack IPv6 socket a filter for 0x86dd passes IPv6 and not IPv4 datagrams', () => {
    const n = nets.net(1);
    const s = keep(udpSocket(6));
    s.bind(`[::]:${PORT + 6}`);
    attachFilter(s, [cbpf.ldAbs('h', cbpf.SKF_AD_OFF + cbpf.SKF_AD.protocol), jeq(0x86dd, 'yes', 0), ret(0), label('yes'), ret(0xffff)]);
    datagram(n, PORT + 6, 'v4');
    inject(n, [ipv6({ src: REMOTE6, dst: n.addr6 }), udp({ sport: 5000, dport: PORT + 6 }), raw('v6')]);
    assert.deepEqual(received(s), ['v6']);
  });

  nets.it('scratch memory: a value stored in M[15] is loaded back (returning A keeps that many bytes)', () => {
    const n = nets.net(1);
    const s = udpOn(n, PORT + 7);
    attachFilter(s, [ldImm(10), cst(15), ldImm(0), ldMem(15), retA()]);
    datagram(n, PORT + 7, 'abcdef');
    assert.deepEqual(received(s), ['ab']);
  });
});

describe('the classic checker (bpf_check_classic) and the socket options around it', () => {
  const sock = (): Socket<'inet'> => keep(udpSocket(4));
  const accept = [ret(0xffff)];

  // The converted program is charged to the socket's option memory (sk_filter_charge; the
  // reuseport option checks bpf_prog_size too): with the default optmem_max (20480 bytes, a
  // global sysctl this namespace cannot see) 2000 instructions fit, 4095 do not. So at 4095 and 4096 the
  // length check passes and the charge fails (ENOMEM); at 4097 the length check fails (EINVAL).
  const long = (count: number): cbpf.ClassicItem[] => [...Array.from({ length: count - 1 }, () => ldImm(0)), ret(0xffff)];
  for (const [option, name] of [[SO_ATTACH_FILTER, 'SO_ATTACH_FILTER'], [SO_ATTACH_REUSEPORT_CBPF, 'SO_ATTACH_REUSEPORT_CBPF']] as const) {
    for (const [count, code] of [[2000, null], [4095, 'ENOMEM'], [4096, 'ENOMEM'], [4097, 'EINVAL']] as const) {
      nets.it(`${name} with ${count} instructions (BPF_MAXINSNS = 4096): ${code ?? 'attached'}`, () => {
        const s = sock();
        s.setOption(SOL_SOCKET, SO_REUSEPORT, 1);
        if (code === null) attachFilter(s, long(count), { option });
        else assert.throws(() => attachFilter(s, long(count), { option }), errno(code));
      });
    }
  }

  nets.it('no instructions: EINVAL', () => assert.throws(() => attachFilter(sock(), []), errno('EINVAL')));
  nets.it('a program that does not end in RET: EINVAL', () => assert.throws(() => attachFilter(sock(), [ldImm(1)]), errno('EINVAL')));
  nets.it('a jump past the end: EINVAL', () => assert.throws(() => attachFilter(sock(), [jeq(1, 1, 0), ret(0)]), errno('EINVAL')));
  nets.it('division by a constant 0: EINVAL; by 1: attached', () => {
    assert.throws(() => attachFilter(sock(), [ldImm(1), cbpf.alu('div', 0), ret(0)]), errno('EINVAL'));
    attachFilter(sock(), [ldImm(1), cbpf.alu('div', 1), ret(0)]);
  });
  nets.it('scratch slot M[15] is the last (BPF_MEMWORDS = 16): M[16] is EINVAL', () => {
    attachFilter(sock(), [ldImm(1), cst(15), ldMem(15), retA()]);
    assert.throws(() => attachFilter(sock(), [ldImm(1), cst(16), ldMem(16), retA()]), errno('EINVAL'));
  });
  // A load of M[16] is also refused by check_load_and_stores() (its u16 mask has no bit 16), so
  // only a program that stores to M[16] and never loads it tests the bound in bpf_check_classic.
  nets.it('storing to M[16] without loading it: EINVAL for ST and STX; storing to M[15] alone is attached', () => {
    attachFilter(sock(), [ldImm(1), cst(15), ret(0xffff)]);
    attachFilter(sock(), [cbpf.ldxImm(1), cbpf.stx(15), ret(0xffff)]);
    assert.throws(() => attachFilter(sock(), [ldImm(1), cst(16), ret(0xffff)]), errno('EINVAL'));
    assert.throws(() => attachFilter(sock(), [cbpf.ldxImm(1), cbpf.stx(16), ret(0xffff)]), errno('EINVAL'));
  });
  nets.it('loading a scratch slot never stored: EINVAL (check_load_and_stores)', () => assert.throws(() => attachFilter(sock(), [ldMem(3), retA()]), errno('EINVAL')));
  nets.it('an unknown opcode: EINVAL', () => assert.throws(() => attachFilter(sock(), [craw(0xff, 0, 0, 0), ret(0)]), errno('EINVAL')));
  nets.it('SO_GET_FILTER returns the program as attached; a length of 0 asks for the count; a shorter buffer is EINVAL', () => {
    const s = sock();
    const prog = [cbpf.ldAbs('h', 2), jeq(53, 0, 1), ret(0xffff), ret(0)];
    attachFilter(s, prog);
    assert.deepEqual(getFilter(s).map((i) => [i.code, i.jt, i.jf, i.k]), cbpf.resolveClassic(prog).map((i) => [i.code, i.jt, i.jf, i.k]));
    assert.equal(getFilterLen(s, 0), 4);
    assert.throws(() => getFilterLen(s, 3), errno('EINVAL'));
    assert.equal(getFilterLen(s, 4), 4);
  });

  nets.it('SO_DETACH_FILTER with no filter is ENOENT; after a detach every datagram passes again', () => {
    const n = nets.net(1);
    const s = udpOn(n, PORT + 8);
    assert.throws(() => detachFilter(s), errno('ENOENT'));
    attachFilter(s, [ret(0)]);
    datagram(n, PORT + 8, 'dropped');
    detachFilter(s);
    datagram(n, PORT + 8, 'passed');
    assert.deepEqual(received(s), ['passed']);
  });

  nets.it('a second SO_ATTACH_FILTER replaces the first', () => {
    const n = nets.net(1);
    const s = udpOn(n, PORT + 9);
    attachFilter(s, [ret(0)]);
    attachFilter(s, [ret(9)]);
    datagram(n, PORT + 9, 'replaced');
    assert.deepEqual(received(s), ['r']);
  });

  nets.it('SO_LOCK_FILTER: a locked filter can be neither replaced nor detached (EPERM), and the lock cannot be lifted (EPERM)', () => {
    const n = nets.net(1);
    const s = udpOn(n, PORT + 40);
    attachFilter(s, [ret(9)]);
    lockFilter(s);
    assert.throws(() => attachFilter(s, accept), errno('EPERM'));
    assert.throws(() => detachFilter(s), errno('EPERM'));
    assert.throws(() => lockFilter(s, false), errno('EPERM'));
    lockFilter(s, true);
    datagram(n, PORT + 40, 'locked');
    assert.deepEqual(received(s), ['l']);
  });
});

// ---- eBPF socket filters ----

function filterProg(insns: Item[]): BpfProgram {
  return keep(loadProgram({ type: 'socket_filter', insns }));
}

/** Store r3 (a u64) at key `slot` of `m`; r1..r5 and r0 are clobbered. Needs r6 = ctx kept elsewhere. */
function storeSlot(m: BpfMap, slot: number): Item[] {
  return [
    stx('dw', R10, -16, R3), st('w', R10, -4, slot),
    ldMapFd(R1, m.fd), mov(R2, R10), alu('add', R2, -4), mov(R3, R10), alu('add', R3, -16), mov(R4, 0 /* BPF_ANY */),
    call(HELPER.map_update_elem),
  ];
}

describe('eBPF socket filters (SO_ATTACH_BPF)', () => {
  nets.it('a program returning skb->len delivers; returning 0 drops and counts', () => {
    const n = nets.net(1);
    const a = udpOn(n, PORT + 50);
    const b = udpOn(n, PORT + 51);
    attachBpf(a, filterProg([ldx('w', R0, R1, SK_BUFF.len), exit()]));
    attachBpf(b, filterProg([mov(R0, 0), exit()]));
    datagram(n, PORT + 50, 'kept');
    datagram(n, PORT + 51, 'gone');
    assert.deepEqual(received(a), ['kept']);
    assert.deepEqual(received(b), []);
    assert.equal(drops(PORT + 51), 1);
  });

  nets.it('__sk_buff as a UDP socket sees it: len from the UDP header, protocol, ingress ifindex, pkt_type PACKET_HOST', () => {
    const n = nets.net(2);
    const s = udpOn(n, PORT + 52);
    const m = keep(createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 }));
    const fields = [SK_BUFF.len, SK_BUFF.protocol, SK_BUFF.ifindex, SK_BUFF.pkt_type];
    const insns: Item[] = [mov(R6, R1)];
    fields.forEach((off, slot) => insns.push(ldx('w', R3, R6, off), ...storeSlot(m, slot)));
    insns.push(mov(R0, 0xffff), exit());
    attachBpf(s, filterProg(insns));
    datagram(n, PORT + 52, 'fields');
    assert.deepEqual(received(s), ['fields']);
    const got = [0, 1, 2, 3].map((k) => Number(m.lookup(Buffer.from([k, 0, 0, 0])).readBigUInt64LE(0)));
    assert.deepEqual(got, [8 + 6, 0x0008 /* htons(ETH_P_IP), read as a host-order u32 */, n.ifindex, 0]);
  });

  nets.it('bpf_get_socket_cookie(skb) is the receiving socket\'s SO_COOKIE; bpf_get_socket_uid(skb) its owner (fchown 20002)', () => {
    const n = nets.net(1);
    const s = udpOn(n, PORT + 53);
    s.chown(20002);
    const m = keep(createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 }));
    attachBpf(s, filterProg([
      mov(R6, R1),
      call(HELPER.get_socket_cookie), mov(R3, R0), ...storeSlot(m, 0),
      mov(R1, R6), call(HELPER.get_socket_uid), mov(R3, R0), ...storeSlot(m, 1),
      mov(R0, 0xffff), exit(),
    ]));
    datagram(n, PORT + 53, 'who');
    assert.deepEqual(received(s), ['who']);
    assert.equal(m.lookup(Buffer.from([0, 0, 0, 0])).readBigUInt64LE(0), s.cookie());
    assert.equal(m.lookup(Buffer.from([1, 0, 0, 0])).readBigUInt64LE(0), 20002n);
  });

  nets.it('only socket_filter programs attach: a cgroup_skb program is EINVAL, a map fd EINVAL, a closed fd EBADF', () => {
    const s = keep(udpSocket(4));
    const cg = keep(loadProgram({ type: 'cgroup_skb', insns: [mov(R0, 1), exit()] }));
    assert.throws(() => attachBpf(s, cg), errno('EINVAL'));
    const m = keep(createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 }));
    assert.throws(() => attachBpf(s, m.fd), errno('EINVAL'));
    const gone = loadProgram({ type: 'socket_filter', insns: [mov(R0, 0), exit()] });
    const fd = gone.fd;
    gone.close();
    assert.throws(() => attachBpf(s, fd), errno('EBADF'));
  });

  nets.it('the socket holds the program: closing the program fd after attaching changes nothing', () => {
    const n = nets.net(1);
    const s = udpOn(n, PORT + 54);
    const p = loadProgram({ type: 'socket_filter', insns: [mov(R0, 8 + 3), exit()] });
    attachBpf(s, p);
    p.close();
    datagram(n, PORT + 54, 'held');
    assert.deepEqual(received(s), ['hel']);
  });

  nets.it('SO_GET_FILTER on an eBPF filter is EACCES (no classic original to return)', () => {
    const s = keep(udpSocket(4));
    attachBpf(s, filterProg([mov(R0, 0), exit()]));
    assert.throws(() => getFilter(s), errno('EACCES'));
  });

  nets.it('on a TCP listener: a filter dropping SYNs from port 40001 leaves them unanswered; 40002 gets its SYN-ACK', () => {
    const n = nets.net(1);
    const l = keep(tcpSocket(4));
    l.setMark(n.mark);
    l.bind(`${n.addr4}:8080`);
    // A TCP socket's filter sees the TCP header first: the source port is at offset 0.
    attachBpf(l, filterProg([mov(R6, R1), ldAbs('h', 0), jmp('jeq', R0, 40001, 'drop'), mov(R0, 0xffff), exit(), label('drop'), mov(R0, 0), exit()]));
    l.listen();
    nets.sysctl('net.ipv4.tcp_timestamps', 0);
    const syn = (sport: number): void => inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), tcp({ sport, dport: 8080, seq: 100, flags: 'S', window: 65535, options: [{ kind: 'mss', value: 1460 }] })]);
    syn(40001);
    expectNone(n, { timeoutMs: 150 });
    syn(40002);
    const sa = expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4, df: true, ttl: 64 }), tcp({ sport: 8080, dport: 40002, ack: 101, flags: 'SA', window: 64240, options: [{ kind: 'mss', value: 1460 }] })], { ignore: ['ipv4.id', 'tcp.seq'] });
    inject(n, [ipv4({ src: REMOTE4, dst: n.addr4 }), tcp({ sport: 40002, dport: 8080, seq: 101, ack: layer(sa, 'tcp')!.seq + 1, flags: 'R', window: 0 })]);
  });
});

describe('filters on a packet socket: the return value is the snapshot length', () => {
  const ETH_P_IP = 0x0800;
  const MARK_PORT = 7777;
  // The frame: Ethernet 14 + IPv4 20 + UDP 8 + 10 bytes = 52.
  const FRAME = 52;
  for (const keepLen of [FRAME - 1, FRAME, FRAME + 1]) {
    nets.it(`an eBPF filter returning ${keepLen} on a ${FRAME}-byte frame: ${Math.min(keepLen, FRAME)} bytes read`, () => {
      const n = nets.net(1);
      const p = keep(packetSocket('raw', ETH_P_IP));
      p.bind({ ifindex: n.ifindex, protocol: ETH_P_IP });
      // Packet sockets see the frame from its Ethernet header: the UDP destination port is at 36.
      attachBpf(p, filterProg([mov(R6, R1), ldAbs('h', 36), jmp('jne', R0, MARK_PORT, 'no'), mov(R0, keepLen), exit(), label('no'), mov(R0, 0), exit()]));
      datagram(n, MARK_PORT, '0123456789');
      const got = p.recv({ timeoutMs: 500 });
      assert.equal(got.length, Math.min(keepLen, FRAME));
      assert.equal(got.subarray(0, 6).toString('hex'), n.mac.replaceAll(':', ''));
      assert.throws(() => p.recv({ timeoutMs: 30 }), errno('EAGAIN'));
    });
  }
});
