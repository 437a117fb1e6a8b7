// Issue 7 §4: `sgdlab export RUN --weights FILE.safetensors [--step N]` writes a checkpoint's weights
// under the dotted leaf names `sgdlab hessian --model` reads; the round trip gives the same loss and
// λmax as `sgdlab hessian RUN`.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readSafetensors } from "../src/data/safetensors.js";
import { cli, tinySpec, workdir } from "./clikit.js";

interface Report {
  loss: number;
  topEigenvalues: number[];
  parameterCount: number;
}

describe("export --weights", () => {
  it("round-trips through hessian --model: same loss and λmax as hessian RUN", async () => {
    const dir = workdir();
    const store = join(dir, "store");
    const run = await cli(["run", join(dir, "spec.json"), "--store", store, "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const id = (JSON.parse(run.stdout) as { runId: string }).runId;

    const file = join(dir, "w.safetensors");
    const ex = await cli(["export", id, "--store", store, "--weights", file, "--step", "20", "--json"]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal((JSON.parse(ex.stdout) as { step: number }).step, 20);
    const { tensors, metadata } = readSafetensors(file);
    assert.deepEqual(Object.keys(tensors).sort(), ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"]);
    assert.deepEqual(tensors["layers.0.W"].shape, [2, 8]);
    assert.deepEqual(tensors["layers.1.W"].shape, [8, 2]);
    assert.equal(tensors["layers.0.W"].dtype, "F32", "a float32 run exports F32");
    assert.equal(metadata.format, "sgdlab-weights/1");
    assert.equal(metadata.step, "20");
    assert.equal(metadata.run, id);

    writeFileSync(
      join(dir, "model.json"),
      JSON.stringify({
        format: "sgdlab-model/1",
        model: tinySpec.model,
        loss: tinySpec.loss,
        data: tinySpec.data,
        seed: tinySpec.seed,
        weights: "w.safetensors",
      }),
    );
    const flags = ["--dtype", "float64", "--top", "2", "--bottom", "0", "--trace", "none", "--json"];
    const fromRun = await cli(["hessian", id, "--store", store, "--step", "20", ...flags]);
    assert.equal(fromRun.code, 0, fromRun.stderr);
    const fromFile = await cli(["hessian", "--model", join(dir, "model.json"), ...flags]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const a = JSON.parse(fromRun.stdout) as Report;
    const b = JSON.parse(fromFile.stdout) as Report;
    assert.equal(a.parameterCount, b.parameterCount);
    assert.equal(a.loss, b.loss, "the same parameters and data give the same loss");
    for (let i = 0; i < 2; i++) {
      assert.ok(Math.abs(a.topEigenvalues[i] - b.topEigenvalues[i]) <= 1e-8 * Math.abs(a.topEigenvalues[i]));
    }

    // the latest checkpoint by default; a float64 run exports F64
    const latest = await cli(["export", id, "--store", store, "--weights", file]);
    assert.equal(latest.code, 0, latest.stderr);
    assert.match(latest.stdout, /checkpoint at step 30/);
    const dir64 = workdir({ ...tinySpec, dtype: "float64" });
    const r64 = await cli(["run", join(dir64, "spec.json"), "--store", store, "--json"]);
    const id64 = (JSON.parse(r64.stdout) as { runId: string }).runId;
    assert.equal((await cli(["export", id64, "--store", store, "--weights", file])).code, 0);
    assert.equal(readSafetensors(file).tensors["layers.0.W"].dtype, "F64");
  });

  it("exports batch-norm running statistics under state.", async () => {
    const spec = { ...tinySpec, model: { kind: "mlp", hidden: [8], norm: "batch" }, steps: 10 };
    const dir = workdir(spec);
    const store = join(dir, "store");
    const run = await cli(["run", join(dir, "spec.json"), "--store", store, "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const id = (JSON.parse(run.stdout) as { runId: string }).runId;
    const file = join(dir, "bn.safetensors");
    assert.equal((await cli(["export", id, "--store", store, "--weights", file])).code, 0);
    const names = Object.keys(readSafetensors(file).tensors);
    assert.ok(names.includes("layers.0.W"), names.join(", "));
    const state = names.filter((n) => n.startsWith("state."));
    assert.ok(state.length >= 2, `running statistics exported: ${names.join(", ")}`);
  });

  it("refuses bad flags with one line", async () => {
    const dir = workdir();
    const store = join(dir, "store");
    const run = await cli(["run", join(dir, "spec.json"), "--store", store, "--quiet"]);
    const id = run.stdout.trim().split(" ")[1];
    const w = join(dir, "w.safetensors");
    for (const [args, re] of [
      [["--weights", w, "--step", "7"], /no checkpoint at step 7/],
      [["--weights", w, "--step=-1"], /--step must be a non-negative integer/],
      [["--weights", w, "--out", "x.csv"], /not both/],
      [["--step", "10"], /use it with --weights/],
      [["--weights", dir], /is a folder/],
    ] as [string[], RegExp][]) {
      const r = await cli(["export", id, "--store", store, ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});
