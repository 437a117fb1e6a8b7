/**
 * Every model × loss against the naive float64 host reference (models/reference.testkit.ts): the
 * objective value, and the `grad` gradient against central finite differences of the host objective
 * (step 1e-5·max(1, |θ_i|)), on the Wasm backend and on jax-js's interpreted "cpu" backend.
 *
 * Tolerances: Wasm computes float64 exp/tanh with float32-level precision (~1e-7 relative; log is
 * refined by `preciseLog`), observed errors are ≤ 6e-8 (values) and ≤ 3e-7 (gradients); the cpu
 * backend uses JS Math: ≤ 3e-16 and ≤ 3e-10 (the finite differences' own error). A wrong gradient
 * (a missing factor, a transposed layer) errs by O(1).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { grad, initRuntime, toScalar, treeToHost, type Array, type Backend, type Params } from "../core/index.js";
import { hostCase, hostObjective, lossCases, MODEL_CASES, upload, type HostCase } from "./cases.testkit.js";

before(async () => {
  await initRuntime("cpu");
  await initRuntime("wasm");
});
after(async () => initRuntime("wasm"));

function objective(c: HostCase) {
  return (p: Params, x: Array, y: Array): Array => c.loss(c.model.apply(p, x), y);
}

function finiteDifferences(c: HostCase): Float64Array {
  const th = Float64Array.from(c.theta);
  const fd = new Float64Array(th.length);
  for (let j = 0; j < th.length; j++) {
    const h = 1e-5 * Math.max(1, Math.abs(c.theta[j]));
    th[j] = c.theta[j] + h;
    const fp = hostObjective(c, th);
    th[j] = c.theta[j] - h;
    const fm = hostObjective(c, th);
    th[j] = c.theta[j];
    fd[j] = (fp - fm) / (2 * h);
  }
  return fd;
}

function relErr(a: Float64Array, b: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let j = 0; j < a.length; j++) {
    num += (a[j] - b[j]) ** 2;
    den += b[j] ** 2;
  }
  assert.ok(den > 0, "reference gradient is zero: the check would be vacuous");
  return Math.sqrt(num / den);
}

const TOL: Record<Exclude<Backend, "webgpu">, { value: number; grad: number }> = {
  wasm: { value: 5e-7, grad: 2e-6 },
  cpu: { value: 1e-12, grad: 1e-8 },
};

describe("value and gradient equal the float64 host reference and its finite differences", () => {
  MODEL_CASES.forEach((mc, i) => {
    for (const lc of lossCases(i)) {
      it(`${mc.name} × ${lc.name}`, async () => {
        const c = await hostCase(mc, lc.config, 100 + i);
        const ref = hostObjective(c, c.theta);
        const fd = finiteDifferences(c);
        for (const backend of ["wasm", "cpu"] as const) {
          await initRuntime(backend);
          try {
            const [p, x, y] = upload(c, c.theta, "float64");
            const value = await toScalar(objective(c)(p, x, y));
            const [p2, x2, y2] = upload(c, c.theta, "float64");
            const g = await treeToHost(grad(objective(c))(p2, x2, y2));
            const ve = Math.abs(value - ref) / Math.max(Math.abs(ref), 1e-300);
            assert.ok(
              ve < TOL[backend].value,
              `${backend}: value ${value} vs host ${ref} (rel ${ve.toExponential(2)})`,
            );
            const ge = relErr(g, fd);
            assert.ok(
              ge < TOL[backend].grad,
              `${backend}: gradient rel. error ${ge.toExponential(2)} over ${g.length} params`,
            );
          } finally {
            await initRuntime("wasm");
          }
        }
      });
    }
  });
});
