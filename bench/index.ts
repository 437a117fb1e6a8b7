/**
 * `npm run bench`: prints benchmark tables and the ratio to the PyTorch CPU baselines measured on
 * the same kind of machine (bench/baselines/torch-cpu.md, "tuned" columns).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface Row {
  workload: string;
  value: number;
  unit: string;
  torch?: number;
}

/** PyTorch 1.13 CPU, 2 vCPU Zen 5, tuned env (bench/baselines/torch-cpu.md). */
const TORCH = {
  step32_2t: 7.6,
  step32_1t: 8.8,
  step64_2t: 16.2,
  step64_1t: 20.3,
  hvpScratch_1t: 20.2,
  hvpGraph_1t: 11.0,
  eigsh1_1t: 1710,
  eigsh5_1t: 3450,
  hutch32_1t: 479,
};

function childJson(args: string[], threads: number): unknown {
  const r = spawnSync(process.execPath, ["--import", "tsx", ...args], {
    env: { ...process.env, SGDLAB_THREADS: String(threads) },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`bench child ${args.join(" ")} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

function child(args: string[], threads: number): Record<string, number> {
  const r = spawnSync(process.execPath, ["--import", "tsx", ...args], {
    env: { ...process.env, SGDLAB_THREADS: String(threads) },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`bench child ${args.join(" ")} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split("\n").pop()!;
  return JSON.parse(line) as Record<string, number>;
}

const rows: Row[] = [];
const reps = Number(process.env.BENCH_REPS ?? 15);
for (const threads of [1, 2]) {
  const r = child(["bench/trainStep.ts", "float32", String(reps)], threads);
  rows.push({
    workload: `MLP 784-256-256-10 tanh CE B=1000 train step, float32, ${threads} thread(s)`,
    value: r.medianMs,
    unit: "ms",
    torch: threads === 1 ? TORCH.step32_1t : TORCH.step32_2t,
  });
}
{
  const r = child(["bench/trainStep.ts", "float64", String(Math.max(3, Math.floor(reps / 3)))], 1);
  rows.push({
    workload: "same, float64, 1 thread",
    value: r.medianMs,
    unit: "ms",
    torch: TORCH.step64_1t,
  });
}
{
  const c = child(["bench/curvature.ts"], 1);
  const hv = (x: number) => ` (${x} HVPs)`;
  rows.push(
    {
      workload: "one exact HVP (same MLP, B=1000, float32, 1 thread) vs torch graph reuse",
      value: c.hvpMs,
      unit: "ms",
      torch: TORCH.hvpGraph_1t,
    },
    {
      workload: "  same HVP vs torch from scratch (fwd + grad + double backward)",
      value: c.hvpMs,
      unit: "ms",
      torch: TORCH.hvpScratch_1t,
    },
    {
      workload: `λmax to 1e-6, cold Lanczos${hv(c.coldHvps)}; torch eigsh k=1: 80 HVPs`,
      value: c.coldMs,
      unit: "ms",
      torch: TORCH.eigsh1_1t,
    },
    {
      workload: `λmax to 1e-6 one GD step later, warm start${hv(c.warmHvps)} vs cold${hv(c.coldMovedHvps)} ${c.coldMovedMs.toFixed(0)} ms`,
      value: c.warmMs,
      unit: "ms",
    },
    {
      workload: `top-5 to 1e-6${hv(c.top5Hvps)}; torch eigsh k=5: 166 HVPs`,
      value: c.top5Ms,
      unit: "ms",
      torch: TORCH.eigsh5_1t,
    },
    {
      workload: "Hutchinson trace, 32 Rademacher probes",
      value: c.hutchinson32Ms,
      unit: "ms",
      torch: TORCH.hutch32_1t,
    },
  );
}
{
  const store = mkdtempSync(join(tmpdir(), "sgdlab-bench-"));
  try {
    const r = child(["bench/example.ts", "examples/mnist-gd.yaml", store, "100"], 1);
    rows.push({
      workload: "examples/mnist-gd.yaml (full-batch GD, 1k MNIST), 1 thread",
      value: r.stepsPerSec,
      unit: "steps/s",
    });
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

const methods = childJson(["bench/methods.ts", String(Math.max(3, Math.floor(reps / 2)))], 1) as {
  name: string;
  ms: number;
}[];

const header = ["workload", "sgdlab", "torch (tuned)", "sgdlab / torch"];
const body = rows.map((r) => [
  r.workload,
  `${r.value.toFixed(r.unit === "ms" ? 1 : 2)} ${r.unit}`,
  r.torch === undefined ? "-" : `${r.torch} ms`,
  r.torch === undefined ? "-" : `${(r.value / r.torch).toFixed(1)}x`,
]);
const w = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(w[i])).join(" | ")} |`;
console.log(line(header));
console.log(`|${w.map((n) => "-".repeat(n + 2)).join("|")}|`);
for (const b of body) console.log(line(b));

const sgdMs = methods[0].ms;
console.log("\nStep cost of each method, MLP 784-256-256-10 tanh CE, B=1000, float32, 1 thread:\n");
console.log(`| method | ms per step | relative to SGD |`);
console.log(`|---|---|---|`);
for (const m of methods) console.log(`| ${m.name} | ${m.ms.toFixed(1)} | ${(m.ms / sgdMs).toFixed(2)}x |`);
