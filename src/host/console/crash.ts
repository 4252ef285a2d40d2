// Recognises kernel crash reports in console output. A report starts at a signature line and
// runs until the kernel's end marker or a line limit; the first report is the one that counts.

export type CrashKind = 'panic' | 'oops' | 'bug' | 'kasan' | 'ubsan' | 'kfence' | 'warning';

export interface CrashReport {
  kind: CrashKind;
  /** The signature line, e.g. "Kernel panic - not syncing: sysrq triggered crash". */
  title: string;
  /** The report as printed: signature line, registers, call trace. */
  lines: string[];
}

// Order matters: the first matching pattern names the kind (a KASAN report starts with "BUG:").
const SIGNATURES: [CrashKind, RegExp][] = [
  ['kasan', /\bBUG: KASAN:|\bKASAN: /],
  ['kfence', /\bBUG: KFENCE:/],
  ['ubsan', /\bUBSAN: /],
  ['panic', /\bKernel panic - not syncing\b|\bAttempted to kill init\b/],
  ['oops', /\bOops\b.*:|\bUnable to handle kernel\b|\bgeneral protection fault\b|\bKernel mode (fault|signal)\b/],
  ['bug', /\bkernel BUG at\b|\bBUG: /],
  ['warning', /\bWARNING: |\bINFO: task .* blocked for more than\b|\brcu: INFO: .*stall/],
];

const END = /---\[ end |^\s*$/;
const MAX_LINES = 60;
// printk timestamps ("[   12.345678] ") are noise for matching.
const STAMP = /^\[\s*\d+\.\d+\]\s?/;

export interface CrashDetector {
  feed(line: string): void;
  /** The first report seen, if any (warnings only with failOnWarn). */
  report(): CrashReport | undefined;
  /** Warnings seen while failOnWarn was off: reported, not fatal. */
  warnings(): string[];
}

export function crashDetector(opts: { failOnWarn: boolean }): CrashDetector {
  let first: CrashReport | undefined;
  let collecting = false;
  const warnings: string[] = [];
  return {
    feed(raw) {
      const line = raw.replace(STAMP, '');
      if (first && collecting) {
        if (first.lines.length >= MAX_LINES || (first.lines.length > 3 && END.test(line))) {
          if (/---\[ end /.test(line)) first.lines.push(line);
          collecting = false;
        } else {
          first.lines.push(line);
        }
        return;
      }
      if (first) return;
      for (const [kind, re] of SIGNATURES) {
        if (!re.test(line)) continue;
        if (kind === 'warning' && !opts.failOnWarn) {
          warnings.push(line.trim());
          return;
        }
        first = { kind, title: line.trim(), lines: [line] };
        collecting = true;
        return;
      }
    },
    report: () => first,
    warnings: () => warnings,
  };
}
