import type { GradientTransformation } from "./types.js";
import { scaleByRss } from "./scaleByRss.js";
import { withTheory } from "./theory.js";
import { withWeightDecay } from "./withWeightDecay.js";

/** Options of `adagrad`. */
export interface AdagradOptions {
  /** Starting value of the squared-gradient accumulator (default 0.1). */
  readonly initialAccumulatorValue?: number;
  /** ε added to the root sum of squares (default 1e-7). */
  readonly eps?: number;
  /** Weight decay λ ≥ 0 (default 0). */
  readonly weightDecay?: number;
  /** Decoupled instead of L2 weight decay (default false). */
  readonly decoupled?: boolean;
}

/**
 * AdaGrad (Duchi, Hazan & Singer, JMLR 2011, diagonal version):
 *
 * `g ← g + λw` (coupled decay), `G ← G + g²`, `w ← w − η g/(√G + ε)`, `G₀ = initialAccumulatorValue`;
 * decoupled decay adds `λw` to the update before `η`. Built as
 * `chain([coupledWeightDecay], scaleByRss, [addDecayedWeights], scaleByLearningRate)`.
 *
 * Theory: `preconditioner` P = diag(√G + ε) from the state, *without* a threshold: with P frozen the
 * step is GD on P⁻¹H (unstable above 2/η), but AdaGrad's P only grows (G accumulates every g², and
 * more so while the iterate oscillates), so λmax(P⁻¹H) is driven down rather than held at a
 * constant edge as with the moving averages of Adam and RMSProp.
 *
 * @param opts initialAccumulatorValue 0.1, eps 1e-7, weightDecay 0, decoupled false.
 */
export function adagrad(opts: AdagradOptions = {}): GradientTransformation {
  const { weightDecay = 0, decoupled = false, ...rest } = opts;
  return withTheory(withWeightDecay([scaleByRss(rest)], weightDecay, decoupled), {});
}
