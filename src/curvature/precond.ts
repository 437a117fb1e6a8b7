/**
 * Preconditioned curvature: P^{-1/2} H P^{-1/2} for a diagonal preconditioner P, and the P of Adam and
 * RMSProp read from an optimizer state (for the preconditioned sharpness of Cohen et al. 2022).
 */
import { check, keep, release, toScalar, treeToHost, type Array as JaxArray, type Params } from "../core/index.js";
import type { ScaleByAdamState, ScaleByRmsState } from "../optim/index.js";
import type { OptState } from "../optim/types.js";
import type { LinearOperator } from "./operator.js";
import { stabilityThreshold } from "./thresholds.js";

/**
 * The symmetric operator S = P^{-1/2} A P^{-1/2} for P = diag(pDiag), pDiag > 0: S v = d ⊙ A(d ⊙ v)
 * with d = pDiag^{-1/2}. S is similar to P⁻¹A (P⁻¹A = P^{-1/2} S P^{1/2}), so both have the same
 * eigenvalues — λmax(S) is the preconditioned sharpness λmax(P⁻¹H) of Cohen et al. 2022 — and an
 * eigenvector y of S gives the eigenvector x = P^{-1/2} y of P⁻¹A (`preconditionedEigenvector`).
 * Lanczos runs on S because it needs a symmetric operator. Borrows `op` (does not dispose it).
 */
export function preconditionedOperator(op: LinearOperator, pDiag: Float64Array): LinearOperator {
  check(pDiag.length === op.dim, `preconditioner: ${pDiag.length} entries for an operator of dimension ${op.dim}`);
  const d = new Float64Array(op.dim);
  for (let i = 0; i < d.length; i++) {
    check(pDiag[i] > 0 && Number.isFinite(pDiag[i]), `preconditioner: entry ${i} is ${pDiag[i]}, must be > 0`);
    d[i] = 1 / Math.sqrt(pDiag[i]);
  }
  return {
    dim: op.dim,
    async matvec(v) {
      const w = new Float64Array(v.length);
      for (let i = 0; i < w.length; i++) w[i] = d[i] * v[i];
      const y = await op.matvec(w);
      for (let i = 0; i < y.length; i++) y[i] *= d[i];
      return y;
    },
  };
}

/** x = P^{-1/2} y: the eigenvector of P⁻¹A for an eigenvector y of P^{-1/2} A P^{-1/2} (same eigenvalue). */
export function preconditionedEigenvector(y: Float64Array, pDiag: Float64Array): Float64Array {
  return y.map((v, i) => v / Math.sqrt(pDiag[i]));
}

/** Options of `adamPreconditioner`. */
export interface AdamPreconditionerOptions {
  /** β₂ of the optimizer (default 0.999). */
  readonly b2?: number;
  /** ε added to √v̂ (default 1e-8, as `scaleByAdam`). */
  readonly eps?: number;
  /** ε inside the square root (default 0, as `scaleByAdam`'s epsRoot). */
  readonly epsRoot?: number;
  /** Number of Adam updates t for the bias correction 1 − β₂ᵗ (default: the state's `count`). */
  readonly step?: number;
}

type Found<T> = { path: string; state: T };

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && Object.getPrototypeOf(x) === Object.prototype;
}

/** Sub-states of a (possibly `chain`ed, nested) optimizer state that satisfy `is`, with their paths. */
function findStates<T>(state: unknown, is: (o: Record<string, unknown>) => boolean, path = "state"): Found<T>[] {
  if (Array.isArray(state)) return state.flatMap((s, i) => findStates<T>(s, is, `${path}[${i}]`));
  if (!isPlainObject(state)) return [];
  if (is(state)) return [{ path, state: state as T }];
  return Object.entries(state).flatMap(([k, s]) => findStates<T>(s, is, `${path}.${k}`));
}

function findOne<T>(optState: OptState, is: (o: Record<string, unknown>) => boolean, what: string): T {
  const found = findStates<T>(optState, is);
  if (found.length !== 1) {
    release(optState);
    const where = found.map((f) => f.path).join(", ");
    check(
      false,
      `preconditioner: expected one ${what} in the optimizer state, found ${found.length}${where ? ` (${where})` : ""}`,
    );
  }
  return found[0].state;
}

