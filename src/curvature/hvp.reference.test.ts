/**
 * The curvature objective and Hessian operator against the PyTorch float64 reference cases in
 * test/fixtures/reference (exact double-backward Hessians; format in its README).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime, Key } from "../core/index.js";
import { lanczos } from "./lanczos.js";
import { point } from "./point.testkit.js";
import { basis, loadRefCase, refCaseNames } from "./objective.testkit.js";

before(async () => initRuntime("wasm"));

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

/** Cases whose exact trace and ‖H‖_F we check from P basis products, with their chunk sizes. */
const EXACT: Record<string, number> = {
  "identity_mse_8-12-12-4": 1000,
  "tanh_ce_10-16-3": 40, // two chunks (64 examples)
  "softplus_mse_5-20-1": 1000,
};

describe("Hessian operator against the PyTorch float64 references", () => {
  it("finds the reference cases", () => assert.ok(refCaseNames().length >= 4));

  for (const name of refCaseNames()) {
    it(name, async () => {
      const c = loadRefCase(name);
      const exact = EXACT[name];
      const obj = point(c.model, c.params(), c.data, c.loss, "full", { chunkSize: exact ?? 64 });
      assert.equal(obj.dim, c.ref.P);
      // Exact arithmetic for identity + MSE; otherwise Wasm's float32-level exp/tanh (README: ~1e-6).
      const tol = name.startsWith("identity") ? 1e-12 : 1e-6;
      const { value, gradient } = await obj.valueAndGradient();
      const gn = Math.hypot(...gradient);
      assert.ok(rel(value, c.ref.loss) < tol, `loss ${value} vs ${c.ref.loss}`);
      assert.ok(rel(gn, c.ref.grad_norm) < tol, `‖∇L‖ ${gn} vs ${c.ref.grad_norm}`);
      const op = obj.hessian();
      try {
        if (exact !== undefined) {
          // tr H = Σ_i e_iᵀ H e_i and ‖H‖_F² = Σ_i ‖H e_i‖² from the P columns.
          let trace = 0;
          let frob2 = 0;
          let asym = 0;
          const cols: Float64Array[] = [];
          for (let i = 0; i < obj.dim; i++) {
            const col = await op.matvec(basis(obj.dim, i));
            cols.push(col);
            trace += col[i];
            for (const x of col) frob2 += x * x;
          }
          for (let i = 0; i < obj.dim; i++)
            for (let j = 0; j < i; j++) asym = Math.max(asym, Math.abs(cols[i][j] - cols[j][i]));
          const frob = Math.sqrt(frob2);
          assert.ok(rel(trace, c.ref.trace) < tol, `trace ${trace} vs ${c.ref.trace} (rel ${rel(trace, c.ref.trace)})`);
          assert.ok(rel(frob, c.ref.frob_norm) < tol, `‖H‖_F ${frob} vs ${c.ref.frob_norm}`);
          assert.ok(asym / frob < 1e-12, `H is symmetric (max |H_ij − H_ji| = ${asym})`);
        } else {
          // Larger case: the three largest eigenvalues by Lanczos against scipy eigsh.
          const r = await lanczos(op, { k: 3, which: "largest", tol: 1e-9, key: Key.fromSeed(5) });
          assert.ok(r.converged);
          r.values.forEach((v, i) =>
            assert.ok(rel(v, c.ref.top_eigs[i]) < tol, `λ${i + 1} ${v} vs ${c.ref.top_eigs[i]}`),
          );
        }
      } finally {
        op.dispose();
        obj.dispose();
      }
    });
  }
});
