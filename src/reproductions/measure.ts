/**
 * Small host measurements on finished runs that several reproductions state their criteria in.
 */
import type { XY } from "../report/index.js";
import type { MemberRun } from "./types.js";

/** A metric series as figure points. */
export function xy(run: MemberRun, key: string): XY[] {
  return run.series(key).map((p) => ({ x: p.step, y: p.value }));
}

/** The mean of the values of the last `fraction` of a series (by count; NaN when empty). */
export function lateMean(points: readonly { value: number }[], fraction: number): number {
  const k = Math.max(1, Math.ceil(points.length * fraction));
  const tail = points.slice(points.length - k);
  return tail.length ? tail.reduce((s, p) => s + p.value, 0) / tail.length : NaN;
}

/** How many times a series increased from one point to the next (non-monotonicity). */
export function increases(points: readonly { value: number }[]): number {
  let n = 0;
  for (let i = 1; i < points.length; i++) if (points[i].value > points[i - 1].value) n++;
  return n;
}

/** The first point whose value is ≥ `level` (undefined if none). */
export function firstAtLeast<P extends { value: number }>(points: readonly P[], level: number): P | undefined {
  return points.find((p) => p.value >= level);
}

/** The value at `step` (NaN if absent). */
export function at(points: readonly { step: number; value: number }[], step: number): number {
  return points.find((p) => p.step === step)?.value ?? NaN;
}
