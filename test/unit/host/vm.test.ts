import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { planTaps, tapPrefix } from '../../../src/host/net/taps.js';
import { renderPlan, shQuote } from '../../../src/host/vm/plan.js';
import { umlArgs } from '../../../src/host/vm/uml.js';

test('tap names use the first 10 characters of the user name and fit IFNAMSIZ', () => {
  assert.equal(tapPrefix('averyverylongusername'), 'averyveryl' + 'TAP');
  const taps = planTaps(12, tapPrefix('averyverylongusername'));
  assert.equal(taps[11]?.name, 'averyverylTAP11');
  for (const t of taps) assert.ok(t.name.length <= 15, t.name);
  assert.deepEqual(planTaps(2, 'rootTAP').map((t) => [t.name, t.guest, t.guestMac, t.hostMac]), [
    ['rootTAP0', 'eth0', '02:4e:54:00:00:00', '02:4e:54:ff:00:00'],
    ['rootTAP1', 'eth1', '02:4e:54:00:00:01', '02:4e:54:ff:00:01'],
  ]);
});

test('UML command line wires console, output and control channels and the taps', () => {
  const args = umlArgs({ mem: '256M', init: '/p/init.sh', runDir: '/r', umid: 'u', umlDir: '/d', taps: planTaps(1, 'xTAP'), extra: ['loglevel=7'] });
  for (const a of ['rootfstype=hostfs', 'ro', 'init=/p/init.sh', 'con0=fd:0,fd:1', 'ssl0=fd:3', 'ssl1=fd:4', 'eth0=tuntap,xTAP0,02:4e:54:00:00:00', 'NET_TEST_RUNDIR=/r', 'uml_dir=/d']) {
    assert.ok(args.includes(a), a);
  }
  assert.equal(args.at(-1), 'loglevel=7');
});

test('plan.sh quotes every argument so sh gives them back unchanged', () => {
  const nasty = ["it's", '$(touch /tmp/pwned)', 'a b', '"', '\\', '', '*'];
  const plan = renderPlan({ mode: 'test', rootless: false, hostname: 'h', cwd: '/', path: '/bin', steps: [{ kind: 'exec', index: 1, argv: ['printf', '%s\\n', ...nasty] }], env: { X: "y'z" } });
  const r = spawnSync('sh', ['-c', `${plan}\nnt_step_1; printf '%s\\n' "$X"`], { encoding: 'utf8' });
  assert.equal(r.stdout, [...nasty, "y'z"].join('\n') + '\n');
  assert.equal(shQuote("a'b"), `'a'\\''b'`);
});

test("an exec step's environment reaches that command alone", () => {
  const plan = renderPlan({
    mode: 'test',
    rootless: false,
    hostname: 'h',
    cwd: '/',
    path: '/bin',
    steps: [
      { kind: 'exec', index: 1, argv: ['sh', '-c', 'printf "%s|" "$NET_TEST_FILTER"'], env: { NET_TEST_FILTER: "a'b c$" } },
      { kind: 'exec', index: 2, argv: ['sh', '-c', 'printf "%s|" "${NET_TEST_FILTER-unset}"'] },
    ],
    env: {},
  });
  const r = spawnSync('sh', ['-c', `${plan}\nnt_step_1; nt_step_2`], { encoding: 'utf8' });
  assert.equal(r.stdout, "a'b c$|unset|");
});

test("plan.sh: a step's directory and the tests' environment come back unchanged, exported only by nt_env", () => {
  const plan = renderPlan({
    mode: 'test',
    rootless: false,
    hostname: 'h',
    cwd: '/',
    path: '/bin',
    steps: [{ kind: 'exec', index: 1, argv: ['true'], dir: "/host/a dir/it's" }, { kind: 'agent', argv: ['true'] }],
    env: {},
    testEnv: { FOO: '$(x) y', KSELFTEST_A_SH_ARGS: "-t 'q'" },
    guestFiles: '/tmp/g',
  });
  const script = `${plan}\nprintf '%s|' "$nt_dir_1" "$nt_dir_2" "$NT_GUEST" "\${FOO-unset}"; nt_env; printf '%s|' "$FOO" "$KSELFTEST_A_SH_ARGS"`;
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  assert.equal(r.stdout, "/host/a dir/it's||/tmp/g|unset|$(x) y|-t 'q'|");
});
