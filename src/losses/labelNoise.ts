/**
 * Label-noise SGD: fresh noise on the targets of every batch, drawn on the host from a per-step key.
 */
import { z } from "zod";
import { check, type Key } from "../core/index.js";
import { makeDataset } from "../data/dataset.js";
import { inputSize, type Dataset } from "../data/types.js";

/** Options of `noisyTargets`. */
export interface LabelNoiseConfig {
  /** Regression: standard deviation σ ≥ 0 of the Gaussian added to every target entry (default 0). */
  readonly sigma?: number;
  /** Classification: probability p ∈ [0, 1] of replacing a label by a uniform class (default 0). */
  readonly p?: number;
}

/** Config schema of label noise: `{sigma = 0, p = 0}` (unknown keys rejected). */
export const LabelNoiseConfigSchema = z.strictObject({
  sigma: z.number().min(0).finite().default(0).describe("regression: std of the Gaussian target noise"),
  p: z.number().min(0).max(1).default(0).describe("classification: probability of a uniformly random label"),
});

/**
 * The batch `indices` of `ds` (null = all rows, in order) with freshly perturbed targets, as a
 * host `Dataset` of `indices.length` rows ready for `makeBatch(batch, null, loss, dtype)`.
 *
 * Regression: `ỹ = y + σξ`, ξ ~ N(0, I) per target entry. Classification: each label is replaced,
 * with probability p, by a class drawn uniformly from all `numClasses` classes (so it changes with
 * probability p(k−1)/k). This is the label noise of label-noise SGD (Blanc, Gupta, Valiant & Valiant,
 * "Implicit regularization for deep neural networks driven by an Ornstein-Uhlenbeck like process",
 * COLT 2020; Damian, Ma & Lee, "Label noise SGD provably prefers flat global minimizers", NeurIPS
 * 2021): with fresh noise every step, SGD near a manifold of minimizers drifts to decrease tr ∇²L.
 *
 * Deterministic from `key` (the trainer derives it from (seed, "labelNoise", step)); rows are drawn
 * in batch order from `key.rng()`: per row one uniform u (relabel iff u < p) and then the class, or
 * `targetDim` normals. The inputs are copied; `ds` is unchanged.
 *
 * @param ds the training set. @param indices rows of the batch. @param cfg `{sigma = 0, p = 0}`.
 * @param key the step's label-noise key.
 */
export function noisyTargets(ds: Dataset, indices: Int32Array | null, cfg: LabelNoiseConfig, key: Key): Dataset {
  const { sigma = 0, p = 0 } = cfg;
  check(Number.isFinite(sigma) && sigma >= 0, `labelNoise.sigma must be a finite number ≥ 0, got ${sigma}`);
  check(p >= 0 && p <= 1, `labelNoise.p must lie in [0, 1], got ${p}`);
  const b = indices === null ? ds.n : indices.length;
  const rowOf = (r: number): number => {
    const i = indices === null ? r : indices[r];
    if (!(Number.isInteger(i) && i >= 0 && i < ds.n))
      throw new RangeError(`noisyTargets: index ${i} outside [0, ${ds.n}) of "${ds.name}"`);
    return i;
  };
  const d = inputSize(ds);
  const x = new Float64Array(b * d);
  const rng = key.rng();
  let labels: Int32Array | null = null;
  let targets: Float64Array | null = null;
  if (ds.task === "classification") {
    labels = new Int32Array(b);
    for (let r = 0; r < b; r++) {
      const i = rowOf(r);
      x.set(ds.x.subarray(i * d, (i + 1) * d), r * d);
      labels[r] = rng.uniform() < p ? rng.int(ds.numClasses) : ds.labels![i];
    }
  } else {
    const k = ds.targetDim;
    targets = new Float64Array(b * k);
    for (let r = 0; r < b; r++) {
      const i = rowOf(r);
      x.set(ds.x.subarray(i * d, (i + 1) * d), r * d);
      for (let c = 0; c < k; c++) targets[r * k + c] = ds.targets![i * k + c] + sigma * rng.normal();
    }
  }
  return makeDataset({
    name: `${ds.name}+labelNoise`,
    xShape: ds.xShape,
    x,
    labels,
    numClasses: ds.numClasses,
    targets,
    targetDim: ds.targetDim,
  });
}
