/**
 * Two-layer network in standard (1/√m) or mean-field (1/m) scaling, optionally with a frozen second
 * layer.
 */
import { lit, np, type Array, type Params } from "../core/index.js";
import { activate } from "./activations.js";
import { checkBatch, constArray, flattenBatch, normalArray } from "./layers.js";
import type { TwoLayerConfig } from "./schema.js";
import type { Model } from "./types.js";

/** Parameters: W [d, m], b [m], a [m, k] (absent when fixed), c [k]; b and c absent without bias. */
export interface TwoLayerParams {
  W: Array;
  b?: Array;
  a?: Array;
  c?: Array;
}

/**
 * f(x) = s_m·σ(xW + b)a + c on inputs flattened to [B, d], with hidden width m and
 * s_m = 1/√m ("standard", the NTK scaling; Jacot et al. 2018) or 1/m ("meanField"; Mei, Montanari &
 * Nguyen 2018; Chizat & Bach 2018). Init: W ~ N(0, initScale²/d), a ~ N(0, initScale²), b = c = 0.
 * With `fixedSecondLayer`, a is not a parameter: a_j = (−1)^j for every output (balanced signs, as
 * the random ±1 of Du, Zhai, Poczós & Singh 2019 up to a permutation of hidden units).
 */
export function twoLayer(
  config: TwoLayerConfig,
  inputShape: readonly number[],
  outputDim: number,
): Model<TwoLayerConfig> {
  const d = inputShape.reduce((a, b) => a * b, 1);
  const m = config.width;
  const scale = config.scaling === "meanField" ? 1 / m : 1 / Math.sqrt(m);
  const fixedA = new Float64Array(m * outputDim);
  for (let j = 0; j < m; j++) fixedA.fill(j % 2 === 0 ? 1 : -1, j * outputDim, (j + 1) * outputDim);
  return {
    config,
    inputShape,
    outputDim,
    init(key, dtype) {
      const p: TwoLayerParams = { W: normalArray(key.fold("W"), [d, m], config.initScale / Math.sqrt(d), dtype) };
      if (config.bias) p.b = constArray([m], 0, dtype);
      if (!config.fixedSecondLayer) p.a = normalArray(key.fold("a"), [m, outputDim], config.initScale, dtype);
      if (config.bias) p.c = constArray([outputDim], 0, dtype);
      return p as unknown as Params;
    },
    apply(params, x) {
      checkBatch(params, x, inputShape, "twoLayer");
      const { W, b, a, c } = params as unknown as TwoLayerParams;
      const dtype = W.dtype;
      let h = np.matmul(flattenBatch(x), W);
      if (b) h = h.add(b);
      h = activate(config.activation, h);
      const second =
        a ?? np.array(dtype === np.float64 ? fixedA : Float32Array.from(fixedA), { dtype }).reshape([m, outputDim]);
      const out = np.matmul(h, second);
      const scaled = out.mul(lit(scale, out));
      return c ? scaled.add(c) : scaled;
    },
    paramCount() {
      return d * m + (config.fixedSecondLayer ? 0 : m * outputDim) + (config.bias ? m + outputDim : 0);
    },
  };
}
