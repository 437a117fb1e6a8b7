/**
 * Linear-stability thresholds of the optimizers' update rules on a quadratic (LITERATURE.md,
 * "Stability thresholds"): for f(x) = ½ h x² (each eigen-direction of a quadratic), the iteration is
 * stable iff the curvature h lies below the threshold. For the adaptive methods h is a curvature of
 * the *preconditioned* Hessian P⁻¹H with P frozen (Cohen et al. 2022). This is the only place these
 * formulas are written; the named optimizers expose them as `stabilityThreshold(lr)` or
 * `preconditioner.threshold(lr)` (see `GradientTransformation`).
 *
 * Momentum `v ← βv + g` followed by `w ← w − ηv` (heavy ball, Polyak 1964), or `w ← w − η(g + βv)`
 * (Nesterov in the optax/PyTorch form), with weight decay λ either *coupled* (`g ← g + λw`: the
 * curvature becomes h + λ) or *decoupled* (`u ← u + λw` after the momentum). The 2×2 recurrence on
 * (w, v) loses stability where an eigenvalue crosses −1, i.e. where 1 + tr + det = 0:
 * - heavy ball:  h < (2 + 2β)/η − λ (coupled) or (2 + 2β)/η − (1 + β)λ (decoupled);
 * - Nesterov:   h < (2 + 2β)/((1 + 2β)η) − λ (coupled) or ((2 + 2β) − (1 + β)ηλ)/((1 + 2β)η) (decoupled);
 * - β = 0 gives gradient descent, h < 2/η − λ either way.
 */

/** Options of `momentumThreshold`. */
export interface MomentumThresholdOptions {
  /** Momentum β ∈ [0, 1) (default 0: gradient descent). */
  readonly beta?: number;
  /** Nesterov's form (default false). */
  readonly nesterov?: boolean;
  /** Weight decay λ ≥ 0 (default 0). */
  readonly weightDecay?: number;
  /** λw added after the momentum (SGDW) instead of to the gradient (default false). */
  readonly decoupled?: boolean;
}

/**
 * The curvature above which gradient descent with step η and heavy-ball or Nesterov momentum β (and
 * weight decay λ) is linearly unstable on a quadratic; see the module comment for the formulas
 * (2/η for plain GD: Cohen, Kaur, Li, Kolter & Talwalkar, ICLR 2021, the edge of stability).
 *
 * @param eta the step η > 0. @param opts beta 0, nesterov false, weightDecay 0, decoupled false.
 */
export function momentumThreshold(eta: number, opts: MomentumThresholdOptions = {}): number {
  const { beta = 0, nesterov = false, weightDecay = 0, decoupled = false } = opts;
  const damping = 1 + 2 * (nesterov ? beta : 0);
  if (!decoupled) return (2 + 2 * beta) / (damping * eta) - weightDecay;
  return (2 + 2 * beta - (1 + beta) * eta * weightDecay) / (damping * eta);
}

/**
 * Adam's threshold on the preconditioned curvature (the sharpness λmax(P⁻¹H), P = diag(√v̂ + ε)
 * frozen): `(2 + 2β₁)/((1 − β₁)η)`, 38/η for β₁ = 0.9 (Cohen, Kaur, Li, Lee, Nado, Gilmer & Zhang
 * 2022, "Adaptive gradient methods at the edge of stability", §3): the heavy-ball threshold for the
 * EMA momentum `m ← β₁m + (1 − β₁)g`, whose effective step is (1 − β₁)η. With decoupled weight decay
 * λ (AdamW, `u = m̂/P + λw`) the −1 crossing of the (w, m) recurrence moves it to
 * `((2 + 2β₁) − (1 + β₁)ηλ)/((1 − β₁)η)`. β₁ = 0 gives RMSProp's 2/η. Assumes t large (m̂ = m).
 *
 * @param eta the step η > 0. @param b1 β₁ ∈ [0, 1). @param decoupledDecay λ ≥ 0 of AdamW (default 0).
 */
export function adamThreshold(eta: number, b1: number, decoupledDecay = 0): number {
  return (2 + 2 * b1 - (1 + b1) * eta * decoupledDecay) / ((1 - b1) * eta);
}
