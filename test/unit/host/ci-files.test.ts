// The CI files: the GitHub Actions reusable workflow (checked against the workflow schema by
// action-validator, then for what net-test needs of it), the Kubernetes Indexed Job and the
// runner's Containerfile. Nothing here runs them: their commands are checked against our CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { ROOT } from '../../helpers/cli.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown, what: string): Obj => {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `${what} is not a mapping`);
  return v as Obj;
};
const WORKFLOW = join(ROOT, '.github/workflows/net-test.yml');

interface Step {
  uses?: string;
  run?: string;
  with?: Obj;
  if?: string;
}
interface Job {
  needs?: string[];
  if?: string;
  steps: Step[];
  strategy?: { 'fail-fast'?: boolean; matrix: Obj };
}

const merge0 = (jobs: Record<string, Job>) => jobs.merge!.steps.find((s) => s.run?.includes('net-test.js merge '))!.run!;

/** Every --option a command line gives net-test CMD is one `net-test CMD --help` lists. */
function usesOnlyRealOptions(script: string, cmd: string): void {
  const help = spawnSync(process.execPath, [join(ROOT, 'bin/net-test.js'), cmd, '--help'], { encoding: 'utf8' }).stdout;
  const line = script.slice(script.indexOf(`net-test${script.includes('net-test.js') ? '.js' : ''} ${cmd} `));
  const used = [...line.matchAll(/(?<![\w$-])(--[a-z][a-z-]*)/g)].map((m) => m[1]!);
  assert.ok(used.length > 0);
  for (const o of used) assert.ok(help.includes(`${o} `) || help.includes(`${o},`), `net-test ${cmd} has no ${o}`);
}

