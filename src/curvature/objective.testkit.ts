/**
 * Fixtures for the curvature tests: tiny datasets and models, the PyTorch reference cases of
 * test/fixtures/reference, a parameter tree as a function of one flat vector (for jax-js's `hessian`),
 * and host linear algebra. Only *.test.ts files import this module.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Key, np, tree, type Array, type Params, type TreeSpec } from "../core/index.js";
import { makeDataset } from "../data/dataset.js";
import type { Dataset } from "../data/types.js";
import { createLoss, type Loss } from "../losses/index.js";
import { createModel } from "../models/index.js";
import type { Model } from "../models/types.js";

/** A classification dataset of n Gaussian inputs of width d with k classes (seeded). */
export function toyClassification(n: number, d: number, k: number, seed = 11): Dataset {
  const rng = Key.fromSeed(seed).rng();
  return makeDataset({
    name: "toy",
    xShape: [d],
    x: rng.normals(n * d),
    labels: Int32Array.from({ length: n }, (_, i) => (i < k ? i : rng.int(k))),
    numClasses: k,
  });
}

/** A regression dataset of n Gaussian inputs of width d with k-dimensional targets (seeded). */
export function toyRegression(n: number, d: number, k: number, seed = 12): Dataset {
  const rng = Key.fromSeed(seed).rng();
  return makeDataset({ name: "toyReg", xShape: [d], x: rng.normals(n * d), targets: rng.normals(n * k), targetDim: k });
}

/** The parameter tree of `spec` as a differentiable function of one flat vector θ [P] (consumed). */
export function unflatten(spec: TreeSpec, theta: Array): Params {
  let o = 0;
  const leaves = spec.shapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const leaf = theta.ref.slice([o, o + n]).reshape(shape);
    o += n;
    return leaf;
  });
  theta.dispose();
  return tree.unflatten(spec.def, leaves) as Params;
}

/** A PyTorch reference case (format in test/fixtures/reference/README.md) ready to use. */
export interface RefCase {
  name: string;
  model: Model;
  loss: Loss;
  data: Dataset;
  /** The parameters in our layout (W as [d_in, d_out]), float64, as a host vector in leaf order. */
  params: () => Params;
  ref: { loss: number; grad_norm: number; trace: number; frob_norm: number; P: number; top_eigs: number[] };
}

const REF_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../test/fixtures/reference");

interface RefJson {
  activation: "tanh" | "relu" | "softplus" | "identity";
  loss: "mse" | "ce";
  mse_reduction?: "mean" | "half_mean" | "half_sum" | "sum";
  layers: { W: number[][]; b: number[] }[];
  x: number[][];
  y: number[][] | number[];
}

/** The names of the reference cases on disk. */
export function refCaseNames(): string[] {
  return readdirSync(REF_DIR)
    .filter((f) => f.endsWith(".json") && !f.endsWith(".ref.json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

/** Loads one reference case. PyTorch's W is [out][in]; ours is [in, out]. */
export function loadRefCase(name: string): RefCase {
  const c = JSON.parse(readFileSync(join(REF_DIR, `${name}.json`), "utf8")) as RefJson;
  const ref = JSON.parse(readFileSync(join(REF_DIR, `${name}.ref.json`), "utf8")) as RefCase["ref"];
  const dims = [c.layers[0].W[0].length, ...c.layers.map((l) => l.W.length)];
  const k = dims[dims.length - 1];
  const model = createModel(
    { kind: "mlp", hidden: dims.slice(1, -1), activation: c.activation, bias: true },
    [dims[0]],
    k,
  );
  const loss = createLoss(c.loss === "ce" ? { kind: "ce" } : { kind: "mse", reduction: c.mse_reduction! });
  const x = Float64Array.from(c.x.flat());
  const data =
    c.loss === "ce"
      ? makeDataset({ name, xShape: [dims[0]], x, labels: Int32Array.from(c.y as number[]), numClasses: k })
      : makeDataset({
          name,
          xShape: [dims[0]],
          x,
          targets: Float64Array.from((c.y as number[][]).flat()),
          targetDim: k,
        });
  const f64 = (v: number[] | number[][]): Array => np.array(v, { dtype: np.float64 });
  const params = () =>
    ({ layers: c.layers.map((l) => ({ W: f64(l.W).transpose([1, 0]), b: f64(l.b) })) }) as unknown as Params;
  return { name, model, loss, data, params, ref };
}

/** The i-th standard basis vector of length n. */
export function basis(n: number, i: number): Float64Array {
  const e = new Float64Array(n);
  e[i] = 1;
  return e;
}

/** max_i |a_i − b_i|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** max_i |a_i|. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
