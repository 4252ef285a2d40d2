// sock_diag bytecode and dumps in depth (net/ipv4/inet_diag.c): every INET_DIAG_BC_* operator of
// include/uapi/linux/inet_diag.h (6.1: no S_NEQ/D_NEQ yet) at its boundary, run by
// inet_diag_bc_run() on real sockets; the audit (inet_diag_bc_audit) refusing bad programs with
// the exact errno; dumps selected by each TCP state mask; and the extensions with their values.
// Programs are written op by op here (not with the library's compiler) so that each test states
// exactly the bytes the kernel runs.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, REMOTE4, REMOTE6, type Network } from '../src/lib/networks.js';
import { decodeDiag, inetDiagReqV2, openSockDiag, type DiagSocket } from '../src/lib/netlink/sockdiag.js';
import { nla } from '../src/lib/netlink/attr.js';
import { openSocket, udpSocket, type Socket } from '../src/lib/socket.js';
import { errnoIs, K } from '../src/lib/sys/index.js';
import { asUser } from '../src/lib/creds.js';
import { ipToBytes } from '../src/lib/addr.js';
import { ipv4, layer, tcp } from '../src/lib/packet/index.js';
import { expectPacket } from '../src/lib/expect.js';
import { listenOn, tcpPeer, type TcpPeer } from '../src/lib/tcp-peer.js';
import { INET_DIAG, INET_DIAG_BC, INET_DIAG_REQ } from '../src/lib/include/uapi/linux/inet_diag.js';
import { SOCK_DIAG_MSG } from '../src/lib/include/uapi/linux/sock_diag.js';
import { AF_INET, AF_INET6, AF_UNSPEC } from '../src/lib/include/linux/socket.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../src/lib/include/uapi/linux/in.js';
import { TCP_STATE } from '../src/lib/include/net/tcp_states.js';

const nets = useNetworks({ count: 2 });
const BC = INET_DIAG_BC;

/** struct inet_diag_bc_op { u8 code; u8 yes; u16 no; } */
function op(code: number, yes: number, no: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt8(code, 0);
  b.writeUInt8(yes, 1);
  b.writeUInt16LE(no, 2);
  return b;
}
/** A port comparison: the port rides in the `no` field of a second op. Rejects to end + 4 by default. */
const port = (code: number, p: number, no = 12): Buffer => Buffer.concat([op(code, 8, no), op(0, 0, p)]);
/** S_COND/D_COND with struct inet_diag_hostcond { u8 family; u8 prefix_len; int port; __be32 addr[]; }. */
function hostcond(code: number, family: number, prefix: string | null, plen: number, p = -1, yes?: number): Buffer {
  const addr = prefix === null ? Buffer.alloc(0) : ipToBytes(prefix);
  const cond = Buffer.alloc(8 + addr.length);
  cond.writeUInt8(family, 0);
  cond.writeUInt8(plen, 1);
  cond.writeInt32LE(p, 4);
  addr.copy(cond, 8);
  const len = 4 + cond.length;
  return Buffer.concat([op(code, yes ?? len, len + 4), cond]);
}
function u32s(...v: number[]): Buffer {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeUInt32LE(x >>> 0, 4 * i));
  return b;
}

interface Query {
  family?: number;
  protocol?: number;
  bc?: Buffer;
  states?: number;
  ext?: number;
}

/** SOCK_DIAG_BY_FAMILY dump with a raw bytecode attribute (not audited by the library first). */
function dump(q: Query, asUid?: number): DiagSocket[] {
  const run = (): DiagSocket[] => {
    const d = openSockDiag();
    try {
      const req = inetDiagReqV2.encode({ family: q.family ?? AF_INET, protocol: q.protocol ?? IPPROTO_UDP, ext: q.ext ?? 0, states: (q.states ?? 0xffffffff) >>> 0 });
      const body = q.bc === undefined ? req : Buffer.concat([req, nla.bytes(INET_DIAG_REQ.BYTECODE, q.bc)]);
      return d.nl.dump(SOCK_DIAG_MSG.DIAG_BY_FAMILY, body).map((m) => decodeDiag(m, q.protocol ?? IPPROTO_UDP));
    } finally {
      d.close();
    }
  };
  return asUid === undefined ? run() : asUser(asUid, run);
}

const stateBit = (...names: (keyof typeof TCP_STATE)[]): number => names.reduce((m, s) => m | (1 << TCP_STATE[s]), 0);

/** UDP sockets on 127.0.0.1 with the given local ports, each connected to 127.0.0.2:dport. */
function udpSet(pairs: readonly [number, number][]): Socket<'inet'>[] {
  return pairs.map(([sp, dp]) => {
    const s = udpSocket(4);
    s.bind(`127.0.0.1:${sp}`);
    s.connect(`127.0.0.2:${dp}`);
    return s;
  });
}
const closeAll = (ss: readonly { close(): void }[]): void => ss.forEach((s) => s.close());

