// Netlink request/response machinery shared by every family: sequence numbers, requests with
// ACK, dumps to NLMSG_DONE, errors with extended ack, multicast subscription and waiting for
// notifications. Synchronous: every call returns when the kernel has answered.
import { errnoNumber } from '../sys/errno.js';
import { SysError } from '../sys/error.js';
import { NetlinkError } from './error.js';
import { encodeMessage, parseAck, parseMessages, type NlMessage } from './message.js';
import { openTransport, type Transport, type TransportOptions } from './transport.js';
import { NETLINK_ADD_MEMBERSHIP, NETLINK_CAP_ACK, NETLINK_DROP_MEMBERSHIP, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK, NLMSG, NLM_F } from '../include/uapi/linux/netlink.js';

export * from './attr.js';
export * from './message.js';
export * from './error.js';
export { nameOf, flagNames, valueOf, flagsValue } from '../names.js';
export type { Transport } from './transport.js';

export interface NetlinkOptions extends TransportOptions {
  /** Multicast groups to join at once (group numbers, e.g. RTNLGRP.NEIGH). */
  groups?: readonly number[];
  /** NETLINK_GET_STRICT_CHK (default on): the kernel rejects malformed GET requests and honours dump filters. */
  strict?: boolean;
  /** Default timeout for a request's answer, ms (default 10000). */
  timeoutMs?: number;
  /** Names message types in errors ('RTM_NEWROUTE' instead of 24). */
  typeName?: (type: number) => string;
  /** Use this transport instead of a real socket (unit tests). */
  transport?: Transport;
}

export interface RequestOptions {
  /** Extra nlmsg_flags (NLM_F_CREATE | NLM_F_EXCL...). NLM_F_REQUEST and NLM_F_ACK are added. */
  flags?: number;
  timeoutMs?: number;
}

export interface Netlink {
  readonly protocol: number;
  readonly portId: number;
  readonly fd: number;
  /** Whether the kernel accepted NETLINK_GET_STRICT_CHK. */
  readonly strict: boolean;
  /** Send a request and wait for its ACK; returns the replies that came before it (e.g. a GET's answer, or NLM_F_ECHO). */
  request(type: number, payload: Buffer | readonly Buffer[], opts?: RequestOptions): NlMessage[];
  /** A GET request expecting exactly one reply message. */
  get(type: number, payload: Buffer | readonly Buffer[], opts?: RequestOptions): NlMessage;
  /** NLM_F_DUMP request; all parts until NLMSG_DONE. Retries (3x) a dump the kernel flags NLM_F_DUMP_INTR. */
  dump(type: number, payload: Buffer | readonly Buffer[], opts?: RequestOptions): NlMessage[];
  /** Send without waiting; returns the sequence number. */
  send(type: number, flags: number, payload: Buffer | readonly Buffer[]): number;
  subscribe(group: number): void;
  unsubscribe(group: number): void;
  /**
   * The first notification (a message not answering one of our requests) matching `pred`,
   * waiting up to timeoutMs. Notifications that do not match are dropped. Throws ETIMEDOUT.
   */
  waitFor(pred: (m: NlMessage) => boolean, timeoutMs: number): NlMessage;
  /** Notifications already received or pending on the socket, without waiting. */
  drain(): NlMessage[];
  close(): void;
}


