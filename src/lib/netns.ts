// Network namespaces for the calling thread: a fresh one with lo up, and the way back.
import { O_CLOEXEC, O_RDONLY } from './include/uapi/asm-generic/fcntl.js';
import { CLONE_NEWNET } from './include/uapi/linux/sched.js';
import { withRoute } from './netlink/route.js';
import * as sys from './sys/calls.js';

/**
 * Move the calling (main) thread into a new network namespace and bring lo up. Returns a
 * function that moves it back to the namespace it was in. Sockets keep the namespace they were
 * created in. Namespaces are per thread: call this on the main thread, not from a worker or a
 * koffi async call.
 */
export function enterNewNetns(): () => void {
  const old = sys.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC);
  try {
    sys.unshare(CLONE_NEWNET);
    withRoute((rt) => rt.setLink('lo', { up: true }));
  } catch (e) {
    try {
      sys.setns(old, CLONE_NEWNET);
    } finally {
      sys.close(old);
    }
    throw e;
  }
  return () => {
    try {
      sys.setns(old, CLONE_NEWNET);
    } finally {
      sys.close(old);
    }
  };
}
