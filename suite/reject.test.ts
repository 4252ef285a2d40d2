// REJECT targets on locally generated traffic (a regression area: nf_send_reset / nf_send_unreach
// and their IPv6 twins once crashed on packets from the OUTPUT hook, which have no input device
// and a route towards the remote). iptables/ip6tables OUTPUT rules reject our own TCP connects
// with a reset and our own UDP datagrams with a port unreachable: the reset or the ICMP error
// loops back to the socket (ECONNREFUSED), the rejected packet itself fails with EPERM (NF_DROP's
// default errno), and nothing reaches the wire. A crash would end the run as one (exit status 3).
//
// The rules use the legacy x_tables interface (iptables-legacy): Debian's UML kernel has no
// nf_tables IPv4/IPv6 families (CONFIG_NF_TABLES_IPV4/IPV6 unset), so iptables-nft cannot work
// there. A kernel without the REJECT targets skips, naming the option /proc/config.gz lacks.
import { before, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { useNetworks, REMOTE4, REMOTE6 } from '../src/lib/networks.js';
import { expectNone } from '../src/lib/expect.js';
import { tcpSocket, udpSocket, type Socket } from '../src/lib/socket.js';
import { errnoIs, K } from '../src/lib/sys/index.js';
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 1 });
type V = 4 | 6;
type AnySocket = Socket<'inet'> | Socket<'inet6'>;

const TCP_PORT = 7001;
const UDP_PORT = 7002;
/** Kernel option each family's REJECT target needs. */
const REJECT_OPTION: Record<V, string> = { 4: 'CONFIG_IP_NF_TARGET_REJECT', 6: 'CONFIG_IP6_NF_TARGET_REJECT' };
const remote = (v: V): string => (v === 4 ? REMOTE4 : REMOTE6);

