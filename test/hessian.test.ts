import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { hessianCommand } from "../src/cli/hessian.js";
import { runExperiment } from "../src/train/trainer.js";
import { smallExperiment, tempStore } from "./helpers.js";

const REF = join(import.meta.dirname, "fixtures", "reference");
const BIN = join(import.meta.dirname, "..", "bin", "sgdlab.js");

const args = (over: Partial<Parameters<typeof hessianCommand>[0]>) => ({
  top: "5",
  bottom: "5",
  trace: "exact",
  density: false,
  objective: "full",
  tol: "1e-10",
  chunkSize: "1000",
  json: true,
  ...over,
});

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

describe("sgdlab hessian vs the PyTorch float64 reference cases", () => {
  for (const file of readdirSync(REF).filter((f) => f.endsWith(".json") && !f.endsWith(".ref.json"))) {
    it(file, async () => {
      const ref = JSON.parse(readFileSync(join(REF, file.replace(".json", ".ref.json")), "utf8")) as {
        loss: number;
        grad_norm: number;
        top_eigs: number[];
        bottom_eigs: number[];
        trace: number;
        P: number;
        activation: string;
      };
      // Wasm float64 exp/tanh have float32-level accuracy: ~1e-6 relative (reference README); the
      // identity case involves no transcendental function and must be near machine precision.
      const tol = ref.activation === "identity" ? 1e-9 : 2e-6;
      const { report: r } = await hessianCommand(args({ fromJson: join(REF, file) }));
      assert.equal(r.parameterCount, ref.P);
      assert.ok(rel(r.loss, ref.loss) < tol, `loss ${r.loss} vs ${ref.loss}`);
      assert.ok(rel(r.gradNorm, ref.grad_norm) < tol, `grad norm ${r.gradNorm} vs ${ref.grad_norm}`);
      const scale = Math.max(...ref.top_eigs.map(Math.abs), ...ref.bottom_eigs.map(Math.abs));
      ref.top_eigs.forEach((v, i) =>
        assert.ok(Math.abs(r.topEigenvalues[i] - v) < tol * scale, `top ${i}: ${r.topEigenvalues[i]} vs ${v}`),
      );
      ref.bottom_eigs.forEach((v, i) =>
        assert.ok(Math.abs(r.bottomEigenvalues[i] - v) < tol * scale, `bottom ${i}: ${r.bottomEigenvalues[i]} vs ${v}`),
      );
      assert.equal(r.traceMethod, "exact");
      assert.ok(
        Math.abs(r.trace! - ref.trace) < tol * Math.max(Math.abs(ref.trace), scale),
        `trace ${r.trace} vs ${ref.trace}`,
      );
      assert.ok(r.hvps >= ref.P, "exact trace costs P products");
    });
  }
});

describe("sgdlab hessian on stored runs", () => {
  it("analyses a run's checkpoint by id and by file, with JSON output from the spawned CLI", async () => {
    const store = tempStore();
    const r = await runExperiment(smallExperiment(["checkpointEvery=20"]), { store });
    const byId = await hessianCommand(args({ target: r.runId, store: store.dir, tol: "1e-6", dtype: "float64" }));
    const ckpt = store.latestCheckpoint(r.runId)!;
    const byFile = await hessianCommand(args({ target: join(store.dir, ckpt.path), tol: "1e-6", dtype: "float64" }));
    assert.deepEqual(byFile.report.topEigenvalues, byId.report.topEigenvalues);
    const at20 = await hessianCommand(
      args({ target: r.runId, store: store.dir, step: "20", tol: "1e-6", dtype: "float64" }),
    );
    assert.notDeepEqual(at20.report.topEigenvalues, byId.report.topEigenvalues);
    assert.ok(byId.report.topEigenvalues[0] >= byId.report.topEigenvalues[1]);
    const cli = spawnSync(
      process.execPath,
      [BIN, "hessian", r.runId, "--store", store.dir, "--json", "--top", "2", "--bottom", "1", "--trace", "hutchinson"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const j = JSON.parse(cli.stdout) as Record<string, unknown>;
    for (const k of ["loss", "gradNorm", "topEigenvalues", "bottomEigenvalues", "trace", "parameterCount", "hvps"]) {
      assert.ok(k in j, `--json has ${k}`);
    }
    assert.equal((j.topEigenvalues as number[]).length, 2);
    assert.equal(j.traceMethod, "hutchinson");
    assert.ok((j.traceStderr as number) > 0);
    const bad = spawnSync(process.execPath, [BIN, "hessian", r.runId, "--store", store.dir, "--objective", "half"], {
      encoding: "utf8",
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--objective must be full, subset:N or batch:B/);
    store.close();
  });
});
