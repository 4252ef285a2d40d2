// Filters on sockets: classic programs (SO_ATTACH_FILTER), eBPF socket filter programs
// (SO_ATTACH_BPF), detaching, locking, and reading a classic program back (SO_GET_FILTER).
// Constants: include/uapi/asm-generic/socket.h.
import { c, lastErrno } from '../sys/ffi.js';
import * as sys from '../sys/calls.js';
import { SysError } from '../sys/error.js';
import {
  SOL_SOCKET, SO_ATTACH_BPF, SO_ATTACH_FILTER, SO_ATTACH_REUSEPORT_CBPF, SO_ATTACH_REUSEPORT_EBPF, SO_DETACH_FILTER, SO_LOCK_FILTER,
} from '../include/uapi/asm-generic/socket.js';
import { decodeClassic, encodeClassic, type ClassicInsn, type ClassicItem } from './classic.js';
import type { BpfProgram } from './prog.js';
import { withNative } from './syscall.js';
import { sockFprog } from './uapi.js';

export { SO_ATTACH_BPF, SO_ATTACH_FILTER, SO_ATTACH_REUSEPORT_CBPF, SO_ATTACH_REUSEPORT_EBPF, SO_DETACH_FILTER, SO_LOCK_FILTER };
/** getsockopt name for reading the classic program back (same number as SO_ATTACH_FILTER). */
export const SO_GET_FILTER = SO_ATTACH_FILTER;
export const SO_DETACH_BPF = SO_DETACH_FILTER;

/** Anything with a socket fd (a Socket from socket.ts, or a raw number). */
export type HasFd = { readonly fd: number } | number;
const fdOf = (s: HasFd): number => (typeof s === 'number' ? s : s.fd);

/**
 * SO_ATTACH_FILTER (or another option taking a struct sock_fprog) with a classic program.
 * `len` overrides the instruction count the kernel is told (to test its checks).
 */
export function attachFilter(s: HasFd, prog: readonly ClassicItem[] | Uint8Array, o: { option?: number; len?: number } = {}): void {
  const code = prog instanceof Uint8Array ? prog : encodeClassic(prog);
  withNative([sockFprog.size, code], ([fprog, insns]) => {
    sockFprog.packInto(fprog!.view, 0, { len: o.len ?? code.length / 8, filter: insns!.addr });
    sys.setsockopt(fdOf(s), SOL_SOCKET, o.option ?? SO_ATTACH_FILTER, fprog!.view);
  });
}

/** SO_ATTACH_BPF with a loaded socket_filter program (or SO_ATTACH_REUSEPORT_EBPF via option). */
export function attachBpf(s: HasFd, prog: BpfProgram | number, option = SO_ATTACH_BPF): void {
  sys.setsockopt(fdOf(s), SOL_SOCKET, option, typeof prog === 'number' ? prog : prog.fd);
}

/** SO_DETACH_FILTER (= SO_DETACH_BPF): ENOENT when nothing is attached. */
export function detachFilter(s: HasFd): void {
  sys.setsockopt(fdOf(s), SOL_SOCKET, SO_DETACH_FILTER, 0);
}

/** SO_LOCK_FILTER: once set, the filter can be neither replaced nor removed, and the lock stays. */
export function lockFilter(s: HasFd, on = true): void {
  sys.setsockopt(fdOf(s), SOL_SOCKET, SO_LOCK_FILTER, on ? 1 : 0);
}

/**
 * SO_GET_FILTER: the classic program as attached. The option's length is counted in
 * instructions, not bytes (sk_get_filter): a length of 0 asks for the count alone.
 */
export function getFilter(s: HasFd): ClassicInsn[] {
  const count = getFilterLen(s, 0);
  if (count === 0) return [];
  const buf = Buffer.alloc(count * 8);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(count);
  if (c.getsockopt(fdOf(s), SOL_SOCKET, SO_GET_FILTER, buf, len) < 0) throw new SysError('getsockopt', lastErrno(), [fdOf(s), 'SO_GET_FILTER', count]);
  return decodeClassic(buf.subarray(0, len.readUInt32LE(0) * 8));
}

/** SO_GET_FILTER with an explicit length in instructions; returns what the kernel put in optlen. */
export function getFilterLen(s: HasFd, insns: number): number {
  const buf = Buffer.alloc(Math.max(insns, 1) * 8);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(insns);
  if (c.getsockopt(fdOf(s), SOL_SOCKET, SO_GET_FILTER, buf, len) < 0) throw new SysError('getsockopt', lastErrno(), [fdOf(s), 'SO_GET_FILTER', insns]);
  return len.readUInt32LE(0);
}