export function openNetlink(protocol: number, opts: NetlinkOptions = {}): Netlink {
  const t = opts.transport ?? openTransport(protocol, opts);
  const timeout = opts.timeoutMs ?? 10000;
  const typeName = opts.typeName ?? ((n: number) => `netlink type ${n}`);
  let seq = Math.floor(Date.now() / 1000) & 0x7fffffff;
  const pending: NlMessage[] = [];
  let strict = false;

  try {
    // Extended ACK text and capped ACKs (the request is not echoed back) are always wanted.
    t.setOption(NETLINK_EXT_ACK, 1);
    t.setOption(NETLINK_CAP_ACK, 1);
    if (opts.strict ?? true) {
      try {
        t.setOption(NETLINK_GET_STRICT_CHK, 1);
        strict = true;
      } catch (e) {
        // Kernels before 4.20 lack the option; requests still work, unfiltered.
        if (!(e instanceof SysError && e.code === 'ENOPROTOOPT')) throw e;
      }
    }
    for (const g of opts.groups ?? []) t.setOption(NETLINK_ADD_MEMBERSHIP, g);
  } catch (e) {
    t.close();
    throw e;
  }

  function send(type: number, flags: number, payload: Buffer | readonly Buffer[]): number {
    seq = (seq + 1) >>> 0 || 1;
    t.send(encodeMessage({ type, flags: flags | NLM_F.REQUEST, seq, pid: 0 }, payload));
    return seq;
  }

  /** Messages answering `mySeq`, until `isLast` says stop; everything else is queued as a notification. */
  function collect(mySeq: number, type: number, timeoutMs: number, isLast: (m: NlMessage) => boolean): NlMessage[] {
    const out: NlMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const dgram = left > 0 ? t.recv(left) : null;
      if (dgram === null) throw new SysError(`${typeName(type)} (no answer within ${timeoutMs} ms)`, errnoNumber('ETIMEDOUT'));
      for (const m of parseMessages(dgram)) {
        if (m.seq !== mySeq || m.pid !== t.portId) {
          if (m.seq === 0) pending.push(m);
          continue; // a late answer to an abandoned request
        }
        if (m.type === NLMSG.ERROR) {
          const ack = parseAck(m);
          if (ack.errno !== 0) throw new NetlinkError(typeName(type), ack);
          return out;
        }
        if (m.type === NLMSG.OVERRUN) throw new SysError(typeName(type), errnoNumber('ENOBUFS'));
        out.push(m);
        if (isLast(m)) return out;
      }
    }
  }

  function request(type: number, payload: Buffer | readonly Buffer[], ro: RequestOptions = {}): NlMessage[] {
    const s = send(type, (ro.flags ?? 0) | NLM_F.ACK, payload);
    return collect(s, type, ro.timeoutMs ?? timeout, () => false);
  }

  function dumpOnce(type: number, payload: Buffer | readonly Buffer[], ro: RequestOptions): NlMessage[] {
    const s = send(type, (ro.flags ?? 0) | NLM_F.DUMP, payload);
    return collect(s, type, ro.timeoutMs ?? timeout, (m) => m.type === NLMSG.DONE || (m.flags & NLM_F.MULTI) === 0);
  }

  return {
    protocol,
    portId: t.portId,
    fd: t.fd,
    strict,
    request,
    get(type, payload, ro = {}) {
      const replies = request(type, payload, ro).filter((m) => m.type !== NLMSG.DONE);
      const [first] = replies;
      if (replies.length !== 1 || first === undefined) throw new Error(`${typeName(type)}: expected one reply, got ${replies.length}`);
      return first;
    },
    dump(type, payload, ro = {}) {
      for (let attempt = 0; ; attempt++) {
        const parts = dumpOnce(type, payload, ro);
        const done = parts[parts.length - 1];
        if (done?.type === NLMSG.DONE && done.payload.length >= 4) {
          // NLMSG_DONE carries the dump's status (an int); a negative one is an error, with TLVs after it.
          const status = done.payload.readInt32LE(0);
          if (status < 0) {
            throw new NetlinkError(typeName(type), {
              errno: -status,
              code: '',
              request: { len: 0, type, flags: 0, seq: done.seq, pid: 0 },
            });
          }
        }
        const interrupted = parts.some((m) => (m.flags & NLM_F.DUMP_INTR) !== 0);
        if (!interrupted || attempt >= 2) return parts.filter((m) => m.type !== NLMSG.DONE);
      }
    },
    send,
    subscribe: (g) => t.setOption(NETLINK_ADD_MEMBERSHIP, g),
    unsubscribe: (g) => t.setOption(NETLINK_DROP_MEMBERSHIP, g),
    waitFor(pred, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pending.shift();
        if (m !== undefined) {
          if (pred(m)) return m;
          continue;
        }
        const left = deadline - Date.now();
        const dgram = left > 0 ? t.recv(left) : null;
        if (dgram === null) throw new SysError(`waiting for a netlink notification (${timeoutMs} ms)`, errnoNumber('ETIMEDOUT'));
        pending.push(...parseMessages(dgram));
      }
    },
    drain() {
      for (;;) {
        const dgram = t.recv(0);
        if (dgram === null) break;
        pending.push(...parseMessages(dgram));
      }
      return pending.splice(0);
    },
    close: () => t.close(),
  };
}
