/**
 * Small host statistics used by the theory functions: a seeded random stream for bootstraps and
 * sample quantiles. No tensors (the stream is core's host generator).
 */
import { Key, type Rng } from "../core/keys.js";
import { check } from "./checks.js";

/** The project's host random stream (xoshiro128**, `core/keys.ts`). */
export type { Rng } from "../core/keys.js";

/**
 * The deterministic stream of a bootstrap or simulation seed: `Key.fromSeed(seed).rng()`, the same
 * generator every other consumer of randomness in sgdlab uses. `seed` is a non-negative integer.
 */
export function seededRng(seed: number): Rng {
  check(Number.isSafeInteger(seed) && seed >= 0, `seed must be a non-negative integer, got ${seed}`);
  return Key.fromSeed(seed).rng();
}

/**
 * The `q`-quantile of `values` with linear interpolation between order statistics (Hyndman & Fan
 * type 7, the default of numpy and R): position h = (n − 1)q in the sorted sample.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  check(values.length > 0, "quantile: no values");
  check(q >= 0 && q <= 1, `quantile: q must lie in [0, 1], got ${q}`);
  const sorted = Float64Array.from(values).sort();
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** The standard normal quantile Φ⁻¹(p), p ∈ (0, 1) (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  check(p > 0 && p < 1, `normalQuantile: p must lie in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}