/** The local ports among `ports` that a dump with this program returns, sorted. */
function selected(ports: readonly number[], bc: Buffer, family = AF_INET): number[] {
  return dump({ family, bc }).map((s) => s.sport).filter((p) => ports.includes(p)).sort((a, b) => a - b);
}

describe('port operators at N-1, N, N+1', () => {
  const SP = [2999, 3000, 3001];
  const pairs: [number, number][] = [[2999, 4999], [3000, 5000], [3001, 5001]];

  nets.it('S_GE, S_LE, S_EQ 3000 select {3000,3001}, {2999,3000}, {3000}', () => {
    const ss = udpSet(pairs);
    try {
      assert.deepEqual(selected(SP, port(BC.S_GE, 3000)), [3000, 3001]);
      assert.deepEqual(selected(SP, port(BC.S_LE, 3000)), [2999, 3000]);
      assert.deepEqual(selected(SP, port(BC.S_EQ, 3000)), [3000]);
    } finally {
      closeAll(ss);
    }
  });

  nets.it('D_GE, D_LE, D_EQ 5000 compare the peer port: {3000,3001}, {2999,3000}, {3000}', () => {
    const ss = udpSet(pairs);
    try {
      assert.deepEqual(selected(SP, port(BC.D_GE, 5000)), [3000, 3001]);
      assert.deepEqual(selected(SP, port(BC.D_LE, 5000)), [2999, 3000]);
      assert.deepEqual(selected(SP, port(BC.D_EQ, 5000)), [3000]);
    } finally {
      closeAll(ss);
    }
  });

  nets.it('two ops chained by yes are an AND: S_GE 3000 then D_LE 5000 selects {3000}', () => {
    const ss = udpSet(pairs);
    try {
      // op0 rejects to the end of the whole program + 4 (16 + 4 = 20 bytes from op0).
      assert.deepEqual(selected(SP, Buffer.concat([port(BC.S_GE, 3000, 20), port(BC.D_LE, 5000)])), [3000]);
    } finally {
      closeAll(ss);
    }
  });
});

