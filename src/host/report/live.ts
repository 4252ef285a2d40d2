// What a run shows while it runs: a verdict line per file as it ends (with its output's excerpt
// when it failed and was not streamed), a `=== file` header, the status line on a terminal
// (files done, failed, what each VM runs), and the results the final reports are made from.
import pc from 'picocolors';
import type { FileResult } from '../results/model.js';
import { afterRetry, isOk } from '../results/verdict.js';
import { crashText, outputExcerpt, resultLine } from './terminal.js';

export interface LiveOptions {
  /** Files in the run, for "n/N done". */
  total: number;
  /** Parallel VMs: headers name the worker. */
  jobs: number;
  /** Tests' output goes to the terminal as it comes (one VM, not quiet, not KTAP). */
  stream: boolean;
  quiet: boolean;
  /** stdout carries KTAP only: everything else goes to stderr. */
  ktap: boolean;
  /** The run's start (Date.now()). */
  t0: number;
}

export class LiveReport<T extends { display: string }> {
  /** Each item's latest result. */
  readonly results = new Map<T, FileResult>();
  /** An item's first failure, once it is being retried: a later pass makes it flaky. */
  private readonly firstFailure = new Map<T, FileResult>();
  private done = 0;
  /** VMs booted and not yet gone. */
  running = 0;
  /** What each worker's VM is running now, for the status line. */
  private readonly onFile = new Map<number, { display: string; since: number }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly showStatus: boolean;

  constructor(private readonly o: LiveOptions) {
    this.showStatus = process.stderr.isTTY && !o.stream && !o.quiet && o.total > 1;
  }

  /** Starts the status line (on a terminal, when output is not streamed). */
  start(): void {
    if (!this.showStatus) return;
    this.timer = setInterval(() => {
      const failed = [...this.results.values()].filter((r) => !isOk(r.verdict)).length;
      const now = Date.now();
      const files = [...this.onFile.entries()].sort(([a], [b]) => a - b).map(([w, f]) => `[${w}] ${f.display} ${((now - f.since) / 1000).toFixed(0)} s`);
      const line = [`${this.done}/${this.o.total} done · ${failed} failed · ${((now - this.o.t0) / 1000).toFixed(0)} s`, ...(files.length ? files : [`${this.running} VMs booting`])].join(' · ');
      process.stderr.write(`\r\x1b[K${pc.dim(line.slice(0, Math.max(20, (process.stderr.columns || 80) - 1)))}`);
    }, 250);
  }

  stop(): void {
    clearInterval(this.timer);
    this.clearStatus();
  }

  private clearStatus(): void {
    if (this.showStatus) process.stderr.write('\r\x1b[K');
  }

  /** A line of the report. With --ktap, stdout is KTAP only: the report goes to stderr. */
  print(text: string): void {
    this.clearStatus();
    (this.o.ktap ? process.stderr : process.stdout).write(text + '\n');
  }

  /** A file's `=== name` header (not with --quiet); parallel VMs name their worker. */
  header(display: string, worker: number): void {
    if (this.o.quiet) return;
    this.print(pc.bold(pc.cyan(`=== ${display}`)) + (this.o.jobs > 1 ? pc.dim(` [${worker}]`) : ''));
  }

  /** Worker `worker` started `display` (status line). */
  started(worker: number, display: string): void {
    this.onFile.set(worker, { display, since: Date.now() });
  }

  /** Worker `worker` finished `display`, or its VM is gone (no display). */
  finished(worker: number, display?: string): void {
    if (display === undefined || this.onFile.get(worker)?.display === display) this.onFile.delete(worker);
  }

  /** The verdict of `it` in attempt `attempt`: kept and printed (a failure after a first one is flaky or failed again). */
  record(it: T, judged: FileResult, attempt: number): FileResult {
    const r = afterRetry(judged, attempt, this.firstFailure.get(it));
    this.results.set(it, r);
    this.done++;
    if (r.verdict !== 'pass' && r.verdict !== 'skip' && !this.o.stream && r.output) this.print(resultLine(r) + '\n' + outputExcerpt(r));
    else this.print(resultLine(r));
    if (r.crash) this.print(crashText(r.crash));
    return r;
  }

  /** A file that never got to run (its VM could not start): kept, not printed (the caller says why once). */
  lost(it: T, r: FileResult): void {
    this.results.set(it, r);
    this.done++;
  }

  /** Of `items`, those whose latest result is not ok (failed, crashed, timed out...). */
  failed(items: T[]): T[] {
    return items.filter((it) => !isOk(this.results.get(it)?.verdict ?? 'pass'));
  }

  /** `items` run again: their first failure is kept so a later pass is flaky, never a plain pass. */
  retry(items: T[], attempt: number): void {
    for (const it of items) if (!this.firstFailure.has(it)) this.firstFailure.set(it, this.results.get(it)!);
    this.done -= items.length;
    this.print(pc.dim(`retrying ${items.length} file(s), attempt ${attempt}`));
  }
}
