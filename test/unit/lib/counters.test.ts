/** Parsers of /proc/net/snmp, netstat, snmp6 and sockstat text, on text the 6.1 kernel printed. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { counterDelta, parseFragLine, parseSnmp, parseSnmp6 } from '../../../src/lib/counters.js';

const SNMP = `Ip: Forwarding DefaultTTL InReceives ReasmTimeout ReasmReqds ReasmOKs ReasmFails
Ip: 2 64 70441 0 3 1 0
Icmp: InMsgs InErrors
Icmp: 5 1
`;
const NETSTAT = `TcpExt: SyncookiesSent
TcpExt: 0
IpExt: InNoRoutes ReasmOverlaps
IpExt: 0 2
`;

describe('counters', () => {
  it('pairs header and value lines per protocol', () => {
    const c = parseSnmp(SNMP);
    assert.equal(c['Ip.ReasmReqds'], 3);
    assert.equal(c['Ip.Forwarding'], 2);
    assert.equal(c['Icmp.InErrors'], 1);
    assert.equal(parseSnmp(NETSTAT)['IpExt.ReasmOverlaps'], 2);
  });

  it('refuses a value line of another protocol', () => {
    assert.throws(() => parseSnmp('Ip: A B\nIcmp: 1 2\n'), /"Ip:" header line followed by "Icmp:" values/);
  });

  it('reads snmp6 name/value lines and deltas by name', () => {
    const a = parseSnmp6('Ip6InReceives                   \t5\nIp6ReasmOKs 1\n');
    const b = parseSnmp6('Ip6InReceives 9\nIp6ReasmOKs 1\n');
    assert.deepEqual(counterDelta(a, b, ['Ip6InReceives', 'Ip6ReasmOKs']), { Ip6InReceives: 4, Ip6ReasmOKs: 0 });
    assert.throws(() => counterDelta(a, b, ['Ip6Nope']), /no counter named Ip6Nope/);
  });

  it('reads the FRAG and FRAG6 lines of sockstat', () => {
    assert.deepEqual(parseFragLine('RAW: inuse 0\nFRAG: inuse 1 memory 1080\n', 4), { inuse: 1, memory: 1080 });
    assert.deepEqual(parseFragLine('FRAG6: inuse 0 memory 0\n', 6), { inuse: 0, memory: 0 });
    assert.throws(() => parseFragLine('FRAG6: inuse 0 memory 0\n', 4), /no FRAG line/);
  });
});
