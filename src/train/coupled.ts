/**
 * Coupled runs for algorithmic stability (Hardt, Recht & Singer, "Train faster, generalize better:
 * Stability of stochastic gradient descent", ICML 2016, §2–3): SGD on a training set S and on S⁽ⁱ⁾,
 * S with K examples replaced by fresh draws, from the same initialization with the same batch order
 * and the same keys, so that the only difference between the two trajectories is the replaced data.
 *
 * Replacement examples come from the held-out split: pair j replaces the K training rows i_j (drawn
 * without replacement from (seed, "stability/replace", j)) by the test rows [jK, (j+1)K); the test
 * rows from MK on are the held-out points z on which |ℓ(θ_T; z) − ℓ(θ'_T; z)| is measured, so no
 * held-out point has been trained on by either run. The loop is the trainer's (`StepEngine` over the
 * training `Objective`, the plan of `makeBatchPlan` or `growingBatches` from (seed, "batches"), keys
 * from (seed, "optimizer", t)), without store, probes or evaluation.
 */
import {
  check,
  deriveKey,
  grad,
  keep,
  Key,
  release,
  toHost,
  toScalar,
  treeFromHost,
  treeNormSq,
  treeSpec,
  treeToHost,
  UserError,
  type Array as JaxArray,
  type Params,
  type TreeSpec,
} from "../core/index.js";
import { initRuntime } from "../core/runtime.js";
import { analyzeHessian } from "../curvature/analyze.js";
import { growingBatches, loadData, makeBatchPlan, makeDataset, takeRows, type BatchPlan } from "../data/index.js";
import { inputSize, type Dataset } from "../data/types.js";
import type { ExperimentSpec } from "../experiments/schema.js";
import { createLoss, createObjective, makeBatch, noisyTargets, type Objective } from "../losses/index.js";
import { createModel } from "../models/index.js";
import type { ModelState } from "../models/types.js";
import { createOptimizer, createSchedule, optimizerLr } from "../optim/index.js";
import { hardtRechtSingerNonConvex } from "../theory/stability.js";
import { StepEngine, type TrainState } from "./engine.js";

/** Options of `coupledStability`. */
export interface CoupledOptions {
  /** K ≥ 0: training examples replaced per pair (0: identical data, a determinism check). */
  readonly replace: number;
  /** M ≥ 1: pairs (choices of the replaced indices). */
  readonly pairs: number;
  /** Record ‖θ_t − θ'_t‖ every this many steps (default: steps/50, at least 1); always at 0 and T. */
  readonly every?: number;
  /** Training examples whose per-example gradient norms estimate L (default 128). */
  readonly lipschitzExamples?: number;
}

/** One coupled pair. */
export interface CoupledPair {
  /** The replaced training rows. */
  readonly replaced: number[];
  /** ‖θ_t − θ'_t‖ at `CoupledReport.steps`. */
  readonly distance: number[];
  /** max over held-out z of |ℓ(θ_T; z) − ℓ(θ'_T; z)|. */
  readonly maxLossDiff: number;
  /** mean over held-out z of |ℓ(θ_T; z) − ℓ(θ'_T; z)|. */
  readonly meanLossDiff: number;
}

/** What `coupledStability` measures. */
export interface CoupledReport {
  readonly n: number;
  readonly replace: number;
  readonly pairs: CoupledPair[];
  readonly heldOut: number;
  readonly steps: number[];
  /** Mean over pairs of ‖θ_t − θ'_t‖ at each recorded step. */
  readonly meanDistance: number[];
  /** The empirical uniform-stability estimate: mean over pairs of maxLossDiff, its standard error, min and max. */
  readonly stability: { mean: number; stderr: number; min: number; max: number };
  /** Σ_t α_t of the schedule, max_t α_t·t (t from 1: the c of α_t ≤ c/t) and the largest α_t. */
  readonly sumLr: number;
  readonly c: number;
  readonly maxLr: number;
  /** L: the largest per-example gradient norm seen at θ₀ and θ_T of the run on S (a lower estimate). */
  readonly lipschitz: number;
  /** β: the larger λmax of the training-loss Hessian at θ₀ and θ_T (a lower estimate of per-example smoothness). */
  readonly smoothness: number;
  readonly seconds: number;
}

