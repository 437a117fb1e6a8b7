/**
 * Diagonal linear network, the model of the kernel/rich-regime transition.
 */
import type { Params } from "../core/index.js";
import { np, type Array } from "../core/index.js";
import { checkBatch, constArray, flattenBatch } from "./layers.js";
import type { DiagonalLinearConfig } from "./schema.js";
import type { Model } from "./types.js";

/** Parameters of the diagonal linear network: u, v [d, k]. */
export interface DiagonalLinearParams {
  u: Array;
  v: Array;
}

/**
 * f(x) = ⟨u⊙u − v⊙v, x⟩ (Woodworth et al. 2020, "Kernel and rich regimes in overparametrized
 * models": the depth-2 diagonal linear network w = w₊² − w₋²), one independent column per output: f(x) = x(u⊙u − v⊙v) with
 * u, v [d, outputDim]. Init u = v = α·1, so the linear predictor starts at w₀ = 0; small α gives the
 * rich (ℓ₁-like) regime, large α the kernel (ℓ₂) regime. Inputs [B, ...] are flattened to [B, d].
 */
export function diagonalLinear(
  config: DiagonalLinearConfig,
  inputShape: readonly number[],
  outputDim: number,
): Model<DiagonalLinearConfig> {
  const d = inputShape.reduce((a, b) => a * b, 1);
  return {
    config,
    inputShape,
    outputDim,
    init(_key, dtype) {
      const p: DiagonalLinearParams = {
        u: constArray([d, outputDim], config.alpha, dtype),
        v: constArray([d, outputDim], config.alpha, dtype),
      };
      return p as unknown as Params;
    },
    apply(params, x) {
      checkBatch(params, x, inputShape, "diagonalLinear");
      const { u, v } = params as unknown as DiagonalLinearParams;
      const w = u.ref.mul(u).sub(v.ref.mul(v));
      return np.matmul(flattenBatch(x), w);
    },
    paramCount() {
      return 2 * d * outputDim;
    },
  };
}
