// The guest agent: one Node process runs every node:test file of a VM in turn, each in a fresh
// network namespace, so the ~0.5 s Node start in the guest is paid once per VM, not per file.
//
// Bundled by the host (src/host/tests/prepare.ts) and started by init with the plan as its one
// argument: JSON [{ index, display, path, args }]. For each file it reports on the same channels
// init uses for executables: "nt:start i" / "nt:end i status" on /dev/ttyS1, a "\x1ent:test i"
// marker on the output line, and status-<i> in the run directory.
import { describe } from 'node:test';
import { existsSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { enterNewNetns } from '../lib/net.js';
import { openRoute } from '../lib/netlink/route.js';
import * as sys from '../lib/sys/index.js';

interface AgentFile {
  index: number;
  display: string;
  /** Guest path of the bundled test. */
  path: string;
  args: string[];
}

/** Set by agent-reporter.mjs, which sees node:test's events: called when a file's suite ends. */
type Done = (passed: boolean) => void;
const slot = globalThis as unknown as { __netTestFileDone?: Done };

const files = JSON.parse(process.argv[2] ?? '[]') as AgentFile[];
const control = openSync('/dev/ttyS1', 'w');
const ctl = (line: string) => writeSync(control, `nt:${line}\n`);
// include/uapi/linux/mount.h; include/linux/fs.h
const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;
const MNT_DETACH = 2;
const nsFd = () => sys.open('/proc/thread-self/ns/net', sys.K.O_RDONLY | sys.K.O_CLOEXEC);

// The VM's NICs (eth0.. on the host's taps) follow each file into its namespace and come back
// after it: a test sees them as init left them (down, no addresses).
const initialNs = nsFd();
const outer = openRoute();
const nics = outer
  .links()
  .map((l) => l.name)
  .filter((n) => /^eth\d+$/.test(n));

for (const f of files) {
  ctl(`start ${f.index}`);
  process.stdout.write(`\x1ent:test ${f.index}\n`);
  const back = enterNewNetns();
  const testNs = nsFd();
  for (const n of nics) outer.setLink(n, { netnsFd: testNs });
  // sysfs shows the namespace of whoever mounted it: a fresh one on top of /sys makes
  // /sys/class/net match this file's namespace (removed again after the file).
  sys.mount('sysfs', '/sys', 'sysfs', MS_NOSUID | MS_NODEV | MS_NOEXEC);
  for (const [fs, dir] of [['cgroup2', '/sys/fs/cgroup'], ['bpf', '/sys/fs/bpf']] as const) {
    try {
      if (existsSync(dir)) sys.mount(fs, dir, fs);
    } catch {
      // not in this kernel
    }
  }
  // Per-namespace knobs init set for the first namespace.
  writeFileSync('/proc/sys/net/ipv4/ping_group_range', '0 2147483647');
  process.argv = [process.argv[0]!, f.path, ...f.args];
  const passed = await new Promise<boolean>((resolve) => {
    slot.__netTestFileDone = resolve;
    describe(f.display, async () => {
      // A query per file: `--repeat` runs one bundle several times, and a plain import of the
      // same path would come from the module cache without running anything.
      await import(`${pathToFileURL(f.path).href}?nt=${f.index}`);
    });
  });
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
  sys.umount2('/sys', MNT_DETACH);
  sys.close(testNs);
  back();
  const status = passed ? 0 : 1;
  writeFileSync(`/run/net-test/status-${f.index}`, `${status}\n`);
  ctl(`end ${f.index} ${status}`);
}
