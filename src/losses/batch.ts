/**
 * Gathering a batch of a host dataset and uploading it in the form a loss wants.
 */
import { check, dtypeOf, hostArray, np, type FloatDtype } from "../core/index.js";
import { inputSize, type Dataset } from "../data/types.js";
import type { Batch, Loss } from "./types.js";

/**
 * The rows `indices` of `ds` (null = all, in order) as a device batch: x [B, ...xShape] in `dtype`;
 * y as int32 labels [B] (loss.targetKind "labels"), one-hot vectors [B, numClasses] in `dtype`
 * (classification data, targetKind "vectors"), or the regression targets [B, targetDim] in `dtype`.
 * Throws a UserError when a label loss (CE) meets regression data, and a RangeError for an index
 * outside [0, n).
 */
export function makeBatch(ds: Dataset, indices: Int32Array | null, loss: Loss, dtype: FloatDtype): Batch {
  const classification = ds.task === "classification";
  check(
    classification || loss.targetKind !== "labels",
    `loss "${loss.name}" needs class labels, but dataset "${ds.name}" is a regression task (use loss.kind "mse")`,
  );
  const b = indices === null ? ds.n : indices.length;
  if (indices !== null) {
    for (const i of indices) {
      if (!(i >= 0 && i < ds.n)) throw new RangeError(`makeBatch: index ${i} outside [0, ${ds.n}) of "${ds.name}"`);
    }
  }
  const rowOf = (r: number): number => (indices === null ? r : indices[r]);
  const d = inputSize(ds);
  let xBuf: Float32Array | Float64Array;
  if (indices === null) xBuf = hostArray(dtype, ds.x.subarray(0, b * d));
  else {
    xBuf = dtype === "float64" ? new Float64Array(b * d) : new Float32Array(b * d);
    for (let r = 0; r < b; r++) xBuf.set(ds.x.subarray(indices[r] * d, (indices[r] + 1) * d), r * d);
  }
  const dt = dtypeOf(dtype);
  const x = np.array(xBuf, { dtype: dt }).reshape([b, ...ds.xShape]);
  if (classification && loss.targetKind === "labels") {
    const labels = new Int32Array(b);
    for (let r = 0; r < b; r++) labels[r] = ds.labels![rowOf(r)];
    return { x, y: np.array(labels, { dtype: np.int32 }) };
  }
  const k = classification ? ds.numClasses : ds.targetDim;
  const yBuf = dtype === "float64" ? new Float64Array(b * k) : new Float32Array(b * k);
  for (let r = 0; r < b; r++) {
    const i = rowOf(r);
    if (classification) yBuf[r * k + ds.labels![i]] = 1;
    else yBuf.set(ds.targets!.subarray(i * k, (i + 1) * k), r * k);
  }
  return { x, y: np.array(yBuf, { dtype: dt }).reshape([b, k]) };
}
