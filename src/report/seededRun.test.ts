/**
 * A seeded tiny run through the trainer (mini-batch SGD with an EMA-averaged iterate, Hessian probe
 * with top-2/bottom-1 eigenvalues and an SLQ density, gradient-norm probe; ~1 s), then its report.
 * The figures' structure (ids, titles, axis labels, legends, controls, row counts) is compared with
 * the snapshot __snapshots__/seeded-run.digest.json; the plotted numbers are checked against the
 * store rather than snapshotted, so a change of the trainer's arithmetic elsewhere does not break it.
 * UPDATE_SNAPSHOTS=1 rewrites the snapshot (see figures.test.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { smallExperiment, tempStore } from "../../test/helpers.js";
import { runExperiment } from "../train/trainer.js";
import { assertSvg, matchSnapshot } from "./fixtures.testkit.js";
import { renderSvg } from "./render.js";
import { runReport } from "./runReport.js";
import type { Figure, Json, JsonObject } from "./spec.js";

/** What a figure looks like without its numbers and run-specific subtitle. */
function digest(f: Figure): Json {
  const axes: Json[] = [];
  const legends: Json[] = [];
  const visit = (n: JsonObject) => {
    const enc = (n.encoding ?? {}) as Record<string, JsonObject>;
    for (const ch of ["x", "y"]) if (enc[ch]?.title) axes.push(`${ch}: ${enc[ch].title as string}`);
    if (enc.color?.scale && (enc.color.scale as JsonObject).domain)
      legends.push((enc.color.scale as JsonObject).domain as Json);
    for (const l of (n.layer as JsonObject[] | undefined) ?? []) visit(l);
  };
  visit(f.spec);
  const rows = (f.spec.data as { values: JsonObject[] }).values;
  // whether an axis starts on a log scale depends on the numbers' range: left out with them
  const log = Object.fromEntries(Object.entries(f.controls.log ?? {}).map(([ax, t]) => [ax, t.fields]));
  return { id: f.id, title: f.title, axes, legends, rows: rows.length, log, smooth: f.controls.smooth ?? null };
}

test("a seeded tiny run's report: figure structure equals the snapshot, numbers equal the store's", async () => {
  const exp = smallExperiment(["steps=30", "evalEvery=10"], {
    optimizer: { kind: "sgd", lr: 0.1, averaging: { kind: "ema", decay: 0.9 } },
    probes: [
      { kind: "hessian", every: 10, topK: 2, bottomK: 1, density: { probes: 1, steps: 20 } },
      { kind: "gradNorm", every: 10 },
    ],
  });
  const store = tempStore();
  try {
    const run = await runExperiment(exp, { store });
    assert.equal(run.status, "completed");
    const report = runReport(store, run.runId);
    matchSnapshot("seeded-run.digest", report.figures.map(digest));
    const rows = (id: string, series: string) =>
      (report.figures.find((f) => f.id === id)!.spec.data as { values: JsonObject[] }).values
        .filter((r) => r.series === series)
        .map((r) => [r.x, r.y]);
    const stored = (key: string) => store.getMetrics(run.runId, { keys: [key] }).map((p) => [p.step, p.value]);
    assert.deepEqual(rows("sharpness", "λmax(H)"), stored("hessian/lambdaMax"));
    assert.deepEqual(rows("sharpness", "threshold 2/η"), stored("hessian/threshold"));
    assert.deepEqual(rows("loss", "test, averaged iterate"), stored("avg/test/loss"));
    assert.deepEqual(rows("eigenvalues", "λmin"), stored("hessian/lambdaMin"));
    for (const f of report.figures) assertSvg(await renderSvg(f.spec), f.title);
  } finally {
    store.close();
  }
});
