// Classic BPF (the SO_ATTACH_FILTER language): typed builders for struct sock_filter
// (include/uapi/linux/filter.h, bpf_common.h), with forward jumps to labels. The kernel checks a
// program with bpf_check_classic() and runs it converted to eBPF.
//
//   attachFilter(sock, [
//     ldAbs('b', 9),                        // IPv4 protocol (on a raw or packet socket)
//     jeq(17, 'udp', 'drop'),
//     label('udp'), ret(0xffff),
//     label('drop'), ret(0),
//   ]);
//
// Encodings are checked against libpcap's compiler (`tcpdump -dd`) in
// test/unit/lib/bpf-classic.test.ts.

export const CLASS = { ld: 0x00, ldx: 0x01, st: 0x02, stx: 0x03, alu: 0x04, jmp: 0x05, ret: 0x06, misc: 0x07 } as const;
export const SIZE = { w: 0x00, h: 0x08, b: 0x10 } as const;
export const MODE = { imm: 0x00, abs: 0x20, ind: 0x40, mem: 0x60, len: 0x80, msh: 0xa0 } as const;
export const SRC = { k: 0x00, x: 0x08 } as const;
/** BPF_RET operand: the constant (BPF_K) or the accumulator (BPF_A). */
export const RVAL = { k: 0x00, a: 0x10 } as const;
export const ALU_OP = { add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, neg: 0x80, mod: 0x90, xor: 0xa0 } as const;
export const JMP_OP = { ja: 0x00, jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40 } as const;
export const MISC_OP = { tax: 0x00, txa: 0x80 } as const;
/** Scratch memory slots (BPF_MEMWORDS). */
export const BPF_MEMWORDS = 16;
/** Longest program the kernel accepts (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** Ancillary data: loads at SKF_AD_OFF + n read skb metadata instead of packet bytes. */
export const SKF_AD_OFF = -0x1000;
export const SKF_AD = {
  protocol: 0, pkttype: 4, ifindex: 8, nlattr: 12, nlattrNest: 16, mark: 20, queue: 24, hatype: 28,
  rxhash: 32, cpu: 36, aluXorX: 40, vlanTag: 44, vlanTagPresent: 48, payOffset: 52, random: 56, vlanTpid: 60,
} as const;
/** Negative offsets relative to the network header and to the link-layer header. */
export const SKF_NET_OFF = -0x100000;
export const SKF_LL_OFF = -0x200000;

export interface ClassicInsn {
  readonly kind: 'insn';
  code: number;
  jt: number;
  jf: number;
  k: number;
  /** Labels for the true/false branches, resolved at assembly (forward only). */
  jtLabel?: string;
  jfLabel?: string;
}
export interface ClassicLabel {
  readonly kind: 'label';
  name: string;
}
export type ClassicItem = ClassicInsn | ClassicLabel;
export type Size = keyof typeof SIZE;
export type AluOp = Exclude<keyof typeof ALU_OP, 'neg'>;
export type Cond = Exclude<keyof typeof JMP_OP, 'ja'>;
type Branch = string | number;

function ins(code: number, k: number, jt = 0, jf = 0): ClassicInsn {
  if (!Number.isInteger(k) || k < -0x80000000 || k > 0xffffffff) throw new RangeError(`cbpf: k ${k} does not fit in 32 bits`);
  return { kind: 'insn', code, jt, jf, k: k >>> 0 };
}

/** An instruction from its raw fields (for encodings the kernel must refuse). */
export const raw = (code: number, jt: number, jf: number, k: number): ClassicInsn => ins(code, k, jt, jf);
export const label = (name: string): ClassicLabel => ({ kind: 'label', name });

