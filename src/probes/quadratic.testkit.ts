/**
 * Test fixture: an objective that is exactly quadratic in θ. A bias-free linear model with one output
 * and the MSE "half_sum" loss on rows X with targets y = Xθ* gives
 *   L(θ) = ½‖Xθ − y‖² = ½(θ − θ*)ᵀA(θ − θ*),  A = XᵀX,
 * in float64. Only *.test.ts files import this module.
 */
import { np, type Params } from "../core/index.js";
import { makeDataset } from "../data/dataset.js";
import { createLoss, createObjective, type Objective } from "../losses/index.js";
import { createModel } from "../models/index.js";

/** The quadratic objective of rows `x` (n × d) minimized at `thetaStar`, its A, and θ ↦ Params. */
export function quadratic(
  x: number[][],
  thetaStar: number[],
): { obj: Objective; a: number[][]; at: (theta: number[]) => Params } {
  const d = thetaStar.length;
  const y = x.map((row) => row.reduce((s, v, j) => s + v * thetaStar[j], 0));
  const data = makeDataset({
    name: "quadratic",
    xShape: [d],
    x: Float64Array.from(x.flat()),
    targets: Float64Array.from(y),
    targetDim: 1,
  });
  const model = createModel({ kind: "linear", bias: false }, [d], 1);
  const loss = createLoss({ kind: "mse", reduction: "half_sum" });
  const obj = createObjective({ model, loss }, data, "full", { dtype: "float64" });
  const a = thetaStar.map((_, i) => thetaStar.map((_, j) => x.reduce((s, row) => s + row[i] * row[j], 0)));
  const at = (theta: number[]) => ({ W: np.array(theta, { dtype: np.float64 }).reshape([d, 1]) }) as unknown as Params;
  return { obj, a, at };
}

/** Rows diag(√a): then A = diag(a) and example i touches coordinate i only. */
export function diagonalRows(a: number[]): number[][] {
  return a.map((ai, i) => a.map((_, j) => (i === j ? Math.sqrt(ai) : 0)));
}
