import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../core/errors.js";
import { applyOverrides } from "../experiments/resolve.js";
import { expandGrid, overrideArgs, parseAxis } from "./grid.js";

describe("sweep grids", () => {
  it("parses --grid lists as YAML, typed like --set", () => {
    assert.deepEqual(parseAxis("optimizer.lr=[0.01, 0.05,1e-3]", "--grid"), {
      path: "optimizer.lr",
      values: [0.01, 0.05, 0.001],
    });
    assert.deepEqual(parseAxis("model.hidden=[[8], [16, 16]]", "--grid").values, [[8], [16, 16]]);
    assert.deepEqual(parseAxis("model.activation=[tanh, relu]", "--grid").values, ["tanh", "relu"]);
    for (const bad of ["lr", "=[1]", "a..b=[1]", "lr=[]", "lr=0.1", "lr=[1,"]) {
      assert.throws(() => parseAxis(bad, "--grid"), UserError, bad);
    }
  });

  it("expands the product of grids (first slowest) times the zipped lists", () => {
    const lr = { path: "optimizer.lr", values: [0.1, 0.2] };
    const seed = { path: "seed", values: [0, 1, 2] };
    const zipA = { path: "batchSize", values: [8, 32] };
    const zipB = { path: "steps", values: [40, 10] };
    assert.deepEqual(expandGrid([lr, seed]), [
      { "optimizer.lr": 0.1, seed: 0 },
      { "optimizer.lr": 0.1, seed: 1 },
      { "optimizer.lr": 0.1, seed: 2 },
      { "optimizer.lr": 0.2, seed: 0 },
      { "optimizer.lr": 0.2, seed: 1 },
      { "optimizer.lr": 0.2, seed: 2 },
    ]);
    assert.deepEqual(expandGrid([lr], [zipA, zipB]), [
      { "optimizer.lr": 0.1, batchSize: 8, steps: 40 },
      { "optimizer.lr": 0.1, batchSize: 32, steps: 10 },
      { "optimizer.lr": 0.2, batchSize: 8, steps: 40 },
      { "optimizer.lr": 0.2, batchSize: 32, steps: 10 },
    ]);
    assert.deepEqual(expandGrid([], [zipA]), [{ batchSize: 8 }, { batchSize: 32 }]);
    assert.deepEqual(expandGrid([]), [{}]);
  });

  it("refuses zipped lists of unequal lengths and a field swept twice", () => {
    assert.throws(
      () =>
        expandGrid(
          [],
          [
            { path: "a", values: [1, 2] },
            { path: "b", values: [1] },
          ],
        ),
      (e: unknown) => e instanceof UserError && /equal lengths; a has 2, b has 1/.test(e.message),
    );
    assert.throws(
      () => expandGrid([{ path: "seed", values: [1] }], [{ path: "seed", values: [2] }]),
      (e: unknown) => e instanceof UserError && /seed is swept twice/.test(e.message),
    );
  });

  it("turns overrides into --set arguments that read back as the same values", () => {
    const o = { "optimizer.lr": 0.05, "model.activation": "tanh", "model.hidden": [8, 8], flag: true, name: "1e3" };
    const doc = applyOverrides({ optimizer: {}, model: {} }, overrideArgs(o));
    assert.deepEqual(doc, {
      optimizer: { lr: 0.05 },
      model: { activation: "tanh", hidden: [8, 8] },
      flag: true,
      name: "1e3",
    });
  });
});
