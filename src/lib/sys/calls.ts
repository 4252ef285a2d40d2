// Typed, throwing wrappers over the libc calls in ffi.ts. Socket addresses, options and ioctl
// arguments are raw bytes here; socket.ts and struct.ts give them shape.
import { allocNative, c, freeNative, lastErrno } from './ffi.js';
import { _K_SS_MAXSIZE } from '../include/uapi/linux/socket.js';
import { errnoNumber } from './errno.js';
import { SysError } from './error.js';
import { sockAddrArg } from '../socket/sockaddr.js';
import { iovec, msghdr } from '../uapi.js';

/** sizeof(struct sockaddr_storage): large enough for any address the kernel returns. */
const SOCKADDR_STORAGE = _K_SS_MAXSIZE;

function check(call: string, ret: number, args: readonly unknown[]): number {
  if (ret < 0) throw new SysError(call, lastErrno(), args);
  return ret;
}

function bytes(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function socket(domain: number, type: number, protocol: number): number {
  return check('socket', c.socket(domain, type, protocol), [domain, type, protocol]);
}

export function bind(fd: number, addr: Uint8Array): void {
  check('bind', c.bind(fd, addr, addr.length), [fd, sockAddrArg(addr)]);
}

export function connect(fd: number, addr: Uint8Array): void {
  check('connect', c.connect(fd, addr, addr.length), [fd, sockAddrArg(addr)]);
}

export function listen(fd: number, backlog: number): void {
  check('listen', c.listen(fd, backlog), [fd, backlog]);
}

/** accept4(); `addr` is the peer's raw sockaddr. */
export function accept(fd: number, flags = 0): { fd: number; addr: Buffer } {
  const addr = Buffer.alloc(SOCKADDR_STORAGE);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(addr.length);
  const nfd = check('accept', c.accept4(fd, addr, len, flags), [fd, flags]);
  return { fd: nfd, addr: addr.subarray(0, Math.min(len.readUInt32LE(0), addr.length)) };
}

function nameCall(call: 'getsockname' | 'getpeername', fd: number): Buffer {
  const addr = Buffer.alloc(SOCKADDR_STORAGE);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(addr.length);
  check(call, c[call](fd, addr, len), [fd]);
  return addr.subarray(0, Math.min(len.readUInt32LE(0), addr.length));
}

export function getsockname(fd: number): Buffer {
  return nameCall('getsockname', fd);
}

export function getpeername(fd: number): Buffer {
  return nameCall('getpeername', fd);
}

/** sendto(); `addr` null sends on a connected socket. Returns bytes sent. */
export function sendto(fd: number, data: Uint8Array, flags = 0, addr: Uint8Array | null = null): number {
  return check('sendto', c.sendto(fd, data, data.length, flags, addr, addr?.length ?? 0), [
    fd,
    bytes(data),
    flags,
    addr ? sockAddrArg(addr) : null,
  ]);
}

export function send(fd: number, data: Uint8Array, flags = 0): number {
  return sendto(fd, data, flags, null);
}

export interface RecvResult {
  /** The bytes received (at most the buffer size). */
  data: Buffer;
  /** The call's return value: larger than data.length for a truncated datagram with MSG_TRUNC. */
  length: number;
  /** Raw source sockaddr (empty for connected stream sockets). */
  addr: Buffer;
}

export function recvfrom(fd: number, size: number, flags = 0): RecvResult {
  const data = Buffer.alloc(size);
  const addr = Buffer.alloc(SOCKADDR_STORAGE);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(addr.length);
  const n = check('recvfrom', c.recvfrom(fd, data, size, flags, addr, len), [fd, size, flags]);
  return {
    data: data.subarray(0, Math.min(n, size)),
    length: n,
    addr: addr.subarray(0, Math.min(len.readUInt32LE(0), addr.length)),
  };
}

export function recv(fd: number, size: number, flags = 0): Buffer {
  return recvfrom(fd, size, flags).data;
}

// struct msghdr / struct iovec on 64-bit Linux; layouts in uapi.ts, checked against gcc in
// test/unit/lib/uapi-layout.test.ts.
const MSGHDR = {
  size: msghdr.size,
  name: msghdr.offsetOf('name'),
  namelen: msghdr.offsetOf('namelen'),
  iov: msghdr.offsetOf('iov'),
  iovlen: msghdr.offsetOf('iovlen'),
  control: msghdr.offsetOf('control'),
  controllen: msghdr.offsetOf('controllen'),
  flags: msghdr.offsetOf('flags'),
};
const IOVEC = { size: iovec.size, base: iovec.offsetOf('base'), len: iovec.offsetOf('len') };
if (process.arch !== 'x64' && process.arch !== 'arm64') {
  throw new Error(`net-test sys: msghdr layout is only defined for 64-bit Linux (x64, arm64), not ${process.arch}`);
}

export interface RawMsgOut {
  /** Destination sockaddr bytes, or null for connected sockets. */
  name?: Uint8Array | null;
  /** Data, as one buffer or a scatter list. */
  iov: Uint8Array | readonly Uint8Array[];
  /** Encoded control messages (see cmsg.ts). */
  control?: Uint8Array | null;
}

export interface RawMsgIn extends RecvResult {
  /** Encoded control messages as the kernel wrote them. */
  control: Buffer;
  /** msg_flags: MSG_TRUNC, MSG_CTRUNC, MSG_ERRQUEUE, ... */
  flags: number;
}

/** Lay out msghdr, iovecs and payloads in one native block, since msghdr holds raw pointers. */
function withMsg<T>(
  parts: { name: number | Uint8Array; iov: readonly (number | Uint8Array)[]; control: number | Uint8Array },
  run: (
    msg: Buffer,
    mem: Parameters<typeof c.sendmsg>[1],
    offsets: { name: number; iov: readonly number[]; control: number },
  ) => T,
): T {
  const len = (p: number | Uint8Array): number => (typeof p === 'number' ? p : p.length);
  const align = (n: number): number => (n + 7) & ~7;
  let off = MSGHDR.size + IOVEC.size * parts.iov.length;
  const nameOff = off;
  off = align(off + len(parts.name));
  const ctlOff = off;
  off = align(off + len(parts.control));
  const iovOffs: number[] = [];
  for (const p of parts.iov) {
    iovOffs.push(off);
    off = align(off + len(p));
  }
  const { mem, view, address } = allocNative(off);
  try {
    const put = (at: number, p: number | Uint8Array): void => {
      if (typeof p !== 'number') view.set(p, at);
    };
    const ptr = (at: number, n: number): bigint => (n === 0 ? 0n : address + BigInt(at));
    put(nameOff, parts.name);
    put(ctlOff, parts.control);
    parts.iov.forEach((p, i) => put(iovOffs[i] ?? 0, p));
    view.writeBigUInt64LE(ptr(nameOff, len(parts.name)), MSGHDR.name);
    view.writeUInt32LE(len(parts.name), MSGHDR.namelen);
    view.writeBigUInt64LE(ptr(MSGHDR.size, parts.iov.length), MSGHDR.iov);
    view.writeBigUInt64LE(BigInt(parts.iov.length), MSGHDR.iovlen);
    view.writeBigUInt64LE(ptr(ctlOff, len(parts.control)), MSGHDR.control);
    view.writeBigUInt64LE(BigInt(len(parts.control)), MSGHDR.controllen);
    parts.iov.forEach((p, i) => {
      const at = MSGHDR.size + IOVEC.size * i;
      view.writeBigUInt64LE(ptr(iovOffs[i] ?? 0, len(p)), at + IOVEC.base);
      view.writeBigUInt64LE(BigInt(len(p)), at + IOVEC.len);
    });
    return run(view, mem, { name: nameOff, iov: iovOffs, control: ctlOff });
  } finally {
    freeNative(mem);
  }
}

export function sendmsg(fd: number, msg: RawMsgOut, flags = 0): number {
  const iov = msg.iov instanceof Uint8Array ? [msg.iov] : msg.iov;
  const name = msg.name ?? new Uint8Array(0);
  const control = msg.control ?? new Uint8Array(0);
  return withMsg(
    { name, iov, control },
    (_view, mem) =>
      check('sendmsg', c.sendmsg(fd, mem, flags), [
        fd,
        { name: name.length ? sockAddrArg(name) : null, iov: iov.map(bytes), control: bytes(control) },
        flags,
      ]),
  );
}

export interface RecvMsgSizes {
  /** Data buffer size (default 65536). */
  size?: number;
  /** Control buffer size (default 1024). */
  controlSize?: number;
}

export function recvmsg(fd: number, sizes: RecvMsgSizes = {}, flags = 0): RawMsgIn {
  const size = sizes.size ?? 65536;
  const controlSize = sizes.controlSize ?? 1024;
  return withMsg({ name: SOCKADDR_STORAGE, iov: [size], control: controlSize }, (view, mem, offs) => {
    const n = check('recvmsg', c.recvmsg(fd, mem, flags), [fd, { size, controlSize }, flags]);
    // Copy out: the native block is freed when this returns.
    const read = (at: number, len: number): Buffer => Buffer.from(view.subarray(at, at + len));
    const namelen = Math.min(view.readUInt32LE(MSGHDR.namelen), SOCKADDR_STORAGE);
    const ctllen = Math.min(Number(view.readBigUInt64LE(MSGHDR.controllen)), controlSize);
    return {
      data: read(offs.iov[0] ?? 0, Math.min(n, size)),
      length: n,
      addr: read(offs.name, namelen),
      control: read(offs.control, ctllen),
      flags: view.readInt32LE(MSGHDR.flags),
    };
  });
}

/** setsockopt with an int (the common case) or raw bytes. */
export function setsockopt(fd: number, level: number, name: number, value: number | Uint8Array): void {
  let buf: Uint8Array;
  if (typeof value === 'number') {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value | 0);
    buf = b;
  } else {
    buf = value;
  }
  check('setsockopt', c.setsockopt(fd, level, name, buf, buf.length), [fd, level, name, value]);
}

