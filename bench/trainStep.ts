/**
 * Benchmark worker: median wall time of one jitted training step (forward, backward, SGD update) of
 * the MLP 784-256-256-10, tanh, cross-entropy, batch 1000. Prints one JSON line. Run by bench/index.ts
 * in a child process, because the thread count is fixed when jax-js loads.
 * Usage: node --import tsx bench/trainStep.ts <float32|float64> <reps>
 */
import type { FloatDtype } from "../src/core/index.js";
import { initRuntime, threadCount } from "../src/core/runtime.js";
import { trainStepTimes } from "./fixtures.js";

const dtype = (process.argv[2] ?? "float32") as FloatDtype;
const reps = Number(process.argv[3] ?? 15);
await initRuntime("wasm");

const times = (await trainStepTimes(dtype, reps)).sort((a, b) => a - b);
console.log(JSON.stringify({ dtype, threads: threadCount(), medianMs: times[Math.floor(times.length / 2)], reps }));
