/**
 * MLP loss and gradient norm against the PyTorch float64 reference cases in
 * test/fixtures/reference/*.json (format in its README; W is stored out×in and transposed here into our
 * [d_in, d_out] layout).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { before, describe, it } from "node:test";
import { initRuntime, np, toScalar, treeNorm, valueAndGrad, type Array, type Params } from "../core/index.js";
import { createModel } from "../models/index.js";
import { createLoss } from "./schema.js";

const REF_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../test/fixtures/reference");

interface RefCase {
  activation: "tanh" | "relu" | "softplus" | "identity";
  loss: "mse" | "ce";
  mse_reduction?: "mean" | "half_mean" | "half_sum" | "sum";
  layers: { W: number[][]; b: number[] }[];
  x: number[][];
  y: number[][] | number[];
}

const names = readdirSync(REF_DIR)
  .filter((f) => f.endsWith(".json") && !f.endsWith(".ref.json"))
  .map((f) => f.slice(0, -".json".length))
  .sort();

before(async () => initRuntime("wasm"));

describe("MLP against the PyTorch float64 references", () => {
  it("finds the reference cases", () => assert.ok(names.length >= 4, `only ${names.length} cases in ${REF_DIR}`));
  for (const name of names) {
    it(name, async () => {
      const c = JSON.parse(readFileSync(join(REF_DIR, `${name}.json`), "utf8")) as RefCase;
      const ref = JSON.parse(readFileSync(join(REF_DIR, `${name}.ref.json`), "utf8")) as {
        loss: number;
        grad_norm: number;
        P: number;
      };
      const dims = [c.layers[0].W[0].length, ...c.layers.map((l) => l.W.length)];
      const model = createModel(
        { kind: "mlp", hidden: dims.slice(1, -1), activation: c.activation, bias: true },
        [dims[0]],
        dims[dims.length - 1],
      );
      assert.equal(model.paramCount(), ref.P);
      const loss = createLoss(c.loss === "ce" ? { kind: "ce" } : { kind: "mse", reduction: c.mse_reduction! });
      const f64 = (v: number[] | number[][]): Array => np.array(v, { dtype: np.float64 });
      // PyTorch's W is [out][in]; ours is [in, out].
      const params = {
        layers: c.layers.map((l) => ({ W: f64(l.W).transpose([1, 0]), b: f64(l.b) })),
      } as unknown as Params;
      const x = f64(c.x);
      const y = c.loss === "ce" ? np.array(c.y as number[], { dtype: np.int32 }) : f64(c.y);
      const [value, g] = valueAndGrad((p: Params, xx: Array, yy: Array) => loss(model.apply(p, xx), yy))(params, x, y);
      const lv = await toScalar(value);
      const gn = await toScalar(treeNorm(g));
      // Exact arithmetic for identity; otherwise Wasm's float32-level exp/tanh (README: ~1e-6).
      const tol = c.activation === "identity" && c.loss === "mse" ? 1e-12 : 1e-6;
      const le = Math.abs(lv - ref.loss) / Math.abs(ref.loss);
      const ge = Math.abs(gn - ref.grad_norm) / ref.grad_norm;
      assert.ok(le < tol, `loss ${lv} vs ${ref.loss} (rel ${le.toExponential(2)})`);
      assert.ok(ge < tol, `‖∇L‖ ${gn} vs ${ref.grad_norm} (rel ${ge.toExponential(2)})`);
    });
  }
});
