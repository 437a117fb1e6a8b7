/**
 * Constructing and slicing host datasets (`Dataset` in types.ts): validated construction, row
 * selection, class counts.
 */
import { inputSize, type Dataset } from "./types.js";

/** The fields of a dataset; `makeDataset` checks that they agree. */
export interface DatasetFields {
  name: string;
  xShape: readonly number[];
  x: Float64Array;
  labels?: Int32Array | null;
  numClasses?: number;
  targets?: Float64Array | null;
  targetDim?: number;
}

/**
 * A `Dataset` from its fields, frozen. Classification when `labels` is given (then `numClasses`
 * defaults to max(label) + 1), regression when `targets` is given (then `targetDim` defaults to 1).
 * Throws (a programming error, not a user one) when lengths disagree or a label is out of range.
 */
export function makeDataset(f: DatasetFields): Dataset {
  const d = f.xShape.reduce((a, b) => a * b, 1);
  if (!f.xShape.every((s) => Number.isInteger(s) && s > 0)) throw new Error(`bad xShape [${f.xShape.join(", ")}]`);
  const n = f.x.length / d;
  if (!Number.isInteger(n)) throw new Error(`x has ${f.x.length} values, not a multiple of the input size ${d}`);
  const labels = f.labels ?? null;
  const targets = f.targets ?? null;
  if ((labels === null) === (targets === null)) throw new Error("a dataset needs exactly one of labels, targets");
  if (labels !== null) {
    if (labels.length !== n) throw new Error(`labels has ${labels.length} entries, x has ${n} rows`);
    let max = -1;
    for (let i = 0; i < n; i++) {
      if (labels[i] < 0) throw new Error(`negative label ${labels[i]} at row ${i}`);
      if (labels[i] > max) max = labels[i];
    }
    const numClasses = f.numClasses ?? max + 1;
    if (max >= numClasses) throw new Error(`label ${max} out of range for ${numClasses} classes`);
    return Object.freeze({
      name: f.name,
      n,
      xShape: Object.freeze([...f.xShape]),
      x: f.x,
      task: "classification",
      numClasses,
      labels,
      targets: null,
      targetDim: 0,
    });
  }
  const t = targets as Float64Array;
  const targetDim = f.targetDim ?? 1;
  if (t.length !== n * targetDim) throw new Error(`targets has ${t.length} values, expected ${n} × ${targetDim}`);
  return Object.freeze({
    name: f.name,
    n,
    xShape: Object.freeze([...f.xShape]),
    x: f.x,
    task: "regression",
    numClasses: 0,
    labels: null,
    targets: t,
    targetDim,
  });
}

/** The rows `indices` of `ds` (in that order) as a new dataset, copying the data. */
export function takeRows(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const d = inputSize(ds);
  const m = indices.length;
  const x = new Float64Array(m * d);
  for (let r = 0; r < m; r++) {
    const i = indices[r];
    if (!(Number.isInteger(i) && i >= 0 && i < ds.n)) throw new Error(`row index ${i} out of range [0, ${ds.n})`);
    x.set(ds.x.subarray(i * d, (i + 1) * d), r * d);
  }
  if (ds.labels !== null) {
    const labels = new Int32Array(m);
    for (let r = 0; r < m; r++) labels[r] = ds.labels[indices[r]];
    return makeDataset({ name, xShape: ds.xShape, x, labels, numClasses: ds.numClasses });
  }
  const k = ds.targetDim;
  const src = ds.targets as Float64Array;
  const targets = new Float64Array(m * k);
  for (let r = 0; r < m; r++) targets.set(src.subarray(indices[r] * k, (indices[r] + 1) * k), r * k);
  return makeDataset({ name, xShape: ds.xShape, x, targets, targetDim: k });
}

/** `ds` with other fields replaced (x and its shape, labels, name), re-validated. */
export function withFields(ds: Dataset, f: Partial<DatasetFields>): Dataset {
  const labels = f.labels !== undefined ? f.labels : ds.labels;
  return makeDataset({
    name: f.name ?? ds.name,
    xShape: f.xShape ?? ds.xShape,
    x: f.x ?? ds.x,
    labels,
    numClasses: labels !== null ? (f.numClasses ?? ds.numClasses) : undefined,
    targets: labels === null ? (f.targets ?? ds.targets) : null,
    targetDim: labels === null ? (f.targetDim ?? ds.targetDim) : undefined,
  });
}

/** Examples per class, `counts[c]` = #{i : label_i = c}; empty for regression. */
export function classCounts(ds: Dataset): number[] {
  if (ds.labels === null) return [];
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (let i = 0; i < ds.n; i++) counts[ds.labels[i]]++;
  return counts;
}
