/**
 * A run report draws the artifacts other instruments store on the run: the weight-dynamics probe's
 * histograms (a heatmap over steps) and `sgdlab landscape` slices (1-D curves, 2-D contours).
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { RunStore } from "../store/index.js";
import { runReport } from "./runReport.js";

test("weight histograms over time and stored landscapes become figures of the run report", () => {
  const store = RunStore.open(mkdtempSync(join(tmpdir(), "sgdlab-artifacts-")));
  const run = store.createRun({ name: "artifacts", spec: { loss: { kind: "ce" } } });
  const edges = [-1, 0, 1];
  store.putArtifact(run.id, "weights/histogram", 0, { range: [-1, 1], edges, layers: {}, all: { counts: [3, 1] } });
  store.putArtifact(run.id, "weights/histogram", 10, { range: [-1, 1], edges, layers: {}, all: { counts: [1, 3] } });
  store.putArtifact(run.id, "landscape/line", 10, {
    mode: "interpolate",
    dims: 1,
    directions: [{ kind: "interpolate" }],
    grid: { axes: [[0, 0.5, 1]], loss: [1, 0.2, 0.9], accuracy: [0.5, 0.9, 0.6] },
    refined: null,
  });
  store.putArtifact(run.id, "landscape/plane", 10, {
    mode: "random2d",
    dims: 2,
    directions: [{ kind: "random" }, { kind: "random" }],
    grid: {
      axes: [
        [-1, 1],
        [-1, 0, 1],
      ],
      loss: [1, 2, 3, 4, 5, 6],
      accuracy: [NaN, NaN, NaN, NaN, NaN, NaN],
    },
    refined: null,
  });
  const r = runReport(store, run.id);
  store.close();
  const ids = r.figures.map((f) => f.id);
  assert.ok(ids.includes("weight-histograms"), ids.join(", "));
  assert.ok(ids.includes("landscape-line-loss") && ids.includes("landscape-line-accuracy"), ids.join(", "));
  assert.ok(ids.includes("landscape-plane-loss") && !ids.includes("landscape-plane-accuracy"), ids.join(", "));
  // the heatmap's cells are the stored counts as fractions of each step's total
  const heat = r.figures.find((f) => f.id === "weight-histograms")!;
  const rows = (heat.spec.data as { values: { step: number; lo: number; fraction: number }[] }).values;
  const cells = rows.map((c) => [c.step, c.lo, c.fraction]);
  assert.deepEqual(cells, [
    [0, -1, 0.75],
    [0, 0, 0.25],
    [10, -1, 0.25],
    [10, 0, 0.75],
  ]);
  const line = r.figures.find((f) => f.id === "landscape-line-loss")!;
  const ys = (line.spec.data as { values: { x: number; y: number }[] }).values.map((v) => v.y);
  assert.deepEqual(ys, [1, 0.2, 0.9]);
});
