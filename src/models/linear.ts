/**
 * Linear model.
 */
import type { Params } from "../core/index.js";
import { checkBatch, constArray, dense, flattenBatch, initStd, normalArray, type DenseParams } from "./layers.js";
import type { LinearConfig } from "./schema.js";
import type { Model } from "./types.js";

/**
 * f(x) = xW + b on inputs [B, ...inputShape] flattened to [B, d]; W [d, outputDim], b [outputDim].
 * W starts at zero ("zeros", the default) or ~ N(0, std²) by `initStd`; b starts at zero.
 * Parameters: `{ W, b }` (`b` absent without bias).
 */
export function linear(config: LinearConfig, inputShape: readonly number[], outputDim: number): Model<LinearConfig> {
  const d = inputShape.reduce((a, b) => a * b, 1);
  return {
    config,
    inputShape,
    outputDim,
    init(key, dtype) {
      const W =
        config.init === "zeros"
          ? constArray([d, outputDim], 0, dtype)
          : normalArray(key.fold("W"), [d, outputDim], initStd(config.init, d, outputDim, config.initScale), dtype);
      const p: DenseParams = { W };
      if (config.bias) p.b = constArray([outputDim], 0, dtype);
      return p as unknown as Params;
    },
    apply(params, x) {
      checkBatch(params, x, inputShape, "linear");
      return dense(flattenBatch(x), params as unknown as DenseParams);
    },
    paramCount() {
      return d * outputDim + (config.bias ? outputDim : 0);
    },
  };
}
