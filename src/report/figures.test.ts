/**
 * Golden tests of the figure builders: each figure's Vega-Lite spec, built from the deterministic
 * fixture of fixtures.testkit.ts, equals its stored snapshot in __snapshots__/ (numbers to 1e-12
 * relative), compiles with vega-lite and renders with vega to a well-formed SVG holding its title.
 *
 * After an intended change of a figure, rewrite the snapshots and review their diff:
 *   UPDATE_SNAPSHOTS=1 node --import tsx --test src/report/figures.test.ts
 *   npx prettier --write src/report/__snapshots__
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertSvg, FIXTURE_SPEC, fixtureDensities, fixtureMetrics, matchSnapshot } from "./fixtures.testkit.js";
import { landscape1dFigure, landscape2dFigure, weightHistogramFigure } from "./grids.js";
import { spectralDensityFigure, spreadSteps } from "./hessian.js";
import { metricFigures } from "./metrics.js";
import { learningCurveFigure, logLogFigure } from "./powerlaw.js";
import { renderSvg } from "./render.js";
import type { Figure, JsonObject } from "./spec.js";

const ctx = { loss: FIXTURE_SPEC.loss, optimizer: FIXTURE_SPEC.optimizer, subtitle: "fixture · run 0" };

/** Snapshot, compile, render: the three checks every figure gets. */
async function golden(f: Figure): Promise<void> {
  matchSnapshot(f.id, f);
  const svg = await renderSvg(f.spec);
  assertSvg(svg, f.title);
  // the spec is plain data: a JSON round trip changes nothing
  assert.deepEqual(JSON.parse(JSON.stringify(f)), f);
}

const axisTitles = (spec: JsonObject): string[] => {
  const out: string[] = [];
  const visit = (n: JsonObject) => {
    const enc = (n.encoding ?? {}) as Record<string, { title?: string }>;
    for (const ch of ["x", "y"]) if (enc[ch]?.title) out.push(enc[ch].title!);
    for (const l of (n.layer as JsonObject[] | undefined) ?? []) visit(l);
  };
  visit(spec);
  return out;
};

test("metric figures: grouped, ordered, labelled with units, and equal to their snapshots", async () => {
  const figs = metricFigures(fixtureMetrics(), ctx);
  assert.deepEqual(
    figs.map((f) => f.id),
    ["loss", "accuracy", "sharpness", "precond-sharpness", "eos-ratio", "eigenvalues", "hessian-trace", "grad-norm"],
  );
  for (const f of figs) {
    await golden(f);
    const titles = axisTitles(f.spec);
    assert.ok(titles.includes("step"), `${f.id}: x axis "step"`);
    assert.ok(
      titles.some((t) => t !== "step"),
      `${f.id}: a y axis title`,
    );
  }
  const loss = figs[0];
  assert.ok(axisTitles(loss.spec).includes("loss (½ · squared error per example)"));
  // train, test, gap and their averaged iterates: one legend entry each, averaged ones dashed
  const line = (loss.spec.layer as JsonObject[]).find((l) => (l.mark as JsonObject).type === "line")!;
  const enc = line.encoding as Record<string, { scale: { domain: string[]; range: unknown[] } }>;
  assert.deepEqual(enc.color.scale.domain, [
    "train",
    "test",
    "gap (test − train)",
    "train, averaged iterate",
    "test, averaged iterate",
  ]);
  assert.deepEqual(enc.strokeDash.scale.range[3], [6, 3]);
  // the gap can be negative-free here, the loss spans < 2 decades: linear by default, log offered
  assert.equal(loss.controls.log?.y?.initial, false);
  assert.deepEqual(loss.controls.smooth, { x: "x", y: "y", by: "series" });
  // λmax and 2/η share the axes; the NaN gradient norm is left out and said so
  const sharp = figs[2];
  assert.ok(JSON.stringify(sharp.spec).includes("threshold 2/η"));
  assert.match(JSON.stringify(figs[7].spec.title), /1 non-finite value \(NaN\/Inf\) not drawn/);
  assert.ok(axisTitles(figs[5].spec).includes("λ (Hessian eigenvalue)"));
});

