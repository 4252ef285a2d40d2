// The one error type every failed system call throws. Tests assert on `code` (the errno name).
import { formatSockAddr, isSockAddr } from '../socket/sockaddr.js';
import { errnoName, type ErrnoName } from './errno.js';

export type ErrnoCode = ErrnoName | `E${number}`;

export class SysError extends Error {
  override readonly name = 'SysError';
  /** errno name, e.g. 'ENETUNREACH' (the same field Node uses for its own system errors). */
  readonly code: ErrnoCode;
  readonly errno: number;
  /** The libc function that failed, e.g. 'connect'. */
  readonly call: string;
  /** Its arguments in readable form: socket addresses decoded ({ family: 'inet', address, port }). */
  readonly args: readonly unknown[];

  /** `detail`, when given, follows the errno in the message: what the caller knows that errno does not say. */
  constructor(call: string, errno: number, args: readonly unknown[] = [], detail?: string) {
    const code = errnoName(errno);
    super(`${call}(${args.map(formatArg).join(', ')}) failed: ${code} (${errno})${detail ? `: ${detail}` : ''}`);
    this.code = code;
    this.errno = errno;
    this.call = call;
    this.args = args;
  }
}

/**
 * True when `e` is a SysError (a NetlinkError is one too), optionally with one of the given
 * errno names: isSysError(e, 'EAGAIN'), isSysError(e, ['EPERM', 'EACCES']).
 */
export function isSysError(e: unknown, code?: ErrnoCode | readonly ErrnoCode[]): e is SysError {
  if (!(e instanceof SysError)) return false;
  if (code === undefined) return true;
  return typeof code === 'string' ? e.code === code : code.includes(e.code);
}

/**
 * A predicate for assert.throws: a SysError with this errno name (or one of these).
 *
 *   assert.throws(() => s.connect('198.51.100.1:7'), errnoIs('ENETUNREACH'));
 */
export function errnoIs(code: ErrnoCode | readonly ErrnoCode[]): (e: unknown) => boolean {
  return (e: unknown) => isSysError(e, code);
}

function formatArg(a: unknown): string {
  if (Buffer.isBuffer(a)) return `<${a.length} bytes ${a.subarray(0, 32).toString('hex')}${a.length > 32 ? '…' : ''}>`;
  if (typeof a === 'string') return JSON.stringify(a);
  if (isSockAddr(a)) return formatSockAddr(a);
  if (typeof a === 'object' && a !== null) {
    try {
      return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : isSockAddr(v) ? formatSockAddr(v) : v));
    } catch {
      return String(a);
    }
  }
  return String(a);
}
