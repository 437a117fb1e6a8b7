/**
 * Backend cross-check: for every model × loss, the float32 value and gradient on the Wasm backend
 * equal those on jax-js's interpreted "cpu" backend (an independent evaluator of the same graph)
 * within float32 tolerance (observed: ≤ 1.5e-7 relative for values, ≤ 3.3e-7 for gradients).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { grad, initRuntime, toScalar, treeToHost, type Array, type Backend, type Params } from "../core/index.js";
import { hostCase, lossCases, MODEL_CASES, upload, type HostCase } from "./cases.testkit.js";

before(async () => {
  await initRuntime("cpu");
  await initRuntime("wasm");
});
after(async () => initRuntime("wasm"));

async function valueAndGradOn(backend: Backend, c: HostCase): Promise<[number, Float64Array]> {
  await initRuntime(backend);
  try {
    const f = (p: Params, x: Array, y: Array): Array => c.loss(c.model.apply(p, x), y);
    const [p, x, y] = upload(c, c.theta, "float32");
    const value = await toScalar(f(p, x, y));
    const [p2, x2, y2] = upload(c, c.theta, "float32");
    const g = await treeToHost(grad(f)(p2, x2, y2));
    return [value, g];
  } finally {
    await initRuntime("wasm");
  }
}

describe("float32 value and gradient: wasm equals cpu", () => {
  MODEL_CASES.forEach((mc, i) => {
    for (const lc of lossCases(i)) {
      it(`${mc.name} × ${lc.name}`, async () => {
        const c = await hostCase(mc, lc.config, 200 + i);
        const [vc, gc] = await valueAndGradOn("cpu", c);
        const [vw, gw] = await valueAndGradOn("wasm", c);
        assert.ok(Math.abs(vw - vc) <= 2e-6 * Math.max(1, Math.abs(vc)), `value: wasm ${vw}, cpu ${vc}`);
        let num = 0;
        let den = 0;
        for (let j = 0; j < gc.length; j++) {
          num += (gw[j] - gc[j]) ** 2;
          den += gc[j] ** 2;
        }
        assert.ok(den > 0);
        const rel = Math.sqrt(num / den);
        assert.ok(rel < 2e-6, `gradient: relative difference ${rel.toExponential(2)} over ${gc.length} params`);
      });
    }
  });
});
