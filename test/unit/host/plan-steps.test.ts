import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_FILES_MAX, planSteps } from '../../../src/host/vm/plan.js';

const nodeArgv = (tap: string) => ['node', `--dest=${tap}`];
const agentArgv = (tap: string) => [...nodeArgv(tap), 'agent.mjs'];

test('plan steps: executables alone, consecutive node tests in one agent, each with its TAP file', () => {
  const { steps, tapOf } = planSteps(
    [
      { display: 'a.test.ts', bundle: '/b/1.mjs' },
      { display: 'b.test.ts', bundle: '/b/2.mjs' },
      { display: 'x.sh', argv: ['/host/x.sh', 'arg'] },
      { display: 't.py', argv: ['/host/t.py'], env: { NET_TEST_UNITTEST: '4' } },
      { display: 'c.test.ts', bundle: '/b/5.mjs' },
    ],
    { args: ['arg'], noAgent: false, nodeArgv, agentArgv },
  );
  assert.deepEqual(steps, [
    {
      kind: 'agent',
      argv: ['node', '--dest=results-agent-1.tap', 'agent.mjs', JSON.stringify([
        { index: 1, display: 'a.test.ts', path: '/b/1.mjs', args: ['arg'] },
        { index: 2, display: 'b.test.ts', path: '/b/2.mjs', args: ['arg'] },
      ])],
    },
    { kind: 'exec', index: 3, argv: ['/host/x.sh', 'arg'] },
    { kind: 'exec', index: 4, argv: ['/host/t.py'], env: { NET_TEST_UNITTEST: '4' } },
    { kind: 'agent', argv: ['node', '--dest=results-agent-4.tap', 'agent.mjs', JSON.stringify([{ index: 5, display: 'c.test.ts', path: '/b/5.mjs', args: ['arg'] }])] },
  ]);
  assert.deepEqual([...tapOf], [[1, 'results-agent-1.tap'], [2, 'results-agent-1.tap'], [5, 'results-agent-4.tap']]);
});

test('plan steps without the agent: each node test in its own Node and network namespace', () => {
  const { steps, tapOf } = planSteps([{ display: 'a.test.ts', bundle: '/b/1.mjs' }, { display: 'b.test.ts', bundle: '/b/2.mjs' }], { args: [], noAgent: true, nodeArgv, agentArgv });
  assert.deepEqual(steps.map((s) => s.kind === 'exec' && [s.index, s.argv.slice(0, 2), s.argv.slice(-3)]), [
    [1, ['unshare', '--net'], ['node', '--dest=results-1.tap', '/b/1.mjs']],
    [2, ['unshare', '--net'], ['node', '--dest=results-2.tap', '/b/2.mjs']],
  ]);
  assert.deepEqual([...tapOf.values()], ['results-1.tap', 'results-2.tap']);
});

test('plan steps: an agent takes at most AGENT_FILES_MAX files, the next ones go to a fresh agent', () => {
  const n = 2 * AGENT_FILES_MAX + 1;
  const files = Array.from({ length: n }, (_, i) => ({ display: `t${i + 1}.test.ts`, bundle: `/b/${i + 1}.mjs` }));
  const { steps, tapOf } = planSteps(files, { args: [], noAgent: false, nodeArgv, agentArgv });
  const lists = steps.map((s) => (s.kind === 'agent' ? (JSON.parse(s.argv.at(-1)!) as { index: number }[]).map((f) => f.index) : []));
  assert.deepEqual(lists.map((l) => l.length), [AGENT_FILES_MAX, AGENT_FILES_MAX, 1]);
  assert.deepEqual(lists.flat(), Array.from({ length: n }, (_, i) => i + 1));
  assert.deepEqual([tapOf.get(1), tapOf.get(AGENT_FILES_MAX + 1), tapOf.get(n)], ['results-agent-1.tap', 'results-agent-2.tap', 'results-agent-3.tap']);
});
