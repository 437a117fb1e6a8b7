// withL2 on a least-squares objective with closed-form value and gradient (host float64).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  grad,
  initRuntime,
  jit,
  lit,
  np,
  toScalar,
  treeToHost,
  UserError,
  valueAndGrad,
  type Array as NpArray,
  type Params,
} from "../core/index.js";
import { withL2 } from "./l2.js";

before(async () => initRuntime("wasm"));

const f64 = { dtype: np.float64 };
const W = [0.5, -1.25, 2];
const B = [0.3];
const X = [
  [1, 2, -1],
  [0.5, -1, 3],
];
const Y = [1, -2];
const LAMBDA = 0.37;

/** ½‖Xw + b − y‖² (x, y consumed). */
function leastSquares(p: Params, x: NpArray, y: NpArray): NpArray {
  const { w, b } = p as { w: NpArray; b: NpArray };
  const r = np.matmul(x, w).add(b).sub(y);
  const se = r.ref.mul(r).sum();
  return se.div(lit(2, se));
}

const params = (): Params => ({ w: np.array(W, f64), b: np.array(B, f64) });

/** Host closed form: value ½‖r‖² + (λ/2)‖θ‖², gradient (Xᵀr + λw, Σr + λb). */
function reference(lambda: number): { value: number; grad: number[] } {
  const r = X.map((row, i) => row.reduce((s, v, j) => s + v * W[j], 0) + B[0] - Y[i]);
  const sq = [...W, ...B].reduce((s, v) => s + v * v, 0);
  const value = 0.5 * r.reduce((s, v) => s + v * v, 0) + (lambda / 2) * sq;
  const gw = W.map((wj, j) => r.reduce((s, ri, i) => s + ri * X[i][j], 0) + lambda * wj);
  const gb = r.reduce((s, v) => s + v, 0) + lambda * B[0];
  return { value, grad: [...gw, gb] }; // leaf order w, b
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number) {
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol, `[${i}] ${got[i]} vs ${want[i]}`);
}

describe("withL2", () => {
  it("adds (λ/2)‖θ‖² to the value and λθ to the gradient (float64, eager and jitted)", async () => {
    const f = withL2(leastSquares, LAMBDA);
    const want = reference(LAMBDA);
    const [v, g] = valueAndGrad(f)(params(), np.array(X, f64), np.array(Y, f64)) as [NpArray, Params];
    assert.ok(Math.abs((await toScalar(v)) - want.value) < 1e-13);
    assertClose(await treeToHost(g), want.grad, 1e-13);
    const jitted = jit((p: Params, x: NpArray, y: NpArray) => grad(f)(p, x, y) as Params);
    assertClose(await treeToHost(jitted(params(), np.array(X, f64), np.array(Y, f64))), want.grad, 1e-13);
    jitted.dispose();
  });

  it("λ = 0 is the plain loss; a negative λ is a UserError", async () => {
    const v = withL2(leastSquares, 0)(params(), np.array(X, f64), np.array(Y, f64));
    assert.ok(Math.abs((await toScalar(v)) - reference(0).value) < 1e-13);
    assert.throws(() => withL2(leastSquares, -1), UserError);
  });
});
