/** Human-readable packets: one line for logs, one line per layer for failure messages. */
import type { TcpOption } from './tcp.js';
import type { Layer } from './types.js';

/** Bytes as lower-case hex, no separators. */
export function hex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
}

/**
 * Where two byte strings differ, not just their first bytes: the offset of the first difference,
 * how many bytes differ, and a window of hex around it with the first differing byte in brackets:
 * '1400 bytes, 3 differ, the first at byte 812: expected …0a0b[0c]0d… got …0a0b[ff]0d…'.
 */
export function formatBytesDiff(expected: Uint8Array, actual: Uint8Array): string {
  const n = Math.min(expected.length, actual.length);
  let first = -1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (expected[i] !== actual[i]) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (first < 0) first = n; // equal up to the shorter length
  const from = Math.max(0, first - 8);
  const window = (b: Uint8Array): string => {
    if (first >= b.length) return `${from > 0 ? '…' : ''}${hex(b.subarray(from, first))}[end]`;
    const to = Math.min(b.length, first + 16);
    return `${from > 0 ? '…' : ''}${hex(b.subarray(from, first))}[${hex(b.subarray(first, first + 1))}]${hex(b.subarray(first + 1, to))}${to < b.length ? '…' : ''}`;
  };
  const sizes = expected.length === actual.length ? `${actual.length} bytes, ${count} differ` : `expected ${expected.length} bytes, got ${actual.length}${count ? `, ${count} of the first ${n} differ` : ''}`;
  return `${sizes}, the first at byte ${first}: expected ${window(expected)} got ${window(actual)}`;
}

const HEX_FIELDS = new Set(['etherType', 'checksum', 'protoType', 'proto', 'spi', 'reserved', 'unused', 'tc', 'fl']);

export function formatValue(v: unknown, key = ''): string {
  if (v instanceof Uint8Array) return v.length > 64 ? `${hex(v.subarray(0, 64))}… (${v.length} bytes)` : `${hex(v)}${v.length ? '' : '""'}`;
  if (typeof v === 'number') return HEX_FIELDS.has(key) ? `0x${v.toString(16)}` : String(v);
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x)).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${k}: ${formatValue(x, k)}`).join(', ')}}`;
  }
  return String(v);
}

function tcpOpt(o: TcpOption): string {
  switch (o.kind) {
    case 'mss': return `mss ${o.value}`;
    case 'wscale': return `wscale ${o.shift}`;
    case 'sackOk': return 'sackOK';
    case 'sack': return `sack ${o.blocks.map(([a, b]) => `${a}:${b}`).join(' ')}`;
    case 'timestamp': return `TS val ${o.tsval} ecr ${o.tsecr}`;
    case 'md5': return 'md5';
    case 'fastOpen': return `tfo ${o.cookie.length ? hex(o.cookie) : 'cookiereq'}`;
    case 'option': return `opt-${o.code} ${hex(o.data)}`;
    case 'raw': return `raw ${hex(o.data)}`;
    default: return o.kind;
  }
}

function oneLayer(l: Layer): string {
  switch (l.type) {
    case 'ether': return `Ether ${l.src} > ${l.dst}`;
    case 'vlan': return `VLAN ${l.vid}${l.pcp ? ` pcp ${l.pcp}` : ''}`;
    case 'arp': return `ARP ${l.op === 1 ? 'who-has' : l.op === 2 ? 'is-at' : `op ${l.op}`} ${l.targetIp} tell ${l.senderIp} (${l.senderMac})`;
    case 'ipv4': return `IP ${l.src} > ${l.dst} ttl ${l.ttl} id ${l.id}${l.df ? ' DF' : ''}${l.mf ? ' MF' : ''}${l.fragOffset ? ` off ${l.fragOffset * 8}` : ''}`;
    case 'ipv6': return `IPv6 ${l.src} > ${l.dst} hlim ${l.hlim}${l.fl ? ` fl 0x${l.fl.toString(16)}` : ''}`;
    case 'hopByHop': case 'destOpts': return `${l.type} ${formatValue(l.options)}`;
    case 'routing': return `routing type ${l.routingType} left ${l.segmentsLeft} [${l.addresses.join(' ')}]`;
    case 'fragment': return `frag id 0x${l.id.toString(16)} off ${l.offset * 8}${l.m ? ' M' : ''}`;
    case 'tcp': return `TCP ${l.sport} > ${l.dport} [${l.flags}] seq ${l.seq} ack ${l.ack} win ${l.window}${l.options.length ? ` <${l.options.map(tcpOpt).join(',')}>` : ''}`;
    case 'udp': return `UDP ${l.sport} > ${l.dport}`;
    case 'icmp': return `ICMP type ${l.icmpType} code ${l.code}${l.id !== undefined ? ` id ${l.id} seq ${l.seq}` : ''}${l.mtu ? ` mtu ${l.mtu}` : ''}`;
    case 'icmpv6': {
      const extra = l.id !== undefined ? ` id ${l.id} seq ${l.seq}` : l.target ? ` target ${l.target}` : l.mtu !== undefined ? ` mtu ${l.mtu}` : l.mcastAddr ? ` group ${l.mcastAddr}` : '';
      return `ICMPv6 type ${l.icmpType} code ${l.code}${extra}${l.options?.length ? ` opts ${l.options.map((o) => o.kind).join(',')}` : ''}`;
    }
    case 'igmp': return `IGMP type 0x${l.igmpType.toString(16)} code ${l.code}${l.group !== undefined ? ` group ${l.group}` : ''}${l.records ? ` records ${l.records.map((r) => `${r.recordType}:${r.group}${r.sources.length ? `[${r.sources.join(' ')}]` : ''}`).join(',')}` : ''}`;
    case 'gre': return `GRE proto 0x${(l.proto ?? 0).toString(16)}${l.key !== undefined ? ` key ${l.key}` : ''}`;
    case 'esp': return `ESP spi 0x${l.spi.toString(16)} seq ${l.seq}`;
    case 'raw': return `${l.data.length} bytes`;
    case 'padding': return `padding ${l.data.length}`;
  }
}

/** One line: "IPv6 2001:db8::1 > 2001:db8::2 hlim 64 | TCP 1 > 2 [S] seq 0 ack 0 win 8192". */
export function summary(p: readonly Layer[]): string {
  return p.map(oneLayer).join(' | ');
}

/** One line per layer, every field. */
export function show(p: readonly Layer[]): string {
  return p.map((l) => {
    const fields = Object.entries(l).filter(([k, v]) => k !== 'type' && v !== undefined).map(([k, v]) => `${k}=${formatValue(v, k)}`);
    return `${l.type.padEnd(9)} ${fields.join(' ')}`;
  }).join('\n');
}
