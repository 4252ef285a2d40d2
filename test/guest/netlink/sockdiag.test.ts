// sock_diag against the real kernel: dumps with state and bytecode filters, lookups, extensions,
// and SOCK_DESTROY making the peer see a reset. Loopback only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { openSockDiag, df, type SockDiag } from '../../../src/lib/netlink/sockdiag.js';
import { isNetlinkError } from '../../../src/lib/netlink/core.js';
import { execFileSync } from 'node:child_process';
import { tcpSocket } from '../../../src/lib/socket.js';

let sd: SockDiag;
let server: Server;
let port = 0;
const accepted: Socket[] = [];

const listen = (srv: Server, host: string): Promise<number> =>
  new Promise((res) => srv.listen(0, host, () => res((srv.address() as { port: number }).port)));
const dial = (host: string, p: number): Promise<Socket> =>
  new Promise((res, rej) => {
    const c = connect(p, host, () => res(c));
    c.once('error', rej);
  });
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

before(async () => {
  sd = openSockDiag();
  server = createServer((s) => {
    accepted.push(s);
    s.on('error', () => undefined);
  });
  port = await listen(server, '127.0.0.1');
});

after(() => {
  for (const s of accepted) s.destroy();
  server.close();
  sd.close();
});

describe('sock_diag', () => {
  it('finds a listening TCP socket in a LISTEN-state dump, as ss does', () => {
    const ls = sd.dump({ family: 'inet', protocol: 'tcp', states: ['listen'] });
    const mine = ls.find((s) => s.sport === port);
    assert.ok(mine, `port ${port} not in ${JSON.stringify(ls.map((s) => s.sport))}`);
    assert.equal(mine.state, 'listen');
    assert.equal(mine.src, '127.0.0.1');
    assert.ok(ls.every((s) => s.state === 'listen'));
    const ss = execFileSync('ss', ['-Htln', `sport = :${port}`], { encoding: 'utf8' });
    assert.match(ss, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  it('filters with bytecode in the kernel, and the kernel rejects a malformed program', async () => {
    const c = await dial('127.0.0.1', port);
    try {
      await tick();
      const est = sd.dump({ family: 'inet', protocol: 'tcp', states: ['established'], filter: df.or(df.sport('eq', port), df.dport('eq', port)) });
      assert.equal(est.length, 2, JSON.stringify(est.map((s) => [s.sport, s.dport])));
      assert.deepEqual(new Set(est.map((s) => s.state)), new Set(['established']));
      const one = sd.dump({ family: 'inet', protocol: 'tcp', filter: df.and(df.dst('127.0.0.1/32', port), df.not(df.sport('eq', port))) });
      assert.deepEqual(one.map((s) => [s.sport, s.dport]), [[c.localPort, port]]);
      const none = sd.dump({ family: 'inet', protocol: 'tcp', filter: df.and(df.sport('ge', port), df.sport('le', port), df.src('192.0.2.0/24')) });
      assert.equal(none.length, 0);
      // A jump into the middle of an op: the kernel's audit refuses it with EINVAL.
      const bad = Buffer.from([2, 8, 6, 0, 0, 0, 1, 0]);
      const body = Buffer.concat([
        Buffer.from([2, 6, 0, 0, 0xff, 0xff, 0xff, 0xff]),
        Buffer.alloc(48),
        Buffer.from([12, 0, 1, 0]),
        bad,
      ]);
      assert.throws(() => sd.nl.dump(20, body), (e) => isNetlinkError(e, 'EINVAL'));
    } finally {
      c.destroy();
    }
  });

  it('looks a socket up by address and by cookie, with tcp_info, meminfo and mark', async () => {
    const c = await dial('127.0.0.1', port);
    try {
      await new Promise<void>((r) => c.write(Buffer.alloc(1000), () => r()));
      await tick();
      const id = { src: '127.0.0.1', sport: c.localPort ?? 0, dst: '127.0.0.1', dport: port };
      const s = sd.lookup(id);
      assert.equal(s.state, 'established');
      assert.ok(s.tcpInfo);
      assert.equal(s.tcpInfo.state, 1);
      assert.ok(s.tcpInfo.bytes_acked >= 1000n, String(s.tcpInfo.bytes_acked));
      assert.ok(s.meminfo);
      assert.ok(s.skmeminfo?.rcvbuf !== undefined && s.skmeminfo.rcvbuf > 0);
      assert.equal(s.mark, 0);
      assert.equal(sd.lookup({ ...id, cookie: s.cookie }).cookie, s.cookie);
      assert.throws(() => sd.lookup({ ...id, cookie: s.cookie + 1n }), (e) => isNetlinkError(e, 'ENOENT'));
      assert.throws(() => sd.lookup({ ...id, dport: 1 }), (e) => isNetlinkError(e, 'ENOENT'));
    } finally {
      c.destroy();
    }
  });

  it('finds an IPv6 listener by the cookie SO_COOKIE reports, with its SO_MARK, and looks it up by cookie', () => {
    const s = tcpSocket(6);
    try {
      s.setMark(0x33);
      s.bind('[::1]:0');
      s.listen();
      const sport = s.localAddress().port;
      const cookie = s.cookie();
      const found = sd.dump({ family: 'inet6', protocol: 'tcp', states: ['listen'], filter: df.sport('eq', sport) });
      assert.deepEqual(found.map((x) => [x.src, x.sport, x.cookie, x.mark]), [['::1', sport, cookie, 0x33]]);
      assert.equal(sd.lookup({ family: 'inet6', src: '::1', sport, cookie }).cookie, cookie);
    } finally {
      s.close();
    }
  });

  it('dumps UDP sockets over IPv4 and IPv6', async () => {
    const u4: UdpSocket = createSocket('udp4');
    const u6: UdpSocket = createSocket({ type: 'udp6', ipv6Only: true });
    await new Promise<void>((r) => u4.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => u6.bind(0, '::1', () => r()));
    try {
      const v4 = sd.dump({ family: 'inet', protocol: 'udp' });
      const v6 = sd.dump({ family: 'inet6', protocol: 'udp' });
      assert.ok(v4.some((s) => s.sport === u4.address().port && s.src === '127.0.0.1' && s.protocol === 'udp'));
      const m6 = v6.find((s) => s.sport === u6.address().port);
      assert.equal(m6?.src, '::1');
      assert.equal(m6?.family, 'inet6');
    } finally {
      u4.close();
      u6.close();
    }
  });

  it('SOCK_DESTROY on one end of a connection makes the peer see a reset', async (t) => {
    const c = await dial('127.0.0.1', port);
    await tick();
    const sport = c.localPort ?? 0;
    const serverEnd = accepted.find((s) => s.remotePort === sport);
    assert.ok(serverEnd);
    const outcome = (s: Socket): Promise<string> =>
      new Promise<string>((res) => {
        s.once('error', (e: NodeJS.ErrnoException) => res(e.code ?? String(e)));
        s.once('close', () => res('closed without error'));
      });
    const peer = outcome(c);
    const local = outcome(serverEnd);
    // Destroy the server's accepted end: the kernel aborts it (ECONNABORTED there) and sends the
    // client a RST (ECONNRESET).
    try {
      sd.destroy({ src: '127.0.0.1', sport: port, dst: '127.0.0.1', dport: sport });
    } catch (e) {
      c.destroy();
      // Kernels built without CONFIG_INET_DIAG_DESTROY (Debian's UML kernel) refuse the request.
      if (isNetlinkError(e, 'EOPNOTSUPP')) return t.skip('kernel lacks CONFIG_INET_DIAG_DESTROY');
      throw e;
    }
    c.write('x');
    assert.equal(await peer, 'ECONNRESET');
    assert.equal(await local, 'ECONNABORTED');
    // The 4-tuple is gone: the kernel's lookup now falls back to the listener.
    assert.equal(sd.lookup({ src: '127.0.0.1', sport: port, dst: '127.0.0.1', dport: sport }).state, 'listen');
  });
});
