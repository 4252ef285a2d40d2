// The /proc/net socket tables (tcp, udp, raw, icmp and their v6 twins) of this thread's network
// namespace, parsed: what `ss` would show without netlink.
import { readFileSync } from 'node:fs';
import { bytesToIp4, bytesToIp6 } from './addr.js';
import { TCP_STATE } from './include/net/tcp_states.js';
import { nameOf } from './names.js';

export type ProcNetTable = 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'udplite' | 'udplite6' | 'raw' | 'raw6' | 'icmp' | 'icmp6';

export interface ProcNetSocket {
  local: { address: string; port: number };
  remote: { address: string; port: number };
  /** st column; for non-TCP tables it still uses the TCP numbering (7 = CLOSE, 1 = ESTABLISHED). */
  state: number;
  /** TCP_STATE name: 'ESTABLISHED', 'LISTEN', 'CLOSE', ... */
  stateName: string;
  txQueue: number;
  rxQueue: number;
  uid: number;
  inode: number;
  /** ref and drops columns (UDP, raw and ping tables only). */
  ref?: number;
  drops?: number;
}

/** The kernel prints each 32-bit word of the address with %08X in host order. */
function procAddr(hex: string): string {
  const b = Buffer.alloc(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) b.writeUInt32LE(parseInt(hex.slice(w * 8, w * 8 + 8), 16), w * 4);
  return b.length === 4 ? bytesToIp4(b) : bytesToIp6(b);
}

function procEndpoint(s: string): { address: string; port: number } {
  const [a = '', p = '0'] = s.split(':');
  return { address: procAddr(a), port: parseInt(p, 16) };
}

/** Parse /proc/net/<table> of the current network namespace. */
export function procNetSockets(table: ProcNetTable): ProcNetSocket[] {
  return parseProcNetSockets(readFileSync(`/proc/net/${table}`, 'utf8'), !table.startsWith('tcp'));
}

/** Parse the text of a /proc/net socket table; `refDrops`: the table has ref/pointer/drops columns. */
export function parseProcNetSockets(text: string, refDrops: boolean): ProcNetSocket[] {
  const lines = text.split('\n').slice(1);
  const out: ProcNetSocket[] = [];
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [tx = '0', rx = '0'] = (f[4] ?? '').split(':');
    const state = parseInt(f[3] ?? '0', 16);
    const row: ProcNetSocket = {
      local: procEndpoint(f[1] ?? ''),
      remote: procEndpoint(f[2] ?? ''),
      state,
      stateName: String(nameOf(TCP_STATE, state)).toUpperCase(),
      txQueue: parseInt(tx, 16),
      rxQueue: parseInt(rx, 16),
      uid: Number(f[7]),
      inode: Number(f[9]),
    };
    if (refDrops && f.length >= 13) {
      row.ref = Number(f[10]);
      row.drops = Number(f[12]);
    }
    out.push(row);
  }
  return out;
}
