// BPF programs: load (with the verifier's log), run on test input (BPF_PROG_TEST_RUN), attach to
// and detach from cgroups, query what is attached, and describe (BPF_OBJ_GET_INFO_BY_FD).
import * as sys from '../sys/calls.js';
import { SysError } from '../sys/error.js';
import { errnoNumber } from '../sys/errno.js';
import { assemble, type Item } from './insn.js';
import { objInfo } from './map.js';
import { bpf, withNative } from './syscall.js';
import {
  ATTACH_FLAG,
  ATTACH_TYPE,
  attrProgAttach,
  attrProgLoad,
  attrQuery,
  attrTestRun,
  BPF_F_QUERY_EFFECTIVE,
  CMD,
  PROG_TYPE,
  progInfo,
  type AttachType,
  type ProgType,
} from './uapi.js';

export interface LoadOptions {
  type: ProgType;
  /** Builder items, or encoded struct bpf_insn bytes. */
  insns: readonly Item[] | Uint8Array;
  /** Default 'GPL' (some helpers are GPL-only). */
  license?: string;
  /** For types whose checks depend on it (cgroup_sock: post_bind vs sock_create...). */
  expectedAttachType?: AttachType;
  name?: string;
  /**
   * Verifier log level for the load itself (LOG_LEVEL). Default 0; when the load fails, it is
   * repeated once with level 1 so the error carries the verifier's explanation.
   */
  logLevel?: number;
  /** Log buffer size in bytes (default 1 MiB; the kernel fails with ENOSPC if the log does not fit). */
  logSize?: number;
}

/** A load the kernel refused: errno plus what the verifier said. */
export class VerifierError extends SysError {
  constructor(
    errno: number,
    readonly log: string,
    args: readonly unknown[],
  ) {
    super('bpf', errno, args);
    const tail = log.trimEnd().split('\n').slice(-6).join('\n');
    this.message += tail ? `\nverifier log (end):\n${tail}` : '\n(no verifier log)';
  }
}

export class BpfProgram {
  #closed = false;
  constructor(
    readonly fd: number,
    readonly type: ProgType,
    /** The verifier log of the load (empty at log level 0). */
    readonly log: string,
  ) {}

  info(): ReturnType<typeof progInfo.unpack> {
    return objInfo(this.fd, progInfo.size, (b) => progInfo.unpack(b));
  }

  /** The kernel's id for this program (as BPF_PROG_QUERY lists it). */
  id(): number {
    return this.info().id;
  }

