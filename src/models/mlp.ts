/**
 * Fully connected network (multi-layer perceptron) in standard or NTK parametrization.
 */
import type { Params } from "../core/index.js";
import { checkBatch, denseParamCount, denseStack, flattenBatch, initDenseLayers, type DenseParams } from "./layers.js";
import type { MlpConfig } from "./schema.js";
import type { Model } from "./types.js";

/** MLP parameters: one `{W: [d_in, d_out], b: [d_out]}` per layer (`b` absent without bias). */
export interface MlpParams {
  layers: DenseParams[];
}

/**
 * A fully connected network on inputs [B, ...inputShape] (flattened to [B, d]):
 * h₀ = x, h_{l+1} = σ(m_l·h_l W_l + b_l), output = m_L·h_L W_L + b_L, σ after every layer but the last.
 *
 * - "standard": m_l = 1, W_l ~ N(0, std²) by `config.init` (see `initStd`) times `initScale`.
 * - "ntk": W_l ~ N(0, 1), m_l = initScale/√fan_in (Jacot, Gabriel & Hongler 2018, §2), so the
 *   function at init is distributed as the "lecun" standard network while gradients scale as in
 *   the NTK limit.
 *
 * Biases start at zero. Parameters: `{ layers: [{W, b}, ...] }`, x @ W + b.
 */
export function mlp(config: MlpConfig, inputShape: readonly number[], outputDim: number): Model<MlpConfig> {
  const d = inputShape.reduce((a, b) => a * b, 1);
  const dims = [d, ...config.hidden, outputDim];
  const ntk = config.parametrization === "ntk";
  const multipliers = ntk ? dims.slice(0, -1).map((fanIn) => config.initScale / Math.sqrt(fanIn)) : null;
  return {
    config,
    inputShape,
    outputDim,
    init(key, dtype) {
      const layers = initDenseLayers(key, dims, {
        scheme: ntk ? "unit" : config.init,
        initScale: config.initScale,
        bias: config.bias,
        dtype,
      });
      return { layers } satisfies MlpParams as unknown as Params;
    },
    apply(params, x) {
      checkBatch(params, x, inputShape, "mlp");
      const { layers } = params as unknown as MlpParams;
      return denseStack(flattenBatch(x), layers, config.activation, multipliers);
    },
    paramCount() {
      return denseParamCount(dims, config.bias);
    },
  };
}
