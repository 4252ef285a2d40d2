// BPF maps through bpf(2) (kernel/bpf/syscall.c, hashtab.c, arraymap.c, queue_stack_maps.c):
// creation checks at their limits, update flags, full maps, iteration order and its edges,
// read-only and write-only fds and maps, freezing, names, and who may create maps.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  alu, bpf, BpfMap, call, createMap, exit, HELPER, jmp, label, ldMapFd, ldx, loadProgram, mapFromId, mov, R0, R1, R2, R10, st, stx, u32, u64, withNative,
  type MapSpec,
} from '../src/lib/bpf/index.js';
import { attrMapCreate } from '../src/lib/bpf/uapi.js';
import { asUser } from '../src/lib/creds.js';
import { sysctl } from '../src/lib/sysctl.js';
import { isSysError, type ErrnoCode } from '../src/lib/sys/index.js';

const errno = (code: ErrnoCode) => (e: unknown): boolean => {
  if (isSysError(e, code)) return true;
  throw e;
};

const sleepMs = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const open: BpfMap[] = [];
function map(spec: MapSpec): BpfMap {
  const m = createMap(spec);
  open.push(m);
  return m;
}
after(() => {
  for (const m of open) m.close();
});

const hash = (over: Partial<MapSpec> = {}): BpfMap => map({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4, ...over });
const array = (over: Partial<MapSpec> = {}): BpfMap => map({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, ...over });
const sorted = (keys: Buffer[]): number[] => keys.map((k) => k.readUInt32LE(0)).sort((a, b) => a - b);

