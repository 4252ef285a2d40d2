// The guest agent: one Node process runs every node:test file of a VM in turn, each in a fresh
// network namespace, so the ~0.5 s Node start in the guest is paid once per VM, not per file.
//
// Bundled by the host (src/host/tests/prepare.ts) and started by init with the plan as its one
// argument: JSON [{ index, display, path, args }]. For each file it reports on the same channels
// init uses for executables: "nt:start i" / "nt:end i status" on /dev/ttyS1, a "\x1ent:test i"
// marker on the output line, and status-<i> in the run directory.
import { describe } from 'node:test';
import { openSync, writeFileSync, writeSync } from 'node:fs';
import { enterNewNetns } from '../lib/net.js';

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

for (const f of files) {
  ctl(`start ${f.index}`);
  process.stdout.write(`\x1ent:test ${f.index}\n`);
  const back = enterNewNetns();
  process.argv = [process.argv[0]!, f.path, ...f.args];
  const passed = await new Promise<boolean>((resolve) => {
    slot.__netTestFileDone = resolve;
    describe(f.display, async () => {
      await import(f.path);
    });
  });
  back();
  const status = passed ? 0 : 1;
  writeFileSync(`/run/net-test/status-${f.index}`, `${status}\n`);
  ctl(`end ${f.index} ${status}`);
}