/**
 * getsockopt into a buffer of `size` bytes, or into a copy of `input` for options the kernel
 * reads before it answers (IPV6_FLOWLABEL_MGR, IP_PKTOPTIONS...); returns what it wrote (optlen).
 */
export function getsockopt(fd: number, level: number, name: number, sizeOrInput: number | Uint8Array): Buffer {
  const buf = typeof sizeOrInput === 'number' ? Buffer.alloc(sizeOrInput) : Buffer.from(sizeOrInput);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(buf.length);
  check('getsockopt', c.getsockopt(fd, level, name, buf, len), [fd, level, name, typeof sizeOrInput === 'number' ? sizeOrInput : bytes(sizeOrInput)]);
  return buf.subarray(0, Math.min(len.readUInt32LE(0), buf.length));
}

export function getsockoptInt(fd: number, level: number, name: number): number {
  const b = getsockopt(fd, level, name, 4);
  if (b.length === 1) return b.readUInt8(0);
  if (b.length < 4) throw new RangeError(`getsockopt(${level}, ${name}) returned ${b.length} bytes, not an int`);
  return b.readInt32LE(0);
}

/** ioctl with a buffer the kernel reads and/or writes in place, or with an integer argument. */
export function ioctl(fd: number, request: number, arg: Uint8Array | number): number {
  const ret = typeof arg === 'number' ? c.ioctlInt(fd, request, arg) : c.ioctlPtr(fd, request, arg);
  return check('ioctl', ret, [fd, `0x${request.toString(16)}`, typeof arg === 'number' ? arg : bytes(arg)]);
}

