/**
 * The alternative the landscape grid did not take, measured: jit(vmap) of the chunk loss over K
 * stacked parameter vectors (one device call per K grid points) against the objective's jitted
 * evaluation per point (what `evaluateGrid` does), on the workload of bench/landscape.ts.
 * Usage: SGDLAB_THREADS=1 node --import tsx bench/landscapeVmap.ts [points=49] [K=4]
 */
import { Key, jit, leafNames, np, toHost, tree, treeFromHost, treeSpec, treeToHost, vmap } from "../src/core/index.js";
import type { Array as JaxArray, Params } from "../src/core/index.js";
import { initRuntime, threadCount } from "../src/core/runtime.js";
import { loadData } from "../src/data/index.js";
import { randomDirection } from "../src/landscape/directions.js";
import { evaluateGrid } from "../src/landscape/grid.js";
import { createLoss, createObjective } from "../src/losses/index.js";
import { createModel } from "../src/models/index.js";

const points = Number(process.argv[2] ?? 49);
const k = Number(process.argv[3] ?? 4);
await initRuntime("wasm");
const { train } = await loadData({ kind: "mnist", nTrain: 1000, nTest: 0 }, 0);
const model = createModel({ kind: "mlp", hidden: [200, 200], activation: "tanh" }, [784], 10);
const params = model.init(Key.fromSeed(1), "float32");
const spec = treeSpec(params);
const theta = await treeToHost(params);
const obj = createObjective({ model, loss: createLoss({ kind: "ce" }) }, train, "full", {
  dtype: "float32",
  chunkSize: 1000,
  compile: true,
});
const d = randomDirection(theta, { shapes: spec.shapes, names: leafNames(params) }, Key.fromSeed(2), "ignore");
const alphas = Array.from({ length: points }, (_, i) => -1 + (2 * i) / (points - 1));

let t = performance.now();
const perPoint = await evaluateGrid(obj, spec, theta, [d], [alphas]);
const perPointMs = (performance.now() - t) / points;

const c = obj.chunks[0];
const f = jit(vmap((p: Params, x: JaxArray, y: JaxArray) => obj.lossOn(p, x, y), [0, null, null]));
const batchedLoss: number[] = [];
t = performance.now();
for (let s = 0; s < points; s += k) {
  const group = alphas.slice(s, s + k);
  const trees = group.map(
    (a) =>
      treeFromHost(
        spec,
        theta.map((v, i) => v + a * d[i]),
      ) as Params,
  );
  const stacked = tree.map((...ls: JaxArray[]) => np.stack(ls), trees[0], ...trees.slice(1)) as Params;
  batchedLoss.push(...(await toHost(f(stacked, c.x.ref, c.y.ref) as JaxArray)));
}
const vmapMs = (performance.now() - t) / points;
f.dispose();
obj.dispose();

const diff = Math.max(...batchedLoss.map((v, i) => Math.abs(v - perPoint.loss[i])));
console.log(
  `${threadCount()} thread(s), ${points} points: jitted evaluation per point ${perPointMs.toFixed(1)} ms/point ` +
    `(loss and accuracy); jit(vmap) over ${k} points ${vmapMs.toFixed(1)} ms/point (loss only); max |Δloss| ${diff.toExponential(2)}`,
);
