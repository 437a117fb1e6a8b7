// Batched sweeps: `runSweepBatched` records every member under the sweep as the local executor's
// worker (`runMember`) would, re-invocation skips and resumes members, refusals write nothing; and
// `sgdlab sweep --batched` end to end (in process).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { UserError } from "../src/core/errors.js";
import { RunStore } from "../src/store/index.js";
import { groups, runSweepBatched } from "../src/sweeps/batched.js";
import { parseAxis, planSweep, recordSweep, runMember, type SweepPlan } from "../src/sweeps/index.js";
import { cli, leaksInternals, workdir } from "./clikit.js";
import { metricMap, SMALL_SPEC, tempStore } from "./helpers.js";

function plan(extra: Record<string, unknown> = {}, grid = ["optimizer.lr=[0.1, 0.05]", "seed=[3, 4]"]): SweepPlan {
  const dir = workdir({ ...SMALL_SPEC, steps: 20, checkpointEvery: 10, ...extra });
  return planSweep({ spec: join(dir, "spec.json"), grid: grid.map((g) => parseAxis(g, "--grid")), name: "b" });
}

describe("batched sweeps", () => {
  it("records each member as the local executor's worker would, and re-invoking skips or resumes members", async () => {
    const p = plan();
    const store = tempStore();
    const reference = tempStore();
    try {
      const ends: number[] = [];
      const r = await runSweepBatched(p, {
        store,
        progress: (pr) => {
          if (pr.last) ends.push(pr.last.index);
        },
      });
      assert.equal(r.counts.completed, 4);
      assert.deepEqual(r.ran, [0, 1, 2, 3]);
      assert.deepEqual([...ends].sort(), [0, 1, 2, 3]);
      // the same members run one by one in-process as `sgdlab __sweep-member` runs them
      const { sweep } = recordSweep(reference, p);
      for (const m of r.members) {
        const seq = await runMember(reference, sweep.id, m.index);
        const run = m.run!;
        const ref = reference.getRun(seq.runId);
        assert.deepEqual(
          [run.name, run.specHash, run.sweepIndex, run.status],
          [ref.name, ref.specHash, ref.sweepIndex, ref.status],
        );
        assert.equal(run.sweepId, r.sweep.id);
        const a = metricMap(reference, seq.runId);
        const b = metricMap(store, run.id);
        assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
        for (const [k, v] of a) {
          assert.ok(Math.abs(v - b.get(k)!) <= 2e-4 * Math.max(1e-3, Math.abs(v)), `member ${m.index} ${k}`);
        }
      }
      const again = await runSweepBatched(p, { store });
      assert.deepEqual(again.ran, []);
      assert.equal(store.listRuns().length, 4);
    } finally {
      store.close();
      reference.close();
    }
  });

  it("stops an aborted group (members interrupted, checkpointed) and resumes them when re-invoked", async () => {
    const p = plan({ steps: 400 }, ["optimizer.lr=[0.1, 0.05]"]);
    const store = tempStore();
    try {
      const ac = new AbortController();
      ac.abort();
      const stopped = await runSweepBatched(p, { store, signal: ac.signal });
      assert.equal(stopped.aborted, true);
      assert.equal(stopped.counts.pending, 2, "an aborted signal stops before any group starts");
      // abort once the group is under way (the start report comes before training)
      const ac2 = new AbortController();
      const mid = await runSweepBatched(p, {
        store,
        signal: ac2.signal,
        progress: (pr) => {
          if (!pr.last) setTimeout(() => ac2.abort(), 50);
        },
      });
      assert.equal(mid.counts.interrupted, 2);
      for (const m of mid.members) {
        const step = m.run!.summary!.step as number;
        assert.ok(step > 0 && step < 400, `interrupted at ${step}`);
        assert.equal(store.latestCheckpoint(m.run!.id)?.step, step);
      }
      const resumed = await runSweepBatched(p, { store });
      assert.equal(resumed.counts.completed, 2);
      assert.equal(store.listRuns().length, 2, "resumed in place, no new runs");
    } finally {
      store.close();
    }
  });

  it("refuses a member that cannot be batched before writing anything, naming the member and field", async () => {
    const p = plan({ probes: [{ kind: "weightNorm", every: 5 }] });
    const store = tempStore();
    try {
      await assert.rejects(
        runSweepBatched(p, { store }),
        (e: unknown) => e instanceof UserError && /sweep b member 0: probes are not supported/.test(e.message),
      );
      assert.equal(store.sweeps.list().length, 0);
      assert.equal(store.listRuns().length, 0);
    } finally {
      store.close();
    }
    assert.deepEqual(
      groups([0, 1, 2, 3, 4], (i) => (i % 2 ? "odd" : "even"), 2),
      [[0, 2], [4], [1, 3]],
    );
  });
});

describe("sgdlab sweep --batched", () => {
  it("runs the grid in one process and shows the members like any sweep", async () => {
    const dir = workdir({ ...SMALL_SPEC, steps: 15 });
    const store = join(dir, ".sgdlab");
    const r = await cli([
      "sweep",
      join(dir, "spec.json"),
      "--grid",
      "optimizer.lr=[0.1,0.2,0.3]",
      "--batched",
      "--store",
      store,
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { counts: { completed: number }; ran: number[] };
    assert.equal(out.counts.completed, 3);
    assert.deepEqual(out.ran, [0, 1, 2]);
    const show = await cli(["show", "--sweep", JSON.parse(r.stdout.trim()).sweep, "--store", store]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /3 completed/);
    const s = RunStore.open(store, { readonly: true });
    try {
      assert.ok(s.listRuns().every((run) => run.status === "completed" && run.sweepIndex !== null));
    } finally {
      s.close();
    }
  });

  it("refuses unbatchable specs and --parallel with one line and exit code 2", async () => {
    const dir = workdir({ ...SMALL_SPEC, steps: 5, regularizer: { kind: "l2", lambda: 0.1 } });
    writeFileSync(join(dir, "ok.json"), JSON.stringify({ ...SMALL_SPEC, steps: 5 }));
    for (const [file, extra, re] of [
      ["spec.json", [], /regularizer is not supported/],
      ["ok.json", ["--parallel", "2"], /--batched/],
    ] as const) {
      const r = await cli([
        "sweep",
        join(dir, file),
        "--grid",
        "seed=[1,2]",
        "--batched",
        ...extra,
        "--store",
        join(dir, "s"),
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(!leaksInternals(r.stderr), r.stderr);
    }
  });
});
