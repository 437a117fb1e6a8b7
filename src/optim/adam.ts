import type { GradientTransformation } from "./types.js";
import { scaleByAdam } from "./scaleByAdam.js";
import { adamThreshold } from "./stability.js";
import { withTheory } from "./theory.js";
import { withWeightDecay } from "./withWeightDecay.js";

/** Options of `adam` and `adamw`. */
export interface AdamOptions {
  /** First-moment decay β₁ (default 0.9). */
  readonly b1?: number;
  /** Second-moment decay β₂ (default 0.999). */
  readonly b2?: number;
  /** ε added to √v̂ (default 1e-8). */
  readonly eps?: number;
  /** ε inside the square root (default 0). */
  readonly epsRoot?: number;
  /** Weight decay λ ≥ 0 (default 0 for `adam`, 1e-4 for `adamw`). */
  readonly weightDecay?: number;
}

/**
 * Adam (Kingma & Ba, ICLR 2015, Algorithm 1), with optional *coupled* L2 weight decay as in PyTorch's
 * `Adam(weight_decay=λ)`:
 *
 * `g ← g + λw`, `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `w ← w − η m̂/(√v̂ + ε)` with the bias
 * corrections `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`. `η = extras.lr`. Built as
 * `chain([coupledWeightDecay], scaleByAdam, scaleByLearningRate)`.
 *
 * Theory: `preconditioner` P = diag(√(v̂ + ε_root) + ε) from the state, with threshold
 * (2 + 2β₁)/((1 − β₁)η) on λmax(P⁻¹H) (`adamThreshold`, Cohen et al. 2022, §3) when λ = 0; with
 * coupled decay the frozen-P map involves P⁻¹(H + λI), not a shift of P⁻¹H, so no threshold is given.
 *
 * @param opts b1 0.9, b2 0.999, eps 1e-8, epsRoot 0, weightDecay 0.
 */
export function adam(opts: AdamOptions = {}): GradientTransformation {
  const { weightDecay = 0, ...rest } = opts;
  const b1 = rest.b1 ?? 0.9;
  return withTheory(withWeightDecay([scaleByAdam(rest)], weightDecay, false), {
    preconditionerThreshold: weightDecay === 0 ? (lr) => adamThreshold(lr, b1) : undefined,
  });
}

/**
 * AdamW: Adam with *decoupled* weight decay (Loshchilov & Hutter, "Decoupled Weight Decay
 * Regularization", ICLR 2019, Algorithm 2):
 *
 * `w ← w − η (m̂/(√v̂ + ε) + λ w)`, the moments computed from the raw gradient. Built as
 * `chain(scaleByAdam, addDecayedWeights(λ), scaleByLearningRate)` (optax `adamw`).
 * `preconditioner` as `adam`'s, threshold ((2 + 2β₁) − (1 + β₁)ηλ)/((1 − β₁)η) (`adamThreshold`).
 *
 * @param opts b1 0.9, b2 0.999, eps 1e-8, epsRoot 0, weightDecay 1e-4 (optax's default).
 */
export function adamw(opts: AdamOptions = {}): GradientTransformation {
  const { weightDecay = 1e-4, ...rest } = opts;
  const b1 = rest.b1 ?? 0.9;
  return withTheory(withWeightDecay([scaleByAdam(rest)], weightDecay, true), {
    preconditionerThreshold: (lr) => adamThreshold(lr, b1, weightDecay),
  });
}
