/**
 * Dataset transforms: seeded splits and subsets, input normalization, layout changes. Subsets and
 * splits come back in a random order drawn from the key (never sorted by class).
 */
import { UserError } from "../core/errors.js";
import type { Key } from "../core/keys.js";
import { classCounts, takeRows, withFields } from "./dataset.js";
import { inputSize, type Dataset } from "./types.js";

/**
 * A seeded train/test split: with π a uniformly random permutation of 0..n−1 from `key`,
 * test = rows π(0 .. nTest−1) and train = rows π(nTest .. n−1), in that order.
 * Requires 0 <= nTest < n.
 */
export function splitDataset(ds: Dataset, nTest: number, key: Key): { train: Dataset; test: Dataset } {
  if (!Number.isInteger(nTest) || nTest < 0 || nTest >= ds.n) {
    throw new UserError(
      `nTest must be an integer in [0, ${ds.n}) to split ${ds.name} (${ds.n} examples), got ${nTest}`,
    );
  }
  const perm = key.rng().permutation(ds.n);
  return {
    train: takeRows(ds, perm.subarray(nTest), `${ds.name}[train]`),
    test: takeRows(ds, perm.subarray(0, nTest), `${ds.name}[test]`),
  };
}

/** `n` distinct rows of `ds` chosen uniformly by `key` (the first n of a random permutation). */
export function randomSubset(ds: Dataset, n: number, key: Key, what = "subset size"): Dataset {
  if (!Number.isInteger(n) || n < 0 || n > ds.n) {
    throw new UserError(`${what} must be an integer in [0, ${ds.n}] for ${ds.name} (${ds.n} examples), got ${n}`);
  }
  if (n === ds.n) return ds;
  return takeRows(ds, key.rng().permutation(ds.n).subarray(0, n));
}

/**
 * A class-balanced subset of size n, as the 5k CIFAR-10 subsets of Cohen et al. (2021, §3): each of
 * the C classes gets ⌊n/C⌋ examples and the first n mod C classes (by class index) one more; within
 * each class the examples are chosen uniformly by `key.fold(c)`, and the result is shuffled with
 * `key.fold("order")`. Throws a `UserError` when a class has too few examples.
 */
export function balancedSubset(ds: Dataset, n: number, key: Key): Dataset {
  if (ds.labels === null)
    throw new UserError(`balancedSubset needs a classification dataset; ${ds.name} is regression`);
  if (!Number.isInteger(n) || n < 1 || n > ds.n) {
    throw new UserError(`balancedSubset must be an integer in [1, ${ds.n}] for ${ds.name}, got ${n}`);
  }
  const C = ds.numClasses;
  const have = classCounts(ds);
  const members: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < ds.n; i++) members[ds.labels[i]].push(i);
  const chosen: number[] = [];
  for (let c = 0; c < C; c++) {
    const want = Math.floor(n / C) + (c < n % C ? 1 : 0);
    if (have[c] < want) {
      throw new UserError(
        `balancedSubset ${n}: class ${c} of ${ds.name} has ${have[c]} examples, ${want} are needed (counts: ${have.join(", ")})`,
      );
    }
    const perm = key.fold(c).rng().permutation(have[c]);
    for (let k = 0; k < want; k++) chosen.push(members[c][perm[k]]);
  }
  const order = key.fold("order").rng().permutation(chosen.length);
  return takeRows(
    ds,
    Array.from(order, (k) => chosen[k]),
    `${ds.name}[balanced ${n}]`,
  );
}

/** Input normalizations: see `normalize`. */
export type NormalizeMode = "none" | "standardize" | "center" | "unit";

/**
 * Normalizes the inputs of a train/test pair (targets and labels untouched):
 * - "none": unchanged;
 * - "standardize": x_j ← (x_j − μ_j)/σ_j per feature j, with μ_j and σ_j (population std) from the
 *   training set, applied to both sets; a constant feature (σ_j = 0) is only centered;
 * - "center": x_j ← x_j − μ_j, μ_j from the training set;
 * - "unit": each example scaled to unit Euclidean norm, x ← x/‖x‖₂ (zero rows stay zero).
 */
export function normalize(train: Dataset, test: Dataset, mode: NormalizeMode): { train: Dataset; test: Dataset } {
  if (mode === "none") return { train, test };
  const d = inputSize(train);
  if (inputSize(test) !== d) throw new Error(`train and test input sizes differ (${d} vs ${inputSize(test)})`);
  if (mode === "unit") return { train: unitRows(train, d), test: unitRows(test, d) };
  if (mode !== "standardize" && mode !== "center") throw new UserError(`normalize: unknown mode "${mode as string}"`);
  const mean = new Float64Array(d);
  const scale = new Float64Array(d).fill(1);
  for (let i = 0; i < train.n; i++) for (let j = 0; j < d; j++) mean[j] += train.x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= Math.max(train.n, 1);
  if (mode === "standardize") {
    const v = new Float64Array(d);
    for (let i = 0; i < train.n; i++) {
      for (let j = 0; j < d; j++) v[j] += (train.x[i * d + j] - mean[j]) ** 2;
    }
    for (let j = 0; j < d; j++) {
      const s = Math.sqrt(v[j] / Math.max(train.n, 1));
      scale[j] = s > 0 ? 1 / s : 1;
    }
  }
  const apply = (ds: Dataset): Dataset => {
    const x = new Float64Array(ds.x.length);
    for (let i = 0; i < ds.n; i++) for (let j = 0; j < d; j++) x[i * d + j] = (ds.x[i * d + j] - mean[j]) * scale[j];
    return withFields(ds, { x });
  };
  return { train: apply(train), test: apply(test) };
}

function unitRows(ds: Dataset, d: number): Dataset {
  const x = new Float64Array(ds.x.length);
  for (let i = 0; i < ds.n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += ds.x[i * d + j] ** 2;
    const f = s > 0 ? 1 / Math.sqrt(s) : 1;
    for (let j = 0; j < d; j++) x[i * d + j] = ds.x[i * d + j] * f;
  }
  return withFields(ds, { x });
}

/**
 * `ds` with inputs viewed as "flat" (xShape [d]) or "image" ([c, h, w]); the row-major data are
 * unchanged (a flat row is the image in CHW order). For "image" the shape is `imageShape` when
 * given (its product must be d), else the current shape when it is 3-D, or [1, h, w] when it is
 * [h, w]; otherwise a `UserError`.
 */
export function toLayout(ds: Dataset, layout: "flat" | "image", imageShape?: readonly number[]): Dataset {
  const d = inputSize(ds);
  if (layout === "flat") return ds.xShape.length === 1 ? ds : withFields(ds, { xShape: [d] });
  let shape: readonly number[];
  if (imageShape !== undefined) {
    const p = imageShape.reduce((a, b) => a * b, 1);
    if (imageShape.length !== 3 || p !== d) {
      throw new UserError(`imageShape [${imageShape.join(", ")}] does not fit inputs of size ${d} (${ds.name})`);
    }
    shape = imageShape;
  } else if (ds.xShape.length === 3) {
    shape = ds.xShape;
  } else if (ds.xShape.length === 2) {
    shape = [1, ...ds.xShape];
  } else {
    throw new UserError(
      `layout "image": inputs of ${ds.name} have shape [${ds.xShape.join(", ")}], not an image; give imageShape [c, h, w]`,
    );
  }
  return shape.every((s, i) => s === ds.xShape[i]) && shape.length === ds.xShape.length
    ? ds
    : withFields(ds, { xShape: shape });
}
