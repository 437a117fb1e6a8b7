/**
 * Test fixtures shared by the gradient and backend tests: small model × loss cases, their host data,
 * and a naive float64 host loss. Only *.test.ts files import this module.
 */
import {
  dtypeOf,
  hostArray,
  Key,
  np,
  treeFromHost,
  treeSpec,
  treeToHost,
  type Array,
  type FloatDtype,
  type Params,
  type TreeSpec,
} from "../core/index.js";
import { createModel, type ModelConfigInput } from "../models/index.js";
import { hostForward, hostFromFlat } from "../models/reference.testkit.js";
import type { Model } from "../models/types.js";
import { createLoss, LossConfigSchema, type LossConfig, type LossConfigInput } from "./schema.js";
import type { Loss } from "./types.js";

/** One model on a small input with smooth activations. */
export interface ModelCase {
  name: string;
  config: ModelConfigInput;
  inputShape: number[];
}

export const OUTPUT_DIM = 3;
export const BATCH = 4;

export const MODEL_CASES: ModelCase[] = [
  {
    name: "mlp tanh lecun [2,3]→4→3",
    config: { kind: "mlp", hidden: [4, 3], activation: "tanh", init: "lecun" },
    inputShape: [2, 3],
  },
  {
    name: "mlp softplus ntk",
    config: { kind: "mlp", hidden: [4], activation: "softplus", parametrization: "ntk", initScale: 1.3 },
    inputShape: [5],
  },
  {
    name: "mlp gelu xavier no bias",
    config: { kind: "mlp", hidden: [4], activation: "gelu", init: "xavier", bias: false },
    inputShape: [5],
  },
  { name: "mlp elu he", config: { kind: "mlp", hidden: [4], activation: "elu", init: "he" }, inputShape: [5] },
  {
    name: "cnn tanh same max",
    config: { kind: "cnn", channels: [2, 3], kernelSize: 3, activation: "tanh", pooling: "max", hidden: [4] },
    inputShape: [2, 5, 5],
  },
  {
    name: "cnn elu valid avg k2",
    config: { kind: "cnn", channels: [2], kernelSize: 2, padding: "valid", activation: "elu", pooling: "avg" },
    inputShape: [1, 6, 6],
  },
  {
    name: "cnn softplus same k2 none",
    config: { kind: "cnn", channels: [2], kernelSize: 2, activation: "softplus", pooling: "none", hidden: [3] },
    inputShape: [1, 3, 3],
  },
  {
    name: "twoLayer softplus standard",
    config: { kind: "twoLayer", width: 6, activation: "softplus" },
    inputShape: [5],
  },
  {
    name: "twoLayer gelu meanField fixed",
    config: { kind: "twoLayer", width: 6, activation: "gelu", scaling: "meanField", fixedSecondLayer: true },
    inputShape: [5],
  },
  { name: "diagonalLinear", config: { kind: "diagonalLinear", alpha: 0.5 }, inputShape: [5] },
  { name: "linear lecun", config: { kind: "linear", init: "lecun" }, inputShape: [5] },
];

/** The MSE reductions; model case i runs with "ce" and reduction i mod 4, so all four are covered. */
export const MSE_REDUCTIONS = ["half_mean", "mean", "half_sum", "sum"] as const;

export function lossCases(i: number): { name: string; config: LossConfigInput }[] {
  const reduction = MSE_REDUCTIONS[i % MSE_REDUCTIONS.length];
  return [
    { name: "ce", config: { kind: "ce" } },
    { name: `mse(${reduction})`, config: { kind: "mse", reduction } },
  ];
}

/** Host data for one case. */
export interface HostCase {
  model: Model;
  loss: Loss;
  lossConfig: LossConfig;
  x: Float64Array;
  labels: Int32Array;
  /** Regression targets [B, OUTPUT_DIM] (used by MSE). */
  targets: Float64Array;
  /** Parameters: the model's init plus 0.3·N(0, 1) noise (biases nonzero, symmetry broken). */
  theta: Float64Array;
  spec: TreeSpec;
}

export async function hostCase(mc: ModelCase, lossConfig: LossConfigInput, seed: number): Promise<HostCase> {
  const model = createModel(mc.config, mc.inputShape, OUTPUT_DIM);
  const loss = createLoss(lossConfig);
  const rng = Key.fromSeed(seed).fold("data").rng();
  const d = mc.inputShape.reduce((a, b) => a * b, 1);
  const x = rng.normals(BATCH * d);
  const labels = Int32Array.from({ length: BATCH }, () => rng.int(OUTPUT_DIM));
  const targets = rng.normals(BATCH * OUTPUT_DIM);
  const p = model.init(Key.fromSeed(seed).fold("init"), "float64");
  const spec = treeSpec(p);
  const theta = await treeToHost(p);
  const noise = Key.fromSeed(seed).fold("noise").rng();
  for (let i = 0; i < theta.length; i++) theta[i] += 0.3 * noise.normal();
  return { model, loss, lossConfig: LossConfigSchema.parse(lossConfig), x, labels, targets, theta, spec };
}

/** Uploads (params at `theta`, x, y) of a case to the default device in `dtype`. */
export function upload(c: HostCase, theta: ArrayLike<number>, dtype: FloatDtype): [Params, Array, Array] {
  const dt = dtypeOf(dtype);
  const params = treeFromHost(c.spec, theta, dt);
  const x = np.array(hostArray(dtype, c.x), { dtype: dt }).reshape([BATCH, ...c.model.inputShape]);
  const y =
    c.loss.targetKind === "labels"
      ? np.array(c.labels, { dtype: np.int32 })
      : np.array(hostArray(dtype, c.targets), { dtype: dt }).reshape([BATCH, OUTPUT_DIM]);
  return [params, x, y];
}

/** Naive float64 loss of outputs f [B, k]: CE on labels, or MSE with its reduction on targets. */
export function hostLoss(
  config: LossConfig,
  f: Float64Array,
  labels: Int32Array,
  targets: Float64Array,
  k: number,
): number {
  const b = f.length / k;
  if (config.kind === "ce") {
    let s = 0;
    for (let r = 0; r < b; r++) {
      const row = f.subarray(r * k, (r + 1) * k);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
      s += lse - row[labels[r]];
    }
    return s / b;
  }
  let se = 0;
  for (let i = 0; i < f.length; i++) se += (f[i] - targets[i]) ** 2;
  return { mean: se / (b * k), half_mean: se / (2 * b), half_sum: se / 2, sum: se }[config.reduction];
}

/** The host reference objective of a case at flat parameters `theta`. */
export function hostObjective(c: HostCase, theta: Float64Array): number {
  const out = hostForward(c.model, hostFromFlat(c.spec, theta), c.x, BATCH);
  return hostLoss(c.lossConfig, out, c.labels, c.targets, OUTPUT_DIM);
}
