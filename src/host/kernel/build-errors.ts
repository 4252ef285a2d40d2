// Errors of the kernel build. Both mean exit status 2 (nothing booted): they extend the tool's
// UsageError so any handler of that maps them right; src/cli/build.ts reportBuildError also
// prints their detail lines (unmet options, compiler errors) under the one-line message.
import { UsageError } from '../errors.js';

/** A usage or setup problem: bad tree, bad option syntax, unknown or unmet config symbols. */
export class KernelSetupError extends UsageError {
  override name = 'KernelSetupError';
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/** The kernel did not compile or link; carries the compiler's error lines and the full log. */
export class KernelCompileError extends UsageError {
  override name = 'KernelCompileError';
  readonly exitCode = 2;
  constructor(
    message: string,
    /** The compiler's/linker's error lines (`file:line:col: error: ...` and their source excerpt). */
    readonly errors: string[],
    /** The complete make output. */
    readonly logFile: string,
  ) {
    super(message);
  }
}
