/**
 * Benchmark worker: trains an example spec for a few steps (no evaluation in between) and prints
 * its steps/s as JSON. Usage: node --import tsx bench/example.ts <spec> <storeDir> <steps>
 */
import { loadSpec } from "../src/experiments/resolve.js";
import { RunStore } from "../src/store/index.js";
import { runExperiment } from "../src/train/trainer.js";

const [specPath, storeDir, steps] = process.argv.slice(2);
const exp = loadSpec(specPath, [`steps=${steps}`, `evalEvery=${steps}`, "checkpointEvery=0"]);
const store = RunStore.open(storeDir);
const r = await runExperiment(exp, { store });
store.close();
console.log(JSON.stringify({ stepsPerSec: r.summary.stepsPerSec }));
