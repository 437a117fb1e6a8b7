// Gradient-flow integrators against closed forms on a quadratic L = ½θᵀAθ (diagonal A: θ(t) = e^{−At}θ₀),
// and GD with step h against the plain and the IGR-modified flow (Barrett & Dherin 2021, Thm 3.1):
// closed forms on the quadratic, then the integrators on a small tanh MLP in float64 (Wasm; the "cpu"
// backend, whose tanh is float64-accurate, gave the same slopes to 4 digits when this was written).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime, Key, treeSpec, treeToHost, type Params } from "../core/index.js";
import { makeDataset } from "../data/dataset.js";
import { createLoss, createObjective } from "../losses/index.js";
import { createModel } from "../models/index.js";
import {
  compareGdWithFlows,
  distance,
  dormandPrince,
  gradientField,
  logLogSlope,
  rk4,
  type VectorField,
} from "./flow.js";

const a = [1, 0.5, 0.2, 2];
const theta0 = Float64Array.from([1, -1, 0.5, 2]);
/** θ' = −diag(d)θ. */
const linear =
  (d: readonly number[]): VectorField =>
  async (y) =>
    Float64Array.from(y, (v, i) => -d[i] * v);
const exact = (d: readonly number[], t: number) => Float64Array.from(theta0, (v, i) => Math.exp(-d[i] * t) * v);

describe("integrators on θ' = −Aθ", () => {
  it("RK4: error O(dt⁴)", async () => {
    const dts = [0.2, 0.1, 0.05, 0.025];
    const errs: number[] = [];
    for (const dt of dts) {
      const sol = await rk4({ dt }).integrate(linear(a), theta0, [1]);
      errs.push(distance(sol.states[0], exact(a, 1)));
      assert.equal(sol.stats.evaluations, 4 * sol.stats.steps);
    }
    const slope = logLogSlope(dts, errs);
    assert.ok(Math.abs(slope - 4) < 0.2, `slope ${slope}`);
  });

  it("Dormand–Prince meets its tolerance, rejects steps when asked for a too-large first step, and reuses the last stage", async () => {
    for (const rtol of [1e-6, 1e-9]) {
      const sol = await dormandPrince({ rtol, atol: rtol * 1e-2 }).integrate(linear(a), theta0, [2, 0.5, 1]);
      sol.times.forEach((t, i) => {
        const err = distance(sol.states[i], exact(a, t)) / Math.hypot(...exact(a, t));
        assert.ok(err < 10 * rtol, `rtol ${rtol}, t ${t}: relative error ${err}`);
      });
      // FSAL: 1 initial evaluation, then 6 per attempted step.
      assert.equal(sol.stats.evaluations, 1 + 6 * (sol.stats.steps + sol.stats.rejected));
    }
    const stiff = [50, 1];
    const sol = await dormandPrince({ rtol: 1e-8, atol: 1e-10, h0: 1 }).integrate(
      linear(stiff),
      theta0.slice(0, 2),
      [1],
    );
    assert.ok(sol.stats.rejected > 0, "a first step of 1 on λ = 50 must be rejected");
    const ex = Float64Array.from([Math.exp(-50), -Math.exp(-1)]);
    assert.ok(distance(sol.states[0], ex) < 1e-7);
  });
});

describe("GD with step h against the plain and the modified flow", () => {
  it("closed forms on a quadratic: distances shrink ~h and ~h²", () => {
    const hs = [0.1, 0.05, 0.025, 0.0125];
    const T = 1;
    const dF: number[] = [];
    const dM: number[] = [];
    for (const h of hs) {
      const k = Math.round(T / h);
      const gd = Float64Array.from(theta0, (v, i) => (1 - h * a[i]) ** k * v);
      // modified flow of L + (h/4)‖Aθ‖²: θ' = −(A + (h/2)A²)θ
      const mod = Float64Array.from(theta0, (v, i) => Math.exp(-(a[i] + (h / 2) * a[i] ** 2) * T) * v);
      dF.push(distance(gd, exact(a, T)));
      dM.push(distance(gd, mod));
    }
    assert.ok(Math.abs(logLogSlope(hs, dF) - 1) < 0.1, `flow slope ${logLogSlope(hs, dF)}`);
    assert.ok(Math.abs(logLogSlope(hs, dM) - 2) < 0.1, `modified slope ${logLogSlope(hs, dM)}`);
  });

  it("integrated on the quadratic, with both integrators", async () => {
    for (const integrator of [dormandPrince({ rtol: 1e-10, atol: 1e-12 }), rk4({ dt: 0.01 })]) {
      const r = await compareGdWithFlows(linear(a), (h) => linear(a.map((x) => x + (h / 2) * x * x)), theta0, {
        hs: [0.1, 0.05, 0.025, 0.0125],
        time: 1,
        integrator,
      });
      assert.ok(Math.abs(r.slopeFlow - 1) < 0.1, `${integrator.name}: flow slope ${r.slopeFlow}`);
      assert.ok(Math.abs(r.slopeModified - 2) < 0.1, `${integrator.name}: modified slope ${r.slopeModified}`);
      assert.equal(r.rows[3].steps, 80);
      assert.ok(r.rows[0].along.length >= 5);
    }
  });

  describe("a small tanh MLP (Objective with the egr regularizer μ = h)", () => {
    before(async () => initRuntime("wasm"));

    it("log–log slopes ≈ 1 (plain flow) and ≈ 2 (modified flow), within ±0.3", async () => {
      const rng = Key.fromSeed(3).rng();
      const n = 12;
      const data = makeDataset({
        name: "reg",
        xShape: [3],
        x: rng.normals(n * 3),
        targets: rng.normals(n),
        targetDim: 1,
      });
      const model = createModel({ kind: "mlp", hidden: [6], activation: "tanh" }, [3], 1);
      const loss = createLoss({ kind: "mse", reduction: "half_mean" });
      const obj = createObjective({ model, loss }, data, "full", { dtype: "float64", compile: true });
      const variants: { dispose(): void }[] = [];
      try {
        const p = model.init(Key.fromSeed(0).fold("init"), "float64") as Params;
        const spec = treeSpec(p);
        const th0 = await treeToHost(p);
        const r = await compareGdWithFlows(
          gradientField(obj, spec),
          (h) => {
            const v = obj.variant({ regularizer: { kind: "egr", mu: h } });
            variants.push(v);
            return gradientField(v, spec);
          },
          th0,
          { hs: [0.2, 0.1, 0.05], time: 1, integrator: dormandPrince({ rtol: 1e-7, atol: 1e-9 }) },
        );
        assert.ok(Math.abs(r.slopeFlow - 1) <= 0.3, `flow slope ${r.slopeFlow}`);
        assert.ok(Math.abs(r.slopeModified - 2) <= 0.3, `modified slope ${r.slopeModified}`);
        for (const row of r.rows) assert.ok(row.distModified < row.distFlow);
      } finally {
        for (const v of variants) v.dispose();
        obj.dispose();
      }
    });
  });
});
