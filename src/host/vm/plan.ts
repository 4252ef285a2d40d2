// Writes plan.sh, the run's instructions to the guest init (src/guest/init.sh sources it).

export interface GuestPlan {
  mode: 'test' | 'shell';
  hostname: string;
  /** Guest working directory (the caller's cwd under /host). */
  cwd: string;
  /** PATH inside the guest. */
  path: string;
  /** Module directory of a distribution UML kernel, if any. */
  moduleDir?: string | undefined;
  /** UML runs in a user namespace: host files appear owned by the overflow uid. */
  rootless: boolean;
  /** One argv per test, as the guest sees paths. */
  tests: string[][];
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
    `NT_ROOTLESS=${p.rootless ? 1 : 0}`,
    `NT_COUNT=${p.tests.length}`,
    ...Object.entries(p.env).map(([k, v]) => `export ${k}=${shQuote(v)}`),
    ...p.tests.map((argv, i) => `nt_test_${i + 1}() { ${argv.map(shQuote).join(' ')}; }`),
  ];
  return lines.join('\n') + '\n';
}
