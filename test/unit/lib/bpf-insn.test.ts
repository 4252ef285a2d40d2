// The eBPF assembler's encodings against an independent assembler: llvm-mc (LLVM's BPF
// target, Debian's `llvm` package) assembles the same program from its text syntax, and every
// byte must agree. Also: labels resolve to the offsets llvm computes, wide loads take two slots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  alu, alu32, assemble, atomic, call, decode, endian, exit, ja, jmp, jmp32, label, ldAbs, ldImm64, ldMapFd, ldMapValue, ldx, mov, mov32, neg, neg32, st, stx,
  R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, HELPER, type Item,
} from '../../../src/lib/bpf/insn.js';

const has = (c: string): boolean => spawnSync(c, ['--version']).status === 0;
const llvmMc = ['llvm-mc', 'llvm-mc-16', 'llvm-mc-15', 'llvm-mc-14'].find(has);
const llvmObjcopy = ['llvm-objcopy', 'llvm-objcopy-16', 'llvm-objcopy-15', 'llvm-objcopy-14'].find(has);
const noLlvm = llvmMc && llvmObjcopy ? false : 'llvm-mc and llvm-objcopy not installed (Debian: apt-get install llvm)';

/**
 * Assemble LLVM BPF text with llvm-mc into an object file and take its .text with llvm-objcopy:
 * the bytes of every instruction, labels resolved. (LLVM 14 has no syntax for BPF_MOD or
 * BPF_JSET; those encodings are checked against the kernel's disassembler in the suite.)
 */
