import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { Key, keep, release, toScalar, treeNormSq, treeToHost, type Array as NpArray } from "../core/index.js";
import { UserError } from "../core/errors.js";
import { initRuntime } from "../core/runtime.js";
import { encodeSafetensors, readSafetensors } from "../data/index.js";
import { createLoss, createObjective } from "../losses/index.js";
import { loadMlpCase, loadSafetensorsModel } from "./external.js";

const REF = join(import.meta.dirname, "..", "..", "test", "fixtures", "reference");

before(async () => initRuntime("wasm"));

describe("external models", () => {
  const cases = readdirSync(REF).filter((f) => f.endsWith(".json") && !f.endsWith(".ref.json"));
  assert.ok(cases.length >= 4);
  for (const file of cases) {
    it(`${file}: loss and gradient norm match PyTorch (float64)`, async () => {
      const ext = loadMlpCase(join(REF, file));
      const ref = JSON.parse(readFileSync(join(REF, file.replace(".json", ".ref.json")), "utf8")) as {
        loss: number;
        grad_norm: number;
        P: number;
      };
      assert.equal(ext.model.paramCount(), ref.P);
      const obj = createObjective({ model: ext.model, loss: createLoss(ext.loss) }, ext.data, "full", {
        dtype: "float64",
      });
      const [value, grad] = obj.valueAndGrad(ext.params("float64"));
      obj.dispose();
      const loss = await toScalar(value);
      const gn = Math.sqrt(await toScalar(treeNormSq(grad)));
      assert.ok(Math.abs(loss - ref.loss) <= 1e-6 * Math.abs(ref.loss), `loss ${loss} vs ${ref.loss}`);
      assert.ok(Math.abs(gn - ref.grad_norm) <= 1e-6 * ref.grad_norm, `grad norm ${gn} vs ${ref.grad_norm}`);
    });
  }

  it("reports malformed cases by file and field", () => {
    const dir = mkdtempSync(join(tmpdir(), "sgdlab-ext-"));
    const bad = join(dir, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({ format: "sgdlab-mlp-case/1", activation: "swish", loss: "ce", layers: [], x: [], y: [] }),
    );
    assert.throws(
      () => loadMlpCase(bad),
      (e: unknown) => e instanceof UserError && /bad\.json: activation/.test(e.message),
    );
    assert.throws(() => loadMlpCase(join(dir, "none.json")), /no such file/);
  });

  it("a model spec + safetensors weights round-trips the parameters exactly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sgdlab-st-"));
    const spec = {
      format: "sgdlab-model/1",
      model: { kind: "mlp", hidden: [5], activation: "tanh" },
      loss: { kind: "ce" },
      data: { kind: "gaussianMixture", nTrain: 20, nTest: 5, classes: 3, dim: 4 },
      weights: "w.safetensors",
    };
    // weights named by dotted parameter paths, in our [d_in, d_out] layout
    const rng = Key.fromSeed(9).rng();
    const t = {
      "layers.0.W": { shape: [4, 5], data: rng.normals(20) },
      "layers.0.b": { shape: [5], data: rng.normals(5) },
      "layers.1.W": { shape: [5, 3], data: rng.normals(15) },
      "layers.1.b": { shape: [3], data: rng.normals(3) },
    };
    writeFileSync(join(dir, "w.safetensors"), encodeSafetensors(t));
    writeFileSync(join(dir, "model.json"), JSON.stringify(spec));
    const back = readSafetensors(join(dir, "w.safetensors")).tensors;
    assert.deepEqual([...back["layers.1.W"].data], [...t["layers.1.W"].data]);
    const ext = await loadSafetensorsModel(join(dir, "model.json"));
    const p = ext.params("float64") as unknown as { layers: { W: NpArray; b: NpArray }[] };
    for (const [i, name] of [
      [0, "W"],
      [0, "b"],
      [1, "W"],
      [1, "b"],
    ] as const) {
      const got = await treeToHost(keep(p.layers[i][name]));
      assert.deepEqual([...got], [...t[`layers.${i}.${name}`].data], `layers.${i}.${name} in place`);
    }
    release(p as never);
    assert.equal(ext.data.n, 20);
    writeFileSync(join(dir, "w.safetensors"), encodeSafetensors({ "layers.0.W": t["layers.0.W"] }));
    await assert.rejects(loadSafetensorsModel(join(dir, "model.json")), /no tensor "layers\.0\.b"/);
    writeFileSync(join(dir, "w.safetensors"), Buffer.from([1, 2, 3]));
    await assert.rejects(loadSafetensorsModel(join(dir, "model.json")), /w\.safetensors: too short/);
  });
});
