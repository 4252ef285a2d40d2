// BPF from tests: an eBPF assembler (insn.ts), classic BPF (classic.ts, as `cbpf`), maps by fd
// (map.ts), programs with the verifier's log, test runs and cgroup attachment (prog.ts), socket
// filters (socket.ts), a cgroup of the test's own (cgroup.ts), all over bpf(2) (syscall.ts).
export * from './insn.js';
export * as cbpf from './classic.js';
export * from './map.js';
export * from './prog.js';
export * from './socket.js';
export * from './cgroup.js';
export { bpf, withNative, type Region } from './syscall.js';
export {
  BPF_SOCK,
  SK_BUFF,
  ATTACH_TYPE,
  BPF_COMPLEXITY_LIMIT_INSNS,
  BPF_MAXINSNS,
  LOG_LEVEL,
  MAP_FLAG,
  MAP_TYPE,
  PROG_TYPE,
  UPDATE,
  type AttachType,
  type MapFlag,
  type MapType,
  type ProgType,
  type UpdateFlag,
} from './uapi.js';
