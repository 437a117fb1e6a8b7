import { check, keep, lit, np, release, treeNorm } from "../core/index.js";
import { chain } from "./chain.js";
import { scaleByLearningRate } from "./scaleByLearningRate.js";
import type { GradientTransformation } from "./types.js";
import { scaleLeaves, stateless } from "./util.js";

/** Options of `normalizeByGlobalNorm` and `normalizedGd`. */
export interface NormalizedOptions {
  /** Guard ε > 0: the norm is floored at ε (default 1e-12). */
  readonly eps?: number;
}

/** Options of `scaleBySqrtLoss` and `sqrtLossGd`. */
export interface SqrtLossOptions {
  /** Guard ε > 0: the loss is floored at ε before the square root (default 1e-12). */
  readonly eps?: number;
}

function checkEps(eps: number, what: string): void {
  check(Number.isFinite(eps) && eps > 0, `${what}: eps must be a finite number > 0, got ${eps}`);
}

/**
 * Divides the updates by their global ℓ₂ norm (over all leaves together):
 *
 * `u ← u / max(‖u‖₂, ε)`, so the output has norm exactly 1 (up to rounding) whenever `‖u‖₂ ≥ ε`, and
 * is `u/ε` (0 for `u = 0`) below it. The floor is our guard; the papers divide by `‖u‖` itself.
 * Stateless.
 *
 * @param opts.eps ε > 0, default 1e-12.
 */
export function normalizeByGlobalNorm(opts: NormalizedOptions = {}): GradientTransformation {
  const { eps = 1e-12 } = opts;
  checkEps(eps, "normalizeByGlobalNorm");
  return stateless((updates) => {
    const norm = treeNorm(keep(updates));
    return scaleLeaves(updates, lit(1, norm).div(np.maximum(norm, lit(eps, norm))));
  });
}

/**
 * Normalized gradient descent (Arora, Li & Panigrahi, "Understanding Gradient Descent on Edge of
 * Stability in Deep Learning", ICML 2022, §2, "normalized GD"): `w ← w − η g/‖g‖₂`, the norm global
 * over all parameters, floored at ε (see `normalizeByGlobalNorm`). `η = extras.lr`. Built as
 * `chain(normalizeByGlobalNorm({eps}), scaleByLearningRate())`.
 *
 * @param opts.eps default 1e-12.
 */
export function normalizedGd(opts: NormalizedOptions = {}): GradientTransformation {
  return chain(normalizeByGlobalNorm(opts), scaleByLearningRate());
}

/**
 * Turns the gradient of a loss L ≥ 0 into the gradient of √L by the chain rule:
 *
 * `u ← u / (2 √max(L, ε))`, with `L = extras.value` (the mini-batch loss at the current parameters,
 * which the trainer passes). Stateless. Throws if `extras.value` is missing.
 *
 * @param opts.eps ε > 0, default 1e-12 (guards L → 0, where ∇√L is unbounded).
 */
export function scaleBySqrtLoss(opts: SqrtLossOptions = {}): GradientTransformation {
  const { eps = 1e-12 } = opts;
  checkEps(eps, "scaleBySqrtLoss");
  return stateless((updates, extras) => {
    if (extras.value === undefined) {
      release(updates);
      throw new Error("scaleBySqrtLoss (sqrtLossGd) needs extras.value, the mini-batch loss at the parameters");
    }
    const L = extras.value.ref;
    const root = np.sqrt(np.maximum(L, lit(eps, L)));
    return scaleLeaves(updates, lit(0.5, root).div(root));
  });
}

/**
 * Gradient descent on √L (Arora, Li & Panigrahi, ICML 2022, §2): `w ← w − η ∇√L = w − η ∇L/(2√L)`,
 * with `L = extras.value` floored at ε. Like normalized GD it runs at the edge of stability and then
 * drifts along the manifold of minimizers, lowering λmax. `η = extras.lr`. Built as
 * `chain(scaleBySqrtLoss({eps}), scaleByLearningRate())`.
 *
 * @param opts.eps default 1e-12.
 */
export function sqrtLossGd(opts: SqrtLossOptions = {}): GradientTransformation {
  return chain(scaleBySqrtLoss(opts), scaleByLearningRate());
}