describe('JMP, NOP and the yes/no offsets', () => {
  const SP = [2999, 3000, 3001];
  const pairs: [number, number][] = [[2999, 4999], [3000, 5000], [3001, 5001]];

  nets.it('JMP always takes no: no = 4 (the end) accepts everything, no = 8 (end + 4) rejects everything', () => {
    const ss = udpSet(pairs);
    try {
      assert.deepEqual(selected(SP, op(BC.JMP, 4, 4)), SP);
      assert.deepEqual(selected(SP, op(BC.JMP, 4, 8)), []);
    } finally {
      closeAll(ss);
    }
  });

  nets.it('NOP always takes yes, and its no is never audited (0xfffc is accepted)', () => {
    const ss = udpSet(pairs);
    try {
      assert.deepEqual(selected(SP, op(BC.NOP, 4, 0xfffc)), SP);
      assert.deepEqual(selected(SP, Buffer.concat([op(BC.NOP, 4, 0), port(BC.S_EQ, 3001)])), [3001]);
    } finally {
      closeAll(ss);
    }
  });

  nets.it('an OR through JMP: S_EQ 2999 (no -> over the JMP) | S_EQ 3001 selects {2999,3001}', () => {
    const ss = udpSet(pairs);
    try {
      // [S_EQ 2999 yes 8 no 12][JMP yes 4 no 12 (the end)][S_EQ 3001]: 20 bytes.
      const bc = Buffer.concat([port(BC.S_EQ, 2999, 12), op(BC.JMP, 4, 12), port(BC.S_EQ, 3001)]);
      assert.deepEqual(selected(SP, bc), [2999, 3001]);
    } finally {
      closeAll(ss);
    }
  });

  nets.it('yes may step over padding: S_EQ with yes = 12 skips 4 unused bytes', () => {
    const ss = udpSet(pairs);
    try {
      const bc = Buffer.concat([op(BC.S_EQ, 12, 16), op(0, 0, 3000), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
      assert.deepEqual(selected(SP, bc), [3000]);
    } finally {
      closeAll(ss);
    }
  });
});

describe('S_COND / D_COND prefixes', () => {
  /** Which of the (family, address, prefix length) conditions match socket `sport` (D_COND or S_COND). */
  function matches(code: number, sport: number, conds: readonly [number, string | null, number][], family = AF_INET): boolean[] {
    return conds.map(([fam, addr, plen]) => selected([sport], hostcond(code, fam, addr, plen), family).length === 1);
  }

  nets.it('IPv4 D_COND against 203.0.113.1: /0, and a bit flipped at 27 and at 24 match up to that length only', () => {
    const n = nets.net(1);
    const s = udpSocket(4);
    s.setMark(n.mark);
    s.connect(`${REMOTE4}:9`);
    const sp = s.localAddress().port;
    try {
      assert.deepEqual(
        matches(BC.D_COND, sp, [
          [AF_INET, '0.0.0.0', 0], [AF_INET, REMOTE4, 32], [AF_INET, '203.0.113.0', 31], [AF_INET, '203.0.113.0', 32],
          // .17 differs from .1 at bit 27 (0x10 of the last byte): /26, /27 match, /28 not.
          [AF_INET, '203.0.113.17', 26], [AF_INET, '203.0.113.17', 27], [AF_INET, '203.0.113.17', 28],
          // .129 differs at bit 24, a byte boundary: /23, /24 match, /25 not.
          [AF_INET, '203.0.113.129', 23], [AF_INET, '203.0.113.129', 24], [AF_INET, '203.0.113.129', 25],
          [AF_UNSPEC, null, 0],
        ]),
        [true, true, true, false, true, true, false, true, true, false, true],
      );
    } finally {
      s.close();
    }
  });

  nets.it('IPv4 S_COND matches the local address; the condition port must equal the local port (-1: any)', () => {
    const n = nets.net(1);
    const s = udpSocket(4);
    s.setMark(n.mark);
    s.bind(`${n.addr4}:3100`);
    s.connect(`${REMOTE4}:9`);
    try {
      const pick = (bc: Buffer): boolean => selected([3100], bc).length === 1;
      assert.equal(pick(hostcond(BC.S_COND, AF_INET, n.addr4, 32)), true);
      assert.equal(pick(hostcond(BC.S_COND, AF_INET, REMOTE4, 32)), false);
      assert.equal(pick(hostcond(BC.S_COND, AF_INET, n.addr4, 32, 3100)), true);
      assert.equal(pick(hostcond(BC.S_COND, AF_INET, n.addr4, 32, 3101)), false);
      assert.equal(pick(hostcond(BC.S_COND, AF_INET, n.addr4, 32, 3099)), false);
      // D_COND's port is the peer's.
      assert.equal(pick(hostcond(BC.D_COND, AF_INET, REMOTE4, 32, 9)), true);
      assert.equal(pick(hostcond(BC.D_COND, AF_INET, REMOTE4, 32, 3100)), false);
    } finally {
      s.close();
    }
  });

  nets.it('IPv6 D_COND against 2001:db8:ff::1: /128 exact, ::3 matches at /126 not /127; an AF_INET /0 condition never matches', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    s.setMark(n.mark);
    s.connect(`[${REMOTE6}]:9`);
    const sp = s.localAddress().port;
    try {
      assert.deepEqual(
        matches(BC.D_COND, sp, [
          [AF_INET6, '::', 0], [AF_INET6, REMOTE6, 128], [AF_INET6, '2001:db8:ff::', 127], [AF_INET6, '2001:db8:ff::', 128],
          [AF_INET6, '2001:db8:ff::3', 126], [AF_INET6, '2001:db8:ff::3', 127], [AF_INET6, '2001:db8:fe::', 47], [AF_INET6, '2001:db8:fe::', 48],
          [AF_INET, '0.0.0.0', 0], [AF_UNSPEC, null, 0],
        ], AF_INET6),
        [true, true, true, false, true, false, true, false, false, true],
      );
    } finally {
      s.close();
    }
  });

  nets.it('an IPv4-mapped peer of an IPv6 socket matches AF_INET conditions on its last 32 bits and ::ffff:0:0/96 ones', () => {
    const n = nets.net(1);
    const s = udpSocket(6);
    s.setMark(n.mark);
    s.connect(`[::ffff:${REMOTE4}]:9`);
    const sp = s.localAddress().port;
    try {
      assert.deepEqual(
        matches(BC.D_COND, sp, [
          [AF_INET, '203.0.113.0', 24], [AF_INET, '203.0.113.0', 32], [AF_INET, REMOTE4, 32], [AF_INET, '0.0.0.0', 0],
          [AF_INET6, '::ffff:203.0.113.0', 120], [AF_INET6, '::ffff:203.0.113.0', 128], [AF_INET6, '::ffff:0.0.0.0', 96], [AF_INET6, '::', 97],
        ], AF_INET6),
        [true, false, true, true, true, false, true, false],
      );
      // The local address is mapped too: S_COND AF_INET on the guest's IPv4 address.
      assert.equal(selected([sp], hostcond(BC.S_COND, AF_INET, n.addr4, 32), AF_INET6).length, 1);
    } finally {
      s.close();
    }
  });
});

describe('DEV_COND, MARK_COND, AUTO', () => {
  nets.it('DEV_COND selects by SO_BINDTODEVICE ifindex; DEV_COND 0 selects the unbound socket', () => {
    const [a, b, c] = [udpSocket(4), udpSocket(4), udpSocket(4)];
    try {
      a.bindToDevice(nets.net(1).ifname);
      b.bindToDevice(nets.net(2).ifname);
      a.bind('0.0.0.0:3201');
      b.bind('0.0.0.0:3202');
      c.bind('0.0.0.0:3203');
      const P = [3201, 3202, 3203];
      const dev = (i: number): Buffer => Buffer.concat([op(BC.DEV_COND, 8, 12), u32s(i)]);
      assert.deepEqual(selected(P, dev(nets.net(1).ifindex)), [3201]);
      assert.deepEqual(selected(P, dev(nets.net(2).ifindex)), [3202]);
      assert.deepEqual(selected(P, dev(0)), [3203]);
    } finally {
      closeAll([a, b, c]);
    }
  });

  nets.it('MARK_COND compares mark & mask with mark: 0x10/0xff, 0x10/~0, 0/0 and 1/0', () => {
    const marks = [0x10, 0x110, 0x11];
    const ss = marks.map((m, i) => {
      const s = udpSocket(4);
      s.setMark(m);
      s.bind(`127.0.0.1:${3301 + i}`);
      return s;
    });
    try {
      const P = [3301, 3302, 3303];
      const mark = (m: number, mask: number): Buffer => Buffer.concat([op(BC.MARK_COND, 12, 16), u32s(m, mask)]);
      assert.deepEqual(selected(P, mark(0x10, 0xff)), [3301, 3302]);
      assert.deepEqual(selected(P, mark(0x10, 0xffffffff)), [3301]);
      assert.deepEqual(selected(P, mark(0x11, 0x1f)), [3303]);
      assert.deepEqual(selected(P, mark(0, 0)), P);
      assert.deepEqual(selected(P, mark(1, 0)), []);
    } finally {
      closeAll(ss);
    }
  });

  nets.it('MARK_COND without CAP_NET_ADMIN is refused with EPERM; the MARK attribute is not reported either', () => {
    const s = udpSocket(4);
    s.setMark(0x10);
    s.bind('127.0.0.1:3304');
    try {
      const bc = Buffer.concat([op(BC.MARK_COND, 12, 16), u32s(0x10, 0xff)]);
      assert.throws(() => dump({ bc }, 65534), errnoIs('EPERM'));
      const mine = dump({}, 65534).find((x) => x.sport === 3304);
      assert.equal(mine?.mark, undefined);
      assert.equal(dump({}).find((x) => x.sport === 3304)?.mark, 0x10);
    } finally {
      s.close();
    }
  });

  nets.it('AUTO selects sockets whose port the kernel chose (connect, or bind to port 0), not an explicit bind', () => {
    const [a, b, c] = [udpSocket(4), udpSocket(4), udpSocket(4)];
    try {
      a.bind('127.0.0.1:3401');
      b.connect('127.0.0.2:9');
      c.bind('127.0.0.1:0');
      const P = [3401, b.localAddress().port, c.localAddress().port];
      const sorted = [...P].sort((x, y) => x - y);
      assert.deepEqual(selected(P, op(BC.AUTO, 4, 8)), sorted.filter((p) => p !== 3401));
      // not(AUTO): [AUTO yes 4 no 8 (over the JMP to the end)][JMP yes 4 no 8 (reject)]
      assert.deepEqual(selected(P, Buffer.concat([op(BC.AUTO, 4, 8), op(BC.JMP, 4, 8)])), [3401]);
    } finally {
      closeAll([a, b, c]);
    }
  });
});

describe('CGROUP_COND', () => {
  nets.it('CGROUP_COND selects by the cgroup id INET_DIAG_CGROUP_ID reports; id + 1 and id - 1 select nothing', (t) => {
    const s = udpSocket(4);
    s.bind('127.0.0.1:3601');
    try {
      const id = dump({}).find((x) => x.sport === 3601)?.cgroupId;
      if (id === undefined) return t.skip('kernel built without CONFIG_SOCK_CGROUP_DATA (no INET_DIAG_CGROUP_ID)');
      const cg = (v: bigint): Buffer => {
        const arg = Buffer.alloc(8);
        arg.writeBigUInt64LE(v);
        return Buffer.concat([op(BC.CGROUP_COND, 12, 16), arg]);
      };
      assert.deepEqual(selected([3601], cg(id)), [3601]);
      assert.deepEqual(selected([3601], cg(id + 1n)), []);
      assert.deepEqual(selected([3601], cg(id - 1n)), []);
      // The id is a u64 after the op: 8 bytes short of it is refused.
      assert.throws(() => dump({ bc: Buffer.concat([op(BC.CGROUP_COND, 8, 12), Buffer.alloc(4)]) }), errnoIs('EINVAL'));
    } finally {
      s.close();
    }
  });
});

describe('the audit: inet_diag_bc_audit refuses bad programs with EINVAL', () => {
  const refused = (bc: Buffer): void => assert.throws(() => dump({ bc }), errnoIs('EINVAL'), bc.toString('hex'));
  const accepted = (bc: Buffer): void => assert.doesNotThrow(() => dump({ bc }), bc.toString('hex'));

  nets.it('an empty or 2-byte program, an unknown op code', () => {
    refused(Buffer.alloc(0));
    refused(Buffer.from([BC.NOP, 4]));
    refused(op(200, 4, 8));
    accepted(op(BC.NOP, 4, 8));
  });

  nets.it('yes: below the op size, not a multiple of 4, past the end (yes = len + 4 is refused though no may be)', () => {
    refused(Buffer.concat([op(BC.S_GE, 4, 12), op(0, 0, 1)]));
    refused(Buffer.concat([op(BC.NOP, 6, 8), op(0, 0, 0)]));
    refused(op(BC.NOP, 8, 8));
    refused(op(BC.AUTO, 8, 8));
    accepted(op(BC.AUTO, 4, 8));
  });

  nets.it('no: misaligned, below the op size, beyond end + 4, or into the middle of an op', () => {
    refused(port(BC.S_GE, 1, 10));
    refused(port(BC.S_GE, 1, 4));
    refused(port(BC.S_GE, 1, 16));
    accepted(port(BC.S_GE, 1, 12));
    accepted(port(BC.S_GE, 1, 8));
    // [JMP no 8 -> offset 8][S_EQ at 4 (port op at 8)]: offset 8 is the port, not an op.
    refused(Buffer.concat([op(BC.JMP, 4, 8), port(BC.S_EQ, 1)]));
    accepted(Buffer.concat([op(BC.JMP, 4, 4), port(BC.S_EQ, 1)]));
    // A no target that the yes chain steps over is refused: [S_EQ yes 16 no 8][S_EQ at 8].
    refused(Buffer.concat([op(BC.S_EQ, 16, 8), op(0, 0, 1), port(BC.S_EQ, 1)]));
  });

  nets.it('conditions too short: hostcond 12 of 16 (v4) and 24 of 28 (v6), DEV_COND 4 of 8, MARK_COND 8 of 12', () => {
    refused(hostcond(BC.S_COND, AF_INET, '192.0.2.0', 24, -1, 12));
    accepted(hostcond(BC.S_COND, AF_INET, '192.0.2.0', 24));
    refused(hostcond(BC.D_COND, AF_INET6, '2001:db8::', 32, -1, 24));
    accepted(hostcond(BC.D_COND, AF_INET6, '2001:db8::', 32));
    refused(Buffer.concat([op(BC.DEV_COND, 4, 8), u32s(1)]));
    accepted(Buffer.concat([op(BC.DEV_COND, 8, 12), u32s(1)]));
    refused(Buffer.concat([op(BC.MARK_COND, 8, 16), u32s(1, 1)]));
    accepted(Buffer.concat([op(BC.MARK_COND, 12, 16), u32s(1, 1)]));
  });

  nets.it('hostcond: prefix 33 on IPv4 and 129 on IPv6, an unknown family, AF_UNSPEC with a prefix', () => {
    refused(hostcond(BC.S_COND, AF_INET, '192.0.2.0', 33));
    accepted(hostcond(BC.S_COND, AF_INET, '192.0.2.0', 32));
    refused(hostcond(BC.S_COND, AF_INET6, '2001:db8::', 129));
    accepted(hostcond(BC.S_COND, AF_INET6, '2001:db8::', 128));
    refused(hostcond(BC.S_COND, 99, '192.0.2.0', 0));
    refused(hostcond(BC.S_COND, AF_UNSPEC, null, 1));
    accepted(hostcond(BC.S_COND, AF_UNSPEC, null, 0));
  });
});

// ---- TCP states and extensions ----

const PEER = 41000;
const LPORT = 200;

interface Peered {
  peer: TcpPeer;
  sock: Socket<'inet'>;
}

/** Handshake from the wire to `listener` (port LPORT) from REMOTE4:peerPort; returns the accepted socket. */
function connect(n: Network, listener: Socket<'inet'>, peerPort: number): Peered {
  const peer = tcpPeer(n, { kernel: { address: n.addr4, port: LPORT }, peer: { address: REMOTE4, port: peerPort } });
  peer.send('S', { options: [{ kind: 'mss', value: 1460 }] });
  peer.expect('SA', { ignore: ['tcp.options'] });
  peer.send('A');
  const { socket } = listener.accept({ timeoutMs: 1000 });
  return { peer, sock: socket };
}

const TCP = { protocol: IPPROTO_TCP };
const byPeer = (ss: DiagSocket[]): string[] => ss.filter((s) => s.sport === LPORT).map((s) => `${s.dport}/${String(s.state)}`).sort();

describe('TCP dumps by state mask', () => {
  nets.it('LISTEN, ESTABLISHED, SYN_RECV, CLOSE_WAIT, FIN_WAIT2, TIME_WAIT: each mask selects exactly its socket', () => {
    const n = nets.net(1);
    const listener = listenOn(n, LPORT);
    const open: Socket<'inet'>[] = [listener];
    const peers: TcpPeer[] = [];
    try {
      const est = connect(n, listener, PEER + 1);
      open.push(est.sock);
      peers.push(est.peer);
      // SYN_RECV: a request socket, the handshake never completed.
      const syn = tcpPeer(n, { kernel: { address: n.addr4, port: LPORT }, peer: { address: REMOTE4, port: PEER + 2 } });
      syn.send('S', { options: [{ kind: 'mss', value: 1460 }] });
      syn.expect('SA', { ignore: ['tcp.options'] });
      peers.push(syn);
      // CLOSE_WAIT: the peer closes first.
      const cw = connect(n, listener, PEER + 3);
      open.push(cw.sock);
      peers.push(cw.peer);
      cw.peer.send('FA');
      cw.peer.expect('A');
      // FIN_WAIT2: shutdown(SHUT_WR), the peer ACKs the FIN only.
      const fw = connect(n, listener, PEER + 4);
      open.push(fw.sock);
      peers.push(fw.peer);
      fw.sock.shutdown('write');
      fw.peer.expect('FA');
      fw.peer.send('A');
      // TIME_WAIT: close() first, the peer answers FIN+ACK.
      const tw = connect(n, listener, PEER + 5);
      peers.push(tw.peer);
      tw.sock.close();
      tw.peer.expect('FA');
      tw.peer.send('FA');
      tw.peer.expect('A');

      const all = byPeer(dump({ ...TCP }));
      assert.deepEqual(all, ['0/listen', `${PEER + 1}/established`, `${PEER + 2}/syn_recv`, `${PEER + 3}/close_wait`, `${PEER + 4}/fin_wait2`, `${PEER + 5}/time_wait`].sort());
      const one = (st: keyof typeof TCP_STATE): string[] => byPeer(dump({ ...TCP, states: stateBit(st) }));
      assert.deepEqual(one('LISTEN'), ['0/listen']);
      assert.deepEqual(one('ESTABLISHED'), [`${PEER + 1}/established`]);
      assert.deepEqual(one('SYN_RECV'), [`${PEER + 2}/syn_recv`]);
      assert.deepEqual(one('CLOSE_WAIT'), [`${PEER + 3}/close_wait`]);
      assert.deepEqual(one('FIN_WAIT2'), [`${PEER + 4}/fin_wait2`]);
      assert.deepEqual(one('TIME_WAIT'), [`${PEER + 5}/time_wait`]);
      // Request sockets live in the hash as NEW_SYN_RECV (12): that bit selects them too (the
      // SYN_RECV bit is widened to it), and either way they are reported as SYN_RECV (3).
      assert.deepEqual(one('NEW_SYN_RECV'), [`${PEER + 2}/syn_recv`]);
      assert.deepEqual(byPeer(dump({ ...TCP, states: 0 })), []);

      // What each minisocket reports: a request socket has timer 1 (SYN-ACK retransmit), uid 0,
      // inode 0 and the listener's mark; a TIME_WAIT socket has timer 3 and no inode.
      const rq = dump({ ...TCP, states: stateBit('SYN_RECV') }).find((s) => s.sport === LPORT);
      assert.deepEqual([rq?.timer, rq?.retrans, rq?.uid, rq?.inode, rq?.rqueue, rq?.wqueue, rq?.mark], [1, 0, 0, 0, 0, 0, n.mark]);
      const tws = dump({ ...TCP, states: stateBit('TIME_WAIT'), ext: 0xff }).find((s) => s.sport === LPORT);
      assert.deepEqual([tws?.timer, tws?.inode, tws?.tcpInfo, tws?.meminfo], [3, 0, undefined, undefined]);
      assert.ok(tws !== undefined && tws.expires > 0 && tws.expires <= 60000, String(tws?.expires));
      // AUTO selects everything but the listener: sk_clone_lock() clears SOCK_BINDPORT_LOCK in
      // accepted children, and request and TIME_WAIT minisockets have no userlocks at all.
      assert.deepEqual(byPeer(dump({ ...TCP, bc: op(BC.AUTO, 4, 8) })), all.filter((x) => x !== '0/listen'));
    } finally {
      for (const p of peers) p.send('R', { window: 0 });
      closeAll(open);
    }
  });
});

describe('TCP dumps by state mask: the closing states and SYN_SENT', () => {
  nets.it('FIN_WAIT1, CLOSING, LAST_ACK, SYN_SENT: each mask selects exactly its socket', () => {
    const n = nets.net(1);
    const listener = listenOn(n, LPORT);
    const open: Socket<'inet'>[] = [listener];
    const peers: TcpPeer[] = [];
    try {
      // FIN_WAIT1: our FIN is not acknowledged.
      const f1 = connect(n, listener, PEER + 6);
      open.push(f1.sock);
      peers.push(f1.peer);
      f1.sock.shutdown('write');
      f1.peer.expect('FA');
      // CLOSING: the peer's FIN crosses ours (it acknowledges only the handshake).
      const cl = connect(n, listener, PEER + 7);
      open.push(cl.sock);
      peers.push(cl.peer);
      cl.sock.shutdown('write');
      cl.peer.expect('FA');
      cl.peer.send('FA', { ack: 1 });
      cl.peer.expect('A');
      // LAST_ACK: the peer closed first, then we did; our FIN is not acknowledged.
      const la = connect(n, listener, PEER + 8);
      open.push(la.sock);
      peers.push(la.peer);
      la.peer.send('FA');
      la.peer.expect('A');
      la.sock.shutdown('write');
      la.peer.expect('FA');
      // SYN_SENT: a connect from LPORT + 1 that is never answered.
      const ss = openSocket('inet', 'stream', 0, { nonBlocking: true });
      open.push(ss);
      ss.setMark(n.mark);
      ss.bind(`${n.addr4}:${LPORT + 1}`);
      assert.throws(() => ss.connect(`${REMOTE4}:${PEER + 9}`), errnoIs('EINPROGRESS'));
      expectPacket(n, [ipv4({ src: n.addr4, dst: REMOTE4 }), tcp({ sport: LPORT + 1, dport: PEER + 9, flags: 'S' })], { ignore: ['ipv4.id', 'ipv4.df', 'ipv4.ttl', 'tcp.seq', 'tcp.window', 'tcp.options'] });

      const mine = (ss2: DiagSocket[]): string[] => ss2.filter((s) => s.sport === LPORT || s.sport === LPORT + 1).map((s) => `${s.dport}/${String(s.state)}`).sort();
      assert.deepEqual(mine(dump({ ...TCP })), ['0/listen', `${PEER + 6}/fin_wait1`, `${PEER + 7}/closing`, `${PEER + 8}/last_ack`, `${PEER + 9}/syn_sent`].sort());
      const one = (st: keyof typeof TCP_STATE): string[] => mine(dump({ ...TCP, states: stateBit(st) }));
      assert.deepEqual(one('FIN_WAIT1'), [`${PEER + 6}/fin_wait1`]);
      assert.deepEqual(one('CLOSING'), [`${PEER + 7}/closing`]);
      assert.deepEqual(one('LAST_ACK'), [`${PEER + 8}/last_ack`]);
      assert.deepEqual(one('SYN_SENT'), [`${PEER + 9}/syn_sent`]);
      assert.deepEqual(mine(dump({ ...TCP, states: stateBit('FIN_WAIT1', 'LAST_ACK') })), [`${PEER + 6}/fin_wait1`, `${PEER + 8}/last_ack`]);
    } finally {
      for (const p of peers) p.send('R', { window: 0 });
      closeAll(open);
    }
  });
});

describe('extensions', () => {
  const bit = (...e: number[]): number => e.reduce((m, x) => m | (1 << (x - 1)), 0);

  nets.it('a listener: rqueue is the accept backlog in use, wqueue the listen() backlog', () => {
    const n = nets.net(1);
    const listener = listenOn(n, LPORT, { backlog: 7 });
    const peer = tcpPeer(n, { kernel: { address: n.addr4, port: LPORT }, peer: { address: REMOTE4, port: PEER + 10 } });
    try {
      const before = dump({ ...TCP, states: stateBit('LISTEN') }).find((s) => s.sport === LPORT);
      assert.deepEqual([before?.rqueue, before?.wqueue], [0, 7]);
      peer.send('S', { options: [{ kind: 'mss', value: 1460 }] });
      peer.expect('SA', { ignore: ['tcp.options'] });
      peer.send('A');
      assert.ok(listener.poll(1 /* POLLIN */, 1000) !== 0);
      const after = dump({ ...TCP, states: stateBit('LISTEN') }).find((s) => s.sport === LPORT);
      assert.deepEqual([after?.rqueue, after?.wqueue], [1, 7]);
    } finally {
      peer.send('R', { window: 0 });
      listener.close();
    }
  });

  nets.it('ESTABLISHED: INFO, MEMINFO queues, TOS (ECN bits dropped), CLASS_ID = SO_PRIORITY, MARK, SHUTDOWN', () => {
    const n = nets.net(1);
    const listener = listenOn(n, LPORT);
    const c = connect(n, listener, PEER + 11);
    try {
      c.sock.setOption(K.SOL_IP, K.IP_TOS, 0x2b);
      c.sock.setOption(K.SOL_SOCKET, K.SO_PRIORITY, 5);
      c.peer.send('PA', { data: Buffer.alloc(100, 1) });
      c.peer.expect('A', { ignore: ['ipv4.tos'] });
      c.sock.send(Buffer.alloc(10, 2));
      // The ECN bits of IP_TOS are the kernel's on a stream socket: 0x2b goes out as 0x28.
      const seg = c.peer.expect('PA', { data: Buffer.alloc(10, 2), ignore: ['ipv4.tos'] });
      assert.equal(layer(seg, 'ipv4')?.tos, 0x28);
      const ext = bit(INET_DIAG.INFO, INET_DIAG.MEMINFO, INET_DIAG.TOS, INET_DIAG.TCLASS, INET_DIAG.SHUTDOWN);
      const s = dump({ ...TCP, states: stateBit('ESTABLISHED'), ext }).find((x) => x.sport === LPORT);
      assert.ok(s !== undefined);
      // rqueue: 100 bytes unread; wqueue: 10 bytes unacknowledged.
      assert.deepEqual([s.rqueue, s.wqueue], [100, 10]);
      assert.equal(s.tos, 0x28);
      assert.equal(s.tclass, undefined); // an IPv4 socket has no TCLASS
      assert.equal(s.classId, 5);
      assert.equal(s.mark, n.mark);
      assert.equal(s.shutdown, 0);
      const i = s.tcpInfo;
      // No timestamps, SACK or window scaling were offered: options 0, and the full 1460-byte MSS.
      assert.deepEqual([i?.state, i?.options, i?.snd_mss, i?.advmss, i?.unacked, i?.bytes_received, i?.bytes_sent], [TCP_STATE.ESTABLISHED, 0, 1460, 1460, 1, 100n, 10n]);
      assert.ok(s.meminfo !== undefined && s.meminfo.rmem > 100 && s.meminfo.wmem > 10, JSON.stringify(s.meminfo));
      // SHUTDOWN: RCV_SHUTDOWN (1) after the peer's FIN, both (3) after our shutdown(SHUT_WR).
      c.peer.send('FA');
      c.peer.expect('A', { ignore: ['ipv4.tos'] });
      assert.equal(dump({ ...TCP, ext }).find((x) => x.sport === LPORT && x.dport === PEER + 11)?.shutdown, 1);
      c.sock.shutdown('write');
      c.peer.expect('FA', { ignore: ['ipv4.tos'] });
      assert.equal(dump({ ...TCP, ext }).find((x) => x.sport === LPORT && x.dport === PEER + 11)?.shutdown, 3);
    } finally {
      c.peer.send('R', { window: 0 });
      c.sock.close();
      listener.close();
    }
  });

  nets.it('IPv6 UDP: TCLASS kept whole (ECN bits too), TOS 0; SKV6ONLY set by IPV6_V6ONLY and by a bind to a non-mapped address', () => {
    const [a, b, c] = [udpSocket(6), udpSocket(6), udpSocket(6)];
    try {
      a.setOption(K.SOL_IPV6, K.IPV6_TCLASS, 0x2b);
      b.setOption(K.SOL_IPV6, K.IPV6_V6ONLY, 1);
      a.bind('[::]:3501');
      b.bind('[::]:3502');
      // __inet6_bind() sets sk_ipv6only for any specific address that is not v4-mapped.
      c.bind('[::1]:3503');
      const ext = bit(INET_DIAG.TOS, INET_DIAG.TCLASS);
      const got = dump({ family: AF_INET6, ext }).filter((s) => s.sport >= 3501 && s.sport <= 3503).sort((x, y) => x.sport - y.sport);
      assert.deepEqual(got.map((s) => [s.sport, s.tclass, s.tos, s.v6only, s.classId]), [[3501, 0x2b, 0, false, 0], [3502, 0, 0, true, 0], [3503, 0, 0, true, 0]]);
    } finally {
      closeAll([a, b, c]);
    }
  });
});
