import { check, keep, lit, np, release, treeToHost, type Params } from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves } from "./util.js";

/** Options of `scaleByRss`. */
export interface ScaleByRssOptions {
  /** Starting value of the accumulator of squared gradients, ≥ 0 (default 0.1). */
  readonly initialAccumulatorValue?: number;
  /** ε added to the root sum of squares (default 1e-7). */
  readonly eps?: number;
}

/** State of `scaleByRss`: the running sum of squared gradients, shaped like the parameters. */
export interface ScaleByRssState {
  sumOfSquares: Params;
}

/**
 * AdaGrad's preconditioning (optax `scale_by_rss`), Duchi, Hazan & Singer, "Adaptive Subgradient
 * Methods for Online Learning and Stochastic Optimization", JMLR 2011, diagonal version with
 * `H_t = δI + diag(Σ_{s≤t} g_s²)^{1/2}`:
 *
 * `G ← G + g²`, `u = g / (√G + ε)`, with `G₀ = initialAccumulatorValue`. Follow with
 * `scaleByLearningRate`. `preconditioner.diagonal(state)` gives `P = √G + ε` (`u = P⁻¹g`; G includes
 * the current g², as in the update).
 *
 * @param opts.initialAccumulatorValue default 0.1 (optax). @param opts.eps ε = δ, default 1e-7.
 */
export function scaleByRss(opts: ScaleByRssOptions = {}): GradientTransformation {
  const { initialAccumulatorValue = 0.1, eps = 1e-7 } = opts;
  check(
    initialAccumulatorValue >= 0 && Number.isFinite(initialAccumulatorValue),
    `scaleByRss: initialAccumulatorValue must be a finite number ≥ 0, got ${initialAccumulatorValue}`,
  );
  check(eps >= 0 && Number.isFinite(eps), `scaleByRss: eps must be a finite number ≥ 0, got ${eps}`);
  return {
    preconditioner: {
      async diagonal(state: OptState): Promise<Float64Array> {
        const g = await treeToHost(keep((state as unknown as ScaleByRssState).sumOfSquares));
        return g.map((a) => Math.sqrt(a) + eps);
      },
    },
    init(params: Params): OptState {
      return { sumOfSquares: mapLeaves((w) => np.fullLike(w, initialAccumulatorValue), params) };
    },
    update(updates: Params, state: OptState, params: Params, _extras: Extras): [Params, OptState] {
      release(params);
      const s = state as unknown as ScaleByRssState;
      const sum = mapLeaves((g, a) => a.add(g.ref.mul(g)), keep(updates), s.sumOfSquares);
      const out = mapLeaves(
        (g, a) => {
          const r = np.sqrt(a);
          return g.div(r.add(lit(eps, r)));
        },
        updates,
        keep(sum),
      );
      return [out, { sumOfSquares: sum }];
    },
  };
}
