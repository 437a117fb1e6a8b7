import assert from "node:assert/strict";
import { tinySpec } from "./clikit.js";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { RunStore, STORE_FILE } from "../src/store/index.js";

const BIN = join(import.meta.dirname, "..", "bin", "sgdlab.js");

function sgdlab(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, SGDLAB_THREADS: "" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// clikit's tiny spec without its checkpoints (the tests here expect only the final one)
const { checkpointEvery: _checkpoints, ...tiny } = tinySpec;
const spec = { ...tiny, name: "cli-small" };

function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-cli-"));
  writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
  return dir;
}

describe("sgdlab CLI (spawned)", () => {
  it("runs a good spec, stores it, lists, shows and exports it", () => {
    const dir = workdir();
    const run = sgdlab(["run", "spec.json", "--json", "--set", "name=renamed"], dir);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { runId: string; status: string; step: number };
    assert.equal(result.status, "completed");
    assert.equal(result.step, 30);
    const runs = JSON.parse(sgdlab(["runs", "--json"], dir).stdout) as { id: string; name: string; status: string }[];
    assert.deepEqual(
      runs.map((r) => [r.id, r.name, r.status]),
      [[result.runId, "renamed", "completed"]],
    );
    const show = sgdlab(["show", result.runId.slice(0, 17)], dir);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /train\/loss/);
    const csv = sgdlab(["export", result.runId, "--format", "csv"], dir);
    assert.equal(csv.code, 0, csv.stderr);
    const header = csv.stdout.split("\n")[0].split(",");
    assert.equal(header[0], "step");
    assert.ok(header.includes("test/accuracy"));
    const json = JSON.parse(sgdlab(["export", result.runId, "--format", "json"], dir).stdout) as {
      metrics: Record<string, [number, number][]>;
    };
    assert.equal(json.metrics["train/batchLoss"].length, 30);
    const human = sgdlab(["runs"], dir);
    assert.match(human.stdout, /cli-small|renamed/);
    const other = mkdtempSync(join(tmpdir(), "sgdlab-cli-store-"));
    assert.equal(sgdlab(["run", "spec.json", "--quiet", "--store", other], dir).code, 0);
    assert.equal((JSON.parse(sgdlab(["runs", "--json", "--store", other], dir).stdout) as unknown[]).length, 1);
  });

  it("rejects a bad spec with exit code 2, the field path, and no stack trace", () => {
    const dir = workdir();
    writeFileSync(
      join(dir, "bad.yaml"),
      "data: {kind: moons}\nmodel: {kind: mlp, widths: [3]}\nloss: {kind: ce}\noptimizer: {kind: sgd, lr: -1}\nsteps: 5\n",
    );
    const r = sgdlab(["run", "bad.yaml"], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /model\.widths: unknown key; allowed here: .*hidden/);
    assert.match(r.stderr, /optimizer\.lr/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const set = sgdlab(["run", "spec.json", "--set", "steps=0"], dir);
    assert.equal(set.code, 2);
    assert.match(set.stderr, /steps/);
    for (const args of [
      ["run", "missing.yaml"],
      ["frobnicate"],
      ["run"],
      ["show", "nope"],
      ["run", "spec.json", "--bogus"],
    ]) {
      const e = sgdlab(args, dir);
      assert.equal(e.code, 2, `${args.join(" ")}: ${e.stderr}`);
      assert.match(e.stderr, /^sgdlab: /);
      assert.doesNotMatch(e.stderr, /\n\s+at /);
    }
    assert.equal(sgdlab(["runs", "--json"], dir).stdout.trim(), "[]", "nothing stored for rejected specs");
    assert.match(sgdlab(["--version"], dir).stdout, /^\d+\.\d+\.\d+/);
    assert.match(sgdlab(["--help"], dir).stdout, /sgdlab run/);
  });

  for (const signal of ["SIGKILL", "SIGINT"] as const) {
    it(`a run stopped by ${signal} leaves the store readable, is reported interrupted, and resumes`, async () => {
      const dir = workdir();
      // full-batch steps of a wider MLP: slow enough (~10 ms) to be interrupted mid-run
      const long = {
        ...spec,
        data: { kind: "gaussianMixture", nTrain: 1024, nTest: 32, dim: 32 },
        model: { kind: "mlp", hidden: [128, 128] },
        batchSize: "full",
        steps: 600,
        evalEvery: 1000,
        checkpointEvery: 50,
      };
      writeFileSync(join(dir, "long.json"), JSON.stringify(long));
      const child = spawn(process.execPath, [BIN, "run", "long.json", "--quiet"], { cwd: dir, stdio: "ignore" });
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const deadline = Date.now() + 60_000;
      let runId = "";
      while (Date.now() < deadline && !runId) {
        await new Promise((r) => setTimeout(r, 50));
        if (!existsSync(join(dir, ".sgdlab", STORE_FILE))) continue;
        let store: RunStore;
        try {
          store = RunStore.open(join(dir, ".sgdlab"), { readonly: true });
        } catch {
          continue; // created but not yet migrated by the child
        }
        const run = store.listRuns()[0];
        if (run && store.listCheckpoints(run.id).length >= 1) runId = run.id;
        store.close();
      }
      assert.ok(runId, "the run wrote a checkpoint");
      child.kill(signal);
      const code = await exited;
      if (signal === "SIGINT") assert.equal(code, 130);
      const after = JSON.parse(sgdlab(["runs", "--json"], dir).stdout) as { id: string; status: string }[];
      assert.equal(after[0].status, "interrupted");
      const shown = JSON.parse(sgdlab(["show", runId, "--json"], dir).stdout) as { checkpoints: { step: number }[] };
      const lastCkpt = Math.max(...shown.checkpoints.map((c) => c.step));
      assert.ok(lastCkpt < 600, "stopped before the end");
      const resumed = sgdlab(["resume", runId, "--json"], dir);
      assert.equal(resumed.code, 0, resumed.stderr);
      const r = JSON.parse(resumed.stdout) as { status: string; step: number };
      assert.deepEqual([r.status, r.step], ["completed", 600]);
      const csv = sgdlab(["export", runId, "--format", "csv"], dir).stdout.trim().split("\n");
      assert.equal(csv.length, 1 + 601, "one row per step 0..600, none lost or duplicated");
      assert.equal(sgdlab(["resume", runId], dir).code, 1, "a completed run cannot be resumed");
    });
  }
});
