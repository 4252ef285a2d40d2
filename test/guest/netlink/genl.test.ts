// Generic netlink against the real kernel: nlctrl family resolution, and the tcp_metrics client
// compared with `ip tcp_metrics` after real TCP connections.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:net';
import { openGenl, openTcpMetrics, type Genl, type TcpMetrics } from '../../../src/lib/netlink/genl.js';
import { isNetlinkError } from '../../../src/lib/netlink/core.js';
import { ip } from './ip.js';

let g: Genl;
let tm: TcpMetrics;
let server: Server;

before(async () => {
  g = openGenl();
  tm = openTcpMetrics();
  server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
});

after(() => {
  server.close();
  tm.close();
  g.close();
});

/** One short request/response TCP exchange to 127.0.0.1, fully closed. */
async function exchange(): Promise<void> {
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((res, rej) => {
    const c = connect(port, '127.0.0.1', () => c.end(Buffer.alloc(20000)));
    c.on('data', () => undefined);
    c.on('close', () => res());
    c.on('error', rej);
  });
}

describe('generic netlink', () => {
  it('resolves families by name and lists them as the kernel has them', () => {
    const ctrl = g.family('nlctrl');
    assert.equal(ctrl.id, 0x10);
    assert.ok('notify' in ctrl.groups);
    const all = g.families();
    assert.ok(all.some((f) => f.name === 'tcp_metrics' && f.id === tm.family.id));
    assert.ok(tm.family.ops.some((o) => o.id === 1));
    assert.throws(() => g.family('no-such-family'), (e) => isNetlinkError(e, 'ENOENT'));
  });

  it('lists the tcp_metrics entries ip tcp_metrics shows, gets and deletes them', async () => {
    tm.flush();
    assert.deepEqual(tm.list(), []);
    await exchange();
    const list = tm.list();
    const text = ip('tcp_metrics', 'show');
    assert.deepEqual(list.map((e) => e.addr).sort(), [...text.matchAll(/^(\S+) /gm)].map((m) => m[1]).sort());
    const e = list.find((x) => x.addr === '127.0.0.1');
    assert.ok(e, `no metrics for 127.0.0.1 after a connection: ${text}`);
    assert.ok((e.vals.rtt_us ?? 0) > 0 || (e.vals.rtt ?? 0) > 0, JSON.stringify(e.vals));
    // The kernel sends srtt << 3 and rttvar << 2; ip prints them unscaled.
    const rtt = Math.floor((e.vals.rtt_us ?? 0) / 8);
    const rttvar = Math.floor((e.vals.rttvar_us ?? 0) / 4);
    assert.match(text, new RegExp(`^127\\.0\\.0\\.1 age .*rtt ${rtt}us rttvar ${rttvar}us`, 'm'));
    assert.equal(tm.get('127.0.0.1').addr, '127.0.0.1');
    tm.delete('127.0.0.1');
    assert.throws(() => tm.get('127.0.0.1'), (err) => isNetlinkError(err, 'ESRCH'));
    assert.doesNotMatch(ip('tcp_metrics', 'show'), /^127\.0\.0\.1 /m);
  });
});