test('the workflow passes the GitHub Actions workflow schema (action-validator)', () => {
  const bin = join(ROOT, 'node_modules/.bin/action-validator');
  const r = spawnSync(bin, [WORKFLOW], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // And it does fail a broken one: the check is real.
  const bad = spawnSync(bin, ['/dev/stdin'], { input: readFileSync(WORKFLOW, 'utf8').replace(/runs-on:/g, 'runs_on:'), encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
});

test('the workflow: reusable, kernel cached by tree and fragment, N shards, every JSON uploaded, merged always, JUnit published', () => {
  const wf = obj(parse(readFileSync(WORKFLOW, 'utf8')), 'the workflow');
  const call = obj(obj(wf.on, 'on').workflow_call, 'on.workflow_call');
  const inputs = obj(call.inputs, 'inputs');
  assert.deepEqual(Object.keys(inputs).filter((k) => ['shards', 'jobs', 'tests'].includes(k)), ['shards', 'jobs', 'tests']);
  const jobs = obj(wf.jobs, 'jobs') as Record<string, Job>;
  const all = (j: Job) => j.steps.map((s) => `${s.uses ?? ''} ${s.run ?? ''} ${JSON.stringify(s.with ?? {})}`).join('\n');

  const kernel = jobs.kernel!;
  const key = kernel.steps.find((s) => s.run?.includes('rev-parse'))!;
  assert.match(key.run!, /rev-parse 'HEAD\^\{tree\}'/);
  assert.match(key.run!, /fragments\/net-test\.config/);
  assert.ok(kernel.steps.some((s) => s.uses?.startsWith('actions/cache@') && s.with?.key === '${{ steps.key.outputs.key }}'));
  assert.match(all(kernel), /net-test\.js build --kernel-dir/);

  const shard = jobs.shard!;
  assert.deepEqual(shard.needs, ['kernel', 'plan']);
  assert.equal(shard.strategy?.['fail-fast'], false, 'one failing shard must not cancel the others');
  assert.equal(shard.strategy?.matrix.shard, '${{ fromJSON(needs.plan.outputs.shards) }}');
  const runStep = shard.steps.find((s) => s.run?.includes('net-test.js run '))!.run!;
  usesOnlyRealOptions(runStep, 'run');
  usesOnlyRealOptions(merge0(jobs), 'merge');
  assert.match(runStep, /--shard '\$\{\{ matrix\.shard \}\}\/\$\{\{ inputs\.shards \}\}'/);
  assert.match(runStep, /-j '\$\{\{ inputs\.jobs \}\}'/);
  assert.match(runStep, /--json "\$GITHUB_WORKSPACE\/out\/shard-\$\{\{ matrix\.shard \}\}\.json"/);
  assert.match(runStep, /--out "\$GITHUB_WORKSPACE\/out\/logs-/);
  assert.match(runStep, /--durations/);
  const upload = shard.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
  assert.equal(upload.if, 'always()', "a failing shard's report and logs are uploaded too");
  assert.equal(upload.with?.path, 'out/');

  const merge = jobs.merge!;
  assert.deepEqual(merge.needs, ['shard']);
  assert.equal(merge.if, 'always()', 'the merge runs when shards failed');
  assert.match(all(merge), /net-test\.js merge --junit .* --durations .*shards\/shard-\*\.json/s);
  assert.ok(merge.steps.some((s) => s.uses?.startsWith('mikepenz/action-junit-report@') && s.with?.report_paths === 'net-test.xml'));
  // The plan's matrix is 1..N.
  const plan = jobs.plan!.steps[0]!.run!.replace("'${{ inputs.shards }}'", '4');
  const r = spawnSync('bash', ['-c', plan.replace('>> "$GITHUB_OUTPUT"', '')], { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), 'shards=[1,2,3,4]');
});

test('the Kubernetes Job: Indexed, shard from JOB_COMPLETION_INDEX, /dev/net/tun, no KVM, not privileged, one run id', () => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy/k8s/net-test-job.yaml'), 'utf8')).map((d) => {
    assert.deepEqual(d.errors, []);
    return obj(d.toJS(), 'a document');
  });
  const job = docs.find((d) => d.kind === 'Job')!;
  assert.equal(job.apiVersion, 'batch/v1');
  const spec = obj(job.spec, 'spec');
  assert.equal(spec.completionMode, 'Indexed');
  assert.equal(spec.completions, spec.parallelism);
  assert.equal(spec.backoffLimitPerIndex, 0);
  const pod = obj(obj(spec.template, 'template').spec, 'pod spec');
  const [c] = pod.containers as Obj[];
  const script = (c!.args as string[]).join('\n');
  assert.match(script, /i=\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)/);
  assert.match(script, /--shard "\$i\/\$SHARDS"/);
  assert.match(script, /--json "\/results\/\$NET_TEST_RUN_ID\/shard-\$i\.json"/);
  const env = c!.env as { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[];
  assert.equal(env.find((e) => e.name === 'SHARDS')?.value, String(spec.completions));
  assert.equal(env.find((e) => e.name === 'NET_TEST_RUN_ID')?.valueFrom?.fieldRef.fieldPath, "metadata.labels['batch.kubernetes.io/controller-uid']");
  const sc = obj(c!.securityContext, 'securityContext');
  assert.equal(sc.privileged, false);
  assert.deepEqual(obj(sc.capabilities, 'capabilities').add, ['SYS_ADMIN', 'NET_ADMIN']);
  const vols = pod.volumes as { name: string; hostPath?: { path: string; type: string } }[];
  assert.deepEqual(vols.filter((v) => v.hostPath).map((v) => v.hostPath), [{ path: '/dev/net/tun', type: 'CharDevice' }]);
  assert.ok(!JSON.stringify(docs).includes('/dev/kvm'));
  assert.ok(docs.some((d) => d.kind === 'PersistentVolumeClaim'));
  // The merge Job reads the same volume and writes the durations file the shards read.
  const merge = obj(parse(readFileSync(join(ROOT, 'deploy/k8s/net-test-merge.yaml'), 'utf8')), 'merge job');
  const mergeScript = JSON.stringify(merge);
  assert.match(mergeScript, /net-test merge --junit junit\.xml --json merged\.json --durations \/results\/durations\.json shard-\*\.json/);
  assert.match(script, /--durations \/results\/durations\.json/);
  usesOnlyRealOptions(script, 'run');
  usesOnlyRealOptions(mergeScript.replace(/\\n/g, '\n'), 'merge');
});

test('the Containerfile: node 20, a UML kernel built in, net-test on PATH; no KVM or QEMU', () => {
  const cf = readFileSync(join(ROOT, 'Containerfile'), 'utf8');
  const from = [...cf.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(from, ['docker.io/library/node:20-bookworm-slim', 'docker.io/library/node:20-bookworm-slim']);
  assert.match(cf, /src\/host\/kernel\/ci-kernel\.sh/);
  assert.match(cf, /COPY --from=build \/opt\/uml\/linux \/opt\/uml\/linux/);
  assert.match(cf, /ln -s \/opt\/net-test\/bin\/net-test\.js \/usr\/local\/bin\/net-test/);
  assert.doesNotMatch(cf.replace(/^#.*$/gm, ''), /qemu|kvm/i);
  // The manifests boot the kernel the image carries.
  assert.match(readFileSync(join(ROOT, 'deploy/k8s/net-test-job.yaml'), 'utf8'), /--kernel \/opt\/uml\/linux/);
});
