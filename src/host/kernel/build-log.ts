// Make's output: a live status line (what make is doing, elapsed time) and, after a failure,
// the compiler's error lines instead of the whole log.

/** Kbuild's quiet-mode lines: "  CC      net/ipv4/tcp.o". */
const KBUILD_STEP = /^\s{2}([A-Z][A-Z0-9_-]{1,11})\s+(\S.*)$/;

/** The `CC net/ipv4/tcp.o` part of a kbuild line, or undefined for other output. */
export function kbuildStep(line: string): string | undefined {
  const m = KBUILD_STEP.exec(line);
  return m ? `${m[1]} ${m[2]}` : undefined;
}

/** Formats seconds as m:ss. */
export function formatElapsed(seconds: number): string {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

const COMPILER_ERROR = /^[^\s:][^:]*:\d+(?::\d+)?: (?:fatal )?error: /;
const LINKER_ERROR = /(?:undefined reference to|multiple definition of|^\S*ld(?:\.\w+)?: .*error)/;
const SOURCE_EXCERPT = /^\s+(?:\d+\s+)?\|/;
const MAKE_ERROR = /^make(?:\[\d+\])?: \*\*\* (?!.*\] Error \d+$)(?!Waiting for unfinished jobs)/;

/**
 * The lines that explain a failed build: compiler and linker errors with gcc's source excerpt,
 * and make's own errors (missing rule, ...). Falls back to the tail of the log.
 */
export function extractErrors(log: string, max = 40): string[] {
  const lines = log.split('\n');
  const picked: string[] = [];
  for (let i = 0; i < lines.length && picked.length < max; i++) {
    const line = lines[i] ?? '';
    if (COMPILER_ERROR.test(line) || LINKER_ERROR.test(line)) {
      if (picked.includes(line)) continue; // make -j repeats nothing, but a header error repeats per file
      picked.push(line);
      while (SOURCE_EXCERPT.test(lines[i + 1] ?? '') && picked.length < max) picked.push(lines[++i] ?? '');
    } else if (MAKE_ERROR.test(line)) {
      picked.push(line);
    }
  }
  if (picked.length) return picked;
  return lines.filter((l) => l.trim() !== '').slice(-20);
}

export interface Progress {
  /** Feed one line of make output. */
  line(text: string): void;
  /** Stop the status display (clears the TTY status line). */
  stop(): void;
}

/**
 * Live progress on `out`: one rewritten status line on a TTY, a plain line every `plainEvery`
 * seconds otherwise. With `verbose`, every make line is passed through instead.
 */
export function startProgress(
  out: NodeJS.WriteStream,
  opts: { label: string; verbose?: boolean; plainEvery?: number },
): Progress {
  const started = Date.now();
  let step = 'starting make';
  const elapsed = (): string => formatElapsed((Date.now() - started) / 1000);
  const tty = out.isTTY === true && !opts.verbose;
  const width = (): number => Math.max(40, (out.columns || 80) - 1);
  const draw = (): void => {
    const text = `${opts.label} ${elapsed()}  ${step}`;
    out.write(`\r\x1b[K${text.length > width() ? text.slice(0, width()) : text}`);
  };
  const timer = opts.verbose
    ? undefined
    : tty
      ? setInterval(draw, 250)
      : setInterval(() => out.write(`${opts.label} ${elapsed()} elapsed, ${step}\n`), (opts.plainEvery ?? 30) * 1000);
  timer?.unref();
  return {
    line(text) {
      if (opts.verbose) out.write(`${text}\n`);
      step = kbuildStep(text) ?? step;
    },
    stop() {
      if (timer) clearInterval(timer);
      if (tty) out.write('\r\x1b[K');
    },
  };
}
