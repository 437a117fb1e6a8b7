import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  initRuntime,
  jvp,
  Key,
  keep,
  np,
  toHost,
  treeSpec,
  treeToHost,
  type Array as JaxArray,
  type Params,
  wasmHeapBytes,
} from "../core/index.js";
import type { Dataset } from "../data/types.js";
import { createLoss, makeBatch, type LossConfigInput } from "../losses/index.js";
import { createModel } from "../models/index.js";
import type { Model } from "../models/types.js";
import type { DisposableOperator } from "./hvp.js";
import { point } from "./point.testkit.js";
import { basis, maxAbs, maxAbsDiff, toyClassification, toyRegression, unflatten } from "./objective.testkit.js";
import { symmetricEigen } from "./tridiagonal.js";

before(async () => initRuntime("wasm"));

/** The dense matrix of an operator, column by column. */
async function dense(op: DisposableOperator): Promise<Float64Array> {
  const n = op.dim;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a.set(await op.matvec(basis(n, i)), i * n);
  op.dispose();
  return a;
}

describe("ggnOperator on a linear model with MSE equals the Hessian, 2c·(X̃ᵀX̃ ⊗ I_k)", () => {
  const REDUCTIONS: [LossConfigInput, (n: number, k: number) => number][] = [
    [{ kind: "mse", reduction: "mean" }, (n, k) => 1 / (n * k)],
    [{ kind: "mse", reduction: "half_mean" }, (n) => 1 / (2 * n)],
    [{ kind: "mse", reduction: "half_sum" }, () => 1 / 2],
    [{ kind: "mse", reduction: "sum" }, () => 1],
  ];
  for (const [lossConfig, c] of REDUCTIONS) {
    it(`${(lossConfig as { reduction: string }).reduction}`, async () => {
      const [n, d, k] = [9, 3, 2];
      const ds = toyRegression(n, d, k, 31);
      const model = createModel({ kind: "linear", init: "lecun" }, ds.xShape, k);
      const loss = createLoss(lossConfig);
      const obj = point(model, model.init(Key.fromSeed(2), "float64"), ds, loss, "full", {
        chunkSize: 4,
      });
      // Parameters {W [d, k], b [k]} in leaf order: W row-major, then b; x̃ = (x, 1).
      const p = obj.dim;
      assert.equal(p, d * k + k);
      const xt = (i: number, a: number) => (a < d ? ds.x[i * d + a] : 1);
      const idx = (a: number, kk: number) => (a < d ? a * k + kk : d * k + kk);
      const ref = new Float64Array(p * p);
      for (let a = 0; a <= d; a++)
        for (let b = 0; b <= d; b++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += xt(i, a) * xt(i, b);
          for (let kk = 0; kk < k; kk++) ref[idx(a, kk) * p + idx(b, kk)] = 2 * c(n, k) * s;
        }
      const scale = maxAbs(ref);
      for (const mode of ["linearize", "jvp"] as const) {
        const g = await dense(obj.ggn({ mode }));
        assert.ok(maxAbsDiff(g, ref) / scale < 1e-14, `GGN (${mode}) vs closed form: ${maxAbsDiff(g, ref) / scale}`);
      }
      const h = await dense(obj.hessian());
      assert.ok(maxAbsDiff(h, ref) / scale < 1e-14, `Hessian vs closed form: ${maxAbsDiff(h, ref) / scale}`);
      obj.dispose();
    });
  }
});

/**
 * G = Σ_i J_iᵀ H_i J_i assembled on the host from the output Jacobian J (column r = the output
 * tangent of a flat θ along e_r) and the CE output Hessian H_i = (diag(p_i) − p_i p_iᵀ)/n with p_i = softmax(f_i)
 * computed in JS float64.
 */
