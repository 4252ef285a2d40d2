// The bpf(2) system call through the FFI layer. union bpf_attr carries pointers (keys, values,
// instructions, the verifier log), so an attr and everything it points to are laid out in one
// block of native memory whose addresses are known; results are copied out before it is freed.
import { allocNative, c, freeNative, lastErrno } from '../sys/ffi.js';
import { SysError } from '../sys/error.js';
import { CMD } from './uapi.js';

// arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h (arm64).
const NR_BPF = process.arch === 'arm64' ? 280 : 321;

const CMD_NAMES = new Map<number, string>(Object.entries(CMD).map(([k, v]) => [v, `BPF_${k}`]));

/** One region of the native block: its address (for attr pointer fields) and a view of its bytes. */
export interface Region {
  readonly addr: bigint;
  readonly view: Buffer;
}

/**
 * Lay out `parts` (bytes to copy in, or a size to zero-fill) in one native allocation, 8-byte
 * aligned, and run `fn` with their regions. Regions are only valid inside `fn`.
 */
export function withNative<T>(parts: readonly (Uint8Array | number)[], fn: (regions: Region[]) => T): T {
  const offs: number[] = [];
  let size = 0;
  for (const p of parts) {
    offs.push(size);
    size += ((typeof p === 'number' ? p : p.length) + 7) & ~7;
  }
  const { mem, view, address } = allocNative(size);
  try {
    const regions = parts.map((p, i) => {
      const at = offs[i]!;
      const len = typeof p === 'number' ? p : p.length;
      if (typeof p !== 'number') view.set(p, at);
      return { addr: len === 0 ? 0n : address + BigInt(at), view: view.subarray(at, at + len) };
    });
    return fn(regions);
  } finally {
    freeNative(mem);
  }
}

/**
 * bpf(cmd, attr, size). `attr` must be a region of a withNative block (the kernel writes some
 * commands' results back into it). Returns the syscall's value (an fd for *_CREATE, PROG_LOAD,
 * *_GET_FD_BY_ID); throws SysError('bpf', errno) naming the command.
 */
export function bpf(cmd: number, attr: Region, detail: readonly unknown[] = []): number {
  // User-space addresses fit in 47 bits: a JS number carries them exactly.
  const ret = c.syscall3(NR_BPF, cmd, Number(attr.addr), attr.view.length);
  if (ret < 0) throw new SysError('bpf', lastErrno(), [CMD_NAMES.get(cmd) ?? cmd, ...detail]);
  return ret;
}
