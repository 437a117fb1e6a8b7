/**
 * Softmax cross-entropy on integer labels.
 */
import { lax, lit, np, type Array } from "../core/index.js";
import { preciseLog } from "../models/numerics.js";
import { makeLoss } from "./loss.js";
import type { Loss } from "./types.js";

/**
 * Mean softmax cross-entropy: L = (1/B) Σ_i [logsumexp(f_i) − f_i[y_i]] = −(1/B) Σ_i log softmax(f_i)[y_i],
 * for outputs f [B, k] and int32 labels y [B]. The log-sum-exp subtracts the (gradient-stopped) row
 * maximum, so large logits do not overflow; its log is `preciseLog` (jax-js's Wasm log errs by up to 1e-5).
 * Divides by B as a `lit` constant: jax-js 0.1.25 miscompiles float64 `jit(jvp(grad(f)))` when f
 * ends in `.mul`/`.div` by a JS number (see losses.test.ts). Consumes both arguments.
 */
export const crossEntropy: Loss = makeLoss(
  (out: Array, y: Array): Array => {
    const [b, k] = out.shape;
    if (out.ndim !== 2 || y.ndim !== 1 || y.shape[0] !== b) {
      const msg = `crossEntropy: expected outputs [B, k] and labels [B], got [${out.shape}] and [${y.shape}]`;
      out.dispose();
      y.dispose();
      throw new Error(msg);
    }
    const m = lax.stopGradient(out.ref.max(1, { keepdims: true }));
    const shifted = out.sub(m);
    const lse = preciseLog(np.exp(shifted.ref).sum(1));
    const classes = np.arange(k, undefined, undefined, { dtype: np.int32 }).reshape([1, k]);
    const oneHot = y.astype(np.int32).reshape([b, 1]).equal(classes).astype(shifted.dtype);
    const picked = shifted.mul(oneHot).sum(1);
    const total = lse.sub(picked).sum();
    return total.div(lit(b, total));
  },
  { name: "ce", targetKind: "labels", perExampleMean: true },
);
