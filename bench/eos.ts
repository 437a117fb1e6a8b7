/**
 * Benchmark worker: the edge-of-stability experiment end to end (Cohen, Kaur, Li, Kolter & Talwalkar,
 * ICLR 2021, §3): full-batch GD with η = 0.05 on a class-balanced 1,000-digit MNIST subset, tanh MLP
 * 784-200-200-10, ½-mean MSE on one-hot targets, λmax of the training-loss Hessian every 20 steps
 * (Lanczos, relative Ritz residual 1e-6, warm-started from the previous top eigenvector).
 *
 * Before training it writes the problem for the PyTorch peer (bench/eos_torch.py) to `<dir>`: the
 * centered inputs, the one-hot targets and the initial weights θ₀, as raw little-endian float32 plus
 * `problem.json` (shapes, η, steps), so that both programs run the same problem from the same θ₀.
 * Prints one JSON line: seconds, HVPs, the λmax trajectory and the final loss.
 * Usage: node --import tsx bench/eos.ts <dir> [steps=1000] [every=20] [lr=0.05]
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { initRuntime, Key, leafNames, treeSpec, treeToHost, type Params } from "../src/core/index.js";
import { loadData } from "../src/data/index.js";
import { loadSpec } from "../src/experiments/resolve.js";
import { createModel } from "../src/models/index.js";
import { RunStore } from "../src/store/index.js";
import { runExperiment } from "../src/train/trainer.js";

const [dir, stepsArg, everyArg, lrArg] = process.argv.slice(2);
const steps = Number(stepsArg ?? 1000);
const every = Number(everyArg ?? 20);
// η = 0.05 as in examples/mnist-gd.yaml: λmax(θ₀) ≈ 25.6 < 2/η = 40, and progressive sharpening
// reaches 2/η within the run. (The η = 0.5 diverges at once here: 2/η = 4 < λmax(θ₀).)
const lr = Number(lrArg ?? 0.05);

const exp = loadSpec("examples/mnist-gd.yaml", [
  `optimizer.lr=${lr}`,
  `steps=${steps}`,
  `evalEvery=${steps}`,
  "checkpointEvery=0",
  `probes=[{kind: hessian, every: ${every}, topK: 1, tol: 1e-6}]`,
]);
const s = exp.spec;

// The problem as the trainer builds it: data by loadData(spec.data, seed), θ₀ = model.init(key("init")).
await initRuntime(s.backend);
const data = await loadData(s.data, s.seed);
const train = data.train;
const model = createModel(s.model, train.xShape, train.numClasses);
const theta0 = model.init(Key.fromSeed(s.seed).fold("init"), "float32") as Params;
const names = leafNames(theta0);
const shapes = treeSpec(theta0).shapes;
const flat = await treeToHost(theta0);
const d = train.xShape.reduce((a, b) => a * b, 1);
const y = new Float32Array(train.n * train.numClasses);
train.labels!.forEach((c, i) => (y[i * train.numClasses + c] = 1));
writeFileSync(join(dir, "x.f32"), new Float32Array(train.x).subarray(0, train.n * d));
writeFileSync(join(dir, "y.f32"), y);
writeFileSync(join(dir, "theta0.f32"), new Float32Array(flat));
writeFileSync(
  join(dir, "problem.json"),
  JSON.stringify({
    n: train.n,
    d,
    classes: train.numClasses,
    // θ₀'s leaves in treeToHost order (layers.i.W [d_in, d_out], layers.i.b [d_out]) and their shapes
    leaves: names.map((name, i) => ({ name, shape: shapes[i] })),
    lr,
    steps,
    every,
  }),
);

const store = RunStore.open(join(dir, "store"));
const t0 = performance.now();
const r = await runExperiment(exp, { store });
const seconds = (performance.now() - t0) / 1000;
const metrics = store.getMetrics(r.runId, { keys: ["hessian/lambdaMax", "hessian/hvps", "train/loss"] });
store.close();
const lambdas = metrics.filter((m) => m.key === "hessian/lambdaMax").map((m) => [m.step, m.value]);
const hvps = metrics.filter((m) => m.key === "hessian/hvps").reduce((a, m) => a + m.value, 0);
const losses = metrics.filter((m) => m.key === "train/loss");
console.log(JSON.stringify({ seconds, hvps, lambdas, finalLoss: losses.at(-1)?.value ?? null, status: r.status }));
