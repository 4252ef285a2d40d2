// Exit statuses of `net-test` (the contract in DESIGN.md) and the errors that map to them.

export const Exit = {
  pass: 0,
  fail: 1,
  usage: 2,
  crash: 3,
  timeout: 4,
  infra: 5,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** Bad arguments or a missing prerequisite: nothing booted. Message = what went wrong and how to fix it. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The machinery failed (VM did not boot, guest lost): not the test's fault. */
export class InfraError extends Error {
  override name = 'InfraError';
}
