// The guest agent: one Node process runs every node:test file of a VM in turn, each in a fresh
// network namespace, so the ~0.5 s Node start in the guest is paid once per VM, not per file.
//
// Bundled by the host (src/host/prepare/bundle.ts) and started by init with the plan as its one
// argument: JSON [{ index, display, path, args }]. For each file it reports on the same channels
// init uses for executables: "nt:start i" / "nt:end i status" on /dev/ttyS1, a "\x1ent:test i"
// marker on the output line, and status-<i> in the run directory.
//
// `--serve K` (net-test watch): a warm spare. Init starts it in a mount namespace of its own;
// it gives itself an empty /tmp and throw-away layers over /etc, /var and /root, puts back the
// global sysctls an earlier run changed, sets up node:test and the first file's network
// namespace, says "nt:idle K", then waits for one command on /dev/ttyS1: "run N" runs the
// files listed in watch-N.json in the run directory (executables too: `argv` instead of
// `path`; cases to cases-<i>.json), and the process exits, taking whatever the tests left
// behind with it. Init starts the next spare.
import { beforeEach, describe } from 'node:test';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { pathToFileURL } from 'node:url';
import { enterNewNetns } from '../lib/netns.js';
import { openRoute } from '../lib/netlink/route.js';
import * as sys from '../lib/sys/index.js';

interface AgentFile {
  index: number;
  display: string;
  /** Guest path of the bundled test. */
  path?: string;
  /** An executable (serve mode): run as it is. */
  argv?: string[];
  args: string[];
}

/** Set by agent-reporter.mjs, which sees node:test's events: called when a file's suite ends. */
type Done = (passed: boolean, cases: unknown[]) => void;
const slot = globalThis as unknown as { __netTestFileDone?: Done };

const RUN_DIR = '/run/net-test';
const { signals } = constants;
const control = openSync('/dev/ttyS1', 'w');
const ctl = (line: string) => writeSync(control, `nt:${line}\n`);
const nsFd = () => sys.open('/proc/thread-self/ns/net', sys.K.O_RDONLY | sys.K.O_CLOEXEC);

// The VM's NICs (eth0.. on the host's taps) follow each file into its namespace and come back
// after it: a test sees them as init left them (down, no addresses).
const initialNs = nsFd();
const outer = openRoute();
const nics = outer
  .links()
  .map((l) => l.name)
  .filter((n) => /^eth\d+$/.test(n));

/** Where a file runs: a fresh network namespace holding the VM's NICs, and /sys to match. */
interface Place {
  testNs: number;
  back: () => void;
}

function enterPlace(): Place {
  const back = enterNewNetns();
  const testNs = nsFd();
  for (const n of nics) outer.setLink(n, { netnsFd: testNs });
  // sysfs shows the namespace of whoever mounted it: a fresh one on top of /sys makes
  // /sys/class/net match this file's namespace (removed again after the file).
  sys.mount('sysfs', '/sys', 'sysfs', sys.K.MS_NOSUID | sys.K.MS_NODEV | sys.K.MS_NOEXEC);
  for (const [fs, dir] of [['cgroup2', '/sys/fs/cgroup'], ['bpf', '/sys/fs/bpf']] as const) {
    try {
      if (existsSync(dir)) sys.mount(fs, dir, fs);
    } catch {
      // not in this kernel
    }
  }
  // Per-namespace knobs init set for the first namespace.
  writeFileSync('/proc/sys/net/ipv4/ping_group_range', '0 2147483647');
  return { testNs, back };
}

function leavePlace(p: Place): void {
  // From inside the test's namespace, send the NICs home (a test may have renamed or moved
  // one: what is not there stays where the test put it).
  const inner = openRoute();
  for (const n of nics) {
    try {
      inner.setLink(n, { netnsFd: initialNs });
    } catch {
      // gone or renamed by the test
    }
  }
  inner.close();
  sys.umount2('/sys', sys.K.MNT_DETACH);
  sys.close(p.testNs);
  p.back();
}

/** Runs one file where it is; its exit status, and a node file's cases. */
async function execute(f: AgentFile): Promise<{ status: number; cases?: unknown[] }> {
  if (f.argv) {
    // An executable, from the main thread: the child is born in this thread's namespace.
    const r = spawnSync(f.argv[0]!, [...f.argv.slice(1), ...f.args], { stdio: ['ignore', 'inherit', 'inherit'] });
    // As sh reports it: 128 + the signal that ended it; 127 when it could not start.
    return { status: r.status ?? (r.signal ? 128 + signals[r.signal] : 127) };
  }
  process.argv = [process.argv[0]!, f.path!, ...f.args];
  const { passed, cases } = await new Promise<{ passed: boolean; cases: unknown[] }>((resolve) => {
    slot.__netTestFileDone = (passed, cases) => resolve({ passed, cases });
    describe(f.display, async () => {
      // Each case names itself on the control line as it starts (one tty write): a file that
      // hangs or crashes the kernel is reported with the case it was in.
      beforeEach((t) => {
        try {
          ctl(`case ${f.index} ${t.name.replace(/\s+/g, ' ')}`);
        } catch {
          // the report loses a detail, the test nothing
        }
      });
      // A query per file: `--repeat` runs one bundle several times, and a plain import of the
      // same path would come from the module cache without running anything.
      await import(`${pathToFileURL(f.path!).href}?nt=${f.index}`);
    });
  });
  return { status: passed ? 0 : 1, cases };
}

