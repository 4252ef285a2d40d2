// A small eBPF assembler: instructions as typed builders, jumps to named labels, encoded to the
// 8-byte struct bpf_insn the kernel loads (include/uapi/linux/bpf.h, bpf_common.h;
// Documentation/bpf/instruction-set.rst).
//
//   const prog = assemble([
//     mov(R0, 0),
//     jmp('jeq', R1, 0, 'out'),
//     mov(R0, 1),
//     label('out'),
//     exit(),
//   ]);
//
// Encodings are checked against llvm-mc (test/unit/lib/bpf-insn.test.ts) and against the
// kernel's own disassembler, the verifier log (suite/bpf-verifier.test.ts).

// ---- opcode fields (include/uapi/linux/bpf_common.h, bpf.h) ----

/** Instruction classes: the low 3 bits of the opcode. */
export const CLASS = { ld: 0x00, ldx: 0x01, st: 0x02, stx: 0x03, alu: 0x04, jmp: 0x05, jmp32: 0x06, alu64: 0x07 } as const;
/** Operand source: immediate (BPF_K) or register (BPF_X). */
export const SRC = { k: 0x00, x: 0x08 } as const;
/** Memory access sizes. */
export const SIZE = { w: 0x00, h: 0x08, b: 0x10, dw: 0x18 } as const;
/** Memory modes. */
export const MODE = { imm: 0x00, abs: 0x20, ind: 0x40, mem: 0x60, atomic: 0xc0 } as const;
export const ALU_OP = {
  add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70,
  neg: 0x80, mod: 0x90, xor: 0xa0, mov: 0xb0, arsh: 0xc0, end: 0xd0,
} as const;
export const JMP_OP = {
  ja: 0x00, jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70,
  call: 0x80, exit: 0x90, jlt: 0xa0, jle: 0xb0, jslt: 0xc0, jsle: 0xd0,
} as const;
/** src_reg of a 64-bit immediate load that names a map (include/uapi/linux/bpf.h). */
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
/** Atomic operations (imm of BPF_STX | BPF_ATOMIC): BPF_ADD ... BPF_FETCH, BPF_XCHG, BPF_CMPXCHG. */
export const BPF_FETCH = 0x01;
export const ATOMIC_OP = { add: 0x00, or: 0x40, and: 0x50, xor: 0xa0, xchg: 0xe0 | BPF_FETCH, cmpxchg: 0xf0 | BPF_FETCH } as const;

export type Size = keyof typeof SIZE;
export type AluOp = Exclude<keyof typeof ALU_OP, 'neg' | 'end'>;
export type JmpCond = Exclude<keyof typeof JMP_OP, 'ja' | 'call' | 'exit'>;
export type AtomicOp = keyof typeof ATOMIC_OP;

// ---- registers ----

declare const regBrand: unique symbol;
/** r0..r10: a register, not a number, so an immediate is never taken for one. */
export type Reg = { readonly [regBrand]: true; readonly n: number };
function reg(n: number): Reg {
  return Object.freeze({ n }) as Reg;
}
export const R0 = reg(0), R1 = reg(1), R2 = reg(2), R3 = reg(3), R4 = reg(4), R5 = reg(5);
export const R6 = reg(6), R7 = reg(7), R8 = reg(8), R9 = reg(9);
/** The read-only frame pointer; the stack is the 512 bytes below it. */
export const R10 = reg(10);

function isReg(x: Reg | number | bigint): x is Reg {
  return typeof x === 'object';
}

// ---- instructions ----

/** One struct bpf_insn. */
export interface Insn {
  readonly kind: 'insn';
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** A jump whose offset is resolved from a label at assembly. */
  target?: string;
}
/** A 64-bit immediate load: two instruction slots. */
export interface Wide {
  readonly kind: 'wide';
  dst: number;
  src: number;
  imm: bigint;
}
export interface Label {
  readonly kind: 'label';
  name: string;
}
export type Item = Insn | Wide | Label;

function insn(code: number, dst: number, src: number, off: number, imm: number): Insn {
  if (!Number.isInteger(off) || off < -0x8000 || off > 0x7fff) throw new RangeError(`bpf: offset ${off} does not fit in s16`);
  if (!Number.isInteger(imm) || imm < -0x80000000 || imm > 0xffffffff) throw new RangeError(`bpf: immediate ${imm} does not fit in 32 bits`);
  return { kind: 'insn', code, dst, src, off, imm: imm | 0 };
}

