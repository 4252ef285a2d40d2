// BPF maps by file descriptor: create, lookup, update (BPF_ANY/NOEXIST/EXIST), delete, iterate
// with BPF_MAP_GET_NEXT_KEY, freeze, and the kernel's own description (BPF_OBJ_GET_INFO_BY_FD).
// Keys and values are bytes of exactly the map's sizes; u32()/u64() make the common ones.
import * as sys from '../sys/calls.js';
import { isSysError } from '../sys/error.js';
import { bpf, withNative } from './syscall.js';
import { attrGetId, attrInfo, attrMapCreate, attrMapElem, CMD, MAP_FLAG, MAP_TYPE, mapInfo, UPDATE, type MapFlag, type MapType, type UpdateFlag } from './uapi.js';

export interface MapSpec {
  type: MapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: readonly MapFlag[] | number;
  /** Up to 15 characters (BPF_OBJ_NAME_LEN with its NUL): letters, digits, '_' and '.'. */
  name?: string;
}

export type MapInfo = ReturnType<typeof mapInfo.unpack>;

/** A little-endian u32 / u64 key or value (the byte order the kernel's maps use on this host). */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
export function u64(n: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(n)));
  return b;
}

function flagBits(f: MapSpec['flags']): number {
  if (f === undefined) return 0;
  if (typeof f === 'number') return f;
  return f.reduce((m, k) => m | MAP_FLAG[k], 0);
}

export class BpfMap {
  #closed = false;
  constructor(
    readonly fd: number,
    readonly keySize: number,
    readonly valueSize: number,
  ) {}

  #check(what: string, b: Uint8Array, size: number): void {
    if (b.length !== size) throw new RangeError(`bpf map: ${what} is ${b.length} bytes, the map's is ${size}`);
  }

  /** The value for `key`; throws SysError ENOENT when there is none (EPERM on a write-only fd). */
  lookup(key: Uint8Array): Buffer {
    this.#check('key', key, this.keySize);
    return withNative([attrMapElem.size, key, this.valueSize], ([attr, k, v]) => {
      attrMapElem.packInto(attr!.view, 0, { mapFd: this.fd, key: k!.addr, value: v!.addr });
      bpf(CMD.MAP_LOOKUP_ELEM, attr!, [this.fd, key]);
      return Buffer.from(v!.view);
    });
  }

  /** lookup(), or undefined for ENOENT. */
  get(key: Uint8Array): Buffer | undefined {
    try {
      return this.lookup(key);
    } catch (e) {
      if (isSysError(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  /** BPF_MAP_LOOKUP_AND_DELETE_ELEM: pop (queue, stack; key of size 0) or take an entry (hash). */
  lookupAndDelete(key: Uint8Array): Buffer {
    this.#check('key', key, this.keySize);
    return withNative([attrMapElem.size, key, this.valueSize], ([attr, k, v]) => {
      attrMapElem.packInto(attr!.view, 0, { mapFd: this.fd, key: k!.addr, value: v!.addr });
      bpf(CMD.MAP_LOOKUP_AND_DELETE_ELEM, attr!, [this.fd, key]);
      return Buffer.from(v!.view);
    });
  }

  update(key: Uint8Array, value: Uint8Array, flag: UpdateFlag = 'any'): void {
    this.#check('key', key, this.keySize);
    this.#check('value', value, this.valueSize);
    withNative([attrMapElem.size, key, value], ([attr, k, v]) => {
      attrMapElem.packInto(attr!.view, 0, { mapFd: this.fd, key: k!.addr, value: v!.addr, flags: UPDATE[flag] });
      bpf(CMD.MAP_UPDATE_ELEM, attr!, [this.fd, key, value, flag]);
    });
  }

  delete(key: Uint8Array): void {
    this.#check('key', key, this.keySize);
    withNative([attrMapElem.size, key], ([attr, k]) => {
      attrMapElem.packInto(attr!.view, 0, { mapFd: this.fd, key: k!.addr });
      bpf(CMD.MAP_DELETE_ELEM, attr!, [this.fd, key]);
    });
  }

  /** The key after `key` (null: the first key); null at the end (the kernel's ENOENT). */
  nextKey(key: Uint8Array | null): Buffer | null {
    if (key) this.#check('key', key, this.keySize);
    return withNative([attrMapElem.size, key ?? 0, this.keySize], ([attr, k, next]) => {
      attrMapElem.packInto(attr!.view, 0, { mapFd: this.fd, key: key ? k!.addr : 0n, value: next!.addr });
      try {
        bpf(CMD.MAP_GET_NEXT_KEY, attr!, [this.fd, key]);
      } catch (e) {
        if (isSysError(e, 'ENOENT')) return null;
        throw e;
      }
      return Buffer.from(next!.view);
    });
  }

  /** Every key, in the kernel's iteration order. */
  keys(): Buffer[] {
    const out: Buffer[] = [];
    for (let k = this.nextKey(null); k !== null; k = this.nextKey(k)) {
      out.push(k);
      if (out.length > 1 << 20) throw new Error('bpf map: iteration does not end');
    }
    return out;
  }

  /** BPF_MAP_FREEZE: no more writes from user space. */
  freeze(): void {
    withNative([attrMapElem.size], ([attr]) => {
      attrMapElem.packInto(attr!.view, 0, { mapFd: this.fd });
      bpf(CMD.MAP_FREEZE, attr!, [this.fd]);
    });
  }

  info(): MapInfo {
    return objInfo(this.fd, mapInfo.size, (b) => mapInfo.unpack(b));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    sys.close(this.fd);
  }
}

/** BPF_MAP_CREATE. */
export function createMap(spec: MapSpec): BpfMap {
  return withNative([attrMapCreate.size], ([attr]) => {
    attrMapCreate.packInto(attr!.view, 0, {
      mapType: MAP_TYPE[spec.type],
      keySize: spec.keySize,
      valueSize: spec.valueSize,
      maxEntries: spec.maxEntries,
      mapFlags: flagBits(spec.flags),
      mapName: spec.name ?? '',
    });
    const fd = bpf(CMD.MAP_CREATE, attr!, [spec]);
    return new BpfMap(fd, spec.keySize, spec.valueSize);
  });
}

/** A new fd for an existing map by id (BPF_MAP_GET_FD_BY_ID), e.g. read-only with flags ['rdonly']. */
export function mapFromId(id: number, keySize: number, valueSize: number, flags: readonly ('rdonly' | 'wronly')[] = []): BpfMap {
  return withNative([attrGetId.size], ([attr]) => {
    attrGetId.packInto(attr!.view, 0, { id, openFlags: flagBits(flags) });
    return new BpfMap(bpf(CMD.MAP_GET_FD_BY_ID, attr!, [id, flags]), keySize, valueSize);
  });
}

/** BPF_OBJ_GET_INFO_BY_FD into a buffer of `size` bytes. */
export function objInfo<T>(fd: number, size: number, decode: (b: Buffer) => T, fill?: (b: Buffer) => void): T {
  return withNative([attrInfo.size, size], ([attr, info]) => {
    if (fill) fill(info!.view);
    attrInfo.packInto(attr!.view, 0, { bpfFd: fd, infoLen: size, info: info!.addr });
    bpf(CMD.OBJ_GET_INFO_BY_FD, attr!, [fd]);
    return decode(Buffer.from(info!.view));
  });
}
