/**
 * A mistake by the user (bad spec, missing file, unknown run id): the CLI prints its message without
 * a stack trace and exits with `exitCode` (2 for invalid input, 1 otherwise).
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = "UserError";
  }
}

/** Throws a `UserError` naming `what` unless `cond` holds. */
export function check(cond: unknown, message: string, exitCode = 2): asserts cond {
  if (!cond) throw new UserError(message, exitCode);
}