function llvm(text: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'net-test-bpf-llvm-'));
  try {
    const obj = join(dir, 'p.o');
    const bin = join(dir, 'p.bin');
    const mc = spawnSync(llvmMc!, ['-triple=bpfel', '-mattr=+alu32', '-filetype=obj', '-o', obj], { input: `${text}\n`, encoding: 'utf8' });
    assert.equal(mc.status, 0, `llvm-mc: ${mc.stderr}`);
    const cp = spawnSync(llvmObjcopy!, ['-O', 'binary', '--only-section=.text', obj, bin], { encoding: 'utf8' });
    assert.equal(cp.status, 0, `llvm-objcopy: ${cp.stderr}`);
    return readFileSync(bin);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Each builder item next to the same instruction in LLVM's syntax.
const CASES: [Item, string][] = [
  [mov(R0, 0), 'r0 = 0'],
  [mov(R1, R2), 'r1 = r2'],
  [mov(R9, -1), 'r9 = -1'],
  [mov32(R1, 5), 'w1 = 5'],
  [mov32(R3, R4), 'w3 = w4'],
  [alu('add', R1, -3), 'r1 += -3'],
  [alu('sub', R2, R3), 'r2 -= r3'],
  [alu('mul', R4, 7), 'r4 *= 7'],
  [alu('div', R5, R6), 'r5 /= r6'],
  [alu('or', R6, 0x7fffffff), 'r6 |= 2147483647'],
  [alu('and', R7, R8), 'r7 &= r8'],
  [alu('lsh', R8, 63), 'r8 <<= 63'],
  [alu('rsh', R9, R1), 'r9 >>= r1'],
  [alu('xor', R2, R2), 'r2 ^= r2'],
  [alu('arsh', R1, 3), 'r1 s>>= 3'],
  [alu32('add', R1, 1), 'w1 += 1'],
  [alu32('lsh', R2, R3), 'w2 <<= w3'],
  [alu32('arsh', R4, 31), 'w4 s>>= 31'],
  [alu32('div', R5, R6), 'w5 /= w6'],
  [alu32('xor', R5, 3), 'w5 ^= 3'],
  [neg(R0), 'r0 = -r0'],
  [neg32(R1), 'w1 = -w1'],
  [endian('be', R1, 16), 'r1 = be16 r1'],
  [endian('be', R2, 32), 'r2 = be32 r2'],
  [endian('be', R3, 64), 'r3 = be64 r3'],
  [endian('le', R4, 16), 'r4 = le16 r4'],
  [endian('le', R5, 32), 'r5 = le32 r5'],
  [ldx('b', R0, R1, 0), 'r0 = *(u8 *)(r1 + 0)'],
  [ldx('h', R0, R1, 2), 'r0 = *(u16 *)(r1 + 2)'],
  [ldx('w', R2, R10, -4), 'r2 = *(u32 *)(r10 - 4)'],
  [ldx('dw', R3, R10, -8), 'r3 = *(u64 *)(r10 - 8)'],
  [stx('b', R10, -1, R1), '*(u8 *)(r10 - 1) = r1'],
  [stx('h', R10, -2, R2), '*(u16 *)(r10 - 2) = r2'],
  [stx('w', R10, -4, R3), '*(u32 *)(r10 - 4) = r3'],
  [stx('dw', R10, -8, R1), '*(u64 *)(r10 - 8) = r1'],
  [atomic('add', 'dw', R1, 0, R2), 'lock *(u64 *)(r1 + 0) += r2'],
  [atomic('add', 'w', R1, 8, R2), 'lock *(u32 *)(r1 + 8) += w2'],
  [ldAbs('b', 23), 'r0 = *(u8 *)skb[23]'],
  [ldAbs('h', 12), 'r0 = *(u16 *)skb[12]'],
  [ldAbs('w', 26), 'r0 = *(u32 *)skb[26]'],
  [ldImm64(R1, 0x1122334455667788n), 'r1 = 0x1122334455667788 ll'],
  [ldImm64(R2, -1n), 'r2 = -1 ll'],
  [call(HELPER.map_lookup_elem), 'call 1'],
  [call(HELPER.get_socket_cookie), 'call 46'],
  [call(HELPER.get_socket_uid), 'call 47'],
  [exit(), 'exit'],
];

test('every instruction encodes as llvm-mc encodes it', { skip: noLlvm }, () => {
  for (const [item, text] of CASES) {
    assert.deepEqual(assemble([item]).toString('hex'), llvm(text).toString('hex'), text);
  }
  // And all at once: the whole program is the concatenation.
  assert.deepEqual(assemble(CASES.map(([i]) => i)), llvm(CASES.map(([, t]) => t).join('\n')));
});

test('conditional jumps to labels: the offsets llvm-mc resolves', { skip: noLlvm }, () => {
  // (LLVM 14 has no syntax for jset; its encoding is checked against the kernel's disassembler.)
  const conds = ['jeq', 'jgt', 'jge', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'] as const;
  const ops: Record<(typeof conds)[number], string> = { jeq: '==', jgt: '>', jge: '>=', jne: '!=', jsgt: 's>', jsge: 's>=', jlt: '<', jle: '<=', jslt: 's<', jsle: 's<=' };
  const items: Item[] = [];
  const text: string[] = [];
  for (const c of conds) {
    items.push(jmp(c, R1, 5, 'end'), jmp(c, R2, R3, 'end'), jmp32(c, R4, -7, 'end'), jmp32(c, R5, R6, 'end'));
    text.push(`if r1 ${ops[c]} 5 goto END`, `if r2 ${ops[c]} r3 goto END`, `if w4 ${ops[c]} -7 goto END`, `if w5 ${ops[c]} w6 goto END`);
  }
  // A wide load in between counts two slots; a backward jump has a negative offset.
  items.push(label('back'), ldImm64(R7, 1n), ja('end'), jmp('jeq', R8, 0, 'back'), label('end'), mov(R0, 0), exit());
  text.push('BACK:', 'r7 = 1 ll', 'goto END', 'if r8 == 0 goto BACK', 'END:', 'r0 = 0', 'exit');
  assert.deepEqual(assemble(items).toString('hex'), llvm(text.join('\n')).toString('hex'));
  // The first jump skips every instruction up to 'end': 44 jumps, 2 wide slots, 2 more.
  assert.equal(decode(assemble(items))[0]!.off, 4 * conds.length - 1 + 2 + 2);
});

test('map references: BPF_PSEUDO_MAP_FD and BPF_PSEUDO_MAP_VALUE in src_reg, fd and offset in the two slots', () => {
  const [a, a2, b, b2] = decode(assemble([ldMapFd(R1, 7), ldMapValue(R2, 9, 16)]));
  assert.deepEqual([a!.code, a!.dst, a!.src, a!.imm, a2!.code, a2!.imm], [0x18, 1, 1, 7, 0, 0]);
  assert.deepEqual([b!.code, b!.dst, b!.src, b!.imm, b2!.imm], [0x18, 2, 2, 9, 16]);
});

test('store immediate (BPF_ST, which llvm-mc 14 cannot write): class 2, mode MEM, imm in the last word', () => {
  // include/uapi/linux/bpf_common.h: BPF_ST 0x02, BPF_MEM 0x60, BPF_W 0x00, BPF_DW 0x18.
  assert.equal(assemble([st('w', R10, -4, 7)]).toString('hex'), '620afcff07000000');
  assert.equal(assemble([st('dw', R1, 8, -1)]).toString('hex'), '7a010800ffffffff');
});

test('bad programs are refused before the kernel sees them', () => {
  assert.throws(() => assemble([ja('nowhere')]), /undefined label "nowhere"/);
  assert.throws(() => assemble([label('x'), label('x')]), /defined twice/);
  assert.throws(() => mov(R0, 2 ** 32), /does not fit in 32 bits/);
  assert.throws(() => ldx('w', R0, R1, 0x8000), /does not fit in s16/);
  assert.equal(assemble([mov(R0, 0xffffffff)]).readInt32LE(4), -1, 'a u32 immediate keeps its bits');
  void R7;
});
