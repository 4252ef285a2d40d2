// The CLI's option groups hand the host its options as they are: numbers as numbers, --env as
// pairs, --no-* as false, and nothing the host does not know renamed on the way.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addBuildFirstOptions, addOutputOptions, addReportOptions, addSelectExecOptions, addVmOptions, runOptionsOf } from '../../../src/cli/options.js';
import { buildOptionsFrom } from '../../../src/cli/build.js';
import { UsageError } from '../../../src/host/errors.js';

/** A `run` command as main.ts declares it; returns the options its action would pass on. */
function parseRun(argv: string[]) {
  let got: ReturnType<typeof runOptionsOf> | undefined;
  const cmd = addBuildFirstOptions(addReportOptions(addSelectExecOptions(addOutputOptions(addVmOptions(new Command('run').exitOverride())))))
    .argument('<tests...>')
    .action((tests: string[], _f: unknown, c: Command) => {
      got = runOptionsOf(c, tests, ['--', 'x']);
    });
  cmd.parse(argv, { from: 'user' });
  return got!;
}

describe('CLI option groups', () => {
  it('defaults: what run() expects when nothing is given', () => {
    const o = parseRun(['t.test.ts']);
    assert.deepEqual(o.tests, ['t.test.ts']);
    assert.deepEqual(o.args, ['--', 'x']);
    assert.equal(o.mem, '512M');
    assert.equal(o.timeout, 300);
    assert.equal(o.timeoutGiven, false);
    assert.equal(o.taps, 2);
    assert.deepEqual(o.cmdline, []);
    assert.deepEqual(o.env, []);
    assert.equal(o.agent, true);
    assert.equal(o.keepFailed, true);
    assert.equal(o.build, true);
    assert.equal(o.jobs, undefined);
    assert.equal(o.timeTravel, undefined);
    assert.equal(o.cwd, process.cwd());
  });

  it('values arrive typed and under the host\'s names', () => {
    const o = parseRun([
      '--timeout', '60', '--taps', '4', '-j', '3', '--retries', '1', '--repeat', '2', '--env', 'A=1=2', '--env', 'B=',
      '--cmdline', 'loglevel=8 quiet', '--no-agent', '--no-keep-failed', '--no-time-travel', '--host-net', '-q', 't.sh',
    ]);
    assert.equal(o.timeout, 60);
    assert.equal(o.timeoutGiven, true);
    assert.equal(o.taps, 4);
    assert.equal(o.jobs, 3);
    assert.equal(o.retries, 1);
    assert.equal(o.repeat, 2);
    assert.deepEqual(o.env, [['A', '1=2'], ['B', '']]);
    assert.deepEqual(o.cmdline, ['loglevel=8', 'quiet']);
    assert.equal(o.agent, false);
    assert.equal(o.keepFailed, false);
    assert.equal(o.timeTravel, false);
    assert.equal(o.hostNet, true);
    assert.equal(o.quiet, true);
  });

  it('a number that is not one reaches the host as NaN, for its range check and message', () => {
    assert.ok(Number.isNaN(parseRun(['--taps', 'two', 't.sh']).taps));
  });

  it('--env without = is a usage error naming it', () => {
    assert.throws(() => parseRun(['--env', 'NOEQUALS', 't.sh']), (e: unknown) => e instanceof UsageError && /--env wants NAME=VALUE, got "NOEQUALS"/.test(e.message));
  });

  it('the build before a run takes the build flags, -j and --time-travel staying the run\'s', () => {
    const o = parseRun(['--config', 'a.config', '--configitem', 'CONFIG_X=y', '--kasan', '--time-travel', '-j', '2', 't.sh']);
    const b = buildOptionsFrom({ ...o, kernelDir: '/k', jobs: undefined, configOnly: false });
    assert.equal(b.kernelDir, '/k');
    assert.deepEqual(b.configFiles, ['a.config']);
    assert.deepEqual(b.configItems, ['CONFIG_X=y']);
    assert.equal(b.kasan, true);
    assert.equal(b.timeTravel, true);
    assert.equal(b.jobs, undefined);
    assert.equal(b.configOnly, false);
  });
});
