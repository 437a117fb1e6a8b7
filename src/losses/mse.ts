/**
 * Squared-error loss with the reductions of the reference cases.
 */
import { lit, type Array } from "../core/index.js";
import { makeLoss } from "./loss.js";
import type { Loss } from "./types.js";

/** How the squared errors Σ(f−y)² of a batch of N examples with d outputs are reduced. */
export type MseReduction = "mean" | "half_mean" | "half_sum" | "sum";

/**
 * Squared error of outputs f [N, d] against targets y [N, d] (one-hot vectors for classification):
 * "mean" = Σ(f−y)²/(N·d); "half_mean" = ½Σ(f−y)²/N (the default; Cohen et al. 2021 train with MSE on
 * one-hot targets); "half_sum" = ½Σ(f−y)²; "sum" = Σ(f−y)². Per-example means ("mean",
 * "half_mean") average over chunks by size; sums add. Divides by `lit` constants: jax-js 0.1.25
 * miscompiles float64 `jit(jvp(grad(f)))` when f ends in `.mul`/`.div` by a JS number, integers
 * included (see losses.test.ts). Consumes both arguments.
 */
export function mse(reduction: MseReduction = "half_mean"): Loss {
  return makeLoss(
    (out: Array, y: Array): Array => {
      if (out.ndim !== 2 || y.ndim !== 2 || out.shape[0] !== y.shape[0] || out.shape[1] !== y.shape[1]) {
        const msg = `mse: outputs [${out.shape}] and targets [${y.shape}] must both be [N, d]`;
        out.dispose();
        y.dispose();
        throw new Error(msg);
      }
      const [n, d] = out.shape;
      const r = out.sub(y.astype(out.dtype));
      const se = r.ref.mul(r).sum();
      switch (reduction) {
        case "mean":
          return se.div(lit(n * d, se));
        case "half_mean":
          return se.div(lit(2 * n, se));
        case "half_sum":
          return se.div(lit(2, se));
        case "sum":
          return se;
      }
    },
    {
      name: `mse(${reduction})`,
      targetKind: "vectors",
      perExampleMean: reduction === "mean" || reduction === "half_mean",
    },
  );
}