const isAdam = (o: Record<string, unknown>): boolean =>
  ["count", "mu", "nu", "b1Power", "b2Power"].every((k) => k in o);
const isRms = (o: Record<string, unknown>): boolean =>
  "nu" in o && Object.keys(o).every((k) => k === "nu" || k === "mu");

/**
 * Adam's preconditioner P = diag(√(v̂ + ε_root) + ε), v̂ = ν/(1 − β₂ᵗ), read from the `scaleByAdam`
 * state inside `optState` (a `chain` state of any nesting, e.g. that of `adam()` or `adamw()`), as a
 * host float64 vector in parameter leaf order. This is the P of the preconditioned sharpness
 * λmax(P⁻¹H) of Cohen et al. 2022 ("Adaptive gradient methods at the edge of stability", §3), which
 * Adam drives to (2 + 2β₁)/((1 − β₁)η) (`adamStabilityThreshold`). Consumes `optState` (pass
 * `keep(state)`). Throws a UserError when the state holds no or several Adam states, or before the
 * first update (t = 0: v̂ undefined).
 *
 * @param opts.b2 default 0.999. @param opts.eps default 1e-8. @param opts.epsRoot default 0.
 * @param opts.step default the state's update count.
 */
export async function adamPreconditioner(
  optState: OptState,
  opts: AdamPreconditionerOptions = {},
): Promise<Float64Array> {
  const { b2 = 0.999, eps = 1e-8, epsRoot = 0 } = opts;
  const s = findOne<ScaleByAdamState>(optState, isAdam, "Adam state (scaleByAdam: count, mu, nu, b1Power, b2Power)");
  const count = toScalar(keep(s.count) as JaxArray);
  const nu = treeToHost(keep(s.nu));
  release(optState);
  const [t0, v] = await Promise.all([count, nu]);
  const t = opts.step ?? t0;
  check(t >= 1, `adamPreconditioner: the bias correction needs at least one update (step ${t})`);
  const bc = 1 - b2 ** t;
  return v.map((x) => Math.sqrt(x / bc + epsRoot) + eps);
}

/**
 * RMSProp's preconditioner P = diag(√ν + ε) (centred: √(ν − μ²) + ε, clamped at 0 inside the root),
 * read from the `scaleByRms` state inside `optState` (e.g. that of `rmsprop()`), as a host float64
 * vector in parameter leaf order; the analogue of `adamPreconditioner` without bias correction, as
 * `scaleByRms` has none. Consumes `optState`; UserError unless it holds exactly one RMS state.
 *
 * @param opts.eps ε of the optimizer, default 1e-8.
 */
export async function rmspropPreconditioner(optState: OptState, opts: { eps?: number } = {}): Promise<Float64Array> {
  const { eps = 1e-8 } = opts;
  const s = findOne<ScaleByRmsState>(optState, isRms, "RMSProp state (scaleByRms: nu[, mu])");
  const nu = treeToHost(keep(s.nu));
  const mu = s.mu ? treeToHost(keep(s.mu as Params)) : null;
  release(optState);
  const [v, m] = await Promise.all([nu, mu]);
  return v.map((x, i) => Math.sqrt(Math.max(m ? x - m[i] * m[i] : x, 0)) + eps);
}

/**
 * The stability threshold of Adam on the preconditioned Hessian: λmax(P⁻¹H) < (2 + 2β₁)/((1 − β₁)η)
 * (Cohen et al. 2022, "Adaptive gradient methods at the edge of stability", §3; 38/η for β₁ = 0.9),
 * the heavy-ball threshold (2 + 2β)/η for the EMA momentum m ← β₁m + (1 − β₁)g, whose effective step
 * is (1 − β₁)η, with P frozen. β₁ = 0 gives RMSProp's 2/η. Same as `stabilityThreshold({kind: "adam"})`.
 *
 * @param b1 default 0.9.
 */
export function adamStabilityThreshold(eta: number, b1 = 0.9): number {
  return stabilityThreshold({ kind: "adam", b1 }, eta);
}
