import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { datasetSummary, DataConfigSchema, loadData, parseDataConfig, type DataConfigInput } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "sgdlab-load-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("DataConfigSchema", () => {
  it("fills defaults per kind", () => {
    const c = DataConfigSchema.parse({ kind: "gaussianMixture" });
    assert.deepEqual(c, {
      kind: "gaussianMixture",
      classes: 2,
      dim: 2,
      separation: 3,
      noise: 1,
      nTrain: 1000,
      nTest: 1000,
      normalize: "none",
      layout: "flat",
      labelNoise: 0,
    });
    const m = DataConfigSchema.parse({ kind: "mnist" });
    assert.equal(m.kind === "mnist" && m.nTrain + m.nTest, 10000);
    const cf = DataConfigSchema.parse({ kind: "cifar10", dir: "x" });
    assert.ok(cf.kind === "cifar10" && cf.trainFiles.length === 5 && cf.testFiles[0] === "test_batch.bin");
  });

  it("rejects unknown keys and kinds, and bad values, naming the field", () => {
    const bad = (c: unknown, re: RegExp) =>
      assert.throws(() => parseDataConfig(c as DataConfigInput), { name: "UserError", message: re });
    bad({ kind: "moons", nosie: 0.1 }, /nosie/);
    bad({ kind: "imagenet" }, /data\.kind/);
    bad({ kind: "moons", labelNoise: 2 }, /data\.labelNoise/);
    bad({ kind: "sparseLinear", dim: 3, k: 4 }, /data\.k/);
    bad({ kind: "mnist", nTrain: 9000, nTest: 2000 }, /10,000/);
    bad({ kind: "csv", train: "a.csv" }, /exactly one of label/);
    bad({ kind: "idx", trainImages: "a", trainLabels: "b", testImages: "c" }, /testLabels/);
    bad({ kind: "moons", normalize: "whiten" }, /data\.normalize/);
  });
});

