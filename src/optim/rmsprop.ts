import { check } from "../core/index.js";
import type { GradientTransformation } from "./types.js";
import { scaleByRms } from "./scaleByRms.js";
import { trace } from "./trace.js";
import { momentumThreshold } from "./stability.js";
import { withTheory } from "./theory.js";
import { withWeightDecay } from "./withWeightDecay.js";

/** Options of `rmsprop`. */
export interface RmspropOptions {
  /** Decay ρ of the squared-gradient average (default 0.9). */
  readonly decay?: number;
  /** ε added to the root mean square (default 1e-8). */
  readonly eps?: number;
  /** Centred variant (default false). */
  readonly centered?: boolean;
  /** Momentum β ∈ [0, 1) applied to the preconditioned gradient (default 0). */
  readonly momentum?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  readonly nesterov?: boolean;
  /** Weight decay λ ≥ 0 (default 0). */
  readonly weightDecay?: number;
  /** Decoupled instead of L2 weight decay (default false). */
  readonly decoupled?: boolean;
}

/**
 * RMSProp (Tieleman & Hinton, Lecture 6.5, 2012), as in PyTorch / optax:
 *
 * `g ← g + λw` (coupled decay), `ν ← ρν + (1−ρ)g²`, `u = g/(√ν + ε)` (centred: `√(ν − μ²)`),
 * with momentum `b ← βb + u`, `w ← w − η b`; decoupled decay adds `λw` to the update before `η`.
 * Built as `chain([coupledWeightDecay], scaleByRms, [trace], [addDecayedWeights], scaleByLearningRate)`.
 *
 * Theory: `preconditioner` P = diag(√ν + ε) (centred √(ν − μ²) + ε) from the state; with P frozen the
 * method is GD / heavy ball / Nesterov on P⁻¹H, so the threshold of λmax(P⁻¹H) is
 * `momentumThreshold(η, {beta: momentum, nesterov, weightDecay, decoupled: true})` (2/η without
 * momentum: Cohen et al. 2022, §3); none with coupled decay λ > 0 (P⁻¹(H + λI) is not a shift of P⁻¹H).
 *
 * @param opts decay 0.9, eps 1e-8, centered false, momentum 0, nesterov false, weightDecay 0,
 * decoupled false.
 */
export function rmsprop(opts: RmspropOptions = {}): GradientTransformation {
  const { decay, eps, centered, momentum = 0, nesterov = false, weightDecay = 0, decoupled = false } = opts;
  check(momentum >= 0 && momentum < 1, `rmsprop: momentum must lie in [0, 1), got ${momentum}`);
  check(!nesterov || momentum > 0, "rmsprop: nesterov needs momentum > 0");
  const core = [scaleByRms({ decay, eps, centered })];
  if (momentum > 0) core.push(trace({ decay: momentum, nesterov }));
  const coupled = weightDecay > 0 && !decoupled;
  return withTheory(withWeightDecay(core, weightDecay, decoupled), {
    preconditionerThreshold: coupled
      ? undefined
      : (lr) => momentumThreshold(lr, { beta: momentum, nesterov, weightDecay, decoupled: true }),
  });
}
