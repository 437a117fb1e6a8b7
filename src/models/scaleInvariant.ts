/**
 * Scale-invariant MLP: normalisation without affine parameters after every hidden layer, so the
 * loss does not change when a hidden weight matrix is multiplied by c > 0; plus the effective
 * learning rate η/‖w‖² of each such group.
 */
import { check, lit, np, release, toScalar, type Array, type Params } from "../core/index.js";
import { activate } from "./activations.js";
import { checkBatch, flattenBatch, initStd, normalArray } from "./layers.js";
import {
  batchNormTrain,
  checkBatchWithState,
  initBatchNormState,
  layerNorm,
  NormPass,
  type BatchNormOptions,
} from "./norm.js";
import type { ScaleInvariantMlpConfig } from "./schema.js";
import type { Model, ModelState } from "./types.js";

/** Parameters: hidden weights W_l [d_l, d_{l+1}] (no biases), and W_head with the "normalized" head. */
export interface ScaleInvariantMlpParams {
  layers: { W: Array }[];
  head?: { W: Array };
}

/**
 * The fixed head Q [m, k]: rows 0..m−1 and columns 0..k−1 of the orthonormal DCT-II matrix of size
 * N = max(m, k), Q[j, o] = α_o·cos(π(j + ½)o/N), α_0 = √(1/N), α_o = √(2/N). Its columns are
 * orthonormal when m ≥ k, its rows when m < k.
 */
export function dctHead(m: number, k: number): Float64Array {
  const n = Math.max(m, k);
  const q = new Float64Array(m * k);
  for (let j = 0; j < m; j++)
    for (let o = 0; o < k; o++)
      q[j * k + o] = Math.sqrt((o === 0 ? 1 : 2) / n) * Math.cos((Math.PI * (j + 0.5) * o) / n);
  return q;
}

/**
 * A scale-invariant MLP on inputs flattened to [B, d] (Arora, Li & Lyu 2019, "Theoretical analysis
 * of auto rate-tuning by batch normalization"; Li, Bhojanapalli, Zaheer, Reddi & Kumar 2022,
 * "Robust training of neural networks using scale invariant architectures"):
 *
 *   h₀ = x,  h_{l+1} = σ(N(h_l W_l))  for the hidden widths,  f = headScale·h_L·H
 *
 * with no biases and N without affine parameters: batch norm ("batch": batch statistics in train
 * mode, running statistics in eval mode, stateful), layer norm ("layer"), or batch standardisation
 * ("standardize": (z − μ_B)/√(σ²_B + ε) with the current batch's statistics in every mode,
 * stateless). `ghostBatch` applies to "batch" and "standardize".
 *
 * Invariance: N(c·z) = N(z) for c > 0 when ε = 0 (the default; ε > 0 breaks it where ‖w‖² is of
 * order ε), so L(…, c·W_l, …) = L(…, W_l, …), ∇_{W_l}L at c·W_l is (1/c)·∇_{W_l}L at W_l, and
 * ⟨∇_{W_l}L, W_l⟩ = 0. (In eval mode the running statistics must be scaled with W for this.)
 *
 * The head, which is documented per choice:
 * - "fixed" (default): H = Q, the constant DCT-II matrix of `dctHead`, not a parameter (as the fixed
 *   last layer of Arora, Li & Lyu 2019, §4); the parameters are exactly the hidden W_l.
 * - "normalized": H = W_head/‖W_head‖_F with W_head a parameter, itself a scale-invariant group;
 *   then every parameter is in a group (a fully scale-invariant network, Li et al. 2022).
 *
 * Init: W ~ N(0, std²) by `init`/`initScale` (irrelevant for the function, it sets ‖w‖ and thus the
 * effective learning rate). Parameters: `{ layers: [{W}, ...], head?: {W} }`.
 */
