import {
  check,
  keep,
  lit,
  np,
  release,
  treeAdd,
  treeDot,
  treeNormSq,
  treeScale,
  treeSub,
  treeZerosLike,
  type Array,
  type Params,
} from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves, treeDtype } from "./util.js";

/** Options of `stepTunedSgd`. */
export interface StepTunedSgdOptions {
  /** μ > 0: the multiplier used where the curvature estimate is ≤ 0 (locally concave; default 2). */
  readonly mu?: number;
  /** β ∈ [0, 1): averaging of the gradient differences (default 0.9). */
  readonly beta?: number;
  /** Lower bound m̃ > 0 of the tuned multiplier γ (default 0.5). */
  readonly minGamma?: number;
  /** Upper bound M̃ ≥ m̃ of the tuned multiplier γ (default 2). */
  readonly maxGamma?: number;
  /** δ ∈ [0, 1/2): the steps decay as (k + 1)^{−(1/2 + δ)} (default 0.001; "conference" only). */
  readonly delta?: number;
  /**
   * "conference" (default): the decay (k + 1)^{−(1/2+δ)} inside every step (arXiv 2103.03570,
   * Algorithm 1; the journal's Algorithm 2). "journal": the journal's Algorithm 1, s_k = α γ_k without
   * the decay (decay the rate with the learning-rate schedule instead, or not at all).
   */
  readonly variant?: "conference" | "journal";
}

/**
 * State of `stepTunedSgd`: the discounted sum `gDiff = Σ_i β^{k−i} Δg_i` of gradient differences
 * (shaped like the parameters) and its weight `weight = Σ_i β^{k−i}`, so that the paper's
 * bias-corrected average is `Ĝ = gDiff/weight`; the multiplier `gamma` of the next step; the number
 * `count` of steps taken. Scalars are 0-d in the parameter dtype.
 */
export interface StepTunedSgdState {
  gDiff: Params;
  weight: Array;
  gamma: Array;
  count: Array;
}

/**
 * Step-tuned SGD (Castera, Bolte, Févotte & Pauwels, "Second-order step-size tuning of SGD for
 * non-convex optimization", arXiv 2103.03570, 2021, Algorithm 1): a stochastic Barzilai–Borwein step
 * from the curvature along the last step, measured with two gradients on the *same* mini-batch.
 *
 * Per step k = 0, 1, … (`count`), with mini-batch loss L_B, `g = ∇L_B(θ_k)` (the `updates` handed in)
 * and `α = extras.lr`:
 * 1. `s_k = α γ_k / (k + 1)^{1/2+δ}` ("conference"; `s_k = α γ_k` for "journal"), `γ_0 = 1`;
 * 2. half step `θ_{k+½} = θ_k − s_k g`; `g' = ∇L_B(θ_{k+½})` via `extras.gradFn` (same batch);
 * 3. second half step `θ_{k+1} = θ_{k+½} − s_k g'`, i.e. the returned update is `−s_k (g + g')`;
 * 4. `Δθ = θ_{k+½} − θ_k`, `Δg = g' − g`, `G ← β G + (1 − β) Δg` (G₀ = 0), `Ĝ = G/(1 − β^{k+1})`
 *    (kept as `Σ β^{k−i} Δg_i / Σ β^{k−i}`, the same quantity without the cancellation in 1 − β^{k+1});
 * 5. `γ_{k+1} = ‖Δθ‖²/⟨Ĝ, Δθ⟩` if `⟨Ĝ, Δθ⟩ > 0`, else μ (the safeguard for locally concave regions);
 *    then clipped to [m̃, M̃] (the other safeguard).
 *
 * On a quadratic with Hessian H, `γ_1 = ‖g‖²/gᵀHg`: the inverse curvature along the step, so with
 * α = 1 the first tuned step is the Barzilai–Borwein (Cauchy) step, bounded to [m̃, M̃]. Defaults
 * (μ, β, m̃, M̃, δ) = (2, 0.9, 0.5, 2, 0.001) are the paper's (journal version, Neural Processing
 * Letters 2022, footnote 4). Choices we made (the algorithm box was not re-verified): one step size
 * s_k for both half steps, the decay counted from k + 1 = 1 with the 0-based count kept in the state
 * (not the trainer's step), γ₀ = 1, μ clipped like the BB value, and α taken from the learning-rate
 * schedule (use a constant schedule for the paper's method). Costs one extra gradient per step.
 * `(k + 1)^{−(1/2+δ)}` uses `np.power` (float32-precision exp/log on Wasm: relative error ~1e-7 in
 * s_k for k ≥ 1) except for δ = 0 (an exact square root). Throws if `extras.gradFn` is missing.
 * The config schema refuses `clipNorm` and SAM around it: both would change g but not g′, and the
 * curvature estimate needs the two half steps to see gradients treated alike.
 *
 * Variants (`variant`): "conference" (default) is the form above, the decay (k + 1)^{−(1/2+δ)} in
 * every step, as in Algorithm 1 of the arXiv version (2103.03570). The journal version (Neural
 * Processing Letters 2022) separates the two: its Algorithm 1 is the step-tuned step without decay,
 * `s_k = α γ_k` (steps 2–5 unchanged) — that is `variant: "journal"`, where δ is unused — and its
 * Algorithm 2 adds the Robbins–Monro decay (its footnotes 3 and 5), which is the "conference" form.
 * The journal's algorithm boxes were not re-read here (only its footnotes); if its Algorithm 2's decay
 * differs from (k + 1)^{−(1/2+δ)}, "conference" is the arXiv form only.
 *
 * @param opts mu 2, beta 0.9, minGamma 0.5, maxGamma 2, delta 0.001, variant "conference".
 */
