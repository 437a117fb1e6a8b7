/**
 * Fully connected network (multi-layer perceptron) in standard or NTK parametrization, optionally
 * with batch or layer normalisation after each hidden linear layer.
 */
import { release, type Array, type Params } from "../core/index.js";
import { activate } from "./activations.js";
import { checkBatch, dense, denseParamCount, flattenBatch, initDenseLayers, type DenseParams } from "./layers.js";
import { checkBatchWithState, initAffine, initBatchNormState, layerNorm, NormPass, type AffineParams } from "./norm.js";
import type { MlpConfig } from "./schema.js";
import type { Model, ModelState } from "./types.js";

/**
 * MLP parameters: one `{W: [d_in, d_out], b: [d_out]}` per layer (`b` absent without bias), and with
 * `norm` "batch" or "layer" one `{gamma, beta}` [d_out] per hidden layer (`norms`, absent otherwise).
 */
export interface MlpParams {
  layers: DenseParams[];
  norms?: AffineParams[];
}

/**
 * A fully connected network on inputs [B, ...inputShape] (flattened to [B, d]):
 * h₀ = x, h_{l+1} = σ(N_l(m_l·h_l W_l + b_l)), output = m_L·h_L W_L + b_L, σ after every layer but
 * the last.
 *
 * - "standard": m_l = 1, W_l ~ N(0, std²) by `config.init` (see `initStd`) times `initScale`.
 * - "ntk": W_l ~ N(0, 1), m_l = initScale/√fan_in (Jacot, Gabriel & Hongler 2018, §2), so the
 *   function at init is distributed as the "lecun" standard network while gradients scale as in
 *   the NTK limit.
 * - `norm` (default "none": N_l = identity): "batch" = batch norm with γ, β and running statistics
 *   (Ioffe & Szegedy 2015; momentum 0.1, ε = 1e-5, see `batchNormTrain`), placed before the
 *   nonlinearity as in their §3.2; "layer" = layer norm with γ, β (Ba, Kiros & Hinton 2016). With
 *   "batch" the model is stateful (`initState`, `applyTrain`; eval-mode `apply` needs the state).
 *
 * Biases start at zero, γ at one. Parameters: `{ layers: [{W, b}, ...], norms?: [{gamma, beta}] }`.
 */
export function mlp(config: MlpConfig, inputShape: readonly number[], outputDim: number): Model<MlpConfig> {
  const d = inputShape.reduce((a, b) => a * b, 1);
  const dims = [d, ...config.hidden, outputDim];
  const ntk = config.parametrization === "ntk";
  const multipliers = ntk ? dims.slice(0, -1).map((fanIn) => config.initScale / Math.sqrt(fanIn)) : null;
  const hidden = config.hidden;
  const forward = (params: Params, x: Array, pass: NormPass | null): Array => {
    const { layers, norms } = params as unknown as MlpParams;
    let h = flattenBatch(x);
    layers.forEach((layer, i) => {
      h = dense(h, layer, multipliers ? multipliers[i] : null);
      if (i === layers.length - 1) return;
      const affine = norms?.[i] ?? null;
      if (config.norm === "batch") h = (pass as NormPass).batchNorm(h, affine);
      else if (config.norm === "layer") h = layerNorm(h, affine);
      h = activate(config.activation, h);
    });
    return h;
  };
  const model: Model<MlpConfig> = {
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
      const p: MlpParams = { layers };
      if (config.norm !== "none") p.norms = hidden.map((w) => initAffine(w, dtype));
      return p as unknown as Params;
    },
    apply(params, x, opts) {
      checkBatch(params, x, inputShape, "mlp");
      if (config.norm !== "batch") return forward(params, x, null);
      const pass = NormPass.forApply("mlp", opts, {}, () => release([params, x]));
      const out = forward(params, x, pass);
      pass.finish();
      return out;
    },
    paramCount() {
      return denseParamCount(dims, config.bias) + (config.norm === "none" ? 0 : 2 * hidden.reduce((a, b) => a + b, 0));
    },
  };
  if (config.norm !== "batch") return model;
  return {
    ...model,
    initState(dtype) {
      return hidden.map((w) => initBatchNormState(w, dtype)) as unknown as ModelState;
    },
    applyTrain(params, state, x) {
      checkBatchWithState(params, state, x, inputShape, "mlp");
      const pass = NormPass.forTrain(state, {});
      const out = forward(params, x, pass);
      return [out, pass.finish() as ModelState];
    },
  };
}
