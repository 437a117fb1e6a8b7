import { check, keep, lit, np, tree, treeNorm } from "../core/index.js";
import type { GradientTransformation } from "./types.js";
import { scaleLeaves, stateless } from "./util.js";

/**
 * Clips the updates to a maximal global ℓ₂ norm (optax `clip_by_global_norm`), Pascanu, Mikolov &
 * Bengio, "On the difficulty of training recurrent neural networks", ICML 2013, Algorithm 1:
 *
 * `u ← u · c / max(‖u‖₂, c)`, i.e. rescaled to norm `c` when `‖u‖₂ > c` and unchanged (factor exactly
 * 1) otherwise; the norm is over all leaves together. Stateless; put it first in a chain.
 *
 * @param maxNorm c > 0.
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation {
  check(
    maxNorm > 0 && Number.isFinite(maxNorm),
    `clipByGlobalNorm: maxNorm must be a finite number > 0, got ${maxNorm}`,
  );
  return stateless((updates) => {
    if (tree.leaves(updates).length === 0) return updates;
    const norm = treeNorm(keep(updates));
    const c = lit(maxNorm, norm);
    return scaleLeaves(updates, c.ref.div(np.maximum(norm, c)));
  });
}