/** Mean, standard error s/√m, min and max of `xs` (stderr NaN for one value). */
export function spread(xs: readonly number[]): { mean: number; stderr: number; min: number; max: number } {
  const m = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / m;
  const v = m > 1 ? xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (m - 1) : NaN;
  return { mean, stderr: Math.sqrt(v / m), min: Math.min(...xs), max: Math.max(...xs) };
}

/** `ds` with rows `rows` replaced by rows `from` of `source` (same shapes and task). */
export function replaceRows(ds: Dataset, rows: readonly number[], source: Dataset, from: readonly number[]): Dataset {
  const d = inputSize(ds);
  const x = Float64Array.from(ds.x);
  const labels = ds.labels ? Int32Array.from(ds.labels) : null;
  const targets = ds.targets ? Float64Array.from(ds.targets) : null;
  const k = ds.targetDim;
  rows.forEach((i, r) => {
    const j = from[r];
    x.set(source.x.subarray(j * d, (j + 1) * d), i * d);
    if (labels) labels[i] = source.labels![j];
    if (targets) targets.set(source.targets!.subarray(j * k, (j + 1) * k), i * k);
  });
  return makeDataset({
    name: `${ds.name}[${rows.length} replaced]`,
    xShape: ds.xShape,
    x,
    labels,
    numClasses: labels ? ds.numClasses : undefined,
    targets,
    targetDim: targets ? k : undefined,
  });
}

