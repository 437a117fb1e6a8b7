import { check } from "../core/index.js";
import type { GradientTransformation } from "./types.js";
import { trace } from "./trace.js";
import { momentumThreshold } from "./stability.js";
import { withTheory } from "./theory.js";
import { withWeightDecay } from "./withWeightDecay.js";

/** Options of `sgd`. */
export interface SgdOptions {
  /** Momentum β ∈ [0, 1) (default 0: plain gradient descent). */
  readonly momentum?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  readonly nesterov?: boolean;
  /** Weight decay λ ≥ 0 (default 0). */
  readonly weightDecay?: number;
  /** Decouple the decay from the gradient (SGDW) instead of adding λw to it (default false). */
  readonly decoupled?: boolean;
}

/**
 * Stochastic gradient descent, with optional heavy-ball or Nesterov momentum and weight decay.
 *
 * Formula: `g ← g + λw` (coupled decay), `v ← βv + g`, `w ← w − η v` (heavy ball, Polyak 1964) or
 * `w ← w − η (g + βv)` (Nesterov, Sutskever et al. 2013); with `decoupled`,
 * `w ← w − η (v + λw)` (SGDW, Loshchilov & Hutter, ICLR 2019, Algorithm 1). `η = extras.lr`.
 * Built as `chain([coupledWeightDecay], [trace], [addDecayedWeights], scaleByLearningRate)`.
 * `stabilityThreshold(η)`: `momentumThreshold(η, {beta, nesterov, weightDecay, decoupled})`, e.g. 2/η.
 *
 * @param opts.momentum default 0. @param opts.nesterov default false. @param opts.weightDecay
 * default 0. @param opts.decoupled default false.
 */
export function sgd(opts: SgdOptions = {}): GradientTransformation {
  const { momentum = 0, nesterov = false, weightDecay = 0, decoupled = false } = opts;
  check(momentum >= 0 && momentum < 1, `sgd: momentum must lie in [0, 1), got ${momentum}`);
  check(!nesterov || momentum > 0, "sgd: nesterov needs momentum > 0");
  const core = momentum > 0 ? [trace({ decay: momentum, nesterov })] : [];
  return withTheory(withWeightDecay(core, weightDecay, decoupled), {
    stabilityThreshold: (lr) => momentumThreshold(lr, { beta: momentum, nesterov, weightDecay, decoupled }),
  });
}
