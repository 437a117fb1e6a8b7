import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { cli } from "./clikit.js";
import { landscapeRun } from "../src/cli/landscape.js";
import { release } from "../src/core/index.js";
import { loadRunModel } from "../src/experiments/external.js";
import { createLoss, createObjective } from "../src/losses/index.js";
import { RunStore } from "../src/store/index.js";
import { runExperiment } from "../src/train/trainer.js";
import { smallExperiment, tempStore } from "./helpers.js";

let storeDir = "";
let runId = "";
const out = () => mkdtempSync(join(tmpdir(), "sgdlab-landscape-"));

/** L and accuracy of the run's checkpoint at `step`, evaluated directly (float64, train, full). */
async function checkpointLoss(step: number): Promise<{ loss: number; accuracy: number }> {
  const store = RunStore.open(storeDir, { readonly: true });
  try {
    const t = await loadRunModel(store, runId, step);
    const obj = createObjective({ model: t.model, loss: createLoss(t.loss) }, t.data, "full", { dtype: "float64" });
    const p = t.params("float64");
    try {
      return await obj.evaluate(p);
    } finally {
      obj.dispose();
      release(p);
    }
  } finally {
    store.close();
  }
}

describe("sgdlab landscape", () => {
  before(async () => {
    const store = tempStore();
    const r = await runExperiment(smallExperiment(["checkpointEvery=10"]), { store });
    storeDir = store.dir;
    runId = r.runId;
    store.close();
  });

  it("interpolation endpoints equal the two checkpoints' losses; stored as an artifact with a figure", async () => {
    const dir = out();
    const o = await landscapeRun({
      run: runId,
      store: storeDir,
      interpolate: ["10", "40"],
      points: "5",
      dtype: "float64",
      out: dir,
    });
    assert.deepEqual(o.grid.axes[0], [-0.5, 0, 0.5, 1, 1.5]);
    const [a, b] = [await checkpointLoss(10), await checkpointLoss(40)];
    assert.ok(Math.abs(o.grid.loss[1] - a.loss) < 1e-12 * Math.max(1, a.loss), `${o.grid.loss[1]} vs ${a.loss}`);
    assert.ok(Math.abs(o.grid.loss[3] - b.loss) < 1e-12 * Math.max(1, b.loss), `${o.grid.loss[3]} vs ${b.loss}`);
    assert.equal(o.grid.accuracy[3], b.accuracy);
    assert.equal(o.step, 10);
    const store = RunStore.open(storeDir, { readonly: true });
    try {
      const art = store.getArtifact(runId, "landscape/interpolate-10-40");
      assert.equal(art?.step, 10);
      const v = art!.value as { grid: { axes: number[][]; loss: number[] }; mode: string };
      assert.equal(v.mode, "interpolate");
      assert.deepEqual(v.grid.loss, o.grid.loss);
    } finally {
      store.close();
    }
    assert.ok(existsSync(join(dir, "index.html")) && existsSync(join(dir, "landscape-loss.svg")));
  });

  it("2-D random and PCA planes through the CLI, with --json and the refined grid", async () => {
    const dir = out();
    const r = await cli(
      [
        "landscape",
        runId,
        "--store",
        storeDir,
        "--directions",
        "random2d",
        "--points",
        "3",
        "--range",
        "-0.5:0.5",
      ].concat(["--refine", "--out", dir]),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /min\s+loss/);
    assert.match(r.stdout, /refined min/);
    assert.ok(existsSync(join(dir, "landscape-loss-refined.svg")));
    const j = await cli(
      ["landscape", runId, "--store", storeDir, "--directions", "pca", "--points", "3", "--json"].concat([
        "--out",
        dir,
      ]),
    );
    assert.equal(j.code, 0, j.stderr);
    const o = JSON.parse(j.stdout) as { path: number[][]; directions: { explainedVariance: number }[]; dims: number };
    assert.equal(o.dims, 2);
    assert.equal(o.path.length, 4, "checkpoints at steps 10, 20, 30, 40");
    assert.deepEqual(o.path.at(-1), [0, 0]);
    assert.ok(o.directions[0].explainedVariance >= o.directions[1].explainedVariance);
  });

  it("--to RUN2 interpolates between two runs; --model gives the run's own values without storing", async () => {
    const store = RunStore.open(storeDir);
    const other = await runExperiment(smallExperiment(["checkpointEvery=20", "optimizer.lr=0.05"]), { store });
    store.close();
    const o = await landscapeRun({
      run: runId,
      store: storeDir,
      interpolate: ["40", "latest"],
      to: other.runId,
      points: "3",
      range: "0:1",
      dtype: "float64",
      out: out(),
    });
    const s2 = RunStore.open(storeDir, { readonly: true });
    let lossB: number;
    try {
      const t = await loadRunModel(s2, other.runId);
      const obj = createObjective({ model: t.model, loss: createLoss(t.loss) }, t.data, "full", { dtype: "float64" });
      const p = t.params("float64");
      lossB = (await obj.evaluate(p)).loss;
      release(p);
      obj.dispose();
    } finally {
      s2.close();
    }
    assert.ok(Math.abs(o.grid.loss[0] - (await checkpointLoss(40)).loss) < 1e-12);
    assert.ok(Math.abs(o.grid.loss[2] - lossB) < 1e-12, `${o.grid.loss[2]} vs ${lossB}`);

    const dir = out();
    const file = join(dir, "w.safetensors");
    assert.equal((await cli(["export", runId, "--store", storeDir, "--weights", file, "--step", "40"])).code, 0);
    const { spec } = smallExperiment();
    writeFileSync(
      join(dir, "model.json"),
      JSON.stringify({
        format: "sgdlab-model/1",
        model: spec.model,
        loss: spec.loss,
        data: spec.data,
        seed: spec.seed,
        weights: "w.safetensors",
      }),
    );
    assert.deepEqual(o.notes, []);
    const s3 = RunStore.open(storeDir);
    const otherData = await runExperiment(smallExperiment(["seed=4"]), { store: s3 });
    s3.close();
    const noted = await landscapeRun({
      run: runId,
      store: storeDir,
      interpolate: ["40", "latest"],
      to: otherData.runId,
      points: "2",
      out: out(),
    });
    assert.match(noted.notes.join(""), /trained on other data/);
    const common = { directions: "random1d", points: "5", seed: "7", dtype: "float64" };
    const fromFile = await landscapeRun({ model: join(dir, "model.json"), ...common, out: out() });
    const fromRun = await landscapeRun({ run: runId, store: storeDir, step: "40", ...common, out: out() });
    assert.equal(fromFile.artifact, null);
    assert.deepEqual(fromFile.grid.loss, fromRun.grid.loss);
  });

  it("usage errors exit 2 with one line", async () => {
    const cases: [string[], RegExp][] = [
      [["landscape", "nosuchrun", "--directions", "random2d"], /no run|nosuchrun/],
      [["landscape", runId, "--directions", "random2d", "--range", "1:-1"], /--range/],
      [["landscape", runId, "--directions", "random2d", "--range", "abc"], /--range/],
      [["landscape", runId, "--interpolate", "10", "15"], /no checkpoint at step 15/],
      [["landscape", runId, "--directions", "sideways"], /--directions/],
      [["landscape", runId], /--interpolate A B or --directions/],
      [["landscape", runId, "--directions", "random1d", "--points", "1"], /--points/],
    ];
    for (const [argv, re] of cases) {
      const r = await cli([...argv, "--store", storeDir, "--out", out()]);
      assert.equal(r.code, 2, `${argv.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  });
});