/** K distinct rows of [0, n), drawn from `key` (partial Fisher–Yates), sorted. */
function drawRows(n: number, k: number, key: Key): number[] {
  const rng = key.rng();
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

/** The end of one run: the final state (owned) and θ_t on the host at the recorded steps. */
interface Trajectory {
  flats: Float64Array[];
  state: TrainState;
}

/** Trains `spec` on `train` as the trainer would, recording θ at `record` (a sorted step list). */
async function trajectory(spec: ExperimentSpec, train: Dataset, record: readonly number[]): Promise<Trajectory> {
  const outputDim = train.task === "classification" ? train.numClasses : train.targetDim;
  const model = createModel(spec.model, train.xShape, outputDim);
  const loss = createLoss(spec.loss);
  const opt = createOptimizer(spec.optimizer);
  const schedule = createSchedule(spec.schedule, optimizerLr(spec.optimizer), spec.steps);
  const root = Key.fromSeed(spec.seed);
  const plan = batchPlan(spec, train.n, root);
  const objective = createObjective({ model, loss, bnMode: "train", regularizer: spec.regularizer }, train, "full", {
    dtype: spec.dtype,
    chunkSize: spec.chunkSize,
    compile: true,
  });
  const engine = new StepEngine(objective, opt);
  const params = model.init(root.fold("init"), spec.dtype);
  let state: TrainState = { params, opt: opt.init(keep(params)), model: engine.initModelState() };
  const flats: Float64Array[] = [];
  try {
    let r = 0;
    for (let t = 0; t <= spec.steps; t++) {
      if (record[r] === t) {
        flats.push(await treeToHost(keep(state.params)));
        r++;
      }
      if (t === spec.steps) break;
      const indices = plan.kind === "full" ? null : plan.indicesAt(t);
      const key = deriveKey(spec.seed, "optimizer", t).toArray();
      const noisy = spec.labelNoise
        ? noisyTargets(train, indices, spec.labelNoise, deriveKey(spec.seed, "labelNoise", t))
        : undefined;
      const [value, next] = engine.step(state, indices, schedule(t), t, key, noisy);
      state = next;
      const v = await toScalar(value);
      if (!Number.isFinite(v))
        throw new UserError(`stability: the loss became ${v} at step ${t} (lower the step size)`);
    }
    return { flats, state };
  } catch (e) {
    release([state.params, state.opt, state.model]);
    throw e;
  } finally {
    engine.dispose();
    objective.dispose();
  }
}

function batchPlan(spec: ExperimentSpec, n: number, root: Key): BatchPlan {
  if (spec.batchSchedule && spec.batchSize === "full") {
    throw new UserError("batchSchedule needs a numeric batchSize (the size before the first milestone)");
  }
  return spec.batchSchedule
    ? growingBatches(n, { base: spec.batchSize as number, ...spec.batchSchedule }, root.fold("batches"))
    : makeBatchPlan(n, spec.batchSize, spec.replacement, root.fold("batches"));
}

/**
 * Per-example losses ℓ(θ; z) of the objective's rows (BN in eval mode with `ms`), computed on the
 * host from the outputs so that they add up to the objective's loss: CE log Σ exp o − o_y; MSE the
 * row's share of its reduction (½‖o − y‖² for half_mean, ‖o − y‖²/d for mean). Borrows everything.
 */
async function perExampleLosses(obj: Objective, p: Params, ms: ModelState): Promise<Float64Array> {
  const ds = obj.dataset;
  const b = makeBatch(ds, null, obj.loss, obj.dtype);
  const out = await toHost(obj.forward(keep(p), b.x, ms));
  const yh = await toHost(b.y);
  const k = out.length / ds.n;
  const loss = new Float64Array(ds.n);
  const name = obj.loss.name;
  for (let i = 0; i < ds.n; i++) {
    const o = out.subarray(i * k, (i + 1) * k);
    if (obj.loss.targetKind === "labels") {
      const m = Math.max(...o);
      let s = 0;
      for (const v of o) s += Math.exp(v - m);
      loss[i] = m + Math.log(s) - o[yh[i]];
    } else {
      let se = 0;
      for (let j = 0; j < k; j++) se += (o[j] - yh[i * k + j]) ** 2;
      loss[i] = name === "mse(mean)" ? se / k : name === "mse(half_mean)" || name === "mse(half_sum)" ? se / 2 : se;
    }
  }
  return loss;
}

/** max over `rows` examples of S of the per-example gradient norm ‖∇ℓ(θ; z_i)‖ (consumes nothing). */
async function maxExampleGradNorm(obj: Objective, p: Params, rows: number): Promise<number> {
  let best = 0;
  const m = Math.min(rows, obj.dataset.n);
  const b = makeBatch(obj.dataset, null, obj.loss, obj.dtype);
  try {
    for (let j = 0; j < m; j++) {
      const f = (q: Params): JaxArray => obj.loss(obj.forward(q, b.x.ref.slice([j, j + 1])), b.y.ref.slice([j, j + 1]));
      const g = grad(f)(keep(p)) as Params;
      best = Math.max(best, Math.sqrt(await toScalar(treeNormSq(g))));
    }
  } finally {
    release([b.x, b.y]);
  }
  return best;
}

function distance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/**
 * Runs `spec` on S and, for each of `pairs` choices of K replaced rows, on S⁽ⁱ⁾, with identical
 * initialization, batch order and keys; measures ‖θ_t − θ'_t‖ over time and, on the held-out points,
 * max_z |ℓ(θ_T; z) − ℓ(θ'_T; z)| (the uniform-stability quantity of HRS Definition 2.1 for this S,
 * these replacements and this draw of the algorithm's randomness), averaged over pairs. Also the
 * constants of the Hardt–Recht–Singer bounds measured on the run on S (see `CoupledReport`).
 */
export async function coupledStability(spec: ExperimentSpec, opts: CoupledOptions): Promise<CoupledReport> {
  const t0 = performance.now();
  const { replace: K, pairs: M } = opts;
  if (!(Number.isInteger(K) && K >= 0)) throw new UserError(`stability: --replace must be an integer ≥ 0, got ${K}`);
  if (!(Number.isInteger(M) && M >= 1)) throw new UserError(`stability: --pairs must be an integer ≥ 1, got ${M}`);
  await initRuntime(spec.backend);
  const data = await loadData(spec.data, spec.seed);
  const { train, test } = data;
  if (K > train.n) throw new UserError(`stability: cannot replace ${K} of ${train.n} training examples`);
  if (M * K >= test.n) {
    throw new UserError(
      `stability: ${M} pairs × ${K} replacements need more than ${M * K} held-out examples (data has ${test.n})`,
    );
  }
  const every = opts.every ?? Math.max(1, Math.floor(spec.steps / 50));
  check(Number.isInteger(every) && every >= 1, `stability: every must be an integer ≥ 1, got ${every}`);
  const steps: number[] = [];
  for (let t = 0; t < spec.steps; t += every) steps.push(t);
  steps.push(spec.steps);
  const heldOutRows = Array.from({ length: test.n - M * K }, (_, i) => M * K + i);
  const heldOut = takeRows(test, heldOutRows, `${test.name}[held out]`);
  const loss = createLoss(spec.loss);
  const outputDim = train.task === "classification" ? train.numClasses : train.targetDim;
  const model = createModel(spec.model, train.xShape, outputDim);
  const evalObj = createObjective({ model, loss, bnMode: "eval" }, heldOut, "full", {
    dtype: spec.dtype,
    chunkSize: Math.max(spec.chunkSize, heldOut.n),
  });
  const base = await trajectory(spec, train, steps);
  let lipschitz: number, smoothness: number, lossBase: Float64Array;
  const pairs: CoupledPair[] = [];
  try {
    lossBase = await perExampleLosses(evalObj, base.state.params, base.state.model);
    ({ lipschitz, smoothness } = await constants(spec, train, base, opts.lipschitzExamples ?? 128));
    for (let j = 0; j < M; j++) {
      const rows = drawRows(train.n, K, deriveKey(spec.seed, "stability/replace", j));
      const from = rows.map((_, r) => j * K + r);
      const other = await trajectory(spec, replaceRows(train, rows, test, from), steps);
      try {
        const l2 = await perExampleLosses(evalObj, other.state.params, other.state.model);
        let max = 0;
        let sum = 0;
        for (let i = 0; i < l2.length; i++) {
          const d = Math.abs(l2[i] - lossBase[i]);
          max = Math.max(max, d);
          sum += d;
        }
        pairs.push({
          replaced: rows,
          distance: base.flats.map((f, r) => distance(f, other.flats[r])),
          maxLossDiff: max,
          meanLossDiff: sum / l2.length,
        });
      } finally {
        release([other.state.params, other.state.opt, other.state.model]);
      }
    }
  } finally {
    release([base.state.params, base.state.opt, base.state.model]);
    evalObj.dispose();
  }
  const schedule = createSchedule(spec.schedule, optimizerLr(spec.optimizer), spec.steps);
  let sumLr = 0;
  let c = 0;
  let maxLr = 0;
  for (let t = 0; t < spec.steps; t++) {
    const a = schedule(t);
    sumLr += a;
    c = Math.max(c, a * (t + 1));
    maxLr = Math.max(maxLr, a);
  }
  return {
    n: train.n,
    replace: K,
    pairs,
    heldOut: heldOut.n,
    steps,
    meanDistance: steps.map((_, r) => pairs.reduce((s, p) => s + p.distance[r], 0) / M),
    stability: spread(pairs.map((p) => p.maxLossDiff)),
    sumLr,
    c,
    maxLr,
    lipschitz,
    smoothness,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** L and β of the HRS bounds, measured at θ₀ and θ_T of the run on S (training loss, BN train mode). */
async function constants(
  spec: ExperimentSpec,
  train: Dataset,
  base: Trajectory,
  examples: number,
): Promise<{ lipschitz: number; smoothness: number }> {
  const outputDim = train.task === "classification" ? train.numClasses : train.targetDim;
  const model = createModel(spec.model, train.xShape, outputDim);
  const obj = createObjective({ model, loss: createLoss(spec.loss) }, train, "full", {
    dtype: spec.dtype,
    chunkSize: spec.chunkSize,
  });
  const template = model.init(Key.fromSeed(0), spec.dtype);
  const tspec: TreeSpec = treeSpec(template);
  release(template);
  let lipschitz = 0;
  let smoothness = 0;
  try {
    for (const flat of [base.flats[0], base.flats[base.flats.length - 1]]) {
      const p = treeFromHost(tspec, flat, undefined) as Params;
      try {
        lipschitz = Math.max(lipschitz, await maxExampleGradNorm(obj, p, examples));
        const h = await analyzeHessian(obj, keep(p), {
          top: 1,
          bottom: 0,
          tol: 1e-4,
          trace: "none",
          key: Key.fromSeed(spec.seed).fold("stability/lambdaMax"),
        });
        smoothness = Math.max(smoothness, h.topEigenvalues[0]);
      } finally {
        release(p);
      }
    }
  } finally {
    obj.dispose();
  }
  return { lipschitz, smoothness };
}

/** The Hardt–Recht–Singer bounds beside a `CoupledReport` (`hrsBounds`). */
export interface HrsComparison {
  /** Convex case (Thm 3.8): K·2L²Σα_t/n on the loss difference, and K·(2L/n)Σα_t on ‖θ_T − θ'_T‖ (its proof). */
  readonly convex: { lossBound: number; distanceBound: number; applies: boolean; why: string } | null;
  /** Non-convex case (Thm 3.12, loss in [0, 1], α_t ≤ c/t): K times the bound. */
  readonly nonConvex: { lossBound: number; exponent: number; why: string } | null;
  /** Which bound the model's loss calls for: "convex" for a linear model with CE or MSE. */
  readonly kind: "convex" | "nonConvex";
}

/**
 * The Hardt–Recht–Singer bounds with the constants measured by `coupledStability` (L the largest
 * per-example gradient norm seen, β the largest λmax seen: both lower estimates of the suprema the
 * theorems need, so the values are indicative, not certified). With K examples replaced the bounds
 * are multiplied by K (a chain of K single replacements and the triangle inequality). The theorems
 * assume plain SGD with uniformly sampled examples; the mini-batch version has the same expansion per
 * step in expectation (the replaced example is in the batch with probability B/n, weighted 1/B).
 * `convexModel`: the loss is convex in θ (a linear model with CE or MSE).
 */
export function hrsBounds(r: CoupledReport, convexModel: boolean): HrsComparison {
  const K = Math.max(r.replace, 1);
  const L = r.lipschitz;
  const beta = r.smoothness;
  let convex: HrsComparison["convex"] = null;
  if (L > 0 && beta > 0) {
    const lossBound = (K * 2 * L * L * r.sumLr) / r.n;
    const distanceBound = (K * 2 * L * r.sumLr) / r.n;
    const applies = convexModel && r.maxLr <= 2 / beta;
    const why = !convexModel
      ? "the loss is not convex in θ (Thm 3.8 does not apply; shown for scale)"
      : r.maxLr > 2 / beta
        ? `max α = ${r.maxLr} > 2/β = ${2 / beta} (Thm 3.8 needs α_t ≤ 2/β)`
        : "convex, α_t ≤ 2/β";
    convex = { lossBound, distanceBound, applies, why };
  }
  let nonConvex: HrsComparison["nonConvex"] = null;
  if (L > 0 && beta > 0 && r.c > 0 && r.n >= 2) {
    const b = hardtRechtSingerNonConvex({
      lipschitz: L,
      smoothness: beta,
      c: r.c,
      steps: r.steps[r.steps.length - 1],
      n: r.n,
    });
    nonConvex = {
      lossBound: K * b.value,
      exponent: b.exponent,
      why: `α_t ≤ c/t with c = ${r.c.toPrecision(4)}; assumes the loss lies in [0, 1]`,
    };
  }
  return { convex, nonConvex, kind: convexModel ? "convex" : "nonConvex" };
}