/**
 * Runs one file in a fresh network namespace (`place`, when already entered) and reports its
 * start, end and status; with `casesFile`, its cases go to cases-<i>.json in the run directory
 * before the end is reported (watch reads them there instead of waiting for the TAP file).
 */
async function runFile(f: AgentFile, o: { place?: Place; casesFile?: boolean } = {}): Promise<number> {
  ctl(`start ${f.index}`);
  process.stdout.write(`\x1ent:test ${f.index}\n`);
  const place = o.place ?? enterPlace();
  const { status, cases } = await execute(f);
  leavePlace(place);
  if (o.casesFile && cases) writeFileSync(`${RUN_DIR}/cases-${f.index}.json`, JSON.stringify(cases));
  writeFileSync(`${RUN_DIR}/status-${f.index}`, `${status}\n`);
  ctl(`end ${f.index} ${status}`);
  return status;
}

/**
 * node:test sets itself up at the first test of a process (its harness, the reporters): done
 * here while the spare waits, with a suite of no test, instead of in the user's first run.
 */
async function warmHarness(): Promise<void> {
  await new Promise((resolve) => {
    slot.__netTestFileDone = resolve;
    describe('net-test: warm-up', () => {});
  });
}

/**
 * A serving spare's own view of the writable places: empty /tmp and /dev/shm, and layers over
 * /etc, /var and /root that vanish with this process's mount namespace.
 */
function freshWorld(): void {
  const base = '/run/.nt-serve';
  mkdirSync(base, { recursive: true });
  sys.mount('tmpfs', base, 'tmpfs', sys.K.MS_NOSUID | sys.K.MS_NODEV, 'mode=0700');
  sys.mount('tmpfs', '/tmp', 'tmpfs', sys.K.MS_NOSUID | sys.K.MS_NODEV, 'mode=1777');
  if (existsSync('/dev/shm')) sys.mount('tmpfs', '/dev/shm', 'tmpfs', sys.K.MS_NOSUID | sys.K.MS_NODEV, 'mode=1777');
  for (const dir of ['etc', 'var', 'root']) {
    mkdirSync(`${base}/${dir}/u`, { recursive: true });
    mkdirSync(`${base}/${dir}/w`);
    try {
      sys.mount('overlay', `/${dir}`, 'overlay', 0, `lowerdir=/${dir},upperdir=${base}/${dir}/u,workdir=${base}/${dir}/w`);
    } catch {
      // No overlayfs (or too deep a stack): this directory keeps what earlier runs wrote.
    }
  }
}

/**
 * Global sysctls (everything under /proc/sys but net/, which is per network namespace) as the
 * first spare found them; every later spare puts back what a run changed and names it on the
 * control line. Left alone: values the kernel moves by itself, and what cannot be undone.
 */
const SYSCTL_SNAPSHOT = '/run/.nt-sysctl.json';
const SYSCTL_SKIP = new Set(['kernel/ns_last_pid', 'kernel/tainted']);

function globalSysctls(): Record<string, string> {
  const values: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(`/proc/sys/${dir}`, { withFileTypes: true })) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (rel === 'net' || SYSCTL_SKIP.has(rel)) continue;
      if (e.isDirectory()) {
        walk(rel);
        continue;
      }
      try {
        if ((statSync(`/proc/sys/${rel}`).mode & 0o200) === 0) continue;
        values[rel] = readFileSync(`/proc/sys/${rel}`, 'utf8');
      } catch {
        // write-only (drop_caches) or refusing reads
      }
    }
  };
  walk('');
  return values;
}

function restoreSysctls(): void {
  if (!existsSync(SYSCTL_SNAPSHOT)) {
    writeFileSync(SYSCTL_SNAPSHOT, JSON.stringify(globalSysctls()));
    return;
  }
  const then = JSON.parse(readFileSync(SYSCTL_SNAPSHOT, 'utf8')) as Record<string, string>;
  const now = globalSysctls();
  for (const [name, value] of Object.entries(then)) {
    if (now[name] === value) continue;
    try {
      writeFileSync(`/proc/sys/${name}`, value);
      ctl(`reset ${name.replace(/\//g, '.')}`);
    } catch {
      ctl(`reset-failed ${name.replace(/\//g, '.')}`);
    }
  }
}

/** One line from the host on the control line (raw mode, set by init). */
function readCommand(): string {
  const fd = openSync('/dev/ttyS1', 'r');
  const buf = Buffer.alloc(256);
  let line = '';
  try {
    while (!line.includes('\n')) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      line += buf.toString('utf8', 0, n);
    }
  } finally {
    closeSync(fd);
  }
  return line.split('\n')[0]!.trim();
}

if (process.argv[2] === '--serve') {
  const k = Number(process.argv[3]);
  freshWorld();
  restoreSysctls();
  await warmHarness();
  // The first file's namespace is ready before the command comes.
  let place: Place | undefined = enterPlace();
  ctl(`idle ${k}`);
  const m = /^run (\d+)$/.exec(readCommand());
  if (m) {
    const files = JSON.parse(readFileSync(`${RUN_DIR}/watch-${m[1]}.json`, 'utf8')) as AgentFile[];
    for (const f of files) {
      await runFile(f, { place, casesFile: true });
      place = undefined;
    }
  }
  // Whatever the tests left running goes with the process; give the reporters a moment to
  // write what they have, then go without node:test's end-of-process summary.
  await new Promise((r) => setTimeout(r, 20));
  process.exit(0);
} else {
  const files = JSON.parse(process.argv[2] ?? '[]') as AgentFile[];
  for (const f of files) await runFile(f);
}
