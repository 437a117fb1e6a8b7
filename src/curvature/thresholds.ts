/**
 * Linear-stability thresholds of optimizers on a quadratic with curvature λ (LITERATURE.md,
 * "Stability thresholds"): the iteration is stable iff λ is below the threshold.
 *
 * - gradient descent, step η: λ < 2/η;
 * - heavy-ball momentum β (Polyak): λ < (2 + 2β)/η;
 * - Nesterov momentum β: λ < (2 + 2β)/((1 + 2β)η);
 * - Adam with β₁ on the preconditioned Hessian P⁻¹H, P = diag(√v̂ + ε) frozen: λ < (2 + 2β₁)/((1 − β₁)η)
 *   (Cohen et al. 2022, "Adaptive gradient methods at the edge of stability", §3: 38/η for β₁ = 0.9).
 */
export type ThresholdRule =
  | { kind: "gd" }
  | { kind: "heavyBall"; beta: number }
  | { kind: "nesterov"; beta: number }
  | { kind: "adam"; b1: number };

/** The stability threshold for learning rate `eta` under `rule`. */
export function stabilityThreshold(rule: ThresholdRule, eta: number): number {
  switch (rule.kind) {
    case "gd":
      return 2 / eta;
    case "heavyBall":
      return (2 + 2 * rule.beta) / eta;
    case "nesterov":
      return (2 + 2 * rule.beta) / ((1 + 2 * rule.beta) * eta);
    case "adam":
      return (2 + 2 * rule.b1) / ((1 - rule.b1) * eta);
  }
}

/**
 * The rule for the raw Hessian of an optimizer config (`{kind, momentum?, nesterov?}`), or null when
 * the raw-Hessian threshold does not apply (adaptive methods: use the preconditioned sharpness).
 */
export function thresholdRuleFor(opt: { kind: string; momentum?: number; nesterov?: boolean }): ThresholdRule | null {
  if (opt.kind === "sgd") {
    const beta = opt.momentum ?? 0;
    if (beta === 0) return { kind: "gd" };
    return opt.nesterov ? { kind: "nesterov", beta } : { kind: "heavyBall", beta };
  }
  return null;
}
