// The one error type every failed system call throws. Tests assert on `code` (the errno name).
import { errnoName, type ErrnoName } from './errno.js';

export type ErrnoCode = ErrnoName | `E${number}`;

export class SysError extends Error {
  override readonly name = 'SysError';
  /** errno name, e.g. 'ENETUNREACH' (the same field Node uses for its own system errors). */
  readonly code: ErrnoCode;
  readonly errno: number;
  /** The libc function that failed, e.g. 'connect'. */
  readonly call: string;
  /** Its arguments in readable form (addresses decoded where the caller knew how). */
  readonly args: readonly unknown[];

  constructor(call: string, errno: number, args: readonly unknown[] = []) {
    const code = errnoName(errno);
    super(`${call}(${args.map(formatArg).join(', ')}) failed: ${code} (${errno})`);
    this.code = code;
    this.errno = errno;
    this.call = call;
    this.args = args;
  }
}

/** True when `e` is a SysError, optionally with the given errno name. */
export function isSysError(e: unknown, code?: ErrnoCode): e is SysError {
  return e instanceof SysError && (code === undefined || e.code === code);
}

function formatArg(a: unknown): string {
  if (Buffer.isBuffer(a)) return `<${a.length} bytes ${a.subarray(0, 32).toString('hex')}${a.length > 32 ? '…' : ''}>`;
  if (typeof a === 'string') return JSON.stringify(a);
  if (typeof a === 'object' && a !== null) {
    try {
      return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    } catch {
      return String(a);
    }
  }
  return String(a);
}
