import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Key, leafNames, release, treeSpec } from "../core/index.js";
import { initRuntime } from "../core/runtime.js";
import { makeDataset } from "../data/index.js";
import { createLoss, createObjective } from "../losses/index.js";
import { createModel } from "../models/index.js";
import { jacobiEigen, randomDirection } from "./directions.js";
import { computeLandscape, gridRows } from "./landscape.js";

// An exact quadratic in θ: the bias-free linear model f(x) = xW (W [d, 1]) with the ½-sum squared
// error, L(W) = ½‖XW − y‖². Its value at any grid point is computed here on the host in float64.
const d = 4;
const n = 12;
const rng = Key.fromSeed(21).rng();
const X = rng.normals(n * d);
const y = rng.normals(n);
const theta = rng.normals(d);
const data = makeDataset({ name: "quadratic", xShape: [d], x: X, targets: y, targetDim: 1 });
const model = createModel({ kind: "mlp", hidden: [], activation: "tanh", bias: false }, [d], 1);

function closedForm(w: Float64Array): number {
  let s = 0;
  for (let r = 0; r < n; r++) {
    let p = -y[r];
    for (let c = 0; c < d; c++) p += X[r * d + c] * w[c];
    s += p * p;
  }
  return s / 2;
}

function setup() {
  const obj = createObjective({ model, loss: createLoss({ kind: "mse", reduction: "half_sum" }) }, data, "full", {
    dtype: "float64",
    chunkSize: 5, // several chunks: the summed loss adds them with weight 1
    compile: true,
  });
  const template = model.init(Key.fromSeed(0), "float64");
  const spec = treeSpec(template);
  const names = leafNames(template);
  release(template);
  return { obj, spec, names };
}

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-10 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe("computeLandscape on an exact quadratic", () => {
  before(async () => {
    await initRuntime("wasm");
  });

  it("2-D random grid values equal ½‖X(θ + αd₁ + βd₂) − y‖² at every point", async () => {
    const { obj, spec, names } = setup();
    try {
      const r = await computeLandscape(obj, spec, names, theta, {
        mode: { kind: "random2d", key: Key.fromSeed(5), biasBn: "ignore" },
        range: [-1, 1],
        points: 5,
      });
      assert.equal(r.dims, 2);
      assert.deepEqual(r.grid.axes, [
        [-1, -0.5, 0, 0.5, 1],
        [-1, -0.5, 0, 0.5, 1],
      ]);
      close(r.origin.loss, closedForm(theta), "origin");
      // the same directions as the command draws (key folds "direction/1", "direction/2"); W [4, 1]
      // is one filter, so each ‖dₖ‖ = ‖θ‖ (filter normalization)
      const layout = { shapes: spec.shapes, names };
      const [d1, d2] = [1, 2].map((k) =>
        randomDirection(theta, layout, Key.fromSeed(5).fold(`direction/${k}`), "ignore"),
      );
      const norm = (v: Float64Array) => Math.hypot(...v);
      close(r.directions[0].norm, norm(theta), "‖d₁‖ = ‖θ‖");
      close(norm(d2), norm(theta), "‖d₂‖ = ‖θ‖");
      const z = gridRows(r.grid);
      r.grid.axes[1].forEach((beta, j) =>
        r.grid.axes[0].forEach((alpha, i) => {
          const w = theta.map((t, k) => t + alpha * d1[k] + beta * d2[k]);
          close(z[j][i], closedForm(w), `(${alpha}, ${beta})`);
        }),
      );
      const k = r.grid.loss.indexOf(Math.min(...r.grid.loss));
      assert.deepEqual(r.grid.min.at, [r.grid.axes[0][k % 5], r.grid.axes[1][Math.floor(k / 5)]]);
      assert.ok(
        r.grid.accuracy.every((v) => Number.isNaN(v)),
        "regression: accuracy is NaN",
      );
      assert.equal(r.evaluations, 26);
    } finally {
      obj.dispose();
    }
  });

  it("1-D interpolation equals the closed form along θ_A → θ_B, endpoints included", async () => {
    const { obj, spec, names } = setup();
    const to = Float64Array.from([1, -2, 0.5, 3]);
    try {
      const r = await computeLandscape(obj, spec, names, theta, {
        mode: { kind: "interpolate", to },
        range: [-0.5, 1.5],
        points: 9,
      });
      assert.equal(r.dims, 1);
      r.grid.axes[0].forEach((t, i) => {
        const w = theta.map((v, k) => (1 - t) * v + t * to[k]);
        close(r.grid.loss[i], closedForm(w), `t=${t}`);
      });
      close(r.grid.loss[2], closedForm(theta), "t=0");
      close(r.grid.loss[6], closedForm(to), "t=1");
    } finally {
      obj.dispose();
    }
  });

  it("Hessian axes are the top eigenvectors of XᵀX, and refinement brackets the minimum", async () => {
    const { obj, spec, names } = setup();
    try {
      const r = await computeLandscape(obj, spec, names, theta, {
        mode: { kind: "hessian", key: Key.fromSeed(2), tol: 1e-10 },
        range: [-2, 2],
        points: 5,
        refine: true,
      });
      const xtx = new Float64Array(d * d);
      for (let p = 0; p < d; p++)
        for (let q = 0; q < d; q++) for (let k = 0; k < n; k++) xtx[p * d + q] += X[k * d + p] * X[k * d + q];
      const eig = jacobiEigen(xtx, d).values.sort((u, v) => v - u);
      close(r.directions[0].eigenvalue!, eig[0], "λ1");
      close(r.directions[1].eigenvalue!, eig[1], "λ2");
      r.directions.forEach((dir) => close(dir.norm, 1, "unit eigenvector"));
      // the refined grid spans one coarse cell either side of the coarse minimum
      const refined = r.refined!;
      refined.axes.forEach((ax, k) => {
        close(ax[0], r.grid.min.at[k] - 1, "refined lo");
        close(ax.at(-1)!, r.grid.min.at[k] + 1, "refined hi");
      });
      assert.ok(refined.min.loss <= r.grid.min.loss);
      assert.equal(r.evaluations, 51);
    } finally {
      obj.dispose();
    }
  });
});
