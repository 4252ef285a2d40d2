// The inet_diag bytecode filter language (include/uapi/linux/inet_diag.h): a filter tree
// compiled to the kernel's jump-based program, a validator mirroring the kernel's audit
// (net/ipv4/inet_diag.c: inet_diag_bc_audit), and an interpreter for testing filters offline.
//
// Program semantics: each op has `yes`/`no` byte offsets. Execution accepts when it reaches
// exactly the end of the program and rejects when it jumps past it (to end + 4).
import { ipToBytes, parsePrefix } from '../addr.js';
import { INET_DIAG_BC } from '../include/uapi/linux/inet_diag.js';
import { AF_INET, AF_INET6, AF_UNSPEC } from '../include/linux/socket.js';

export type DiagFilter =
  | { op: 'sport' | 'dport'; cmp: 'ge' | 'le' | 'eq'; port: number }
  /** Address match (prefix; 'any' for all addresses) with optional port. */
  | { op: 'src' | 'dst'; prefix: string; port?: number }
  | { op: 'dev'; ifindex: number }
  | { op: 'mark'; mark: number; mask: number }
  | { op: 'auto' }
  | { op: 'and' | 'or'; args: DiagFilter[] }
  | { op: 'not'; arg: DiagFilter };

/** Filter constructors, reading like `ss` expressions: and(sport('ge', 1024), dst('192.0.2.0/24')). */
export const df = {
  sport: (cmp: 'ge' | 'le' | 'eq', port: number): DiagFilter => ({ op: 'sport', cmp, port }),
  dport: (cmp: 'ge' | 'le' | 'eq', port: number): DiagFilter => ({ op: 'dport', cmp, port }),
  src: (prefix: string, port?: number): DiagFilter => (port === undefined ? { op: 'src', prefix } : { op: 'src', prefix, port }),
  dst: (prefix: string, port?: number): DiagFilter => (port === undefined ? { op: 'dst', prefix } : { op: 'dst', prefix, port }),
  dev: (ifindex: number): DiagFilter => ({ op: 'dev', ifindex }),
  mark: (mark: number, mask = 0xffffffff): DiagFilter => ({ op: 'mark', mark, mask }),
  auto: (): DiagFilter => ({ op: 'auto' }),
  and: (...args: DiagFilter[]): DiagFilter => ({ op: 'and', args }),
  or: (...args: DiagFilter[]): DiagFilter => ({ op: 'or', args }),
  not: (arg: DiagFilter): DiagFilter => ({ op: 'not', arg }),
};

/** struct inet_diag_bc_op { u8 code; u8 yes; u16 no; } */
function op(code: number, yes: number, no: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt8(code, 0);
  b.writeUInt8(yes, 1);
  b.writeUInt16LE(no, 2);
  return b;
}

const PORT_OPS = {
  sport: { ge: INET_DIAG_BC.S_GE, le: INET_DIAG_BC.S_LE, eq: INET_DIAG_BC.S_EQ },
  dport: { ge: INET_DIAG_BC.D_GE, le: INET_DIAG_BC.D_LE, eq: INET_DIAG_BC.D_EQ },
} as const;

/** Patch the "reject" exits of a compiled program (jumps to its end + 4) by `reloc` bytes. */
function patchRejects(prog: Buffer, reloc: number): void {
  let off = 0;
  while (off < prog.length) {
    const yes = prog.readUInt8(off + 1);
    const no = prog.readUInt16LE(off + 2);
    if (no === prog.length - off + 4) prog.writeUInt16LE(no + reloc, off + 2);
    if (yes === 0) throw new RangeError('bytecode op with yes = 0');
    off += yes;
  }
}

