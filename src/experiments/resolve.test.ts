import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { UserError } from "../core/errors.js";
import { applyOverrides, canonicalJson, loadSpec, resolveSpec } from "./resolve.js";

const base = {
  data: { kind: "gaussianMixture", nTrain: 100, nTest: 50, classes: 3, dim: 4 },
  model: { kind: "mlp", hidden: [8], activation: "tanh" },
  loss: { kind: "ce" },
  optimizer: { kind: "sgd", lr: 0.1 },
  steps: 10,
};

function errorOf(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected an error");
}

describe("spec resolution", () => {
  it("fills defaults, freezes, and hashes independently of key order", () => {
    const a = resolveSpec(base);
    assert.equal(a.spec.batchSize, "full");
    assert.equal(a.spec.dtype, "float32");
    assert.ok(Object.isFrozen(a.spec) && Object.isFrozen(a.spec.model));
    const reordered = Object.fromEntries(Object.entries(base).reverse());
    assert.equal(resolveSpec(reordered).hash, a.hash);
    assert.notEqual(resolveSpec({ ...base, seed: 1 }).hash, a.hash);
    assert.equal(canonicalJson({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');
  });

  it("names the path and the allowed keys of an unknown key", () => {
    const e = errorOf(() => resolveSpec({ ...base, optimizer: { kind: "sgd", lr: 0.1, momentun: 0.9 } }));
    assert.match(e.message, /optimizer\.momentun: unknown key; allowed here: .*momentum/);
    assert.equal(e.exitCode, 2);
    const top = errorOf(() => resolveSpec({ ...base, stepz: 3 }));
    assert.match(top.message, /stepz: unknown key; allowed here: .*steps/);
  });

  it("names the path of a wrong type, a missing field and a bad variant", () => {
    assert.match(errorOf(() => resolveSpec({ ...base, steps: "ten" })).message, /steps: expected a number, got "ten"/);
    const { steps: _s, ...noSteps } = base;
    assert.match(errorOf(() => resolveSpec(noSteps)).message, /steps: required/);
    assert.match(errorOf(() => resolveSpec({ ...base, model: { kind: "transformer" } })).message, /model\.kind: .*mlp/);
    assert.match(errorOf(() => resolveSpec({ ...base, batchSize: 0 })).message, /batchSize/);
  });

  it("applies --set overrides with YAML-typed values", () => {
    const doc = applyOverrides(base, ["optimizer.lr=0.5", "model.hidden=[16, 16]", "name=x", "schedule.kind=cosine"]);
    const r = resolveSpec(doc);
    assert.equal((r.spec.optimizer as { lr: number }).lr, 0.5);
    assert.deepEqual((r.spec.model as { hidden: number[] }).hidden, [16, 16]);
    assert.equal(r.spec.name, "x");
    assert.equal(r.spec.schedule.kind, "cosine");
    assert.equal((base.optimizer as { lr: number }).lr, 0.1, "overrides must not mutate the input");
    assert.match(errorOf(() => applyOverrides(base, ["novalue"])).message, /path=value/);
    assert.match(errorOf(() => applyOverrides(base, ["steps.x=1"])).message, /steps/);
  });

  it("reports unreadable and malformed files by name", () => {
    const dir = mkdtempSync(join(tmpdir(), "sgdlab-spec-"));
    assert.match(errorOf(() => loadSpec(join(dir, "missing.yaml"))).message, /missing\.yaml: no such file/);
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "data: [unclosed\n");
    assert.match(errorOf(() => loadSpec(bad)).message, /bad\.yaml is not valid YAML/);
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify(base));
    assert.equal(loadSpec(good, ["steps=3"]).spec.steps, 3);
  });
});