export interface PollFd {
  fd: number;
  /** POLLIN, POLLOUT, POLLERR... */
  events: number;
}

/** poll(); returns revents per fd (0 for each on timeout). EINTR is retried with the remaining time. */
export function poll(fds: readonly PollFd[], timeoutMs: number): number[] {
  const buf = Buffer.alloc(8 * fds.length);
  fds.forEach((p, i) => {
    buf.writeInt32LE(p.fd, i * 8);
    buf.writeInt16LE(p.events, i * 8 + 4);
  });
  const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
  for (;;) {
    const left = deadline === Infinity ? -1 : Math.max(0, deadline - Date.now());
    const ret = c.poll(buf, fds.length, left);
    if (ret >= 0) break;
    const errno = lastErrno();
    if (errno !== errnoNumber('EINTR')) throw new SysError('poll', errno, [fds, timeoutMs]);
  }
  return fds.map((_p, i) => buf.readUInt16LE(i * 8 + 6));
}

export function fcntl(fd: number, cmd: number, arg = 0): number {
  return check('fcntl', c.fcntl(fd, cmd, arg), [fd, cmd, arg]);
}

export function close(fd: number): void {
  check('close', c.close(fd), [fd]);
}

export function shutdown(fd: number, how: number): void {
  check('shutdown', c.shutdown(fd, how), [fd, how]);
}