function run(cmd: string, args: readonly string[], input?: string): string {
  const r = spawnSync(cmd, args, {
    input,
    encoding: 'utf8',
    env: { ...process.env, PATH: `/usr/sbin:/sbin:${process.env['PATH'] ?? '/usr/bin:/bin'}` },
  });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}${input ? `\n${input}` : ''}`);
  return r.stdout;
}

/** 'y', 'm', 'n' (explicitly not set), or undefined when the kernel does not publish its config. */
function kernelOption(name: string): 'y' | 'm' | 'n' | undefined {
  let text: string;
  try {
    text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    return undefined;
  }
  const m = new RegExp(`^${name}=([ym])$`, 'm').exec(text);
  if (m) return m[1] as 'y' | 'm';
  return 'n';
}

const skipReason: Partial<Record<V, string>> = {};

before(() => {
  for (const v of [4, 6] as const) {
    const dst = remote(v);
    const unreach = v === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable';
    // Only traffic to the remote test target: the reset and the ICMP error (to our own address)
    // must pass the same hook on their way back.
    const rules = [
      '*filter',
      `-A OUTPUT -d ${dst} -p tcp --dport ${TCP_PORT} -j REJECT --reject-with tcp-reset`,
      `-A OUTPUT -d ${dst} -p udp --dport ${UDP_PORT} -j REJECT --reject-with ${unreach}`,
      'COMMIT',
      '',
    ].join('\n');
    try {
      // The rules live in the fixture's fresh namespace and go away with it at teardown.
      run(v === 4 ? 'iptables-legacy-restore' : 'ip6tables-legacy-restore', ['-w', '--noflush'], rules);
    } catch (e) {
      if (kernelOption(REJECT_OPTION[v]) !== 'n') throw e;
      skipReason[v] = `kernel built without ${REJECT_OPTION[v]}`;
    }
  }
});

function skipped(t: TestContext, v: V): boolean {
  const why = skipReason[v];
  if (why) t.skip(why);
  return why !== undefined;
}

/** Packets the OUTPUT rule for `port` has matched (installed for this file: it starts at 0). */
function ruleCount(v: V, port: number): number {
  const out = run(v === 4 ? 'iptables-legacy-save' : 'ip6tables-legacy-save', ['-c', '-t', 'filter']);
  const line = out.split('\n').find((l) => l.includes(`--dport ${port} `) && l.includes('-j REJECT'));
  const m = line && /^\[(\d+):\d+\]/.exec(line);
  if (!m) throw new Error(`no counted REJECT rule for port ${port} in:\n${out}`);
  return Number(m[1]);
}

/** Network 1, where the sockets' traffic would go, stays quiet: no rejected packet, no reset or
 * ICMP error leaking out, no retransmission. */
function quiet(): void {
  expectNone(nets.net(1), { timeoutMs: 250 });
}

/** A socket whose traffic the fixture routes out through network 1 (by mark). */
function onNet1<S extends AnySocket>(s: S): S {
  s.setMark(nets.net(1).mark);
  return s;
}

describe('REJECT in OUTPUT', () => {
  for (const v of [4, 6] as const) {
    const cmd = v === 4 ? 'iptables' : 'ip6tables';

    nets.it(`IPv${v}: ${cmd} REJECT --reject-with tcp-reset: connect() fails ECONNREFUSED at once, the SYN is rejected once and never leaves`, (t) => {
      if (skipped(t, v)) return;
      const s = onNet1(v === 4 ? tcpSocket(4) : tcpSocket(6));
      try {
        // A bound on the wait: a reset that never arrived would otherwise block for the SYN
        // retransmissions (connect returns EINPROGRESS when SO_SNDTIMEO runs out).
        s.setTimeouts({ sendMs: 3000 });
        assert.throws(() => s.connect({ address: remote(v), port: TCP_PORT }), errnoIs('ECONNREFUSED'));
        quiet();
        // Exactly one SYN met the rule: the refusal came before any retransmission.
        assert.equal(ruleCount(v, TCP_PORT), 1);
      } finally {
        s.close();
      }
    });

    nets.it(`IPv${v}: ${cmd} REJECT with a port unreachable: a connected UDP send fails EPERM, the next recv ECONNREFUSED, nothing leaves`, (t) => {
      if (skipped(t, v)) return;
      const s = onNet1(v === 4 ? udpSocket(4) : udpSocket(6));
      try {
        s.connect({ address: remote(v), port: UDP_PORT });
        // The target drops the datagram (NF_DROP without an errno is EPERM for the sender)...
        assert.throws(() => s.send(Buffer.from('rejected')), errnoIs('EPERM'));
        // ...after icmp_send / icmpv6_send looped a port unreachable back to the socket.
        assert.throws(() => s.recv({ timeoutMs: 1000 }), errnoIs('ECONNREFUSED'));
        quiet();
      } finally {
        s.close();
      }
    });

    nets.it(`IPv${v}: with IP${v === 6 ? 'V6' : ''}_RECVERR the error queue holds the port unreachable, sent from our own address`, (t) => {
      if (skipped(t, v)) return;
      const n = nets.net(1);
      const s = onNet1(v === 4 ? udpSocket(4) : udpSocket(6));
      try {
        if (v === 4) s.setOption(K.SOL_IP, K.IP_RECVERR, 1);
        else s.setOption(K.SOL_IPV6, K.IPV6_RECVERR, 1);
        assert.throws(() => (s as Socket<'inet'>).sendTo(Buffer.from('errq'), { address: remote(v), port: UDP_PORT }), errnoIs('EPERM'));
        const { error, data } = s.recvError({ timeoutMs: 1000 });
        assert.equal(error.code, 'ECONNREFUSED');
        assert.equal(error.origin, v === 4 ? K.SO_EE_ORIGIN_ICMP : K.SO_EE_ORIGIN_ICMP6);
        assert.equal(error.icmpType, v === 4 ? ICMP_DEST_UNREACH : ICMPV6_DEST_UNREACH);
        assert.equal(error.icmpCode, v === 4 ? ICMP_PORT_UNREACH : ICMPV6_PORT_UNREACH);
        // The error was routed to our address, whose local route gives it the same source.
        assert.deepEqual(
          error.offender,
          v === 4 ? { family: 'inet', address: n.addr4, port: 0 } : { family: 'inet6', address: n.addr6, port: 0, flowinfo: 0, scopeId: 0 },
        );
        // The payload of the rejected datagram.
        assert.equal(data.toString(), 'errq');
        quiet();
      } finally {
        s.close();
      }
    });
  }
});
