/**
 * Classification accuracy.
 */
import { lit, np, type Array } from "../core/index.js";

/**
 * Fraction of examples whose predicted class argmax(f_i) equals the label: y int32 [B] (labels) or
 * argmax(y_i) for target vectors y [B, k] (one-hot). A 0-d array in `out`'s dtype; jittable. Consumes
 * both arguments.
 */
export function accuracy(out: Array, y: Array): Array {
  const b = out.shape[0];
  const dtype = out.dtype;
  const pred = np.argmax(out, 1);
  const labels = y.ndim === 2 ? np.argmax(y, 1) : y.astype(np.int32);
  const correct = pred.equal(labels).astype(dtype).sum();
  return correct.div(lit(b, correct));
}