export function scaleInvariantMlp(
  config: ScaleInvariantMlpConfig,
  inputShape: readonly number[],
  outputDim: number,
): Model<ScaleInvariantMlpConfig> {
  check(
    config.ghostBatch === null || config.norm !== "layer",
    `model.ghostBatch needs model.norm "batch" or "standardize" (got "layer")`,
  );
  const d = inputShape.reduce((a, b) => a * b, 1);
  const dims = [d, ...config.hidden];
  const m = dims[dims.length - 1];
  const q = dctHead(m, outputDim);
  const bn: BatchNormOptions = { momentum: config.momentum, eps: config.eps, ghostBatch: config.ghostBatch };

  const forward = (params: Params, x: Array, pass: NormPass | null): Array => {
    const { layers, head } = params as unknown as ScaleInvariantMlpParams;
    const dtype = layers[0].W.dtype;
    let h = flattenBatch(x);
    for (const { W } of layers) {
      h = np.matmul(h, W);
      if (config.norm === "batch") h = (pass as NormPass).batchNorm(h, null);
      else if (config.norm === "layer") h = layerNorm(h, null, config.eps);
      else h = batchNormTrain(h, null, null, bn)[0];
      h = activate(config.activation, h);
    }
    let out: Array;
    if (head) {
      const norm = np.sqrt(head.W.ref.mul(head.W.ref).sum());
      out = np.matmul(h, head.W).div(norm);
    } else {
      const hq = np.array(dtype === np.float64 ? q : Float32Array.from(q), { dtype }).reshape([m, outputDim]);
      out = np.matmul(h, hq);
    }
    return config.headScale === 1 ? out : out.mul(lit(config.headScale, out));
  };

  const model: Model<ScaleInvariantMlpConfig> = {
    config,
    inputShape,
    outputDim,
    init(key, dtype) {
      const layers = dims.slice(0, -1).map((fi, i) => ({
        W: normalArray(
          key.fold(`layers/${i}/W`),
          [fi, dims[i + 1]],
          initStd(config.init, fi, dims[i + 1], config.initScale),
          dtype,
        ),
      }));
      const p: ScaleInvariantMlpParams = { layers };
      if (config.head === "normalized")
        p.head = {
          W: normalArray(
            key.fold("head/W"),
            [m, outputDim],
            initStd(config.init, m, outputDim, config.initScale),
            dtype,
          ),
        };
      return p as unknown as Params;
    },
    apply(params, x, opts) {
      checkBatch(params, x, inputShape, "scaleInvariantMlp");
      if (config.norm !== "batch") return forward(params, x, null);
      const pass = NormPass.forApply("scaleInvariantMlp", opts, bn, () => release([params, x]));
      const out = forward(params, x, pass);
      pass.finish();
      return out;
    },
    paramCount() {
      let n = config.head === "normalized" ? m * outputDim : 0;
      for (let i = 0; i + 1 < dims.length; i++) n += dims[i] * dims[i + 1];
      return n;
    },
  };
  if (config.norm !== "batch") return model;
  return {
    ...model,
    initState(dtype) {
      return config.hidden.map((w) => initBatchNormState(w, dtype)) as unknown as ModelState;
    },
    applyTrain(params, state, x) {
      checkBatchWithState(params, state, x, inputShape, "scaleInvariantMlp");
      const pass = NormPass.forTrain(state, bn);
      const out = forward(params, x, pass);
      return [out, pass.finish() as ModelState];
    },
  };
}

/** The named group leaves of a scale-invariant MLP's parameters; throws for another structure. */
function groupLeaves(params: Params): [string, Array][] {
  const p = params as unknown as Partial<ScaleInvariantMlpParams> | null;
  const onlyW = (o: unknown): boolean => o !== null && typeof o === "object" && Object.keys(o).join() === "W";
  const layers = p !== null && typeof p === "object" && globalThis.Array.isArray(p.layers) ? p.layers : null;
  if (
    p === null ||
    layers === null ||
    !layers.every(onlyW) ||
    !Object.keys(p).every((k) => k === "layers" || k === "head") ||
    (p.head !== undefined && !onlyW(p.head))
  )
    throw new Error("scaleInvariantGroups: expected scaleInvariantMlp parameters { layers: [{W}, ...], head?: {W} }");
  const out: [string, Array][] = layers.map((l, i) => [`layers/${i}/W`, l.W]);
  if (p.head) out.push(["head/W", p.head.W]);
  return out;
}

/**
 * The scale-invariant groups of a scale-invariant MLP's parameters (see `scaleInvariantMlp`): the
 * names "layers/l/W" of the hidden weight matrices, and "head/W" with the "normalized" head. Each
 * group w satisfies L(c·w) = L(w) for c > 0. Reads only the structure (does not consume `params`).
 */
export function scaleInvariantGroups(params: Params): string[] {
  return groupLeaves(params).map(([name]) => name);
}

/**
 * The effective learning rate of each scale-invariant group w, η/‖w‖² (host numbers keyed by group
 * name). For a scale-invariant loss, an SGD step w ← w − η∇L(w) moves the direction w/‖w‖ as a step
 * of size η/‖w‖² on the unit sphere would (Arora, Li & Lyu 2019, §2; van Laarhoven 2017; Hoffer,
 * Banner, Golan & Soudry 2018), since ∇L(w) = ∇L(w/‖w‖)/‖w‖. Consumes `params`.
 */
export async function effectiveLr(params: Params, eta: number): Promise<Record<string, number>> {
  let leaves: [string, Array][];
  try {
    leaves = groupLeaves(params);
  } catch (e) {
    release(params);
    throw e;
  }
  const norms = await Promise.all(leaves.map(([, w]) => toScalar(w.ref.mul(w).sum())));
  return Object.fromEntries(leaves.map(([name], i) => [name, eta / norms[i]]));
}
