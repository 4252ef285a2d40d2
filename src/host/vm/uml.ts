// The UML kernel command line: everything about how the guest is wired to the host lives here.
import type { Tap } from '../net/taps.js';

export interface UmlConfig {
  mem: string;
  init: string;
  /** Host path of the run directory; the guest mounts it at /run/net-test. */
  runDir: string;
  umid: string;
  umlDir: string;
  taps: Tap[];
  /** ubd0's argument when the guest root is an image (src/host/vm/rootfs.ts). */
  ubd?: string | undefined;
  extra: string[];
}

/** File descriptors the host gives UML: 0/1 console, 3 test output (ttyS0), 4 control (ttyS1). */
export const FD_OUTPUT = 3;
export const FD_CONTROL = 4;

export function umlArgs(c: UmlConfig): string[] {
  return [
    `mem=${c.mem}`,
    // The host's root, read-only; init builds the real guest root on top of it (or on the
    // image in ubd0: init always comes from the host, so an image never holds a stale copy).
    'rootfstype=hostfs',
    'rootflags=/',
    'ro',
    `init=${c.init}`,
    // Console on stdin/stdout; every other line off, so UML never spawns an xterm.
    'con=null',
    'con0=fd:0,fd:1',
    'ssl=null',
    `ssl0=fd:${FD_OUTPUT}`,
    `ssl1=fd:${FD_CONTROL}`,
    // UML keeps a pid file and mconsole socket in uml_dir/umid: keep them in our temp dir.
    `umid=${c.umid}`,
    `uml_dir=${c.umlDir}`,
    ...c.taps.map((t, i) => `eth${i}=tuntap,${t.name},${t.guestMac}`),
    ...(c.ubd ? [c.ubd] : []),
    // Unknown name=value parameters reach init as environment variables.
    `NET_TEST_RUNDIR=${c.runDir}`,
    ...c.extra,
  ];
}
