/** A second, independent decoder: Wireshark's tshark reads our pcap files without complaint. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { build, layer, LINKTYPE_ETHERNET, LINKTYPE_RAW, parse, writePcap, type Layer, type TcpOption } from '../../../src/lib/packet/index.js';
import { CASES, type Case } from './cases.js';

function haveTshark(): boolean {
  try { execFileSync('tshark', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

const FIELDS = ['frame.number', '_ws.malformed', '_ws.expert.message', 'icmpv6.opt.pref64.prefix', 'icmpv6.opt.pref64.scaled_lifetime', 'icmpv6.opt.pref64.plc'];

/** Decodes the cases with tshark (checksum validation on); one row of FIELDS per packet. */
function decode(dir: string, cases: Case[], linktype: number): string[][] {
  const file = join(dir, `${linktype}.pcap`);
  writeFileSync(file, writePcap(cases.map((c) => ({ data: build(c.layers), timeUs: 0 })), linktype));
  const out = execFileSync('tshark', ['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
    '-T', 'fields', '-E', 'separator=|', ...FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.trim().split('\n').map((l) => l.split('|'));
}

type Get = (p: Layer[]) => string | number | undefined;
const tcpOpt = <K extends TcpOption['kind']>(p: Layer[], kind: K): Extract<TcpOption, { kind: K }> | undefined =>
  layer(p, 'tcp')?.options.find((o): o is Extract<TcpOption, { kind: K }> => o.kind === kind);

/** tshark field -> the same value read from our parse (first occurrence of each). */
const SAME: Record<string, Get> = {
  'eth.src': (p) => layer(p, 'ether')?.src,
  'eth.dst': (p) => layer(p, 'ether')?.dst,
  // tshark's "vlan" is the 802.1Q tag only (802.1ad is "ieee8021ad"): the innermost tag here.
  'vlan.id': (p) => p.filter((l) => l.type === 'vlan').at(-1)?.vid,
  'vlan.priority': (p) => p.filter((l) => l.type === 'vlan').at(-1)?.pcp,
  'arp.opcode': (p) => layer(p, 'arp')?.op,
  'arp.src.proto_ipv4': (p) => layer(p, 'arp')?.senderIp,
  'arp.dst.proto_ipv4': (p) => layer(p, 'arp')?.targetIp,
  'ip.src': (p) => layer(p, 'ipv4')?.src,
  'ip.dst': (p) => layer(p, 'ipv4')?.dst,
  'ip.id': (p) => layer(p, 'ipv4')?.id,
  'ip.ttl': (p) => layer(p, 'ipv4')?.ttl,
  'ip.len': (p) => layer(p, 'ipv4')?.len,
  'ip.proto': (p) => layer(p, 'ipv4')?.protocol,
  'ipv6.src': (p) => layer(p, 'ipv6')?.src,
  'ipv6.dst': (p) => layer(p, 'ipv6')?.dst,
  'ipv6.hlim': (p) => layer(p, 'ipv6')?.hlim,
  'ipv6.flow': (p) => layer(p, 'ipv6')?.fl,
  'ipv6.plen': (p) => layer(p, 'ipv6')?.plen,
  'ipv6.fraghdr.ident': (p) => layer(p, 'fragment')?.id,
  'ipv6.routing.segleft': (p) => layer(p, 'routing')?.segmentsLeft,
  'tcp.srcport': (p) => layer(p, 'tcp')?.sport,
  'tcp.dstport': (p) => layer(p, 'tcp')?.dport,
  // Not shown by tshark for a TCP header quoted in an ICMP error.
  'tcp.seq_raw': (p) => (layer(p, 'icmp') ? undefined : layer(p, 'tcp')?.seq),
  'tcp.ack_raw': (p) => (layer(p, 'tcp')?.flags.includes('A') ? layer(p, 'tcp')?.ack : undefined),
  'tcp.window_size_value': (p) => layer(p, 'tcp')?.window,
  'tcp.options.mss_val': (p) => tcpOpt(p, 'mss')?.value,
  'tcp.options.wscale.shift': (p) => tcpOpt(p, 'wscale')?.shift,
  'tcp.options.timestamp.tsval': (p) => tcpOpt(p, 'timestamp')?.tsval,
  'tcp.options.sack_le': (p) => tcpOpt(p, 'sack')?.blocks[0]?.[0],
  'udp.srcport': (p) => layer(p, 'udp')?.sport,
  'udp.dstport': (p) => layer(p, 'udp')?.dport,
  'udp.length': (p) => layer(p, 'udp')?.len,
  'icmp.type': (p) => layer(p, 'icmp')?.icmpType,
  'icmp.code': (p) => layer(p, 'icmp')?.code,
  'icmp.mtu': (p) => (layer(p, 'icmp')?.code === 4 ? layer(p, 'icmp')?.mtu : undefined),
  'icmp.redir_gw': (p) => layer(p, 'icmp')?.gateway,
  'icmpv6.type': (p) => layer(p, 'icmpv6')?.icmpType,
  'icmpv6.code': (p) => layer(p, 'icmpv6')?.code,
  'icmpv6.echo.identifier': (p) => layer(p, 'icmpv6')?.id,
  'icmpv6.echo.sequence_number': (p) => layer(p, 'icmpv6')?.seq,
  'icmpv6.mtu': (p) => layer(p, 'icmpv6')?.mtu,
  'icmpv6.nd.ns.target_address': (p) => (layer(p, 'icmpv6')?.icmpType === 135 ? layer(p, 'icmpv6')?.target : undefined),
  'icmpv6.nd.na.target_address': (p) => (layer(p, 'icmpv6')?.icmpType === 136 ? layer(p, 'icmpv6')?.target : undefined),
  'icmpv6.nd.ra.router_lifetime': (p) => layer(p, 'icmpv6')?.routerLifetime,
  'icmpv6.opt.prefix': (p) => layer(p, 'icmpv6')?.options?.flatMap((o) => (o.kind === 'prefixInfo' ? [o.prefix] : []))[0],
  'icmpv6.opt.rdnss': (p) => layer(p, 'icmpv6')?.options?.flatMap((o) => (o.kind === 'rdnss' ? o.servers : []))[0],
  'icmpv6.opt.mtu': (p) => layer(p, 'icmpv6')?.options?.flatMap((o) => (o.kind === 'mtu' ? [o.mtu] : []))[0],
  'icmpv6.mld.multicast_address': (p) => layer(p, 'icmpv6')?.mcastAddr,
  'icmpv6.mldr.nb_mcast_records': (p) => layer(p, 'icmpv6')?.nRecords,
  'gre.proto': (p) => layer(p, 'gre')?.proto,
  'gre.key': (p) => layer(p, 'gre')?.key,
  'esp.spi': (p) => layer(p, 'esp')?.spi,
  'esp.sequence': (p) => layer(p, 'esp')?.seq,
};

/** Same value? tshark prints some numbers in hex ("0x0001"). */
function same(ts: string, ours: string | number | undefined): boolean {
  if (ours === undefined) return true; // we did not decode it: nothing to compare
  if (typeof ours === 'number') return ts !== '' && Number(ts.startsWith('0x') ? parseInt(ts, 16) : ts) === ours;
  return ts === ours;
}

describe('tshark reads the fields we parse with the same values', { skip: haveTshark() ? false : 'tshark not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-packet-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const names = Object.keys(SAME);
  for (const [link, linktype] of [['ether', LINKTYPE_ETHERNET], ['ip', LINKTYPE_RAW]] as const) {
    // Fragments are reassembled by tshark; their fields do not belong to one frame.
    const cases = CASES.filter((c) => c.link === link && !/fragment/.test(c.name));
    const file = join(dir, `fields-${linktype}.pcap`);
    writeFileSync(file, writePcap(cases.map((c) => ({ data: build(c.layers), timeUs: 0 })), linktype));
    const rows = execFileSync('tshark', ['-r', file, '-o', 'tcp.relative_sequence_numbers:FALSE', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f', ...names.flatMap((f) => ['-e', f])],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').map((l) => l.split('|'));
    cases.forEach((c, i) => {
      it(`${link}: ${c.name}`, () => {
        const ours = parse(build(c.layers), link);
        const bad = names.filter((n, j) => !same(rows[i]?.[j] ?? '', SAME[n]!(ours))).map((n) => `${n}: tshark "${rows[i]?.[names.indexOf(n)]}", ours ${String(SAME[n]!(ours))}`);
        assert.deepEqual(bad, []);
      });
    });
  }
});

describe('tshark decodes what we build', { skip: haveTshark() ? false : 'tshark not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-packet-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [link, linktype] of [['ether', LINKTYPE_ETHERNET], ['ip', LINKTYPE_RAW]] as const) {
    const cases = CASES.filter((c) => c.link === link);
    const rows = decode(dir, cases, linktype);
    cases.forEach((c, i) => {
      it(`${link}: ${c.name}`, () => {
        const row = rows[i] ?? [];
        assert.equal(row[0], String(i + 1));
        const wrongOnPurpose = /wrong/.test(c.name);
        // Fragments with made-up lengths confuse reassembly; everything else must be well formed.
        if (!/fragment/.test(c.name)) assert.equal(row[1], '', `malformed: ${row[2]}`);
        if (!wrongOnPurpose) assert.doesNotMatch(row[2] ?? '', /Bad checksum|incorrect/i);
        else assert.match(row[2] ?? '', /Bad checksum/);
      });
    });
  }
  it('PREF64 option fields (RFC 8781), which scapy lacks', () => {
    const i = CASES.filter((c) => c.link === 'ether').findIndex((c) => c.name.includes('all options'));
    const row = decode(dir, CASES.filter((c) => c.link === 'ether'), LINKTYPE_ETHERNET)[i] ?? [];
    assert.deepEqual(row.slice(3), ['64:ff9b::', '100', '0x0000']);
  });
});
