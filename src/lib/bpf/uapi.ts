// bpf(2) constants and the parts of union bpf_attr and the info structs the library uses
// (include/uapi/linux/bpf.h, Linux 6.1). Layouts are checked against gcc and the host's
// <linux/bpf.h> in test/unit/lib/bpf-layout.test.ts. Pointers are u64 addresses.
import { bytes, cstr, struct, u16, u32, u64 } from '../struct.js';

/** enum bpf_cmd */
export const CMD = {
  MAP_CREATE: 0, MAP_LOOKUP_ELEM: 1, MAP_UPDATE_ELEM: 2, MAP_DELETE_ELEM: 3, MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5, OBJ_PIN: 6, OBJ_GET: 7, PROG_ATTACH: 8, PROG_DETACH: 9, PROG_TEST_RUN: 10,
  PROG_GET_NEXT_ID: 11, MAP_GET_NEXT_ID: 12, PROG_GET_FD_BY_ID: 13, MAP_GET_FD_BY_ID: 14,
  OBJ_GET_INFO_BY_FD: 15, PROG_QUERY: 16, MAP_LOOKUP_AND_DELETE_ELEM: 21, MAP_FREEZE: 22,
} as const;

/** enum bpf_map_type (the ones the library names). */
export const MAP_TYPE = {
  hash: 1, array: 2, prog_array: 3, percpu_hash: 5, percpu_array: 6, lru_hash: 9, lpm_trie: 11,
  queue: 22, stack: 23,
} as const;
export type MapType = keyof typeof MAP_TYPE;

/** enum bpf_prog_type */
export const PROG_TYPE = { socket_filter: 1, sched_cls: 3, cgroup_skb: 8, cgroup_sock: 9, sock_ops: 13, cgroup_sock_addr: 18 } as const;
export type ProgType = keyof typeof PROG_TYPE;

/** enum bpf_attach_type */
export const ATTACH_TYPE = {
  cgroup_inet_ingress: 0, cgroup_inet_egress: 1, cgroup_inet_sock_create: 2, cgroup_sock_ops: 3,
  cgroup_inet4_bind: 8, cgroup_inet6_bind: 9, cgroup_inet4_connect: 10, cgroup_inet6_connect: 11,
  cgroup_inet4_post_bind: 12, cgroup_inet6_post_bind: 13, cgroup_inet_sock_release: 34,
} as const;
export type AttachType = keyof typeof ATTACH_TYPE;

/** BPF_PROG_ATTACH flags. */
export const ATTACH_FLAG = { allow_override: 1 << 0, allow_multi: 1 << 1, replace: 1 << 2 } as const;
/** BPF_MAP_UPDATE_ELEM flags. */
export const UPDATE = { any: 0, noexist: 1, exist: 2 } as const;
export type UpdateFlag = keyof typeof UPDATE;
/** BPF_MAP_CREATE map_flags. */
export const MAP_FLAG = {
  no_prealloc: 1 << 0, no_common_lru: 1 << 1, numa_node: 1 << 2, rdonly: 1 << 3, wronly: 1 << 4,
  zero_seed: 1 << 6, rdonly_prog: 1 << 7, wronly_prog: 1 << 8, mmapable: 1 << 10,
} as const;
export type MapFlag = keyof typeof MAP_FLAG;
/** BPF_PROG_QUERY query_flags. */
export const BPF_F_QUERY_EFFECTIVE = 1;
export const BPF_OBJ_NAME_LEN = 16;
/** Longest program an unprivileged loader may load, and the verifier's budget for root. */
export const BPF_MAXINSNS = 4096;
export const BPF_COMPLEXITY_LIMIT_INSNS = 1_000_000;

/** Verifier log levels (BPF_LOG_LEVEL1: each instruction as checked; LEVEL2: with states; STATS). */
export const LOG_LEVEL = { none: 0, insns: 1, states: 2, stats: 4 } as const;

// ---- union bpf_attr members ----