  /**
   * BPF_PROG_TEST_RUN: run the program once on `data` (for skb programs: a packet from its
   * Ethernet header) and return r0 and the data as the program left it.
   */
  testRun(data: Uint8Array, opts: { repeat?: number; dataOutSize?: number } = {}): { retval: number; dataOut: Buffer; duration: number } {
    const outSize = opts.dataOutSize ?? data.length + 256;
    return withNative([attrTestRun.size, data, outSize], ([attr, din, dout]) => {
      attrTestRun.packInto(attr!.view, 0, {
        progFd: this.fd, dataSizeIn: data.length, dataSizeOut: outSize, dataIn: din!.addr, dataOut: dout!.addr, repeat: opts.repeat ?? 1,
      });
      bpf(CMD.PROG_TEST_RUN, attr!, [this.fd, `${data.length} bytes`]);
      const r = attrTestRun.unpack(attr!.view);
      return { retval: r.retval, dataOut: Buffer.from(dout!.view.subarray(0, Math.min(r.dataSizeOut, outSize))), duration: r.duration };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    sys.close(this.fd);
  }
}

function loadOnce(o: LoadOptions, code: Uint8Array, logLevel: number): { fd: number; log: string } | { errno: number; log: string } {
  const license = Buffer.from(`${o.license ?? 'GPL'}\0`);
  const logSize = logLevel ? (o.logSize ?? 1 << 20) : 0;
  return withNative([attrProgLoad.size, code, license, logSize], ([attr, insns, lic, log]) => {
    attrProgLoad.packInto(attr!.view, 0, {
      progType: PROG_TYPE[o.type],
      insnCnt: code.length / 8,
      insns: insns!.addr,
      license: lic!.addr,
      logLevel,
      logSize,
      logBuf: log!.addr,
      progName: o.name ?? '',
      expectedAttachType: o.expectedAttachType === undefined ? 0 : ATTACH_TYPE[o.expectedAttachType],
    });
    const text = (): string => {
      const v = log!.view;
      const nul = v.indexOf(0);
      return v.subarray(0, nul < 0 ? v.length : nul).toString('utf8');
    };
    try {
      return { fd: bpf(CMD.PROG_LOAD, attr!, [o.type]), log: text() };
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      return { errno: e.errno, log: text() };
    }
  });
}

/** BPF_PROG_LOAD. Throws VerifierError (a SysError: `code` is the errno name) with the log. */
export function loadProgram(o: LoadOptions): BpfProgram {
  const code = o.insns instanceof Uint8Array ? o.insns : assemble(o.insns);
  const level = o.logLevel ?? 0;
  const args = [o.type, `${code.length / 8} insns`];
  const r = loadOnce(o, code, level);
  if ('fd' in r) return new BpfProgram(r.fd, o.type, r.log);
  if (level !== 0 || r.errno === errnoNumber('E2BIG') || r.errno === errnoNumber('EPERM')) throw new VerifierError(r.errno, r.log, args);
  // Ask again with a log, for the explanation; report the first attempt's errno.
  const again = loadOnce(o, code, 1);
  if ('fd' in again) {
    sys.close(again.fd);
    throw new VerifierError(r.errno, '(the load succeeded when repeated with a log)', args);
  }
  throw new VerifierError(r.errno, again.log, args);
}

export interface AttachOptions {
  /** BPF_F_ALLOW_OVERRIDE or BPF_F_ALLOW_MULTI (default: neither: the only program). */
  mode?: 'override' | 'multi';
  /** With 'multi': replace this attached program (BPF_F_REPLACE). */
  replace?: BpfProgram;
}

/** BPF_PROG_ATTACH to a cgroup directory fd. */
export function attachCgroup(cgroupFd: number, prog: BpfProgram, type: AttachType, o: AttachOptions = {}): void {
  const flags = (o.mode === 'override' ? ATTACH_FLAG.allow_override : o.mode === 'multi' ? ATTACH_FLAG.allow_multi : 0) | (o.replace ? ATTACH_FLAG.replace : 0);
  withNative([attrProgAttach.size], ([attr]) => {
    attrProgAttach.packInto(attr!.view, 0, {
      targetFd: cgroupFd, attachBpfFd: prog.fd, attachType: ATTACH_TYPE[type], attachFlags: flags, replaceBpfFd: o.replace?.fd ?? 0,
    });
    bpf(CMD.PROG_ATTACH, attr!, [cgroupFd, prog.fd, type, flags]);
  });
}

/** BPF_PROG_DETACH; without a program, the one attached without ALLOW_MULTI. */
export function detachCgroup(cgroupFd: number, type: AttachType, prog?: BpfProgram): void {
  withNative([attrProgAttach.size], ([attr]) => {
    attrProgAttach.packInto(attr!.view, 0, { targetFd: cgroupFd, attachBpfFd: prog?.fd ?? 0, attachType: ATTACH_TYPE[type] });
    bpf(CMD.PROG_DETACH, attr!, [cgroupFd, type, prog?.fd]);
  });
}

/** BPF_PROG_QUERY: the attach flags and the ids of the programs attached (or effective) at a cgroup. */
export function queryCgroup(cgroupFd: number, type: AttachType, o: { effective?: boolean; max?: number } = {}): { attachFlags: number; progIds: number[] } {
  const max = o.max ?? 64;
  return withNative([attrQuery.size, max * 4], ([attr, ids]) => {
    attrQuery.packInto(attr!.view, 0, {
      targetFd: cgroupFd, attachType: ATTACH_TYPE[type], queryFlags: o.effective ? BPF_F_QUERY_EFFECTIVE : 0, progIds: ids!.addr, progCnt: max,
    });
    bpf(CMD.PROG_QUERY, attr!, [cgroupFd, type]);
    const r = attrQuery.unpack(attr!.view);
    const out: number[] = [];
    for (let i = 0; i < Math.min(r.progCnt, max); i++) out.push(ids!.view.readUInt32LE(i * 4));
    return { attachFlags: r.attachFlags, progIds: out };
  });
}