export function open(path: string, flags: number, mode = 0): number {
  return check('open', c.open(path, flags, mode), [path, flags, mode]);
}

export function read(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  const n = check('read', c.read(fd, buf, size), [fd, size]);
  return buf.subarray(0, n);
}

export function write(fd: number, data: Uint8Array): number {
  return check('write', c.write(fd, data, data.length), [fd, bytes(data)]);
}

/** unshare(2) for the calling thread: call on the main thread only. */
export function unshare(flags: number): void {
  check('unshare', c.unshare(flags), [`0x${flags.toString(16)}`]);
}

/** mount(2); `flags` are MS_* (include/uapi/linux/mount.h). */
export function mount(source: string, target: string, fstype: string, flags = 0, data: string | null = null): void {
  check('mount', c.mount(source, target, fstype, flags, data), [source, target, fstype, `0x${flags.toString(16)}`]);
}

/** umount2(2); MNT_DETACH = 2 (include/linux/fs.h) detaches lazily. */
export function umount2(target: string, flags = 0): void {
  check('umount2', c.umount2(target, flags), [target, flags]);
}

export function setns(fd: number, nstype: number): void {
  check('setns', c.setns(fd, nstype), [fd, `0x${nstype.toString(16)}`]);
}

/** if_nametoindex(3); throws SysError (ENODEV) for an unknown name. */
export function ifNameToIndex(name: string): number {
  const idx = c.if_nametoindex(name);
  if (idx === 0) throw new SysError('if_nametoindex', lastErrno(), [name]);
  return idx;
}

export function fchown(fd: number, uid: number, gid: number): void {
  check('fchown', c.fchown(fd, uid, gid), [fd, uid, gid]);
}

export function getuid(): number {
  return c.getuid();
}
export function geteuid(): number {
  return c.geteuid();
}
export function getgid(): number {
  return c.getgid();
}
export function getegid(): number {
  return c.getegid();
}

// Syscall numbers: arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h (arm64).
const NR = process.arch === 'arm64' ? { setresuid: 147, setresgid: 149, times: 153 } : { setresuid: 117, setresgid: 119, times: 100 };

/**
 * setresuid(2) for the calling thread only (raw syscall). glibc's setresuid() would broadcast the
 * change to every thread of the process, including libuv's workers; see creds.ts asUser for why the
 * per-thread form is the one we want. -1 leaves a field unchanged.
 */
export function setresuidThread(ruid: number, euid: number, suid: number): void {
  check('setresuid', c.syscall3(NR.setresuid, ruid, euid, suid), [ruid, euid, suid]);
}

export function setresgidThread(rgid: number, egid: number, sgid: number): void {
  check('setresgid', c.syscall3(NR.setresgid, rgid, egid, sgid), [rgid, egid, sgid]);
}

/**
 * times(NULL): the kernel's clock in USER_HZ ticks (jiffies_64_to_clock_t), a cheap way to see
 * the kernel's jiffies move (they are equal when HZ is USER_HZ, 100, as in UML's default config).
 */
export function clockTicks(): number {
  return check('times', c.syscall3(NR.times, 0, 0, 0), []);
}