describe('hash maps', () => {
  it('the kernel describes a new map exactly as created (BPF_OBJ_GET_INFO_BY_FD)', () => {
    const m = hash({ name: 'nt_hash', flags: ['no_prealloc'] });
    const i = m.info();
    assert.deepEqual([i.type, i.keySize, i.valueSize, i.maxEntries, i.mapFlags, i.name], [1, 4, 8, 4, 1, 'nt_hash']);
    assert.ok(i.id > 0);
  });

  it('update flags: NOEXIST on a present key is EEXIST, EXIST on an absent key is ENOENT, ANY does both', () => {
    const m = hash();
    assert.throws(() => m.update(u32(1), u64(10), 'exist'), errno('ENOENT'));
    m.update(u32(1), u64(10), 'noexist');
    assert.throws(() => m.update(u32(1), u64(11), 'noexist'), errno('EEXIST'));
    m.update(u32(1), u64(12), 'exist');
    m.update(u32(1), u64(13), 'any');
    m.update(u32(2), u64(20), 'any');
    assert.equal(m.lookup(u32(1)).readBigUInt64LE(0), 13n);
    assert.equal(m.lookup(u32(2)).readBigUInt64LE(0), 20n);
  });

  it('lookup and delete of an absent key are ENOENT; a deleted key is gone', () => {
    const m = hash();
    assert.throws(() => m.lookup(u32(7)), errno('ENOENT'));
    assert.throws(() => m.delete(u32(7)), errno('ENOENT'));
    m.update(u32(7), u64(1));
    m.delete(u32(7));
    assert.equal(m.get(u32(7)), undefined);
  });

  for (const prealloc of [true, false]) {
    it(`max_entries 4 (${prealloc ? 'preallocated' : 'BPF_F_NO_PREALLOC'}): the 4th new key fits, the 5th is E2BIG; replacing and delete-then-insert still work`, () => {
      const m = hash(prealloc ? {} : { flags: ['no_prealloc'] });
      // Without preallocation, 6.1 takes elements from bpf_mem_alloc's per-CPU cache (4 of this
      // size prefilled), refilled from irq_work, which UML runs on the next timer tick: back to
      // back, the 5th allocation fails ENOMEM. A tick's pause before each one avoids that.
      const update = (k: number, v: number, flag?: 'any' | 'exist' | 'noexist'): void => {
        if (!prealloc) sleepMs(20);
        m.update(u32(k), u64(v), flag);
      };
      for (let k = 1; k <= 3; k++) update(k, k);
      update(4, 4, 'noexist');
      assert.throws(() => update(5, 5), errno('E2BIG'));
      update(4, 44, 'exist'); // full, but an existing key may change
      update(3, 33, 'any');
      m.delete(u32(1));
      update(5, 5, 'noexist');
      assert.deepEqual(sorted(m.keys()), [2, 3, 4, 5]);
    });
  }

  it('iteration: a null key gives the first, an absent key restarts from the first, the last gives ENOENT', () => {
    const m = hash({ maxEntries: 8 });
    for (const k of [10, 20, 30]) m.update(u32(k), u64(k));
    const keys = m.keys();
    assert.deepEqual(sorted(keys), [10, 20, 30]);
    assert.deepEqual(m.nextKey(null), keys[0]);
    assert.deepEqual(m.nextKey(u32(99)), keys[0], 'htab_map_get_next_key: unknown key -> first element');
    assert.equal(m.nextKey(keys[2]!), null);
    assert.equal(hash().nextKey(null), null, 'an empty map has no first key');
  });

  it('lookup-and-delete takes a hash entry out', () => {
    const m = hash();
    m.update(u32(3), u64(333));
    assert.equal(m.lookupAndDelete(u32(3)).readBigUInt64LE(0), 333n);
    assert.throws(() => m.lookup(u32(3)), errno('ENOENT'));
  });

  it('creation: max_entries, key_size or value_size 0 is EINVAL; 1 each is a map', () => {
    for (const bad of [{ maxEntries: 0 }, { keySize: 0 }, { valueSize: 0 }]) {
      assert.throws(() => hash(bad), errno('EINVAL'), JSON.stringify(bad));
    }
    const m = hash({ keySize: 1, valueSize: 1, maxEntries: 1 });
    m.update(Buffer.from([9]), Buffer.from([8]));
    assert.throws(() => m.update(Buffer.from([10]), Buffer.from([8])), errno('E2BIG'));
  });

  // key_size + value_size must stay below KMALLOC_MAX_SIZE - sizeof(struct htab_elem):
  // 4 MiB (MAX_ORDER 11, 4 KiB pages) - 48 bytes on x86_64.
  const LIMIT = 4 * 1024 * 1024 - 48;
  for (const [sum, ok] of [[LIMIT - 1, true], [LIMIT, false], [LIMIT + 1, false]] as const) {
    it(`key_size + value_size = KMALLOC_MAX_SIZE - 48 ${sum - LIMIT >= 0 ? '+' : '-'} ${Math.abs(sum - LIMIT)}: ${ok ? 'created' : 'E2BIG'}`, () => {
      const spec: MapSpec = { type: 'hash', keySize: 8, valueSize: sum - 8, maxEntries: 1, flags: ['no_prealloc'] };
      if (ok) map(spec);
      else assert.throws(() => map(spec), errno('E2BIG'));
    });
  }
});

describe('array maps', () => {
  for (const [keySize, ok] of [[3, false], [4, true], [5, false]] as const) {
    it(`key_size ${keySize}: ${ok ? 'created' : 'EINVAL'} (array keys are u32 indexes)`, () => {
      if (ok) array({ keySize });
      else assert.throws(() => array({ keySize }), errno('EINVAL'));
    });
  }

  it('every element exists from the start, zeroed; index max_entries-1 is the last, max_entries is ENOENT / E2BIG', () => {
    const m = array();
    assert.deepEqual(m.lookup(u32(0)), Buffer.alloc(8));
    m.update(u32(3), u64(33));
    assert.equal(m.lookup(u32(3)).readBigUInt64LE(0), 33n);
    assert.throws(() => m.lookup(u32(4)), errno('ENOENT'));
    assert.throws(() => m.update(u32(4), u64(1)), errno('E2BIG'));
  });

  it('NOEXIST is always EEXIST, EXIST and ANY update; delete is EINVAL', () => {
    const m = array();
    assert.throws(() => m.update(u32(0), u64(1), 'noexist'), errno('EEXIST'));
    m.update(u32(0), u64(2), 'exist');
    m.update(u32(1), u64(3), 'any');
    assert.throws(() => m.delete(u32(0)), errno('EINVAL'));
    assert.equal(m.lookup(u32(0)).readBigUInt64LE(0), 2n);
  });

  it('iteration: 0..max_entries-1 in order; after the last ENOENT; an index past the end restarts at 0', () => {
    const m = array({ maxEntries: 5 });
    assert.deepEqual(m.keys().map((k) => k.readUInt32LE(0)), [0, 1, 2, 3, 4]);
    assert.equal(m.nextKey(u32(4)), null);
    assert.deepEqual(m.nextKey(u32(5)), u32(0));
    assert.deepEqual(m.nextKey(u32(3)), u32(4));
  });
});