describe("loadData", () => {
  it("generates, subsets, normalizes, corrupts and records it all, deterministically in the seed", async () => {
    const config: DataConfigInput = {
      kind: "gaussianMixture",
      classes: 4,
      dim: 3,
      nTrain: 400,
      nTest: 200,
      balancedSubset: 202,
      normalize: "standardize",
      labelNoise: 0.25,
    };
    const split = await loadData(config, 7);
    assert.equal(split.train.n, 202);
    assert.equal(split.test.n, 200);
    const info = split.info as {
      labelCorruption: { count: number; indices: number[]; originalLabels: number[]; newLabels: number[] };
      classCounts: { train: number[]; test: number[] };
      source: string;
    };
    assert.equal(info.labelCorruption.count, Math.round(0.25 * 202));
    assert.ok(Array.isArray(info.labelCorruption.indices));
    // The balanced subset was taken before corruption: undoing the corruption restores 51/51/50/50.
    const clean = Int32Array.from(split.train.labels!);
    info.labelCorruption.indices.forEach((i, k) => {
      assert.equal(clean[i], info.labelCorruption.newLabels[k]);
      clean[i] = info.labelCorruption.originalLabels[k];
    });
    const counts = [0, 0, 0, 0];
    for (const y of clean) counts[y]++;
    assert.deepEqual(counts, [51, 51, 50, 50]);
    assert.equal(
      info.classCounts.train.reduce((a, b) => a + b),
      202,
    );
    assert.match(info.source, /gaussianMixture/);
    // Standardized with training statistics: training columns have mean 0, variance 1.
    for (let j = 0; j < 3; j++) {
      let s = 0;
      let q = 0;
      for (let i = 0; i < 202; i++) {
        s += split.train.x[3 * i + j];
        q += split.train.x[3 * i + j] ** 2;
      }
      assert.ok(Math.abs(s / 202) < 1e-12 && Math.abs(q / 202 - 1) < 1e-12);
    }
    const again = await loadData(config, 7);
    assert.deepEqual(again.train.x, split.train.x);
    assert.deepEqual(again.train.labels, split.train.labels);
    const other = await loadData(config, 8);
    assert.notDeepEqual(other.train.x, split.train.x);
    const summary = datasetSummary(split);
    assert.deepEqual(JSON.parse(JSON.stringify(summary)), summary);
    assert.deepEqual(summary.train.xShape, [3]);
    assert.equal(summary.test.n, 200);
    assert.equal(summary.train.classCounts!.length, 4);
  });

  it("keeps the planted model shared between train and test (regression)", async () => {
    const split = await loadData({ kind: "sparseLinear", dim: 8, k: 2, nTrain: 30, nTest: 20 }, 1);
    assert.equal(split.train.task, "regression");
    assert.equal(split.test.n, 20);
    // Noise-free: least squares on train (8 unknowns, 30 equations) predicts test exactly.
    const w = leastSquares(split.train.x, split.train.targets!, 8);
    for (let i = 0; i < 20; i++) {
      const y = w.reduce((s, wj, j) => s + wj * split.test.x[8 * i + j], 0);
      assert.ok(Math.abs(y - split.test.targets![i]) < 1e-8);
    }
    await assert.rejects(loadData({ kind: "sparseLinear", labelNoise: 0.1 }, 1), {
      name: "UserError",
      message: /classification/,
    });
  });

  it("loads MNIST in image layout", async () => {
    const split = await loadData({ kind: "mnist", nTrain: 500, nTest: 100, layout: "image" }, 3);
    assert.deepEqual(split.train.xShape, [1, 28, 28]);
    assert.equal(split.train.n, 500);
    assert.equal(split.test.n, 100);
  });

  it("loads CSV files, splitting off nTest when there is no test file", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},${i % 3},${i % 2}`);
    const p = join(dir, "d.csv");
    writeFileSync(p, "u,v,y\n" + rows.join("\n"));
    const split = await loadData({ kind: "csv", train: p, label: "y", nTest: 10, nTrain: 25 }, 2);
    assert.equal(split.train.n, 25);
    assert.equal(split.test.n, 10);
    const ids = new Set([
      ...Array.from({ length: 25 }, (_, r) => split.train.x[2 * r]),
      ...Array.from({ length: 10 }, (_, r) => split.test.x[2 * r]),
    ]);
    assert.equal(ids.size, 35, "train and test rows are distinct");
    await assert.rejects(loadData({ kind: "csv", train: p, label: "y" }, 2), { name: "UserError", message: /nTest/ });
    await assert.rejects(loadData({ kind: "csv", train: join(dir, "none.csv"), label: 0, nTest: 1 }, 2), {
      name: "UserError",
      message: /none\.csv/,
    });
  });

  it("loads CIFAR-10 batches from a directory with test files", async () => {
    const cdir = join(dir, "cifar");
    mkdirSync(cdir);
    const batch = (labels: number[]) => {
      const b = Buffer.alloc(labels.length * 3073, 128);
      labels.forEach((y, r) => (b[r * 3073] = y));
      return b;
    };
    writeFileSync(join(cdir, "a.bin"), batch(Array.from({ length: 30 }, (_, i) => i % 10)));
    writeFileSync(join(cdir, "t.bin"), batch(Array.from({ length: 12 }, (_, i) => i % 10)));
    const split = await loadData(
      { kind: "cifar10", dir: cdir, trainFiles: ["a.bin"], testFiles: ["t.bin"], balancedSubset: 20, nTest: 5 },
      4,
    );
    assert.equal(split.train.n, 20);
    assert.deepEqual((split.info.classCounts as { train: number[] }).train, new Array(10).fill(2));
    assert.equal(split.test.n, 5);
    assert.deepEqual(split.train.xShape, [3072]);
    assert.equal(split.train.x[7], 128 / 255);
  });
});

/** Least squares by the normal equations and Gaussian elimination with partial pivoting. */
function leastSquares(x: Float64Array, y: Float64Array, d: number): number[] {
  const n = y.length;
  const a = Array.from({ length: d }, (_, i) => {
    const row = new Array(d + 1).fill(0);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < d; j++) row[j] += x[r * d + i] * x[r * d + j];
      row[d] += x[r * d + i] * y[r];
    }
    return row;
  });
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let j = c; j <= d; j++) a[r][j] -= f * a[c][j];
    }
  }
  return a.map((row, i) => row[d] / row[i]);
}