async function hostGgnCe(model: Model, ds: Dataset, params: Params): Promise<Float64Array> {
  const spec = treeSpec(params);
  const p = spec.size;
  const theta = np.array(await treeToHost(params), { dtype: np.float64 });
  const { x, y } = makeBatch(ds, null, createLoss({ kind: "ce" }), "float64");
  y.dispose();
  const k = model.outputDim;
  const n = ds.n;
  const outF = (t: JaxArray): JaxArray => model.apply(unflatten(spec, t), x.ref).reshape([n * k]);
  const out = await toHost(outF(theta.ref));
  const jac = new Float64Array(n * k * p); // [n·k, P]
  for (let r = 0; r < p; r++) {
    const e = np.array(basis(p, r), { dtype: np.float64 });
    const [o, t] = jvp(outF, [theta.ref], [e]) as unknown as [JaxArray, JaxArray];
    o.dispose();
    const col = await toHost(t);
    for (let j = 0; j < n * k; j++) jac[j * p + r] = col[j];
  }
  theta.dispose();
  x.dispose();
  const g = new Float64Array(p * p);
  for (let i = 0; i < n; i++) {
    const f = out.subarray(i * k, (i + 1) * k);
    const m = Math.max(...f);
    const e = Array.from(f, (v) => Math.exp(v - m));
    const z = e.reduce((a, b) => a + b, 0);
    const pr = e.map((v) => v / z);
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++) {
        const hab = ((a === b ? pr[a] : 0) - pr[a] * pr[b]) / n;
        if (hab === 0) continue;
        const ja = jac.subarray((i * k + a) * p, (i * k + a + 1) * p);
        const jb = jac.subarray((i * k + b) * p, (i * k + b + 1) * p);
        for (let r = 0; r < p; r++) {
          const s = hab * ja[r];
          for (let q = 0; q < p; q++) g[r * p + q] += s * jb[q];
        }
      }
  }
  return g;
}

describe("ggnOperator on a tanh MLP with CE", () => {
  it("equals Jᵀ H_out J assembled on the host, is PSD, differs from H; closed form = autodiff H_out", async () => {
    const ds = toyClassification(12, 3, 3, 17);
    const model = createModel({ kind: "mlp", hidden: [4], activation: "tanh", initScale: 2 }, ds.xShape, 3);
    const params = model.init(Key.fromSeed(6), "float64");
    const ref = await hostGgnCe(model, ds, keep(params));
    const obj = point(model, params, ds, createLoss({ kind: "ce" }), "full", { chunkSize: 5 });
    const p = obj.dim;
    const scale = maxAbs(ref);
    // Wasm computes float64 exp and tanh with float32-level accuracy (~1e-7 relative).
    for (const opts of [{ mode: "linearize" }, { mode: "jvp" }, { outputHessian: "autodiff" }] as const) {
      const g = await dense(obj.ggn(opts));
      const err = maxAbsDiff(g, ref) / scale;
      assert.ok(err < 1e-6, `GGN ${JSON.stringify(opts)} vs host Jᵀ H J: ${err}`);
      if (opts.mode === "linearize") {
        const eig = symmetricEigen(g, p);
        assert.ok(eig.values[0] > -1e-12 * eig.values[p - 1], `λmin(G) = ${eig.values[0]}`);
        const h = await dense(obj.hessian());
        const hEig = symmetricEigen(h, p);
        assert.ok(maxAbsDiff(g, h) > 1e-3 * maxAbs(h), "G ≠ H away from a minimum of a nonlinear model");
        assert.ok(hEig.values[0] < -1e-6 * hEig.values[p - 1], `H is indefinite here: λmin(H) = ${hEig.values[0]}`);
      }
    }
    obj.dispose();
  });
});

describe("ggnOperator resources", () => {
  it("many linearized products keep the Wasm heap flat", async () => {
    const ds = toyClassification(256, 4, 3);
    const model = createModel({ kind: "mlp", hidden: [32], activation: "tanh" }, ds.xShape, 3);
    const obj = point(model, model.init(Key.fromSeed(1), "float32"), ds, createLoss({ kind: "ce" }), "full", {
      chunkSize: 128,
    });
    const v = Key.fromSeed(2).rng().normals(obj.dim);
    for (const mode of ["linearize", "jvp"] as const) {
      const op = obj.ggn({ mode });
      for (let i = 0; i < 10; i++) await op.matvec(v);
      const before = wasmHeapBytes();
      for (let i = 0; i < 60; i++) await op.matvec(v);
      const growth = wasmHeapBytes() - before;
      assert.ok(growth <= 65536, `${mode}: heap grew by ${growth} bytes over 60 GGN products`);
      op.dispose();
    }
    obj.dispose();
  });
});
