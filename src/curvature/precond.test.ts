import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime, Key, keep, np, release, treeFromHost, treeSpec, type Params } from "../core/index.js";
import { adamw, chain, rmsprop, scaleByAdam, sgd, adam } from "../optim/index.js";
import type { GradientTransformation, OptState } from "../optim/types.js";
import { lanczos } from "./lanczos.js";
import { denseOperator } from "./operator.js";
import { adamPreconditioner, preconditionedEigenvector, preconditionedOperator } from "./precond.js";
import { symmetricEigen } from "./tridiagonal.js";

before(async () => initRuntime("wasm"));

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe("preconditionedOperator", () => {
  it("on a diagonal quadratic has eigenvalues h_i/p_i", async () => {
    const h = [5, -2, 0.5, 40, 3, 1e-3];
    const p = Float64Array.from([0.5, 2, 0.25, 10, 3, 1e-4]);
    const n = h.length;
    const a = new Float64Array(n * n);
    h.forEach((v, i) => (a[i * n + i] = v));
    const op = preconditionedOperator(denseOperator(a, n), p);
    const expected = h.map((v, i) => v / p[i]).sort((x, y) => y - x);
    const r = await lanczos(op, { k: n, key: Key.fromSeed(1) });
    r.values.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12 * 10, `λ${i}: ${v} vs ${expected[i]}`));
  });

  it("is P^{-1/2} H P^{-1/2} for a dense H; its eigenpairs (λ, y) give P⁻¹H x = λx with x = P^{-1/2} y", async () => {
    const n = 5;
    const rng = Key.fromSeed(2).rng();
    const m = rng.normals(n * n);
    const hm = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) hm[i * n + j] = m[i * n + j] + m[j * n + i];
    const p = Float64Array.from({ length: n }, () => 0.1 + rng.uniform());
    const op = preconditionedOperator(denseOperator(hm, n), p);
    const s = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      const e = new Float64Array(n);
      e[j] = 1;
      const col = await op.matvec(e);
      for (let i = 0; i < n; i++) s[i * n + j] = col[i];
    }
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const want = hm[i * n + j] / Math.sqrt(p[i] * p[j]);
        assert.ok(Math.abs(s[i * n + j] - want) < 1e-14 * 10, `S[${i},${j}]`);
      }
    const eig = symmetricEigen(s, n);
    for (let k = 0; k < n; k++) {
      const y = Float64Array.from({ length: n }, (_, i) => eig.vectors[i * n + k]);
      const x = preconditionedEigenvector(y, p);
      for (let i = 0; i < n; i++) {
        let hx = 0;
        for (let j = 0; j < n; j++) hx += hm[i * n + j] * x[j];
        assert.ok(Math.abs(hx / p[i] - eig.values[k] * x[i]) < 1e-12, `(P⁻¹H x)_${i} = λx_${i} for pair ${k}`);
      }
    }
  });

  it("rejects non-positive or mis-sized preconditioners", () => {
    const op = denseOperator(new Float64Array(4), 2);
    assert.throws(() => preconditionedOperator(op, Float64Array.of(1, 0)), { name: "UserError", message: /entry 1/ });
    assert.throws(() => preconditionedOperator(op, Float64Array.of(1)), { name: "UserError" });
  });
});

/** Runs `opt` for the host gradients `gs` on a small parameter tree; returns the final state. */
function runOptimizer(opt: GradientTransformation, gs: Float64Array[]): OptState {
  const params0 = { a: np.zeros([2, 2], { dtype: np.float64 }), b: np.zeros([3], { dtype: np.float64 }) } as Params;
  const spec = treeSpec(params0);
  let params: Params = params0;
  let state = opt.init(keep(params));
  gs.forEach((g, t) => {
    const lr = np.array(0.01, { dtype: np.float64 });
    const step = np.array(t, { dtype: np.float64 });
    const [u, s] = opt.update(treeFromHost(spec, g) as Params, state, keep(params), { lr, step });
    release([lr, step]);
    release(params);
    params = u;
    state = s;
  });
  release(params);
  return state;
}

describe("Adam and RMSProp preconditioners from optimizer states", () => {
  const rng = Key.fromSeed(3).rng();
  const gs = Array.from({ length: 4 }, () => rng.normals(7, 0.3));
  /** Host EMAs ν_t = β ν_{t−1} + (1 − β) g², μ_t = β μ_{t−1} + (1 − β) g. */
  const ema = (b: number, sq: boolean) => {
    const out = new Float64Array(7);
    for (const g of gs) for (let i = 0; i < 7; i++) out[i] = b * out[i] + (1 - b) * (sq ? g[i] * g[i] : g[i]);
    return out;
  };

  it("adamw(): P = √(ν/(1 − β₂ᵗ) + ε_root) + ε from the optimizer, and found in a bare state", async () => {
    const b2 = 0.95;
    // Decoupled decay: the moments see the raw gradients.
    const opt = adamw({ b2, eps: 1e-3, epsRoot: 1e-2, weightDecay: 0.1 });
    const state = runOptimizer(opt, gs);
    const nu = ema(b2, true);
    const want = (i: number) => Math.sqrt(nu[i] / (1 - b2 ** 4) + 1e-2) + 1e-3;
    const p = await opt.preconditioner!.diagonal(state);
    p.forEach((v, i) => assert.ok(rel(v, want(i)) < 1e-12, `P_${i}`));
    const p2 = await adamPreconditioner(state, { eps: 1e-3, epsRoot: 1e-2 });
    p2.forEach((v, i) => assert.ok(rel(v, want(i)) < 1e-12));
  });

  it("rmsprop() plain and centred: P = √ν + ε, √(ν − μ²) + ε", async () => {
    for (const centered of [false, true]) {
      const opt = rmsprop({ decay: 0.8, eps: 1e-4, centered, momentum: 0.5 });
      const state = runOptimizer(opt, gs);
      const nu = ema(0.8, true);
      const mu = ema(0.8, false);
      const p = await opt.preconditioner!.diagonal(state);
      release(state);
      p.forEach((v, i) => {
        const want = Math.sqrt(centered ? nu[i] - mu[i] * mu[i] : nu[i]) + 1e-4;
        assert.ok(rel(v, want) < 1e-12, `centered=${centered} P_${i}: ${v} vs ${want}`);
      });
    }
  });

  it("throws a UserError without exactly one matching state, or before the first update", async () => {
    await assert.rejects(adamPreconditioner(runOptimizer(sgd({ momentum: 0.9 }), gs)), {
      name: "UserError",
      message: /found 0/,
    });
    await assert.rejects(adamPreconditioner(runOptimizer(chain(scaleByAdam(), scaleByAdam()), gs)), {
      name: "UserError",
      message: /found 2 \(state\[0\], state\[1\]\)/,
    });
    await assert.rejects(adamPreconditioner(runOptimizer(adam(), [])), { name: "UserError", message: /step 0/ });
  });
});