test("cross-entropy losses are in nats; keys without a known unit keep their name", () => {
  const figs = metricFigures(
    [
      { step: 0, key: "train/loss", value: 2.3 },
      { step: 1, key: "train/loss", value: 1.1 },
      { step: 0, key: "custom/thing", value: 1 },
    ],
    { loss: { kind: "ce" } },
  );
  assert.deepEqual(
    figs.map((f) => [f.id, axisTitles(f.spec)[1]]),
    [
      ["loss", "loss (nats)"],
      ["custom-thing", "thing"],
    ],
  );
});

test("spectral density at chosen steps", async () => {
  await golden(spectralDensityFigure(fixtureDensities(), { subtitle: "fixture · run 0" }));
  assert.deepEqual(spreadSteps([0, 10, 20, 30, 40, 50, 60]), [0, 20, 40, 60]);
  assert.deepEqual(spreadSteps([5, 0]), [0, 5]);
  assert.throws(() => spectralDensityFigure([{ step: 0, grid: [1, 2], density: [1] }]), /grid has 2 points/);
});

test("weight histograms over time: a bin × step heatmap", async () => {
  const edges = Array.from({ length: 11 }, (_, i) => -1 + i * 0.2);
  const steps = [0, 50, 100, 200];
  const counts = steps.map((s) =>
    edges.slice(1).map((e) => Math.round(100 * Math.exp(-((e - 0.1) ** 2) / (0.1 + s / 500)))),
  );
  const f = weightHistogramFigure({ steps, edges, counts }, { subtitle: "layer 1 weights" });
  await golden(f);
  const rows = (f.spec.data as { values: JsonObject[] }).values;
  assert.deepEqual(rows.at(-1)!.stepEnd, 300, "the last column is as wide as the one before");
  assert.throws(() => weightHistogramFigure({ steps: [0], edges: [0, 1], counts: [[1, 2]] }), /2 counts for 1 bins/);
});

test("landscapes: a 1-D curve and a 2-D heatmap with contours", async () => {
  const alpha = Array.from({ length: 21 }, (_, i) => -1 + i * 0.1);
  await golden(
    landscape1dFigure({
      alpha,
      curves: [
        { name: "train loss", values: alpha.map((a) => a * a + 0.1) },
        { name: "test loss", values: alpha.map((a) => 1.2 * a * a + 0.3) },
      ],
    }),
  );
  const g = Array.from({ length: 9 }, (_, i) => -1 + i * 0.25);
  const z = g.map((b) => g.map((a) => a * a + 2 * b * b));
  const f = landscape2dFigure({ x: g, y: g, z }, { levels: [0.5, 1, 2] });
  await golden(f);
  assert.ok((f.spec.data as { values: JsonObject[] }).values.some((r) => r.level === 1));
});

test("log–log distances with reference slopes, and a learning curve with its fitted power law and band", async () => {
  const eta = [0.01, 0.02, 0.04, 0.08, 0.16];
  await golden(
    logLogFigure({
      id: "flow-distance",
      title: "Distance between GD and gradient flow",
      xLabel: "η (learning rate)",
      yLabel: "‖θ_GD − θ_flow‖₂ (parameter distance)",
      series: [
        { name: "gradient flow", points: eta.map((x) => ({ x, y: 3 * x })) },
        { name: "modified flow", points: eta.map((x) => ({ x, y: 5 * x * x })) },
      ],
      referenceSlopes: [1, 2],
    }),
  );
  const n = [100, 200, 400, 800, 1600, 3200];
  const grid = [100, 400, 1600, 3200];
  const f = learningCurveFigure({
    points: n.map((x) => ({ x, y: 4 * x ** -0.5 + 0.01 })),
    fit: {
      a: 4,
      alpha: 0.5,
      c: 0.01,
      band: {
        grid,
        lo: grid.map((x) => 3.5 * x ** -0.5),
        hi: grid.map((x) => 4.5 * x ** -0.5 + 0.02),
        label: "95% bootstrap band",
      },
    },
  });
  await golden(f);
  assert.ok(JSON.stringify(f.spec).includes("fit 4·n^(−0.5) + 0.01"));
});