export function stepTunedSgd(opts: StepTunedSgdOptions = {}): GradientTransformation {
  const { mu = 2, beta = 0.9, minGamma = 0.5, maxGamma = 2, delta = 0.001, variant = "conference" } = opts;
  check(
    variant === "conference" || variant === "journal",
    `stepTunedSgd: variant must be "conference" or "journal", got ${String(variant)}`,
  );
  check(Number.isFinite(mu) && mu > 0, `stepTunedSgd: mu must be a finite number > 0, got ${mu}`);
  check(Number.isFinite(beta) && beta >= 0 && beta < 1, `stepTunedSgd: beta must lie in [0, 1), got ${beta}`);
  check(
    Number.isFinite(minGamma) && minGamma > 0,
    `stepTunedSgd: minGamma must be a finite number > 0, got ${minGamma}`,
  );
  check(
    Number.isFinite(maxGamma) && maxGamma >= minGamma,
    `stepTunedSgd: maxGamma must be a finite number ≥ minGamma (${minGamma}), got ${maxGamma}`,
  );
  check(Number.isFinite(delta) && delta >= 0 && delta < 0.5, `stepTunedSgd: delta must lie in [0, 1/2), got ${delta}`);
  return {
    init(params: Params): OptState {
      const dtype = treeDtype(params);
      const state: StepTunedSgdState = {
        gDiff: treeZerosLike(params),
        weight: np.zeros([], { dtype }),
        gamma: np.ones([], { dtype }),
        count: np.zeros([], { dtype }),
      };
      return state as unknown as OptState;
    },
    update(updates: Params, state: OptState, params: Params, extras: Extras): [Params, OptState] {
      const s = state as unknown as StepTunedSgdState;
      if (extras.gradFn === undefined) {
        release([updates, state, params]);
        throw new Error("stepTunedSgd needs extras.gradFn, the mini-batch gradient at other parameters");
      }
      const k1 = s.count.add(lit(1, s.count));
      const decay =
        variant === "journal"
          ? null
          : delta === 0
            ? lit(1, k1).div(np.sqrt(k1.ref))
            : np.power(k1.ref, lit(-(0.5 + delta), k1));
      const tuned = extras.lr.ref.mul(s.gamma);
      const stepSize = decay === null ? tuned : tuned.mul(decay);
      const dTheta = treeScale(np.negative(stepSize.ref), keep(updates));
      const g2 = extras.gradFn(treeAdd(params, keep(dTheta)));
      const out = treeSub(keep(dTheta), treeScale(stepSize, keep(g2)));
      const gDiff = mapLeaves((d, G) => d.add(G.mul(lit(beta, G))), treeSub(g2, updates), s.gDiff);
      const weight = s.weight.mul(lit(beta, s.weight)).add(lit(1, s.weight));
      const curv = treeDot(keep(gDiff), keep(dTheta)).div(weight.ref);
      const sq = treeNormSq(dTheta);
      const positive = np.greater(curv.ref, lit(0, curv));
      const raw = np.where(positive, sq.div(curv), lit(mu, k1));
      const gamma = np.clip(raw, lit(minGamma, k1), lit(maxGamma, k1));
      const next: StepTunedSgdState = { gDiff, weight, gamma, count: k1 };
      return [out, next as unknown as OptState];
    },
  };
}
