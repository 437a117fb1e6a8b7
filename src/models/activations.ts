/**
 * Elementwise activations, written with `lit` constants so that they stay exact in float64 under
 * `jit` and avoid overflow in branches that `where` discards (a discarded inf still poisons the
 * gradient: 0·inf = NaN).
 */
import { lit, np, type Array } from "../core/index.js";
import { preciseLog1p } from "./numerics.js";
import type { Activation } from "./schema.js";

/**
 * Applies `act` to `x` (consumed).
 *
 * - tanh; relu = max(x, 0);
 * - gelu = ½x(1 + tanh(√(2/π)(x + 0.044715x³))), the tanh approximation of Hendrycks & Gimpel
 *   (2016, §2), as jax.nn.gelu's default;
 * - softplus = max(x, 0) + log1p(e^{−|x|}) (= log(1 + eˣ), overflow-free; `preciseLog1p`);
 * - elu = x for x > 0, eˣ − 1 otherwise (Clevert, Unterthiner & Hochreiter 2016, eq. 1, α = 1);
 * - identity.
 */
export function activate(act: Activation, x: Array): Array {
  switch (act) {
    case "identity":
      return x;
    case "tanh":
      return np.tanh(x);
    case "relu":
      return np.maximum(x, lit(0, x));
    case "softplus": {
      const pos = np.maximum(x.ref, lit(0, x));
      return pos.add(preciseLog1p(np.exp(np.negative(np.abs(x)))));
    }
    case "elu": {
      const neg = np.expm1(np.minimum(x.ref, lit(0, x)));
      return np.where(x.ref.greater(lit(0, x)), x, neg);
    }
    case "gelu": {
      const cube = x.ref.mul(x.ref).mul(x.ref);
      const inner = x.ref.add(cube.mul(lit(0.044715, x))).mul(lit(Math.sqrt(2 / Math.PI), x));
      const half = x.ref.mul(lit(0.5, x));
      return half.mul(np.tanh(inner).add(lit(1, x)));
    }
  }
}
