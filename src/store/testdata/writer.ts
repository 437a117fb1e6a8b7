// A child process for the store's concurrency and crash tests (not a test itself).
// Usage: node --import tsx writer.ts <storeDir> burst <name>
//   creates a run, prints "ready <id>", waits for the file <storeDir>/go, then writes 500 metric points
//   in 100 transactions of 5 (steps 0..99, keys k0..k4), prints "done" and exits.
// Usage: node --import tsx writer.ts <storeDir> loop <name> <keysPerStep>
//   creates a run, prints "id <id>", then for step = 0, 1, … writes <keysPerStep> points in one
//   transaction and prints "step <n>" after each commit, until killed.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { RunStore } from "../store.js";

const [dir, mode, name, perStep] = process.argv.slice(2);
const store = RunStore.open(dir);
const run = store.createRun({ name, spec: { mode }, seed: 0 });

if (mode === "burst") {
  process.stdout.write(`ready ${run.id}\n`);
  while (!existsSync(join(dir, "go"))) await sleep(5);
  for (let step = 0; step < 100; step++) {
    store.appendMetrics(
      run.id,
      Array.from({ length: 5 }, (_, k) => ({ step, key: `k${k}`, value: step + k / 10 })),
    );
  }
  store.finishRun(run.id, "completed");
  store.close();
  process.stdout.write("done\n");
} else {
  process.stdout.write(`id ${run.id}\n`);
  const n = Number(perStep);
  for (let step = 0; ; step++) {
    store.appendMetrics(
      run.id,
      Array.from({ length: n }, (_, k) => ({ step, key: `k${String(k).padStart(3, "0")}`, value: step * 1000 + k })),
    );
    process.stdout.write(`step ${step}\n`);
  }
}
