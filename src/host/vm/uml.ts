// The UML kernel command line: everything about how the guest is wired to the host lives here.
import { tapCreateBatch, type Tap } from '../net/taps.js';
import { shQuote } from './plan.js';

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

/** `s` as one shell word: bare when it is only safe characters, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : shQuote(s);
}

/**
 * The UML command line as one shell line: environment assignments (empty ones dropped), the
 * kernel, its arguments (each through `word`).
 */
export function commandLine(kernel: string, args: string[], env: Record<string, string>, word: (a: string) => string = shellWord): string {
  const assigns = Object.entries(env)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${shellWord(v)}`);
  return [...assigns, shellWord(kernel), ...args.map(word)].join(' ');
}

/**
 * The run directory's `cmdline`: a script that boots this VM's kernel exactly as net-test did,
 * for a user who wants to run it by hand (under gdb, with another argument). UML's own
 * directory (pid file, sockets, a root image's COW file) was a temp dir of the run: the script
 * makes a fresh one. The namespace and taps it needs are named in the comments, since net-test
 * makes them around the command.
 */
export function cmdlineScript(o: { kernel: string; args: string[]; env: Record<string, string>; umlDir: string; taps: Tap[]; net: 'private' | 'host' }): string {
  const word = (a: string) =>
    a
      .split(o.umlDir)
      .map((p) => (p === '' ? '' : shellWord(p)))
      .join('"$d"');
  // The same commands launch.ts gives `ip -batch`, one tap a line.
  const tapLines = o.taps.map((t) => `#   ${tapCreateBatch([t]).trim().split('\n').map((c) => `ip ${c}`).join(' && ')}`);
  return [
    '#!/bin/sh',
    '# The UML command line of this VM, as net-test ran it.',
    o.net === 'private'
      ? '# net-test ran it in new PID and network namespaces (unshare --pid --fork --net) with these taps:'
      : "# net-test ran it in the caller's network namespace (--host-net) with these taps:",
    ...(tapLines.length ? tapLines : ['#   (none)']),
    `# It expects fd ${FD_OUTPUT} open for the tests' output (the guest's ttyS0) and fd ${FD_CONTROL} for the`,
    '# control line (ttyS1); the guest reads its plan from the run directory named below. By hand:',
    `#   unshare --pid --fork --net sh -c '<the taps above>; sh cmdline ${FD_OUTPUT}>output.log ${FD_CONTROL}<>control.log'`,
    'd=$(mktemp -d) || exit 1',
    `env ${commandLine(o.kernel, o.args, o.env, word)} "$@"`,
    's=$?',
    'rm -rf "$d"',
    'exit $s',
    '',
  ].join('\n');
}