function leaf(f: Exclude<DiagFilter, { op: 'and' | 'or' | 'not' }>): Buffer {
  switch (f.op) {
    case 'sport':
    case 'dport':
      // The port travels in the `no` field of a second, inert op.
      return Buffer.concat([op(PORT_OPS[f.op][f.cmp], 8, 12), op(0, 0, f.port)]);
    case 'src':
    case 'dst': {
      // struct inet_diag_hostcond { u8 family; u8 prefix_len; int port; __be32 addr[]; }
      const any = f.prefix === 'any';
      const p = any ? undefined : parsePrefix(f.prefix);
      const cond = Buffer.alloc(8 + (p?.bytes.length ?? 0));
      cond.writeUInt8(p?.family ?? AF_UNSPEC, 0);
      cond.writeUInt8(p?.len ?? 0, 1);
      cond.writeInt32LE(f.port ?? -1, 4);
      p?.bytes.copy(cond, 8);
      const len = 4 + cond.length;
      return Buffer.concat([op(f.op === 'src' ? INET_DIAG_BC.S_COND : INET_DIAG_BC.D_COND, len, len + 4), cond]);
    }
    case 'dev': {
      const arg = Buffer.alloc(4);
      arg.writeUInt32LE(f.ifindex);
      return Buffer.concat([op(INET_DIAG_BC.DEV_COND, 8, 12), arg]);
    }
    case 'mark': {
      const arg = Buffer.alloc(8);
      arg.writeUInt32LE(f.mark >>> 0, 0);
      arg.writeUInt32LE(f.mask >>> 0, 4);
      return Buffer.concat([op(INET_DIAG_BC.MARK_COND, 12, 16), arg]);
    }
    case 'auto':
      return op(INET_DIAG_BC.AUTO, 4, 8);
  }
}

export function compileFilter(f: DiagFilter): Buffer {
  switch (f.op) {
    case 'and': {
      if (f.args.length === 0) return Buffer.alloc(0); // accepts everything
      return f.args.map(compileFilter).reduce((a, b) => {
        const left = Buffer.from(a);
        patchRejects(left, b.length);
        return Buffer.concat([left, b]);
      });
    }
    case 'or': {
      if (f.args.length === 0) return compileFilter({ op: 'not', arg: { op: 'and', args: [] } });
      // [a][JMP to end][b]: a's reject exit (end of a + 4) is exactly the start of b.
      return f.args.map(compileFilter).reduce((a, b) => Buffer.concat([a, op(INET_DIAG_BC.JMP, 4, b.length + 4), b]));
    }
    case 'not': {
      // [a][JMP past end]: a accepting reaches the JMP and is rejected; a rejecting lands on the end.
      const a = compileFilter(f.arg);
      return Buffer.concat([a, op(INET_DIAG_BC.JMP, 4, 8)]);
    }
    default:
      return leaf(f);
  }
}

/** Check a program as the kernel's audit does; returns null if valid, else the reason. */
export function validateBytecode(bc: Buffer): string | null {
  const len = bc.length;
  if (len & 3) return 'length not a multiple of 4';
  const starts = new Set<number>();
  for (let off = 0; off < len; ) {
    starts.add(off);
    const yes = bc.readUInt8(off + 1);
    if (yes < 4 || yes & 3 || off + yes > len) return `op at ${off}: bad yes ${yes}`;
    off += yes;
  }
  for (let off = 0; off < len; ) {
    const code = bc.readUInt8(off);
    const yes = bc.readUInt8(off + 1);
    const no = bc.readUInt16LE(off + 2);
    const rem = len - off;
    const minLen: Record<number, number> = {
      [INET_DIAG_BC.S_GE]: 8, [INET_DIAG_BC.S_LE]: 8, [INET_DIAG_BC.D_GE]: 8, [INET_DIAG_BC.D_LE]: 8,
      [INET_DIAG_BC.S_EQ]: 8, [INET_DIAG_BC.D_EQ]: 8, [INET_DIAG_BC.DEV_COND]: 8, [INET_DIAG_BC.MARK_COND]: 12,
      [INET_DIAG_BC.S_COND]: 12, [INET_DIAG_BC.D_COND]: 12, [INET_DIAG_BC.AUTO]: 4, [INET_DIAG_BC.JMP]: 4, [INET_DIAG_BC.NOP]: 4,
    };
    const need = minLen[code];
    if (need === undefined) return `op at ${off}: unknown code ${code}`;
    if (yes < need) return `op at ${off}: too short for code ${code}`;
    if (code === INET_DIAG_BC.S_COND || code === INET_DIAG_BC.D_COND) {
      const fam = bc.readUInt8(off + 4);
      const plen = bc.readUInt8(off + 5);
      const alen = fam === AF_INET ? 4 : fam === AF_INET6 ? 16 : 0;
      if (fam !== AF_UNSPEC && alen === 0) return `op at ${off}: bad family ${fam}`;
      if (yes < 12 + alen || plen > alen * 8) return `op at ${off}: bad host condition`;
    }
    if (code !== INET_DIAG_BC.NOP) {
      // `no` must land on an op boundary, or at end + 4 (reject); a jump to the end accepts.
      if (no < need || no > rem + 4 || no & 3) return `op at ${off}: bad no ${no}`;
      if (no < rem && !starts.has(off + no)) return `op at ${off}: no jumps into the middle of an op`;
    }
    off += yes;
  }
  return null;
}