function aluInsn(cls: number, op: AluOp, dst: Reg, src: Reg | number): Insn {
  return isReg(src) ? insn(cls | ALU_OP[op] | SRC.x, dst.n, src.n, 0, 0) : insn(cls | ALU_OP[op] | SRC.k, dst.n, 0, 0, src);
}

/** 64-bit ALU: dst = dst OP src (register or 32-bit immediate, sign-extended). */
export function alu(op: AluOp, dst: Reg, src: Reg | number): Insn {
  return aluInsn(CLASS.alu64, op, dst, src);
}
/** 32-bit ALU: operates on the low halves, zero-extends the result into dst. */
export function alu32(op: AluOp, dst: Reg, src: Reg | number): Insn {
  return aluInsn(CLASS.alu, op, dst, src);
}
export const mov = (dst: Reg, src: Reg | number): Insn => alu('mov', dst, src);
export const mov32 = (dst: Reg, src: Reg | number): Insn => alu32('mov', dst, src);
export const neg = (dst: Reg): Insn => insn(CLASS.alu64 | ALU_OP.neg, dst.n, 0, 0, 0);
export const neg32 = (dst: Reg): Insn => insn(CLASS.alu | ALU_OP.neg, dst.n, 0, 0, 0);

/** Byte swap: to little or big endian, 16, 32 or 64 bits (BPF_END, BPF_TO_LE = K, BPF_TO_BE = X). */
export function endian(order: 'le' | 'be', dst: Reg, bits: 16 | 32 | 64): Insn {
  return insn(CLASS.alu | ALU_OP.end | (order === 'be' ? SRC.x : SRC.k), dst.n, 0, 0, bits);
}

/** dst = a 64-bit immediate (BPF_LD | BPF_DW | BPF_IMM, two slots). */
export function ldImm64(dst: Reg, value: bigint | number): Wide {
  return { kind: 'wide', dst: dst.n, src: 0, imm: BigInt.asUintN(64, BigInt(value)) };
}
/** dst = the map behind a file descriptor (the verifier replaces the fd with the map's address). */
export function ldMapFd(dst: Reg, fd: number): Wide {
  return { kind: 'wide', dst: dst.n, src: BPF_PSEUDO_MAP_FD, imm: BigInt(fd) };
}
/** dst = the address of a map value (array maps): fd in the first slot, offset in the second. */
export function ldMapValue(dst: Reg, fd: number, offset: number): Wide {
  return { kind: 'wide', dst: dst.n, src: BPF_PSEUDO_MAP_VALUE, imm: (BigInt(offset) << 32n) | BigInt(fd) };
}

/** dst = *(size *)(src + off) */
export function ldx(size: Size, dst: Reg, src: Reg, off: number): Insn {
  return insn(CLASS.ldx | MODE.mem | SIZE[size], dst.n, src.n, off, 0);
}
/** *(size *)(dst + off) = src */
export function stx(size: Size, dst: Reg, off: number, src: Reg): Insn {
  return insn(CLASS.stx | MODE.mem | SIZE[size], dst.n, src.n, off, 0);
}
/** *(size *)(dst + off) = imm */
export function st(size: Size, dst: Reg, off: number, imm: number): Insn {
  return insn(CLASS.st | MODE.mem | SIZE[size], dst.n, 0, off, imm);
}
/** Atomic read-modify-write on *(size *)(dst + off) with src (size w or dw). */
export function atomic(op: AtomicOp, size: 'w' | 'dw', dst: Reg, off: number, src: Reg, fetch = false): Insn {
  return insn(CLASS.stx | MODE.atomic | SIZE[size], dst.n, src.n, off, ATOMIC_OP[op] | (fetch ? BPF_FETCH : 0));
}
/** Legacy packet access (socket filters): r0 = ntoh(*(size *)(skb->data + imm)). */
export function ldAbs(size: Exclude<Size, 'dw'>, imm: number): Insn {
  return insn(CLASS.ld | MODE.abs | SIZE[size], 0, 0, 0, imm);
}
/** Legacy packet access: r0 = ntoh(*(size *)(skb->data + src + imm)). */
export function ldInd(size: Exclude<Size, 'dw'>, src: Reg, imm: number): Insn {
  return insn(CLASS.ld | MODE.ind | SIZE[size], 0, src.n, 0, imm);
}

type Target = string | number;
function withTarget(i: Insn, target: Target): Insn {
  if (typeof target === 'number') return { ...i, off: insn(0, 0, 0, target, 0).off };
  return { ...i, target };
}

