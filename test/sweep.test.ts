// `sgdlab sweep` end to end: the CLI spawned (bin/sgdlab.js, so `npm run build` first) with its
// worker pool, a member that diverges, idempotent re-invocation, and a coordinator killed mid-way.
import { SMALL_SPEC } from "./helpers.js";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { RunStore } from "../src/store/index.js";
import { metricMap } from "./helpers.js";

const BIN = join(import.meta.dirname, "..", "bin", "sgdlab.js");

function sgdlab(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, SGDLAB_THREADS: "" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A folder with helpers.ts `SMALL_SPEC` (checkpoints every 10 steps) as spec.json. */
function workdir(extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-sweep-"));
  const spec = { ...SMALL_SPEC, checkpointEvery: 10, ...extra };
  writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
  return dir;
}

interface Member {
  index: number;
  overrides: Record<string, unknown>;
  status: string;
  runId: string | null;
  summary: Record<string, unknown> | null;
}

function runCount(dir: string): number {
  const store = RunStore.open(join(dir, ".sgdlab"), { readonly: true });
  try {
    return store.listRuns().length;
  } finally {
    store.close();
  }
}

describe("sgdlab sweep (spawned)", () => {
  it("runs a grid on 2 workers, keeps going past a diverged member, and skips finished members when re-invoked", () => {
    const dir = workdir();
    const args = [
      "sweep",
      "spec.json",
      "--grid",
      "optimizer.lr=[0.05,0.1,0.2,1000]",
      "--name",
      "lrs",
      "--parallel",
      "2",
      "--set",
      "divergenceFactor=10",
    ];
    const first = sgdlab(args, dir);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stdout, /4 members, 3 completed, 0 failed, 1 diverged/);
    assert.match(first.stdout, /member 3 diverged: optimizer\.lr=1000/);
    assert.match(first.stderr, /sweep lrs: .*4\/4 done \(3 completed, 0 failed, 1 diverged\)/);

    const list = JSON.parse(sgdlab(["sweeps", "--json"], dir).stdout) as {
      name: string;
      counts: Record<string, number>;
    }[];
    assert.deepEqual(
      list.map((s) => [s.name, s.counts.total, s.counts.completed, s.counts.diverged, s.counts.pending]),
      [["lrs", 4, 3, 1, 0]],
    );
    const show = JSON.parse(sgdlab(["show", "--sweep", "lrs", "--json"], dir).stdout) as { members: Member[] };
    assert.deepEqual(
      show.members.map((m) => [m.index, m.overrides["optimizer.lr"], m.status]),
      [
        [0, 0.05, "completed"],
        [1, 0.1, "completed"],
        [2, 0.2, "completed"],
        [3, 1000, "diverged"],
      ],
    );
    for (const m of show.members.slice(0, 3)) assert.equal(typeof m.summary?.["test/accuracy"], "number");
    const table = sgdlab(["show", "--sweep", "lrs"], dir);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /optimizer\.lr.*train\/loss.*test\/accuracy/);

    const runs = runCount(dir);
    const again = sgdlab([...args, "--json"], dir);
    assert.equal(again.code, 1, again.stderr);
    const r = JSON.parse(again.stdout) as { ran: number[]; counts: Record<string, number> };
    assert.deepEqual(r.ran, []);
    assert.equal(r.counts.completed, 3);
    assert.equal(runCount(dir), runs, "re-invoking created no runs");
  });

  it("records a member that fails before training, and reruns it only with --retry-failed", () => {
    const dir = workdir();
    const rows = ["x1,x2,label"];
    for (let i = 0; i < 48; i++) rows.push(`${(i % 2) + Math.sin(i)},${Math.cos(i)},${i % 2}`);
    writeFileSync(join(dir, "good.csv"), rows.join("\n") + "\n");
    const args = [
      "sweep",
      "spec.json",
      "--set",
      "data={kind: csv, train: good.csv, test: good.csv, header: true, label: label}",
      "--zip",
      "data.train=[good.csv, missing.csv]",
      "--name",
      "files",
    ];
    const first = sgdlab(args, dir);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stdout, /1 completed, 1 failed/);
    assert.match(first.stdout, /member 1 failed: data\.train="missing\.csv".*missing\.csv/);
    const runs = runCount(dir);
    assert.equal(runs, 2, "the failed member has a failed run");
    assert.equal(sgdlab(args, dir).code, 1);
    assert.equal(runCount(dir), runs, "a failed member is not rerun without --retry-failed");
    writeFileSync(join(dir, "missing.csv"), rows.join("\n") + "\n");
    const retry = sgdlab([...args, "--retry-failed", "--json"], dir);
    assert.equal(retry.code, 0, retry.stderr);
    const r = JSON.parse(retry.stdout) as { ran: number[]; members: (Member & { attempts: number })[] };
    assert.deepEqual(r.ran, [1]);
    assert.deepEqual(
      r.members.map((m) => [m.status, m.attempts]),
      [
        ["completed", 1],
        ["completed", 2],
      ],
    );
  });

  it("validates every member before writing anything (exit 2)", () => {
    const dir = workdir();
    const bad = sgdlab(["sweep", "spec.json", "--grid", "optimizer.lr=[0.1,-1]"], dir);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /member 1 \(optimizer\.lr=-1\)/);
    const zip = sgdlab(["sweep", "spec.json", "--zip", "seed=[1,2]", "--zip", "batchSize=[8]"], dir);
    assert.equal(zip.code, 2);
    assert.match(zip.stderr, /equal lengths/);
    assert.equal(existsSync(join(dir, ".sgdlab")), false);
  });

  it("finishes a sweep whose coordinator was killed, each member completed once, as a straight run would", async () => {
    const dir = workdir({ steps: 2000, evalEvery: 200, checkpointEvery: 50 });
    const args = ["sweep", "spec.json", "--grid", "seed=[1,2,3]", "--name", "killed"];
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      stdio: "ignore",
      env: { ...process.env, SGDLAB_THREADS: "" },
    });
    // kill the coordinator once the first member has completed and the second has a checkpoint
    // (one read-only connection, kept open: polling must stay cheap on a busy machine)
    let watch: RunStore | null = null;
    const state = () => {
      try {
        watch ??= RunStore.open(join(dir, ".sgdlab"), { readonly: true });
      } catch {
        return { completed: 0, checkpointed: 0 }; // the store is being created
      }
      const w = watch;
      const running = w.listRuns({ status: "running" });
      return {
        completed: w.listRuns({ status: "completed" }).length,
        checkpointed: running.filter((x) => w.listCheckpoints(x.id).length > 0).length,
      };
    };
    const deadline = Date.now() + 60_000;
    let now = state();
    while (!(now.completed >= 1 && now.checkpointed >= 1) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      now = state();
    }
    (watch as RunStore | null)?.close();
    assert.deepEqual(now, { completed: 1, checkpointed: 1 }, "member 0 completed, member 1 under way");
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));

    const again = sgdlab([...args, "--json"], dir);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    const r = JSON.parse(again.stdout) as { ran: number[]; members: Member[] };
    assert.ok(!r.ran.includes(0), "the completed member was skipped");
    const store = RunStore.open(join(dir, ".sgdlab"), { readonly: true });
    try {
      const runs = store.listRuns();
      assert.deepEqual(runs.map((x) => [x.sweepIndex, x.status]).sort(), [
        [0, "completed"],
        [1, "completed"],
        [2, "completed"],
      ]);
      // a straight `sgdlab run` of each member this invocation ran (resumed or new) gives the same metrics
      const resumed = runs.filter((x) => store.getEvents(x.id, { kind: "resume" }).length > 0);
      const log = runs.map((x) => `${x.name} ${x.status} ${store.getEvents(x.id).map((e) => `${e.kind}@${e.step}`)}`);
      assert.ok(resumed.length >= 1, `the interrupted member was resumed from its checkpoint: ${log.join("; ")}`);
      for (const m of r.members.filter((x) => r.ran.includes(x.index))) {
        const straight = sgdlab(
          ["run", "spec.json", "--json", "--store", "straight", "--set", `seed=${m.overrides.seed}`],
          dir,
        );
        assert.equal(straight.code, 0, straight.stderr);
        const other = RunStore.open(join(dir, "straight"), { readonly: true });
        try {
          const id = (JSON.parse(straight.stdout) as { runId: string }).runId;
          const swept = metricMap(store, m.runId as string);
          const want = metricMap(other, id);
          for (const [k, v] of want) assert.equal(swept.get(k), v, `member ${m.index}: ${k}`);
          // the trainer also evaluates where a run is interrupted (off the evalEvery schedule): at most
          // one extra step of evaluation metrics, in the resumed member only
          const extra = [...swept.keys()].filter((k) => !want.has(k));
          assert.ok(new Set(extra.map((k) => k.split(" ")[0])).size <= 1, `member ${m.index}: ${extra.join(", ")}`);
          assert.ok(
            extra.every((k) => /^\d+ (train|test|gap)\//.test(k)),
            extra.join(", "),
          );
        } finally {
          other.close();
        }
      }
    } finally {
      store.close();
    }
  });
});
