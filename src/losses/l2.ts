/**
 * An L2 penalty added to the objective (as opposed to decoupled weight decay in the optimizer).
 */
import { check, keep, lit, tree, treeNormSq, type Array, type Params } from "../core/index.js";

/**
 * The objective with an L2 penalty: `L_λ(θ, …) = L(θ, …) + (λ/2)‖θ‖²` over every parameter leaf, so
 * `∇L_λ = ∇L + λθ`. Under plain SGD this equals coupled weight decay; under adaptive methods it
 * differs from decoupled decay (Loshchilov & Hutter, "Decoupled weight decay regularization",
 * ICLR 2019, §2), which is why it lives with the losses: it changes the objective that curvature
 * probes and EGR differentiate. λ enters as a `lit` constant (exact under `jit`).
 *
 * @param loss θ, … ↦ L(θ, …), a 0-d array; consumes its arguments. @param lambda λ ≥ 0.
 * @returns a function with `loss`'s signature, consuming its arguments likewise.
 */
export function withL2<A extends unknown[]>(
  loss: (params: Params, ...rest: A) => Array,
  lambda: number,
): (params: Params, ...rest: A) => Array {
  check(Number.isFinite(lambda) && lambda >= 0, `withL2: lambda must be a finite number ≥ 0, got ${lambda}`);
  return (params: Params, ...rest: A): Array => {
    const penalty = l2Value(keep(params), lambda);
    return loss(params, ...rest).add(penalty);
  };
}

/** (λ/2)‖θ‖², a 0-d array in θ's dtype (consumes `params`). */
function l2Value(params: Params, lambda: number): Array {
  const sq = treeNormSq(params);
  return sq.mul(lit(lambda / 2, sq));
}

/**
 * The penalty of `withL2` with its gradient in closed form: `[(λ/2)‖θ‖², λθ]` (consumes `params`). For
 * objectives summed over chunks, which add the penalty once to Σ_c w_c L_c rather than to every chunk.
 */
export function l2Penalty(params: Params, lambda: number): [Array, Params] {
  check(Number.isFinite(lambda) && lambda >= 0, `l2Penalty: lambda must be a finite number ≥ 0, got ${lambda}`);
  const value = l2Value(keep(params), lambda);
  return [value, tree.map((x: Array) => x.mul(lit(lambda, x)), params) as Params];
}
