// The only place that talks to koffi. Everything else in the library goes through the typed
// functions exported here, so the FFI mechanism could be swapped without touching callers.
//
// All calls are synchronous on the calling (main) thread: namespaces and credentials are per
// thread in the kernel, so never use koffi's `.async` here.
import koffi from 'koffi';

/** Native memory owned by the library (allocated with koffi.alloc); opaque to callers. */
export interface NativeMemory {
  readonly __brand: 'NativeMemory';
}

/** Anything that can stand where C expects a pointer. */
export type Ptr = Buffer | Uint8Array | NativeMemory | null;

const libc = koffi.load('libc.so.6');

// koffi's own typings return `any`; each declaration below pins the real C signature.
type Fn<A extends unknown[], R> = (...args: A) => R;
function fn<A extends unknown[], R>(decl: string): Fn<A, R> {
  return libc.func(decl) as Fn<A, R>;
}

export const c = {
  socket: fn<[number, number, number], number>('int socket(int domain, int type, int protocol)'),
  bind: fn<[number, Ptr, number], number>('int bind(int fd, void *addr, uint32_t len)'),
  connect: fn<[number, Ptr, number], number>('int connect(int fd, void *addr, uint32_t len)'),
  listen: fn<[number, number], number>('int listen(int fd, int backlog)'),
  accept4: fn<[number, Ptr, Ptr, number], number>('int accept4(int fd, void *addr, void *len, int flags)'),
  getsockname: fn<[number, Ptr, Ptr], number>('int getsockname(int fd, void *addr, void *len)'),
  getpeername: fn<[number, Ptr, Ptr], number>('int getpeername(int fd, void *addr, void *len)'),
  sendto: fn<[number, Ptr, number, number, Ptr, number], number>(
    'long sendto(int fd, void *buf, size_t len, int flags, void *addr, uint32_t alen)',
  ),
  recvfrom: fn<[number, Ptr, number, number, Ptr, Ptr], number>(
    'long recvfrom(int fd, void *buf, size_t len, int flags, void *addr, void *alen)',
  ),
  sendmsg: fn<[number, Ptr, number], number>('long sendmsg(int fd, void *msg, int flags)'),
  recvmsg: fn<[number, Ptr, number], number>('long recvmsg(int fd, void *msg, int flags)'),
  setsockopt: fn<[number, number, number, Ptr, number], number>(
    'int setsockopt(int fd, int level, int name, void *val, uint32_t len)',
  ),
  getsockopt: fn<[number, number, number, Ptr, Ptr], number>(
    'int getsockopt(int fd, int level, int name, void *val, void *len)',
  ),
  shutdown: fn<[number, number], number>('int shutdown(int fd, int how)'),
  close: fn<[number], number>('int close(int fd)'),
  read: fn<[number, Ptr, number], number>('long read(int fd, void *buf, size_t len)'),
  write: fn<[number, Ptr, number], number>('long write(int fd, void *buf, size_t len)'),
  open: fn<[string, number, number], number>('int open(const char *path, int flags, uint32_t mode)'),
  // ioctl and fcntl are variadic in C; on x86_64 and arm64 a fixed third argument of pointer or
  // long width is passed exactly as the variadic call would pass it.
  ioctlPtr: fn<[number, number, Ptr], number>('int ioctl(int fd, unsigned long req, void *arg)'),
  ioctlInt: fn<[number, number, number], number>('int ioctl(int fd, unsigned long req, long arg)'),
  fcntl: fn<[number, number, number], number>('int fcntl(int fd, int cmd, long arg)'),
  poll: fn<[Ptr, number, number], number>('int poll(void *fds, unsigned long nfds, int timeout)'),
  unshare: fn<[number], number>('int unshare(int flags)'),
  setns: fn<[number, number], number>('int setns(int fd, int nstype)'),
  mount: fn<[string, string, string, number, string | null], number>('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
  umount2: fn<[string, number], number>('int umount2(const char *target, int flags)'),
  if_nametoindex: fn<[string], number>('unsigned int if_nametoindex(const char *name)'),
  fchown: fn<[number, number, number], number>('int fchown(int fd, uint32_t uid, uint32_t gid)'),
  getuid: fn<[], number>('uint32_t getuid(void)'),
  geteuid: fn<[], number>('uint32_t geteuid(void)'),
  getgid: fn<[], number>('uint32_t getgid(void)'),
  getegid: fn<[], number>('uint32_t getegid(void)'),
  // Raw syscall entry: used for per-thread credential changes (see creds.ts asUser).
  syscall3: fn<[number, number, number, number], number>('long syscall(long nr, long a, long b, long c)'),
};

/** errno as saved by koffi right after the last native call on this thread. */
export function lastErrno(): number {
  return koffi.errno();
}

/** Allocate zeroed native memory; `view` is a Buffer over the same bytes (no copy). */
export function allocNative(size: number): { mem: NativeMemory; view: Buffer; address: bigint } {
  const mem = koffi.alloc('uint8_t', Math.max(size, 1)) as NativeMemory;
  const view = Buffer.from(koffi.view(mem, Math.max(size, 1)));
  view.fill(0);
  return { mem, view, address: koffi.address(mem) };
}

export function freeNative(mem: NativeMemory): void {
  koffi.free(mem);
}
