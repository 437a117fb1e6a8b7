/**
 * Preconditioned curvature: P^{-1/2} H P^{-1/2} for a diagonal preconditioner P (for the
 * preconditioned sharpness of Cohen et al. 2022). The P itself is the optimizer's own
 * (`GradientTransformation.preconditioner`); `adamPreconditioner` finds it in a bare state.
 */
import { check, release } from "../core/index.js";
import { scaleByAdam, type ScaleByAdamState } from "../optim/index.js";
import type { OptState } from "../optim/types.js";
import type { LinearOperator } from "./operator.js";

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

/** Options of `adamPreconditioner`: those of the `scaleByAdam` that produced the state. */
export interface AdamPreconditionerOptions {
  /** ε added to √v̂ (default 1e-8, as `scaleByAdam`). */
  readonly eps?: number;
  /** ε inside the square root (default 0, as `scaleByAdam`'s epsRoot). */
  readonly epsRoot?: number;
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

const isAdam = (o: Record<string, unknown>): boolean =>
  ["count", "mu", "nu", "b1Power", "b2Power"].every((k) => k in o);

/**
 * Adam's P = diag(√(v̂ + ε_root) + ε) from an optimizer state whose transform is not at hand (a
 * checkpoint's): finds the one `scaleByAdam` state inside `optState` (a `chain` state of any nesting)
 * and hands it to `scaleByAdam(opts).preconditioner.diagonal`, the one place that formula lives.
 * Prefer `optimizer.preconditioner.diagonal(state)`. Consumes `optState` (pass `keep(state)`); a
 * UserError when it holds no or several Adam states, or before the first update.
 *
 * @param opts.eps default 1e-8. @param opts.epsRoot default 0.
 */
export async function adamPreconditioner(
  optState: OptState,
  opts: AdamPreconditionerOptions = {},
): Promise<Float64Array> {
  try {
    const found = findStates<ScaleByAdamState>(optState, isAdam);
    const where = found.map((f) => f.path).join(", ");
    check(
      found.length === 1,
      `preconditioner: expected one Adam state (scaleByAdam: count, mu, nu, b1Power, b2Power) in the optimizer ` +
        `state, found ${found.length}${where ? ` (${where})` : ""}`,
    );
    return await scaleByAdam(opts).preconditioner!.diagonal(found[0].state as unknown as OptState);
  } finally {
    release(optState);
  }
}