/** A = packet[k] (network order; negative k: SKF_AD_OFF ancillary data, SKF_NET_OFF, SKF_LL_OFF). */
export const ldAbs = (size: Size, k: number): ClassicInsn => ins(CLASS.ld | MODE.abs | SIZE[size], k);
/** A = packet[X + k] */
export const ldInd = (size: Size, k: number): ClassicInsn => ins(CLASS.ld | MODE.ind | SIZE[size], k);
/** A = the packet's length. */
export const ldLen = (): ClassicInsn => ins(CLASS.ld | MODE.len | SIZE.w, 0);
export const ldImm = (k: number): ClassicInsn => ins(CLASS.ld | MODE.imm | SIZE.w, k);
/** A = M[k] */
export const ldMem = (k: number): ClassicInsn => ins(CLASS.ld | MODE.mem | SIZE.w, k);
export const ldxImm = (k: number): ClassicInsn => ins(CLASS.ldx | MODE.imm | SIZE.w, k);
export const ldxMem = (k: number): ClassicInsn => ins(CLASS.ldx | MODE.mem | SIZE.w, k);
export const ldxLen = (): ClassicInsn => ins(CLASS.ldx | MODE.len | SIZE.w, 0);
/** X = 4 * (packet[k] & 0xf): the IPv4 header length. */
export const ldxMsh = (k: number): ClassicInsn => ins(CLASS.ldx | MODE.msh | SIZE.b, k);
/** M[k] = A */
export const st = (k: number): ClassicInsn => ins(CLASS.st, k);
/** M[k] = X */
export const stx = (k: number): ClassicInsn => ins(CLASS.stx, k);
/** A = A op k, or A = A op X with 'x'. */
export const alu = (op: AluOp, k: number | 'x'): ClassicInsn =>
  k === 'x' ? ins(CLASS.alu | ALU_OP[op] | SRC.x, 0) : ins(CLASS.alu | ALU_OP[op] | SRC.k, k);
export const neg = (): ClassicInsn => ins(CLASS.alu | ALU_OP.neg, 0);
export const tax = (): ClassicInsn => ins(CLASS.misc | MISC_OP.tax, 0);
export const txa = (): ClassicInsn => ins(CLASS.misc | MISC_OP.txa, 0);
/** Return k: the number of bytes to accept (0 drops). */
export const ret = (k: number): ClassicInsn => ins(CLASS.ret | RVAL.k, k);
/** Return A. */
export const retA = (): ClassicInsn => ins(CLASS.ret | RVAL.a, 0);
/** Unconditional jump forward by k instructions. */
export const ja = (k: number): ClassicInsn => ins(CLASS.jmp | JMP_OP.ja, k);

/** if (A cond k) goto jt else goto jf; branches are labels or forward offsets (0 = next). */
export function jmp(cond: Cond, k: number | 'x', jt: Branch, jf: Branch = 0): ClassicInsn {
  const i = k === 'x' ? ins(CLASS.jmp | JMP_OP[cond] | SRC.x, 0) : ins(CLASS.jmp | JMP_OP[cond] | SRC.k, k);
  if (typeof jt === 'string') i.jtLabel = jt;
  else i.jt = jt;
  if (typeof jf === 'string') i.jfLabel = jf;
  else i.jf = jf;
  return i;
}
export const jeq = (k: number | 'x', jt: Branch, jf: Branch = 0): ClassicInsn => jmp('jeq', k, jt, jf);

/** Resolve labels into jt/jf offsets. */
export function resolveClassic(items: readonly ClassicItem[]): ClassicInsn[] {
  const at = new Map<string, number>();
  let pc = 0;
  for (const i of items) {
    if (i.kind === 'label') {
      if (at.has(i.name)) throw new Error(`cbpf: label "${i.name}" defined twice`);
      at.set(i.name, pc);
    } else pc++;
  }
  const out: ClassicInsn[] = [];
  for (const i of items) {
    if (i.kind === 'label') continue;
    const here = out.length;
    const off = (name: string): number => {
      const dest = at.get(name);
      if (dest === undefined) throw new Error(`cbpf: jump to undefined label "${name}"`);
      const d = dest - here - 1;
      if (d < 0 || d > 255) throw new RangeError(`cbpf: label "${name}" is ${d} instructions away (classic jumps go 0..255 forward)`);
      return d;
    };
    out.push({ kind: 'insn', code: i.code, k: i.k, jt: i.jtLabel ? off(i.jtLabel) : i.jt, jf: i.jfLabel ? off(i.jfLabel) : i.jf });
  }
  return out;
}

/** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k in host order (little-endian here). */
export function encodeClassic(items: readonly ClassicItem[]): Buffer {
  const insns = resolveClassic(items);
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    b.writeUInt16LE(i.code, n * 8);
    b[n * 8 + 2] = i.jt;
    b[n * 8 + 3] = i.jf;
    b.writeUInt32LE(i.k >>> 0, n * 8 + 4);
  });
  return b;
}

export function decodeClassic(bytes: Uint8Array): ClassicInsn[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ClassicInsn[] = [];
  for (let n = 0; n + 8 <= b.length; n += 8) out.push({ kind: 'insn', code: b.readUInt16LE(n), jt: b[n + 2]!, jf: b[n + 3]!, k: b.readUInt32LE(n + 4) });
  return out;
}