export const attrMapCreate = struct('bpf_attr_map_create', {
  mapType: u32, keySize: u32, valueSize: u32, maxEntries: u32, mapFlags: u32, innerMapFd: u32, numaNode: u32,
  mapName: cstr(BPF_OBJ_NAME_LEN), mapIfindex: u32, btfFd: u32, btfKeyTypeId: u32, btfValueTypeId: u32,
  btfVmlinuxValueTypeId: u32, mapExtra: u64,
});

export const attrMapElem = struct('bpf_attr_map_elem', { mapFd: u32, key: u64, value: u64, flags: u64 });

export const attrProgLoad = struct('bpf_attr_prog_load', {
  progType: u32, insnCnt: u32, insns: u64, license: u64, logLevel: u32, logSize: u32, logBuf: u64,
  kernVersion: u32, progFlags: u32, progName: cstr(BPF_OBJ_NAME_LEN), progIfindex: u32, expectedAttachType: u32,
});

export const attrProgAttach = struct('bpf_attr_prog_attach', { targetFd: u32, attachBpfFd: u32, attachType: u32, attachFlags: u32, replaceBpfFd: u32 });

export const attrTestRun = struct('bpf_attr_test', {
  progFd: u32, retval: u32, dataSizeIn: u32, dataSizeOut: u32, dataIn: u64, dataOut: u64, repeat: u32, duration: u32,
  ctxSizeIn: u32, ctxSizeOut: u32, ctxIn: u64, ctxOut: u64, flags: u32, cpu: u32, batchSize: u32,
});

export const attrGetId = struct('bpf_attr_get_id', { id: u32, nextId: u32, openFlags: u32 });

export const attrInfo = struct('bpf_attr_info', { bpfFd: u32, infoLen: u32, info: u64 });

export const attrQuery = struct('bpf_attr_query', { targetFd: u32, attachType: u32, queryFlags: u32, attachFlags: u32, progIds: u64, progCnt: u32 });

export const attrObj = struct('bpf_attr_obj', { pathname: u64, bpfFd: u32, fileFlags: u32 });

// ---- info structs (BPF_OBJ_GET_INFO_BY_FD); the kernel fills the prefix we ask for ----

export const mapInfo = struct('bpf_map_info', {
  type: u32, id: u32, keySize: u32, valueSize: u32, maxEntries: u32, mapFlags: u32, name: cstr(BPF_OBJ_NAME_LEN),
  ifindex: u32, btfVmlinuxValueTypeId: u32, netnsDev: u64, netnsIno: u64, btfId: u32, btfKeyTypeId: u32,
  btfValueTypeId: u32, pad: u32, mapExtra: u64,
});

/** struct bpf_prog_info up to prog_name and ifindex (the gpl_compatible bit-field word follows). */
export const progInfo = struct('bpf_prog_info', {
  type: u32, id: u32, tag: bytes(8), jitedProgLen: u32, xlatedProgLen: u32, jitedProgInsns: u64, xlatedProgInsns: u64,
  loadTime: u64, createdByUid: u32, nrMapIds: u32, mapIds: u64, name: cstr(BPF_OBJ_NAME_LEN), ifindex: u32, gplWord: u32,
});

/** struct sock_fprog (include/uapi/linux/filter.h): length in instructions and a pointer. */
export const sockFprog = struct('sock_fprog', { len: u16, filter: u64 });

// ---- program contexts: field offsets a program loads from r1 ----

/** struct __sk_buff (socket filters, cgroup skb programs). */
export const SK_BUFF = {
  len: 0, pkt_type: 4, mark: 8, protocol: 16, priority: 32, ingress_ifindex: 36, ifindex: 40, cb: 48, hash: 68,
  data: 76, data_end: 80, family: 88, remote_ip4: 92, local_ip4: 96, remote_port: 132, local_port: 136,
} as const;
/** struct bpf_sock (cgroup sock programs): bound_dev_if, mark and priority are writable at creation. */
export const BPF_SOCK = { bound_dev_if: 0, family: 4, type: 8, protocol: 12, mark: 16, priority: 20, src_ip4: 24, src_port: 44, dst_port: 48, state: 72 } as const;
