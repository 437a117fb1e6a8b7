/**
 * A seeded tiny sweep (2 learning rates × 2 seeds of a 20-step Gaussian-mixture MLP, run in this
 * process through the sweeps API; ~2 s), then its report. The figures' structure is compared with
 * the snapshot __snapshots__/seeded-sweep.digest.json; the plotted numbers, the final values and the
 * Kendall τ table are checked against the store. UPDATE_SNAPSHOTS=1 rewrites the snapshot.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { reportCommand } from "../cli/report.js";
import { UserError } from "../core/errors.js";
import { RunStore } from "../store/index.js";
import { parseAxis, planSweep, recordSweep, runMember } from "../sweeps/index.js";
import { kendallTau } from "../theory/rank.js";
import { assertSvg, matchSnapshot } from "./fixtures.testkit.js";
import { renderSvg } from "./render.js";
import type { Figure, Json, JsonObject } from "./spec.js";
import { sweepReport, type SweepReport } from "./sweepReport.js";

/** What a figure looks like without its numbers. */
function digest(f: Figure): Json {
  const axes: Json[] = [];
  const legends: Json[] = [];
  const marks: Json[] = [];
  const visit = (n: JsonObject) => {
    const enc = (n.encoding ?? {}) as Record<string, JsonObject>;
    if (n.mark) marks.push((n.mark as JsonObject).type ?? null);
    for (const ch of ["x", "y"]) if (enc[ch]?.title) axes.push(`${ch}: ${enc[ch].title as string}`);
    if (enc.color?.scale && (enc.color.scale as JsonObject).domain)
      legends.push((enc.color.scale as JsonObject).domain as Json);
    for (const l of (n.layer as JsonObject[] | undefined) ?? []) visit(l);
  };
  visit(f.spec);
  const rows = (f.spec.data as { values: JsonObject[] }).values;
  return { id: f.id, title: f.title, axes, legends, marks, rows: rows.length };
}

const rowsOf = (f: Figure) => (f.spec.data as { values: JsonObject[] }).values;

describe("sweep report (seeded tiny sweep)", () => {
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-sweep-report-"));
  const storeDir = join(dir, ".sgdlab");
  let report: SweepReport;

  before(async () => {
    writeFileSync(
      join(dir, "spec.json"),
      JSON.stringify({
        name: "tiny",
        seed: 0,
        data: { kind: "gaussianMixture", nTrain: 64, nTest: 64, classes: 3, dim: 5 },
        model: { kind: "mlp", hidden: [8], activation: "tanh" },
        loss: { kind: "ce" },
        optimizer: { kind: "sgd", lr: 0.1 },
        batchSize: 16,
        steps: 20,
        evalEvery: 10,
      }),
    );
    const plan = planSweep({
      spec: join(dir, "spec.json"),
      grid: [parseAxis("optimizer.lr=[0.03,0.3]", "--grid"), parseAxis("seed=[0,1]", "--grid")],
      name: "tiny",
    });
    const store = RunStore.open(storeDir);
    try {
      const { sweep } = recordSweep(store, plan);
      for (const m of sweep.members) assert.equal((await runMember(store, sweep.id, m.index)).status, "completed");
      report = sweepReport(store, "tiny");
    } finally {
      store.close();
    }
  });

  it("has the snapshot's figures, and the store's numbers", async () => {
    matchSnapshot("seeded-sweep.digest", report.figures.map(digest));
    assert.deepEqual(report.fields, ["optimizer.lr", "seed"]);
    assert.deepEqual(report.metrics, ["test/accuracy", "gap/accuracy", "train/loss"]);
    const store = RunStore.open(storeDir, { readonly: true });
    try {
      assert.equal(report.members.length, 4);
      for (const m of report.members) {
        for (const key of report.metrics) {
          const pts = store.getMetrics(m.runId, { keys: [key] });
          assert.equal(m.final[key], pts.at(-1)!.value, `${key} of member ${m.index}`);
          const curve = rowsOf(report.figures.find((f) => f.id === `curves-${key.replace("/", "-").toLowerCase()}`)!)
            .filter((r) => typeof r.series === "string" && r.series.startsWith(`#${m.index} `))
            .map((r) => [r.x, r.y]);
          assert.deepEqual(
            curve,
            pts.map((p) => [p.step, p.value]),
          );
        }
      }
    } finally {
      store.close();
    }
    const acc = report.figures.find((f) => f.id === "final-test-accuracy-vs-optimizer-lr")!;
    const rows = rowsOf(acc);
    for (const lr of [0.03, 0.3]) {
      const finals = report.members
        .filter((m) => m.overrides["optimizer.lr"] === lr)
        .map((m) => m.final["test/accuracy"]);
      assert.deepEqual(
        rows.filter((r) => r.kind === "member" && r.x === lr).map((r) => r.y),
        finals,
      );
      const mean = rows.find((r) => r.kind === "mean" && r.x === lr)!.y as number;
      assert.ok(Math.abs(mean - (finals[0] + finals[1]) / 2) < 1e-12);
    }
    const tau = report.ranks.find((r) => r.field === "optimizer.lr" && r.metric === "train/loss")!;
    const expected = kendallTau(
      report.members.map((m) => m.overrides["optimizer.lr"] as number),
      report.members.map((m) => m.final["train/loss"]),
    );
    assert.equal(tau.tau, expected.tau);
    assert.equal(tau.n, 4);
    assert.ok(report.notes!.some((n) => n.includes("τ(optimizer.lr, train/loss)")));
    assert.ok(report.meta.some(([k]) => k === "τ(optimizer.lr, final train/loss)"));
    for (const f of report.figures) assertSvg(await renderSvg(f.spec), f.title);
  });

  it("sgdlab report --sweep writes the page and prints the table as JSON; bad names are usage errors", async () => {
    const lines: string[] = [];
    const out = join(dir, "report");
    const code = await reportCommand(
      ["--sweep", "tiny", "--store", storeDir, "--out", out, "--metric", "train/loss", "--json"],
      (s) => lines.push(s),
    );
    assert.equal(code, 0);
    const j = JSON.parse(lines.join("\n")) as { figures: { id: string }[]; ranks: { field: string }[]; html: string };
    assert.deepEqual(
      j.figures.map((f) => f.id),
      ["final-train-loss-vs-optimizer-lr", "curves-train-loss"],
    );
    assert.deepEqual(
      j.ranks.map((r) => r.field),
      ["optimizer.lr", "seed"],
    );
    assert.ok(existsSync(j.html) && existsSync(join(out, "curves-train-loss.svg")));
    const fail = (args: string[], re: RegExp) =>
      assert.rejects(
        reportCommand([...args, "--store", storeDir, "--out", out], () => {}),
        (e: unknown) => e instanceof UserError && re.test(e.message),
      );
    await fail(["--sweep", "nope"], /no sweep "nope".*sweeps: tiny/);
    await fail(["--sweep", "tiny", "--metric", "hessian/lambdaMax"], /no member has metric hessian\/lambdaMax/);
    await fail(["--sweep", "tiny", "somerun"], /not both/);
  });
});
