/**
 * Batched sweeps against sequential PyTorch, in one invocation: R runs of a tiny MLP (2-32-32-1 tanh,
 * ½-mean MSE, 200 points, full-batch SGD, each run its own learning rate 0.01·(k+1)) trained by
 * sgdlab's `trainBatched` as one program, and by PyTorch one run after another
 * (bench/batched_torch.py, 1 thread, the tuned environment of bench/baselines/torch-cpu.md). The two
 * are interleaved round by round; the ratio is the median of the rounds' ratios, from this run only.
 *
 * sgdlab's time is the whole `trainBatched` call: data, compilation, every member's run record,
 * metrics every step (the loss is read to the host every step, as torch's `loss.item()`), the
 * evaluation at the start and the end, checkpoints, summaries. PyTorch's excludes its import.
 * `--sequential` adds sgdlab's own sequential runs (`runExperiment` R times) for context.
 *
 * Usage: SGDLAB_THREADS=1 node --import tsx bench/batched.ts [--runs 16] [--steps 200] [--rounds 3]
 *        [--sequential] [--python /usr/bin/python3]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { resolveSpec, type ResolvedExperiment } from "../src/experiments/resolve.js";
import { RunStore } from "../src/store/index.js";
import { trainBatched } from "../src/train/batched.js";
import { runExperiment } from "../src/train/trainer.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "16" },
    steps: { type: "string", default: "200" },
    rounds: { type: "string", default: "3" },
    sequential: { type: "boolean", default: false },
    python: { type: "string", default: "/usr/bin/python3" },
  },
});
const runs = Number(values.runs);
const steps = Number(values.steps);
const rounds = Number(values.rounds);
const here = dirname(fileURLToPath(import.meta.url));

const exps: ResolvedExperiment[] = Array.from({ length: runs }, (_, k) =>
  resolveSpec({
    name: `tiny/${k}`,
    seed: 0,
    data: { kind: "teacherStudent", dim: 2, hidden: 8, activation: "tanh", nTrain: 200, nTest: 200 },
    model: { kind: "mlp", hidden: [32, 32], activation: "tanh" },
    loss: { kind: "mse" },
    optimizer: { kind: "sgd", lr: 0.01 * (k + 1) },
    batchSize: "full",
    steps,
    evalEvery: steps,
  }),
);

/** PyTorch's R sequential runs, one rep, in a fresh process: ms in total. */
function torchRound(): number | null {
  const env = {
    ...process.env,
    OMP_NUM_THREADS: "1",
    OPENBLAS_NUM_THREADS: "1",
    MKL_NUM_THREADS: "1",
    OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? "SkylakeX",
    MALLOC_TRIM_THRESHOLD_: "1000000000",
    MALLOC_MMAP_THRESHOLD_: "1000000000",
    MALLOC_TOP_PAD_: "1000000000",
  };
  const args = [join(here, "batched_torch.py"), "--runs", String(runs), "--steps", String(steps), "--reps", "1"];
  const r = spawnSync(values.python!, args, { env, encoding: "utf8" });
  if (r.status !== 0) {
    console.log(
      `PyTorch peer unavailable (${values.python}: ${(r.stderr || r.error?.message || "").trim().split("\n").pop()})`,
    );
    return null;
  }
  return (JSON.parse(r.stdout.trim().split("\n").pop()!) as { total_ms: number[] }).total_ms[0];
}

async function sgdlabRound(kind: "batched" | "sequential"): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-bench-"));
  const store = RunStore.open(dir);
  try {
    const t0 = performance.now();
    if (kind === "batched") {
      const res = await trainBatched(exps.map((exp) => ({ exp, store })));
      if (res.some((r) => r.status !== "completed")) throw new Error("a batched member did not complete");
    } else {
      for (const exp of exps) await runExperiment(exp, { store });
    }
    return performance.now() - t0;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const torch: number[] = [];
const batched: number[] = [];
const sequential: number[] = [];
let peer = true;
for (let r = 0; r < rounds; r++) {
  batched.push(await sgdlabRound("batched"));
  if (peer) {
    const t = torchRound();
    if (t === null) peer = false;
    else torch.push(t);
  }
  if (values.sequential) sequential.push(await sgdlabRound("sequential"));
  console.log(
    `round ${r + 1}: sgdlab batched ${batched[r].toFixed(0)} ms` +
      (peer ? `, PyTorch sequential ${torch[r].toFixed(0)} ms` : "") +
      (values.sequential ? `, sgdlab sequential ${sequential[r].toFixed(0)} ms` : ""),
  );
}
const perStep = (ms: number) => (ms / (runs * steps)).toFixed(3);
const b = median(batched);
console.log(
  `\n${runs} runs × ${steps} steps of MLP 2-32-32-1 (median of ${rounds} interleaved rounds, ${new Date().toISOString().slice(0, 10)}):`,
);
console.log(`  sgdlab batched (one program):  ${b.toFixed(0)} ms  (${perStep(b)} ms per member-step)`);
if (values.sequential) {
  const s = median(sequential);
  console.log(`  sgdlab sequential:             ${s.toFixed(0)} ms  (${perStep(s)} ms per member-step)`);
}
if (torch.length) {
  const t = median(torch);
  console.log(`  PyTorch sequential, 1 thread:  ${t.toFixed(0)} ms  (${perStep(t)} ms per step)`);
  // the load on a shared machine drifts between rounds: the ratio of each round, then their median
  const ratios = torch.map((tt, r) => tt / batched[r]);
  console.log(
    `  speed-up of sgdlab batched over sequential PyTorch, same run: median of rounds ${median(ratios).toFixed(2)}× ` +
      `(rounds ${ratios.map((x) => x.toFixed(2)).join(", ")}; ratio of medians ${(t / b).toFixed(2)}×; target ≥ 2×)`,
  );
} else {
  console.log("  PyTorch: not importable here; stored baseline 0.18 ms per step (2026-11-26), not same-run");
}