/** Conditional jump (64-bit compare) to a label or a relative offset in instructions. */
export function jmp(cond: JmpCond, dst: Reg, src: Reg | number, target: Target): Insn {
  const i = isReg(src) ? insn(CLASS.jmp | JMP_OP[cond] | SRC.x, dst.n, src.n, 0, 0) : insn(CLASS.jmp | JMP_OP[cond] | SRC.k, dst.n, 0, 0, src);
  return withTarget(i, target);
}
/** Conditional jump comparing the low 32 bits. */
export function jmp32(cond: JmpCond, dst: Reg, src: Reg | number, target: Target): Insn {
  const i = isReg(src) ? insn(CLASS.jmp32 | JMP_OP[cond] | SRC.x, dst.n, src.n, 0, 0) : insn(CLASS.jmp32 | JMP_OP[cond] | SRC.k, dst.n, 0, 0, src);
  return withTarget(i, target);
}
export const ja = (target: Target): Insn => withTarget(insn(CLASS.jmp | JMP_OP.ja, 0, 0, 0, 0), target);
/** Call a helper by number (HELPER below); arguments in r1-r5, result in r0. */
export const call = (helper: number): Insn => insn(CLASS.jmp | JMP_OP.call, 0, 0, 0, helper);
export const exit = (): Insn => insn(CLASS.jmp | JMP_OP.exit, 0, 0, 0, 0);
export const label = (name: string): Label => ({ kind: 'label', name });
/** An instruction from its raw fields, for encodings no builder makes (the verifier must see them too). */
export const rawInsn = (code: number, dst: number, src: number, off: number, imm: number): Insn => insn(code, dst, src, off, imm);

/** Helper function ids (include/uapi/linux/bpf.h, __BPF_FUNC_MAPPER order). */
export const HELPER = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  ktime_get_ns: 5,
  get_prandom_u32: 7,
  get_smp_processor_id: 8,
  get_current_pid_tgid: 14,
  get_current_uid_gid: 15,
  skb_load_bytes: 26,
  get_socket_cookie: 46,
  get_socket_uid: 47,
} as const;

// ---- assembly ----

/** Instruction slots an item takes. */
function slots(i: Item): number {
  return i.kind === 'wide' ? 2 : i.kind === 'label' ? 0 : 1;
}

/** Resolve labels: the items as struct bpf_insn fields, jumps with their final offsets. */
export function resolve(items: readonly Item[]): Insn[] {
  const at = new Map<string, number>();
  let pc = 0;
  for (const i of items) {
    if (i.kind === 'label') {
      if (at.has(i.name)) throw new Error(`bpf: label "${i.name}" defined twice`);
      at.set(i.name, pc);
    }
    pc += slots(i);
  }
  const out: Insn[] = [];
  for (const i of items) {
    if (i.kind === 'label') continue;
    if (i.kind === 'wide') {
      const lo = Number(i.imm & 0xffffffffn) | 0;
      const hi = Number(i.imm >> 32n) | 0;
      out.push(insn(CLASS.ld | MODE.imm | SIZE.dw, i.dst, i.src, 0, lo), insn(0, 0, 0, 0, hi));
      continue;
    }
    if (i.target !== undefined) {
      const dest = at.get(i.target);
      if (dest === undefined) throw new Error(`bpf: jump to undefined label "${i.target}"`);
      out.push(insn(i.code, i.dst, i.src, dest - (out.length + 1), i.imm));
    } else {
      out.push(i);
    }
  }
  return out;
}

/** Encode instructions: 8 bytes each, little-endian (the kernel's byte order on x86 and arm64). */
export function encode(insns: readonly Insn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((i, k) => {
    b[k * 8] = i.code;
    b[k * 8 + 1] = (i.src << 4) | (i.dst & 0x0f);
    b.writeInt16LE(i.off, k * 8 + 2);
    b.writeInt32LE(i.imm, k * 8 + 4);
  });
  return b;
}

/** resolve + encode: the bytes BPF_PROG_LOAD takes. */
export function assemble(items: readonly Item[]): Buffer {
  return encode(resolve(items));
}

/** Decode struct bpf_insn bytes back into fields (the second slot of a wide load is its own entry). */
export function decode(bytes: Uint8Array): Insn[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length % 8 !== 0) throw new RangeError(`bpf: ${b.length} bytes is not a whole number of instructions`);
  const out: Insn[] = [];
  for (let k = 0; k < b.length; k += 8) {
    out.push({ kind: 'insn', code: b[k]!, dst: b[k + 1]! & 0x0f, src: b[k + 1]! >> 4, off: b.readInt16LE(k + 2), imm: b.readInt32LE(k + 4) });
  }
  return out;
}
