// Writes plan.sh, the run's instructions to the guest init (src/guest/init.sh sources it).

/**
 * An exec step's `env` is set for that command alone (sh prefix assignments: no extra process);
 * `dir`: run it in that guest directory, on a fresh writable overlay of it (kselftest).
 */
export type PlanStep = { kind: 'exec'; index: number; argv: string[]; env?: Record<string, string>; dir?: string | undefined } | { kind: 'agent'; argv: string[] };

/** In a serve step's argv, stands for the number init gives each spare it starts. */
export const SERVE_K = '@K@';

export interface GuestPlan {
  /** serve: after the steps, start warm spares one after another (net-test watch). */
  mode: 'test' | 'shell' | 'serve';
  hostname: string;
  /** Guest working directory (the caller's cwd under /host). */
  cwd: string;
  /** PATH inside the guest. */
  path: string;
  /** Module directory of a distribution UML kernel, if any. */
  moduleDir?: string | undefined;
  /** Guest block device holding the root filesystem image, if the root is not the host's. */
  rootfs?: string | undefined;
  /** Writes to that image persist (--rw): init leaves it clean before the power-off. */
  rootfsRw?: boolean | undefined;
  /** UML runs in a user namespace: host files appear owned by the overflow uid. */
  rootless: boolean;
  /** What init runs, in order: an executable test, or the agent running several node tests. */
  steps: PlanStep[];
  /** The spare's command line in serve mode; SERVE_K in a word becomes the spare's number. */
  serve?: string[] | undefined;
  env: Record<string, string>;
  /** The tests' own environment (--env, kselftest variables): exported just before the first step. */
  testEnv?: Record<string, string> | undefined;
  /** Host directory of src/host/vm/guest-files.ts: /dev links, /lib/modules, tool links. */
  guestFiles?: string | undefined;
}

/** One file of a VM's share, as the plan needs it: an executable's argv, or a node test's bundle. */
export interface PlanFile {
  display: string;
  argv?: string[] | undefined;
  /** An executable's own environment (a Python file's unittest hook). */
  env?: Record<string, string> | undefined;
  /** Guest path of a node test's bundle. */
  bundle?: string | undefined;
  /** Guest directory an executable runs in, on a fresh overlay of it (a kselftest). */
  dir?: string | undefined;
}

/**
 * Node test files one agent process runs at most. Every file's bundle (with its own copy of the
 * library) stays loaded in the process: a CI run saw one VM's agent die of heap exhaustion
 * (V8's limit is ~250 MB at the default 512M of guest memory) at its ~40th file.
 */
export const AGENT_FILES_MAX = 12;

/**
 * The steps of a VM's share, in order, numbering files from 1: an executable is a step of its
 * own; consecutive node tests share one agent process, up to AGENT_FILES_MAX (`agentArgv`, then
 * its file list as one JSON word), or with `noAgent` each runs in a Node of its own, in a fresh network namespace as
 * the agent would give it. `tapOf` names the TAP file (in the run directory) that holds each
 * node file's cases.
 */
export function planSteps(
  files: PlanFile[],
  o: { args: string[]; noAgent: boolean; nodeArgv: (tap: string) => string[]; agentArgv: (tap: string) => string[] },
): { steps: PlanStep[]; tapOf: Map<number, string> } {
  const steps: PlanStep[] = [];
  const tapOf = new Map<number, string>();
  const groups: { files: { index: number; display: string; path: string; args: string[] }[]; argv: string[] }[] = [];
  let group: (typeof groups)[number] | undefined;
  files.forEach((f, idx) => {
    const index = idx + 1;
    if (f.argv) {
      steps.push({ kind: 'exec', index, argv: f.argv, ...(f.env ? { env: f.env } : {}), ...(f.dir !== undefined ? { dir: f.dir } : {}) });
      group = undefined;
      return;
    }
    if (o.noAgent) {
      const tap = `results-${index}.tap`;
      steps.push({ kind: 'exec', index, argv: ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...o.nodeArgv(tap), f.bundle!, ...o.args] });
      tapOf.set(index, tap);
      return;
    }
    if (!group || group.files.length >= AGENT_FILES_MAX) {
      const tap = `results-agent-${steps.length + 1}.tap`;
      group = { files: [], argv: [...o.agentArgv(tap)] };
      groups.push(group);
      steps.push({ kind: 'agent', argv: group.argv });
    }
    group.files.push({ index, display: f.display, path: f.bundle!, args: o.args });
    tapOf.set(index, `results-agent-${steps.length}.tap`);
  });
  // The agent's one argument: its file list.
  for (const g of groups) g.argv.push(JSON.stringify(g.files));
  return { steps, tapOf };
}

/** Single-quotes a word for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function renderPlan(p: GuestPlan): string {
  const lines = [
    '# Written by net-test for src/guest/init.sh: the run plan.',
    `NT_MODE=${p.mode}`,
    `NT_HOSTNAME=${shQuote(p.hostname)}`,
    `NT_CWD=${shQuote(p.cwd)}`,
    `NT_PATH=${shQuote(p.path)}`,
    `NT_MODDIR=${shQuote(p.moduleDir ?? '')}`,
    `NT_ROOTFS=${shQuote(p.rootfs ?? '')}`,
    `NT_ROOTFS_RW=${p.rootfsRw ? 1 : 0}`,
    `NT_ROOTLESS=${p.rootless ? 1 : 0}`,
    `NT_STEPS=${p.steps.length}`,
    `NT_GUEST=${shQuote(p.guestFiles ?? '')}`,
    ...Object.entries(p.env).map(([k, v]) => `export ${k}=${shQuote(v)}`),
    `nt_env() { ${Object.entries(p.testEnv ?? {}).map(([k, v]) => `export ${k}=${shQuote(v)}; `).join('')}:; }`,
    ...p.steps.flatMap((s, k) => [
      `nt_kind_${k + 1}=${s.kind} nt_idx_${k + 1}=${s.kind === 'exec' ? s.index : 0} nt_dir_${k + 1}=${shQuote(s.kind === 'exec' ? (s.dir ?? '') : '')}`,
      `nt_step_${k + 1}() { ${[...Object.entries((s.kind === 'exec' && s.env) || {}).map(([n, v]) => `${n}=${shQuote(v)}`), ...s.argv.map(shQuote)].join(' ')}; }`,
    ]),
    ...(p.serve ? [`nt_serve() { ${p.serve.map((w) => w.split(SERVE_K).map(shQuote).join('"$1"')).join(' ')}; }`] : []),
  ];
  return lines.join('\n') + '\n';
}