/** What a filter sees of a socket (for offline evaluation). */
export interface DiagSocketView {
  family: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  ifindex?: number;
  mark?: number;
}

function prefixMatch(addr: string, cond: Buffer, off: number): boolean {
  const fam = cond.readUInt8(off);
  const plen = cond.readUInt8(off + 1);
  if (fam === AF_UNSPEC || plen === 0) return true;
  const a = ipToBytes(addr);
  if (a.length !== (fam === AF_INET ? 4 : 16)) return false;
  for (let bit = 0; bit < plen; bit++) {
    const m = 0x80 >> (bit & 7);
    if ((a[bit >> 3]! & m) !== (cond[off + 8 + (bit >> 3)]! & m)) return false;
  }
  return true;
}

/** Run a program against a socket as the kernel would (inet_diag_bc_run); true = reported. */
export function runBytecode(bc: Buffer, s: DiagSocketView): boolean {
  let off = 0;
  while (off < bc.length) {
    const code = bc.readUInt8(off);
    const yesLen = bc.readUInt8(off + 1);
    const no = bc.readUInt16LE(off + 2);
    let yes = true;
    switch (code) {
      case INET_DIAG_BC.NOP: break;
      case INET_DIAG_BC.JMP: yes = false; break;
      case INET_DIAG_BC.S_EQ: yes = s.sport === bc.readUInt16LE(off + 6); break;
      case INET_DIAG_BC.S_GE: yes = s.sport >= bc.readUInt16LE(off + 6); break;
      case INET_DIAG_BC.S_LE: yes = s.sport <= bc.readUInt16LE(off + 6); break;
      case INET_DIAG_BC.D_EQ: yes = s.dport === bc.readUInt16LE(off + 6); break;
      case INET_DIAG_BC.D_GE: yes = s.dport >= bc.readUInt16LE(off + 6); break;
      case INET_DIAG_BC.D_LE: yes = s.dport <= bc.readUInt16LE(off + 6); break;
      case INET_DIAG_BC.AUTO: yes = false; break; // only autobound sockets; none in offline views
      case INET_DIAG_BC.S_COND:
      case INET_DIAG_BC.D_COND: {
        const src = code === INET_DIAG_BC.S_COND;
        const port = bc.readInt32LE(off + 8);
        yes = (port === -1 || port === (src ? s.sport : s.dport)) && prefixMatch(src ? s.src : s.dst, bc, off + 4);
        break;
      }
      case INET_DIAG_BC.DEV_COND: yes = (s.ifindex ?? 0) === bc.readUInt32LE(off + 4); break;
      case INET_DIAG_BC.MARK_COND: yes = ((s.mark ?? 0) & bc.readUInt32LE(off + 8)) === bc.readUInt32LE(off + 4); break;
      default: throw new RangeError(`unknown bytecode op ${code}`);
    }
    off += yes ? yesLen : no;
  }
  return off === bc.length;
}