describe('queue maps', () => {
  it('FIFO: push with a null key, peek, pop; a full queue is E2BIG unless BPF_EXIST, which drops the oldest', () => {
    const q = map({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 3 });
    const none = Buffer.alloc(0);
    for (const v of [1, 2, 3]) q.update(none, u32(v));
    assert.throws(() => q.update(none, u32(4)), errno('E2BIG'));
    q.update(none, u32(4), 'exist');
    assert.equal(q.lookup(none).readUInt32LE(0), 2, 'peek: 1 was pushed out');
    assert.deepEqual([0, 1, 2].map(() => q.lookupAndDelete(none).readUInt32LE(0)), [2, 3, 4]);
    assert.throws(() => q.lookupAndDelete(none), errno('ENOENT'));
  });
});

describe('read-only and write-only access', () => {
  it('BPF_F_RDONLY: lookups and iteration work; update and delete are EPERM', () => {
    const m = hash({ flags: ['rdonly'] });
    assert.throws(() => m.update(u32(1), u64(1)), errno('EPERM'));
    assert.throws(() => m.delete(u32(1)), errno('EPERM'));
    assert.throws(() => m.lookup(u32(1)), errno('ENOENT'));
    assert.equal(m.nextKey(null), null);
  });

  it('BPF_F_WRONLY: updates and deletes work; lookup and iteration are EPERM', () => {
    const m = hash({ flags: ['wronly'] });
    m.update(u32(1), u64(1));
    assert.throws(() => m.lookup(u32(1)), errno('EPERM'));
    assert.throws(() => m.nextKey(null), errno('EPERM'));
    m.delete(u32(1));
  });

  it('BPF_F_RDONLY with BPF_F_WRONLY is EINVAL', () => {
    assert.throws(() => hash({ flags: ['rdonly', 'wronly'] }), errno('EINVAL'));
  });

  it('a second fd by id (BPF_MAP_GET_FD_BY_ID) opened read-only cannot write; the first still can, and both see one map', () => {
    const m = hash();
    const ro = mapFromId(m.info().id, 4, 8, ['rdonly']);
    const wo = mapFromId(m.info().id, 4, 8, ['wronly']);
    try {
      assert.throws(() => ro.update(u32(1), u64(1)), errno('EPERM'));
      wo.update(u32(1), u64(5));
      assert.throws(() => wo.lookup(u32(1)), errno('EPERM'));
      assert.equal(ro.lookup(u32(1)).readBigUInt64LE(0), 5n);
      m.update(u32(1), u64(6));
      assert.equal(ro.lookup(u32(1)).readBigUInt64LE(0), 6n);
    } finally {
      ro.close();
      wo.close();
    }
  });

  it('BPF_MAP_FREEZE: user space can no longer update or delete (EPERM), still read; freezing again is EBUSY', () => {
    const m = array();
    m.update(u32(0), u64(7));
    m.freeze();
    assert.throws(() => m.update(u32(0), u64(8)), errno('EPERM'));
    assert.equal(m.lookup(u32(0)).readBigUInt64LE(0), 7n);
    assert.throws(() => m.freeze(), errno('EBUSY'));
  });

  /** A program that looks key 0 up and, if found, writes (store) or reads (load) the value. */
  function valueAccess(m: BpfMap, access: 'store' | 'load'): ReturnType<typeof loadProgram> {
    return loadProgram({
      type: 'socket_filter',
      insns: [
        st('w', R10, -4, 0), // key 0 on the stack
        mov(R2, R10),
        alu('add', R2, -4),
        ldMapFd(R1, m.fd),
        call(HELPER.map_lookup_elem),
        jmp('jeq', R0, 0, 'out'),
        access === 'store' ? stx('dw', R0, 0, R10) : ldx('dw', R1, R0, 0),
        label('out'),
        mov(R0, 0),
        exit(),
      ],
    });
  }

  it('BPF_F_RDONLY_PROG: a program may read values but a store is refused by the verifier; user space still writes', () => {
    const m = array({ flags: ['rdonly_prog'] });
    valueAccess(m, 'load').close();
    assert.throws(() => valueAccess(m, 'store'), (e: unknown) => isSysError(e, 'EACCES') && /write into map forbidden, value_size=8 off=0 size=8/.test((e as unknown as { log: string }).log));
    m.update(u32(0), u64(1));
  });

  it('BPF_F_WRONLY_PROG: a program may store but a load is refused by the verifier', () => {
    const m = array({ flags: ['wronly_prog'] });
    assert.throws(() => valueAccess(m, 'load'), (e: unknown) => isSysError(e, 'EACCES') && /read from map forbidden, value_size=8 off=0 size=8/.test((e as unknown as { log: string }).log));
  });
});

