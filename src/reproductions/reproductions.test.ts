import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { reportCommand } from "../cli/report.js";
import { initRuntime } from "../core/runtime.js";
import { RunStore } from "../store/index.js";
import { CATALOG, meets, reproduce, thresholdText, type Reproduction } from "./index.js";

before(async () => initRuntime("wasm"));

const tmp = () => mkdtempSync(join(tmpdir(), "sgdlab-repro-"));

const tiny = (lr: number) => ({
  seed: 1,
  data: { kind: "gaussianMixture", nTrain: 40, nTest: 20, classes: 2, dim: 3 },
  model: { kind: "mlp", hidden: [4], activation: "tanh" },
  loss: { kind: "ce" },
  optimizer: { kind: "sgd", lr },
  batchSize: "full",
  steps: 5,
  evalEvery: 5,
});

describe("criteria", () => {
  it("thresholds read and decide as declared; NaN never passes", () => {
    assert.equal(thresholdText({ name: "a", statement: "", min: 1.5 }), "≥ 1.5");
    assert.equal(thresholdText({ name: "a", statement: "", max: 0.2 }), "≤ 0.2");
    assert.equal(thresholdText({ name: "a", statement: "", min: 0.85, max: 1.35 }), "in [0.85, 1.35]");
    const band = { name: "a", statement: "", min: 0.85, max: 1.35 };
    assert.equal(meets(band, 0.85), true);
    assert.equal(meets(band, 1.36), false);
    assert.equal(meets(band, NaN), false);
    assert.equal(meets({ name: "a", statement: "", min: 1 }, Infinity), false);
  });
});

describe("reproduce (runner)", () => {
  const fake = (value: number): Reproduction => ({
    name: "fake",
    title: "fake",
    source: "none",
    claim: "the loss is small",
    criteria: [{ name: "small", statement: "final loss", max: 0.7 }],
    async execute(ctx) {
      const r = await ctx.run("only", tiny(0.1));
      return { values: { small: value === -1 ? r.last("train/loss") : value }, figures: [] };
    },
  });

  it("decides by the declared thresholds at small size, and only by the pipeline at smoke size", async () => {
    const store = RunStore.open(tmp());
    const ok = await reproduce(fake(0.5), "small", { store });
    const bad = await reproduce(fake(0.9), "small", { store });
    const smoke = await reproduce(fake(0.9), "smoke", { store });
    store.close();
    assert.equal(ok.pass, true);
    assert.deepEqual(ok.criteria, [
      { name: "small", statement: "final loss", value: 0.5, threshold: "≤ 0.7", pass: true },
    ]);
    assert.equal(bad.pass, false);
    assert.equal(bad.criteria[0].pass, false);
    assert.equal(smoke.pass, true);
    assert.equal(smoke.checksClaim, false);
    assert.equal(smoke.criteria[0].pass, false);
    assert.equal(ok.runs.length, 1);
    assert.equal(ok.runs[0].status, "completed");
  });

  it("stores every reproduction with its verdict and report; sgdlab report --reproduction writes it again", async () => {
    const dir = tmp();
    const store = RunStore.open(join(dir, "store"));
    const r = await reproduce(fake(0.5), "small", { store });
    const rec = store.reproductions.get(r.id.slice(0, 12));
    store.close();
    assert.equal(rec.id, r.id);
    assert.deepEqual([rec.name, rec.size, rec.pass], ["fake", "small", true]);
    assert.deepEqual((rec.result as { criteria: unknown }).criteria, r.criteria);
    const lines: string[] = [];
    const code = await reportCommand(
      ["--reproduction", r.id, "--store", join(dir, "store"), "--out", join(dir, "again"), "--json"],
      (s) => lines.push(s),
    );
    assert.equal(code, 0);
    const out = JSON.parse(lines.join("")) as { html: string; pass: boolean };
    assert.equal(out.pass, true);
    assert.match(readFileSync(out.html, "utf8"), /sgdlab reproduce fake \(small\): PASS/);
    await assert.rejects(
      reportCommand(["--reproduction", "rp-nope", "--store", join(dir, "store")], () => undefined),
      /no reproduction rp-nope/,
    );
  });

  it("a value the reproduction does not give is an error, not a pass", async () => {
    const store = RunStore.open(tmp());
    const r: Reproduction = { ...fake(0), execute: async () => ({ values: {}, figures: [] }) };
    await assert.rejects(reproduce(r, "small", { store }), /gave no value for "small"/);
    store.close();
  });
});

describe("the catalog at smoke size (the pipeline of every reproduction)", () => {
  it("has unique names and declared criteria", () => {
    assert.equal(new Set(CATALOG.map((r) => r.name)).size, CATALOG.length);
    for (const r of CATALOG) assert.ok(r.criteria.length > 0 && r.source && r.claim, r.name);
  });
  for (const rep of CATALOG) {
    it(rep.name, async () => {
      const dir = tmp();
      const store = RunStore.open(join(dir, "store"));
      const r = await reproduce(rep, "smoke", { store, outDir: join(dir, "report") });
      store.close();
      assert.equal(r.pass, true, `runs: ${JSON.stringify(r.runs)}`);
      assert.deepEqual(
        r.criteria.map((c) => c.name),
        rep.criteria.map((c) => c.name),
      );
      for (const c of r.criteria) assert.equal(typeof c.value, "number");
      assert.ok(r.report && existsSync(r.report));
      const html = readFileSync(r.report, "utf8");
      assert.match(html, new RegExp(rep.name));
      assert.ok(!/<script[^>]+src=/.test(html), "the report loads nothing external");
    });
  }
});
