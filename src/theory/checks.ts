/**
 * Argument checks shared by the theory functions. Every failure is a `UserError` (exit code 2 in the
 * CLI) whose message starts with the function's name.
 */
import { check } from "../core/errors.js";

/** `value` is a finite number. */
export function finite(value: number, what: string): void {
  check(Number.isFinite(value), `${what} must be a finite number, got ${value}`);
}

/** `value` is a finite number > 0. */
export function positive(value: number, what: string): void {
  check(Number.isFinite(value) && value > 0, `${what} must be a finite number > 0, got ${value}`);
}

/** `value` is a finite number ≥ 0. */
export function nonNegative(value: number, what: string): void {
  check(Number.isFinite(value) && value >= 0, `${what} must be a finite number ≥ 0, got ${value}`);
}

/** `value` is an integer ≥ `min`. */
export function integer(value: number, what: string, min = 1): void {
  check(Number.isInteger(value) && value >= min, `${what} must be an integer ≥ ${min}, got ${value}`);
}

/** `value` lies in the open interval (0, 1). */
export function probability(value: number, what: string): void {
  check(Number.isFinite(value) && value > 0 && value < 1, `${what} must lie in (0, 1), got ${value}`);
}

/** `value` lies in the closed interval [0, 1]. */
export function unitInterval(value: number, what: string): void {
  check(Number.isFinite(value) && value >= 0 && value <= 1, `${what} must lie in [0, 1], got ${value}`);
}

/** Every entry of `values` is finite. */
export function allFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    check(Number.isFinite(values[i]), `${what}[${i}] must be a finite number, got ${values[i]}`);
  }
}

export { check };
