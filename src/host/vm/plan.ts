// Writes plan.sh, the run's instructions to the guest init (src/guest/init.sh sources it).

/** An exec step's `env` is set for that command alone (sh prefix assignments: no extra process). */
export type PlanStep = { kind: 'exec'; index: number; argv: string[]; env?: Record<string, string> } | { kind: 'agent'; argv: string[] };

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
    ...Object.entries(p.env).map(([k, v]) => `export ${k}=${shQuote(v)}`),
    ...p.steps.flatMap((s, k) => [
      `nt_kind_${k + 1}=${s.kind} nt_idx_${k + 1}=${s.kind === 'exec' ? s.index : 0}`,
      `nt_step_${k + 1}() { ${[...Object.entries((s.kind === 'exec' && s.env) || {}).map(([n, v]) => `${n}=${shQuote(v)}`), ...s.argv.map(shQuote)].join(' ')}; }`,
    ]),
    ...(p.serve ? [`nt_serve() { ${p.serve.map((w) => w.split(SERVE_K).map(shQuote).join('"$1"')).join(' ')}; }`] : []),
  ];
  return lines.join('\n') + '\n';
}