describe('names', () => {
  /** BPF_MAP_CREATE with raw name bytes (16 bytes: the library refuses a name without its NUL). */
  function createNamed(name: Buffer): number {
    return withNative([attrMapCreate.size], ([attr]) => {
      attrMapCreate.packInto(attr!.view, 0, { mapType: 2, keySize: 4, valueSize: 4, maxEntries: 1 });
      name.copy(attr!.view, attrMapCreate.offsetOf('mapName'));
      return bpf(0, attr!);
    });
  }

  it('15 characters and a NUL fit; 16 characters without a NUL are EINVAL', () => {
    const fd = createNamed(Buffer.from('abcdefghijklmno\0'));
    open.push(new BpfMap(fd, 4, 4));
    assert.equal(open.at(-1)!.info().name, 'abcdefghijklmno');
    assert.throws(() => createNamed(Buffer.from('abcdefghijklmnop')), errno('EINVAL'));
  });

  it("letters, digits, '_' and '.' are allowed; '-' is EINVAL", () => {
    hash({ name: 'a_b.C9' });
    assert.throws(() => hash({ name: 'a-b' }), errno('EINVAL'));
  });
});

describe('unprivileged users (kernel.unprivileged_bpf_disabled)', () => {
  const NOBODY = 65534;
  function withUnpriv<T>(value: number, fn: () => T): T {
    const restore = sysctl.set('kernel.unprivileged_bpf_disabled', value);
    try {
      return fn();
    } finally {
      restore();
    }
  }

  it('0: an unprivileged user creates array and hash maps but not an LRU hash (EPERM: needs CAP_BPF)', () => {
    withUnpriv(0, () => {
      const [a, h] = asUser(NOBODY, () => [createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 }), createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 })]);
      a.close();
      h.close();
      assert.throws(() => asUser(NOBODY, () => createMap({ type: 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 8 })), errno('EPERM'));
    });
  });

  it('2: unprivileged bpf(2) is EPERM; root is unaffected', () => {
    withUnpriv(2, () => {
      assert.throws(() => asUser(NOBODY, () => createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 })), errno('EPERM'));
      createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 }).close();
    });
  });

  it('the sysctl takes 0, 1 and 2 only: 3 is EINVAL (and 1, being one-way, is not tried)', () => {
    assert.throws(() => withUnpriv(3, () => undefined), (e: unknown) => (e as { code?: string }).code === 'EINVAL');
  });
});
