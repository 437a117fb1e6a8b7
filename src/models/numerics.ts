/**
 * Workaround for an accuracy defect of jax-js 0.1.25's Wasm `log` (both dtypes): it reduces x to a
 * mantissa m ∈ [1, 2) and sums the atanh series 2t(1 + t²/3 + t⁴/5 + t⁶/7), t = (m−1)/(m+1), whose
 * truncation error reaches 1e-5 as m → 2. Repro:
 * `(await np.log(np.array(Float64Array.from({length: 8}, (_, i) => 1.95 + i / 1000),
 * {dtype: np.float64})).data())[0]` gives 0.6678204 (error −9.0e-6; the float64 value is
 * 0.6678293725756554); arrays of under 4 elements and constant arrays happen to be exact. The cpu
 * backend is exact. `models.test.ts` flags when the
 * defect is gone. (The Wasm `exp` has float32-level accuracy, ~1e-7 relative, and over/underflows
 * at |x| ≈ 88 in float64 too.)
 */
import { lax, lit, np, type Array } from "../core/index.js";

/**
 * log y with one Newton step on e^l = y: l₁ = l₀ + y·e^{−l₀} − 1, l₀ = log y (error ~δ²/2 plus the
 * error of exp, ~1e-7), the correction gradient-stopped so that d(log y) = dy/y exactly, to every
 * order. For y ≥ 1e-30 (the losses use it on arguments in [1, k]). Consumes y.
 */
export function preciseLog(y: Array): Array {
  const l0 = np.log(y.ref);
  const correction = lax.stopGradient(y.mul(np.exp(np.negative(l0.ref))).sub(lit(1, l0)));
  return l0.add(correction);
}

/**
 * log(1 + u) for u > −1: jax-js's series for |u| ≤ 0.01 (accurate), `preciseLog(1 + u)` elsewhere.
 * Consumes u.
 */
export function preciseLog1p(u: Array): Array {
  const big = np.abs(u.ref).greater(lit(0.01, u));
  return np.where(big, preciseLog(u.ref.add(lit(1, u))), np.log1p(u));
}
