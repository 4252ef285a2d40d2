// A netlink request the kernel refused. It is a SysError (so isSysError(e, 'EEXIST') and
// `e.code` work as for any syscall), plus the kernel's extended ack.
import { SysError } from '../sys/error.js';
import type { NlAck } from './message.js';

export class NetlinkError extends SysError {
  /** NLMSGERR_ATTR_MSG, e.g. 'Nexthop has invalid gateway'. */
  readonly extack: string | undefined;
  /** NLMSGERR_ATTR_OFFS: offset in the request of the attribute the kernel blamed. */
  readonly offset: number | undefined;
  readonly missingType: number | undefined;

  constructor(request: string, ack: NlAck, args: readonly unknown[] = []) {
    super(request, ack.errno, args);
    this.extack = ack.extack;
    this.offset = ack.offset;
    this.missingType = ack.missingType;
    if (ack.extack !== undefined) this.message += `: ${ack.extack}`;
    if (ack.offset !== undefined) this.message += ` (at request offset ${ack.offset})`;
  }
}

export function isNetlinkError(e: unknown, code?: string): e is NetlinkError {
  return e instanceof NetlinkError && (code === undefined || e.code === code);
}
