/**
 * Batched training: K runs that share a model shape, data kind, loss and optimizer kind trained in
 * one program, their parameters stacked on a leading axis of length K. Each member is still its own
 * run in the store, with the metric keys, events, checkpoints and summary of `runExperiment`, and
 * follows the trajectory its spec would follow alone (to float32 rounding: the same operations,
 * batched).
 *
 * One step of the group is one jitted call: (L_k(θ_k), ∇L_k(θ_k)) for every member k on the stacked
 * Θ = [θ_1 … θ_K] (`groupValueAndGrad`; the batch shared, or stacked when members' data or batches
 * differ), then vmap(optimizer.update) with each member's scheduled learning rate η_k(t) — the
 * operations of `StepEngine`'s step, batched (with a shared batch, up to `UNROLL` steps per call, never
 * across a member's evaluation, checkpoint or end). Members may differ in seed, `optimizer.lr`, schedule,
 * steps, evalEvery, checkpointEvery and divergenceFactor (host-side per member); everything else must
 * be equal (`batchKey`).
 *
 * Supported: stateless models (no batch norm), `ce` and `mse`, optimizers `sgd` (momentum, Nesterov,
 * weight decay), `adam`, `adamw`, with or without `clipNorm`, any schedule, full batch (n ≤ chunkSize)
 * or mini-batches from each member's own batch plan. Refused with a `UserError` naming the field:
 * probes, regularizers, label-noise SGD, batch schedules, iterate averaging, other optimizers (SAM,
 * step-tuned, …: they evaluate the objective again inside the update).
 */
import {
  grad,
  jit,
  keep,
  np,
  release,
  settle,
  toHost,
  tree,
  treeAdd,
  UserError,
  valueAndGrad,
  vmap,
  Key,
  type Array,
  type OwnedFunction,
  type Params,
} from "../core/index.js";
import { initRuntime } from "../core/runtime.js";
import { loadData, makeBatchPlan, type BatchPlan } from "../data/index.js";
import type { DataSplit } from "../data/types.js";
import { canonicalJson, type ResolvedExperiment } from "../experiments/resolve.js";
import type { ExperimentSpec } from "../experiments/schema.js";
import { createLoss, createObjective, makeBatch, type Objective } from "../losses/index.js";
import { activate, createModel, type MlpParams } from "../models/index.js";
import { dense } from "../models/layers.js";
import type { Model } from "../models/types.js";
import {
  createOptimizer,
  createSchedule,
  optimizerLr,
  type GradientTransformation,
  type OptState,
  type Schedule,
} from "../optim/index.js";
import { codeVersion, type RunStore } from "../store/index.js";
import { writeTrainCheckpoint } from "./checkpoint.js";
import { divergence, evaluationMetrics, runSummary, stepMetrics } from "./lab.js";
import type { RunStatus, TrainResult } from "./trainer.js";

/**
 * A jax-js 0.1.25 defect (Wasm backend only; the cpu backend is right) that decides how the group's
 * gradient is taken. With W2 [K, 4, 4], W3 [K, 4, 1] and x [3, 4] shared,
 * `grad((W) => vmap((w2, w3, x) => { const o = matmul(matmul(x, w2), w3); return sum(o·o); },
 * [0, 0, null])(W, W3, x).sum())` returns a wrong gradient for every member but the first (max error
 * ~1 with entries of order 1) when the hidden width is a multiple of 4 (3 is right), while
 * `vmap(grad(...))` is right. So members' gradients come from vmap(valueAndGrad), measured 3–4×
 * slower on the 2-32-32-1 MLP. The canary in batched.test.ts fails once the defect is fixed.
 */
export const JAXJS_VMAP_GRAD_DEFECT = "jax-js 0.1.25: grad of a vmapped loss is wrong for members > 0 (Wasm)";

/** Optimizer kinds whose update is a pure function of (gradient, state, params, η, t). */
const BATCHED_OPTIMIZERS = new Set(["sgd", "adam", "adamw"]);

/** Spec fields that may differ between members of one batched group (all handled on the host). */
const PER_MEMBER_FIELDS = ["name", "seed", "schedule", "steps", "evalEvery", "checkpointEvery", "divergenceFactor"];

/**
 * Throws a `UserError` naming the field when `spec` cannot be trained by `trainBatched` (see the
 * module comment for what is supported). `what` names the member in the message.
 */
export function checkBatchable(spec: ExperimentSpec, what = `spec "${spec.name}"`): void {
  const refuse = (field: string, why: string) => {
    throw new UserError(`batched training of ${what}: ${field} ${why} (run it without --batched)`);
  };
  if (spec.probes.length) refuse("probes", "are not supported (only the evaluation runs in a batched group)");
  if (spec.regularizer) refuse("regularizer", "is not supported");
  if (spec.labelNoise) refuse("labelNoise", "(label-noise SGD) is not supported");
  if (spec.batchSchedule) refuse("batchSchedule", "is not supported (batch shapes must stay fixed)");
  const o = spec.optimizer;
  if (!BATCHED_OPTIMIZERS.has(o.kind)) {
    refuse("optimizer.kind", `"${o.kind}" is not supported; expected one of ${[...BATCHED_OPTIMIZERS].join(", ")}`);
  }
  if ("averaging" in o && o.averaging !== undefined) refuse("optimizer.averaging", "is not supported");
  if ("norm" in spec.model && spec.model.norm === "batch") {
    refuse("model.norm", `"batch" is not supported (batch norm keeps running statistics per member)`);
  }
}

/**
 * The key of the group a spec can be trained in: its canonical JSON without the per-member fields
 * (name, seed, schedule, steps, evalEvery, checkpointEvery, divergenceFactor) and without
 * `optimizer.lr`. Specs with equal keys share model shape, data kind, loss, optimizer kind and
 * hyperparameters, batch size and dtype.
 */
export function batchKey(spec: ExperimentSpec): string {
  const rest: Record<string, unknown> = { ...spec };
  for (const f of PER_MEMBER_FIELDS) delete rest[f];
  const { lr: _lr, ...opt } = spec.optimizer as { lr: number };
  return canonicalJson({ ...rest, optimizer: opt });
}

/** One member of a batched group: its resolved spec and the store (or sweep-member view) of its run. */
export interface BatchedMember {
  exp: ResolvedExperiment;
  store: RunStore;
}

/** Options of {@link trainBatched}. */
export interface BatchedOptions {
  /** Aborting stops after the current call (≤ UNROLL steps): running members checkpoint, end `interrupted`. */
  signal?: AbortSignal;
  /** Called when member `index` (its position in the list) has ended. */
  onMemberEnd?(index: number, result: TrainResult): void;
}

/** Host-side state of one member. */
interface Member {
  spec: ExperimentSpec;
  store: RunStore;
  runId: string;
  data: DataSplit;
  /** The evaluation objectives of this member's data (shared between members with the same data). */
  evalTrain: Objective;
  evalTest: Objective;
  schedule: Schedule;
  plan: BatchPlan;
  buffer: { step: number; key: string; value: number }[];
  initialLoss: number | null;
  lastEval: Record<string, number>;
  evalStep: number;
  batchLoss: number;
  /** The step after the one whose loss diverged (its run ends there), or null. */
  divergedAt: number | null;
  result: TrainResult | null;
}

/** U steps of the group: learning rates lr [U, K] and step indices [U] in, losses [U, K] out. */
type GroupStep = (
  params: Params,
  opt: OptState,
  x: Array,
  y: Array,
  lr: Array,
  step: Array,
) => [Array, Params, OptState];

/**
 * Steps unrolled inside one jitted call when the batch is shared (full batch): fewer dispatches and
 * host reads, measured 15–25% less time per step at K = 16 on the 2-32-32-1 MLP (U = 5–10).
 */
const UNROLL = 8;

/**
 * Trains `members` (which must share a `batchKey`; each passes `checkBatchable`) as one batched
 * program and records each as its own run in its store: the `data` artifact, a `start` event,
 * `train/batchLoss`, `optim/lr`, `optim/batchSize`, `optim/noiseScale` every step, the evaluation
 * metrics every evalEvery steps and at the end, checkpoints every checkpointEvery steps and at the
 * end, `time/stepsPerSec` (the group's pace) and the summary. A member that diverges ends
 * `diverged` at that step while the others go on. Invalid input creates no run record. Results
 * come back in the order of `members`.
 */
export async function trainBatched(
  members: readonly BatchedMember[],
  opts: BatchedOptions = {},
): Promise<TrainResult[]> {
  if (members.length === 0) return [];
  const specs = members.map((m) => m.exp.spec as ExperimentSpec);
  specs.forEach((s) => checkBatchable(s));
  const key = batchKey(specs[0]);
  const odd = specs.findIndex((s) => batchKey(s) !== key);
  if (odd >= 0) {
    throw new UserError(
      `batched training: member ${odd} (${specs[odd].name}) differs from member 0 in more than ` +
        `${PER_MEMBER_FIELDS.join(", ")} and optimizer.lr; it needs a group of its own`,
    );
  }
  const lab = await setup(specs);
  try {
    return await train(members, lab, opts);
  } finally {
    lab.dispose();
  }
}

/** What the group shares, allocated before anything is written. */
interface Lab {
  model: Model;
  opt: GradientTransformation;
  /** Per distinct dataset: the data, the training objective (device chunks) and evaluation objectives. */
  datasets: { data: DataSplit; objective: Objective; evalTrain: Objective; evalTest: Objective }[];
  /** For each member, the index of its dataset. */
  dataOf: number[];
  /** One batch shared by all members (one dataset, full batch): the inputs need no stacking. */
  shared: boolean;
  /** The jitted group step unrolled u times (compiled on first use). */
  step(u: number): OwnedFunction<GroupStep>;
  dispose(): void;
}

async function setup(specs: ExperimentSpec[]): Promise<Lab> {
  const s0 = specs[0];
  await initRuntime(s0.backend);
  const byKey = new Map<string, number>();
  const datasets: Lab["datasets"] = [];
  const dataOf: number[] = [];
  const disposeAll = () => {
    for (const d of datasets) for (const o of [d.evalTrain, d.evalTest, d.objective]) o.dispose();
  };
  try {
    let model: Model | null = null;
    const loss = createLoss(s0.loss);
    for (const s of specs) {
      const k = canonicalJson({ data: s.data, seed: s.seed });
      if (!byKey.has(k)) {
        const data = await loadData(s.data, s.seed);
        const outputDim = data.train.task === "classification" ? data.train.numClasses : data.train.targetDim;
        model ??= createModel(s0.model, data.train.xShape, outputDim);
        const chunking = { dtype: s0.dtype, chunkSize: s0.chunkSize, compile: true };
        const objective = createObjective({ model, loss, bnMode: "train" }, data.train, "full", chunking);
        datasets.push({
          data,
          objective,
          evalTrain: objective.variant({ bnMode: "eval", compile: true }),
          evalTest: createObjective({ model, loss, bnMode: "eval" }, data.test, "full", chunking),
        });
        byKey.set(k, datasets.length - 1);
      }
      dataOf.push(byKey.get(k)!);
    }
    const n = datasets[0].data.train.n;
    if (s0.batchSize === "full" && n > s0.chunkSize) {
      throw new UserError(
        `batched training: a full batch of ${n} examples needs chunkSize ≥ ${n} (got ${s0.chunkSize}); ` +
          `set chunkSize or use a mini-batch`,
      );
    }
    const shared = datasets.length === 1 && s0.batchSize === "full";
    const opt = createOptimizer(s0.optimizer);
    const objective = datasets[0].objective;
    const inAxis = shared ? null : 0;
    const valueAndGrads = groupValueAndGrad(s0, objective, specs.length, inAxis);
    const update = vmap(
      (g: Params, s: OptState, p: Params, lr: Array, t: Array) => {
        const r = opt.update(g, s, p, { lr, step: t });
        release([lr, t]);
        return r;
      },
      [0, 0, 0, 0, null],
    );
    const K = specs.length;
    const steps = new Map<number, OwnedFunction<GroupStep>>();
    const unrolled = (n: number) =>
      jit(((params, state, x, y, lr, t) => {
        const values: Array[] = [];
        for (let u = 0; u < n; u++) {
          const [v, g] = valueAndGrads(keep(params), x.ref, y.ref);
          const lrU = lr.ref.slice([u, u + 1]).reshape([K]);
          const tU = t.ref.slice([u, u + 1]).reshape([]);
          const [upd, s2] = update(g, state, keep(params), lrU, tU) as [Params, OptState];
          params = treeAdd(params, upd);
          state = s2;
          values.push(v);
        }
        release([x, y, lr, t]);
        return [np.stack(values), params, state];
      }) as GroupStep);
    return {
      model: model!,
      opt,
      datasets,
      dataOf,
      shared,
      step(n) {
        if (!steps.has(n)) steps.set(n, unrolled(n));
        return steps.get(n)!;
      },
      dispose() {
        for (const f of steps.values()) f.dispose();
        disposeAll();
      },
    };
  } catch (e) {
    disposeAll();
    throw e;
  }
}

async function train(list: readonly BatchedMember[], lab: Lab, opts: BatchedOptions): Promise<TrainResult[]> {
  const specs = list.map((m) => m.exp.spec as ExperimentSpec);
  const s0 = specs[0];
  const dtype = s0.dtype === "float64" ? np.float64 : np.float32;
  const members: Member[] = list.map(({ exp, store }, k) => {
    const spec = specs[k];
    const d = lab.datasets[lab.dataOf[k]];
    const run = store.createRun({
      name: spec.name,
      spec,
      specHash: exp.hash,
      codeVersion: codeVersion(),
      backend: spec.backend,
      dtype: spec.dtype,
      seed: spec.seed,
    });
    return {
      spec,
      store,
      runId: run.id,
      data: d.data,
      evalTrain: d.evalTrain,
      evalTest: d.evalTest,
      schedule: createSchedule(spec.schedule, optimizerLr(spec.optimizer), spec.steps),
      plan: makeBatchPlan(d.data.train.n, spec.batchSize, spec.replacement, Key.fromSeed(spec.seed).fold("batches")),
      buffer: [],
      initialLoss: null,
      lastEval: {},
      evalStep: -1,
      batchLoss: NaN,
      divergedAt: null,
      result: null,
    };
  });
  // the group's stacked state: parameters and optimizer state with a leading member axis
  let live: { params: Params; opt: OptState } | null = null;
  try {
    const inits = members.map((m) => lab.model.init(Key.fromSeed(m.spec.seed).fold("init"), m.spec.dtype));
    const opt0 = stack(inits.map((p) => lab.opt.init(keep(p))));
    live = { params: stack(inits), opt: opt0 };
    const g = live;
    for (const m of members) {
      m.store.putArtifact(m.runId, "data", 0, {
        info: m.data.info,
        train: describe(m.data, "train"),
        test: describe(m.data, "test"),
      });
      m.store.logEvent(m.runId, { step: 0, kind: "start", message: `${lab.model.paramCount()} parameters` });
    }
    const flush = (m: Member) => {
      if (m.buffer.length) m.store.appendMetrics(m.runId, m.buffer.splice(0));
      m.store.heartbeat(m.runId);
    };
    const t0 = performance.now();
    let lastFlush = t0;
    let lastYield = t0;
    let t = 0;
    const running = () => members.filter((m) => m.result === null);
    const end = async (m: Member, status: Exclude<RunStatus, "failed">, at = t) => {
      const elapsed = (performance.now() - t0) / 1000;
      if (status === "completed") await evaluate(m, g.params, members.indexOf(m), at);
      const stepsPerSec = at / Math.max(elapsed, 1e-9);
      m.buffer.push({ step: at, key: "time/stepsPerSec", value: stepsPerSec });
      flush(m);
      if (status !== "diverged") await checkpoint(m, g.params, g.opt, members.indexOf(m), at);
      const summary = runSummary(at, m.lastEval, m.evalStep, m.batchLoss, stepsPerSec);
      m.store.finishRun(m.runId, status, { summary });
      m.result = { runId: m.runId, status, step: at, summary };
      opts.onMemberEnd?.(members.indexOf(m), m.result);
    };
    /** Step t's metrics of member m (its loss at the old parameters), and the divergence check. */
    const record = (m: Member, at: number, loss: number, lr: number, batchSize: number) => {
      m.batchLoss = loss;
      m.buffer.push(...stepMetrics(m.spec, m.data.train.n, at, loss, lr, batchSize));
      m.initialLoss ??= loss;
      const diverged = divergence(m.spec, m.initialLoss, loss);
      if (diverged !== null) {
        m.store.logEvent(m.runId, { step: at + 1, kind: "diverged", message: diverged });
        m.divergedAt = at + 1;
      }
    };
    while (running().length) {
      for (const [k, m] of members.entries()) {
        if (m.result === null && t % m.spec.evalEvery === 0) await evaluate(m, g.params, k, t);
      }
      // U steps in one call (shared batch), none of them crossing a member's evaluation, checkpoint or end
      const n = lab.shared ? Math.min(UNROLL, ...running().map((m) => nextBoundary(m.spec, t) - t)) : 1;
      const lrs: number[][] = [];
      for (let u = 0; u < n; u++) lrs.push(members.map((m) => (m.result === null ? m.schedule(t + u) : 0)));
      const { x, y, sizes } = batchAt(lab, members, t, s0);
      const [values, p2, s2] = lab.step(n)(
        g.params,
        g.opt,
        x,
        y,
        np.array(lrs.flat(), { dtype }).reshape([n, members.length]),
        np.array([...Float64Array.from({ length: n }, (_, u) => t + u)], { dtype }),
      );
      g.params = p2;
      g.opt = s2;
      const losses = await toHost(values);
      await settle([g.params, g.opt]);
      for (let u = 0; u < n; u++) {
        for (const [k, m] of members.entries()) {
          if (m.result !== null || m.divergedAt !== null) continue;
          record(m, t + u, losses[u * members.length + k], lrs[u][k], sizes[k]);
        }
      }
      t += n;
      for (const [k, m] of members.entries()) {
        if (m.result !== null) continue;
        if (m.divergedAt !== null) await end(m, "diverged", m.divergedAt);
        else if (t >= m.spec.steps) await end(m, "completed");
        else if (m.spec.checkpointEvery > 0 && t % m.spec.checkpointEvery === 0) {
          flush(m);
          await checkpoint(m, g.params, g.opt, k, t);
        }
      }
      const now = performance.now();
      if (now - lastYield > 25) {
        // let signals and timers through (Wasm work completes in microtasks only)
        await new Promise((r) => setImmediate(r));
        lastYield = performance.now();
      }
      if (now - lastFlush > 1000) {
        for (const m of running()) flush(m);
        lastFlush = now;
      }
      if (opts.signal?.aborted) {
        for (const m of running()) await end(m, "interrupted");
      }
    }
    return members.map((m) => m.result!);
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    for (const m of members) if (m.result === null) m.store.finishRun(m.runId, "failed", { error });
    throw e;
  } finally {
    if (live) release([live.params, live.opt]);
  }
}

/**
 * Θ ↦ ([L_k(θ_k)]_k, [∇L_k(θ_k)]_k) for the stacked parameters Θ (consumes Θ, x and y; x and y
 * shared, `inAxis` null, or stacked, 0).
 *
 * A plain MLP (norm "none", standard parametrization) runs as explicit batched matmuls
 * h_{l+1} = σ(h_l W_l + b_l) with h_l [K, B, d_l] and W_l [K, d_l, d_{l+1}] — mlp.ts's forward pass
 * through its own `dense` and `activate`, on stacked weights — and its gradient is ∇_Θ Σ_k L_k(θ_k)
 * (the sum separates: the k-th slice is member k's gradient), the loss vmapped over members. Other
 * stateless models run as vmap(valueAndGrad(lossOn)), 3–4× slower on the Wasm backend but right,
 * where ∇Σ_k of their vmapped forward pass is not ({@link JAXJS_VMAP_GRAD_DEFECT}).
 */
function groupValueAndGrad(
  spec: ExperimentSpec,
  objective: Objective,
  K: number,
  inAxis: 0 | null,
): (params: Params, x: Array, y: Array) => [Array, Params] {
  const m = spec.model;
  if (m.kind === "mlp" && m.norm === "none" && m.parametrization === "standard") {
    const act = m.activation;
    const forward = (p: Params, x: Array): Array => {
      const { layers } = p as unknown as MlpParams;
      const b = inAxis === null ? x.shape[0] : x.shape[1];
      let h = x.reshape([inAxis === null ? 1 : K, b, -1]);
      layers.forEach((l, i) => {
        h = dense(h, { W: l.W, ...(l.b ? { b: l.b.reshape([K, 1, -1]) } : {}) });
        if (i < layers.length - 1) h = activate(act, h);
      });
      return h;
    };
    const losses = vmap((out: Array, y: Array) => objective.loss(out, y), [0, inAxis]);
    return (params, x, y) => {
      const [g, values] = grad(
        (q: Params) => {
          const v = losses(forward(q, x.ref), y.ref) as Array;
          return [v.ref.sum(), v];
        },
        { hasAux: true },
      )(params) as [Params, Array];
      release([x, y]);
      return [values, g];
    };
  }
  const vg = vmap(
    (p: Params, x: Array, y: Array) => {
      const r = valueAndGrad((q: Params) => objective.lossOn(q, x.ref, y.ref))(p) as [Array, Params];
      release([x, y]);
      return r;
    },
    [0, inAxis, inAxis],
  );
  return (params, x, y) => vg(params, x, y) as [Array, Params];
}

/** The first step after t at which member `spec` evaluates, checkpoints or ends. */
function nextBoundary(spec: ExperimentSpec, t: number): number {
  const next = (every: number) => (Math.floor(t / every) + 1) * every;
  return Math.min(spec.steps, next(spec.evalEvery), spec.checkpointEvery > 0 ? next(spec.checkpointEvery) : Infinity);
}

/**
 * The step's batch: the shared full batch (borrowed from the objective), or each member's rows from
 * its own batch plan, stacked [K, B, …]. Returns the batch size of each member.
 */
function batchAt(
  lab: Lab,
  members: readonly Member[],
  t: number,
  s0: ExperimentSpec,
): { x: Array; y: Array; sizes: number[] } {
  if (lab.shared) {
    const c = lab.datasets[0].objective.chunks[0];
    return { x: c.x.ref, y: c.y.ref, sizes: members.map(() => c.n) };
  }
  const xs: Array[] = [];
  const ys: Array[] = [];
  const sizes: number[] = [];
  for (const [k, m] of members.entries()) {
    const obj = lab.datasets[lab.dataOf[k]].objective;
    if (m.plan.kind === "full") {
      const c = obj.chunks[0];
      xs.push(c.x.ref);
      ys.push(c.y.ref);
      sizes.push(c.n);
    } else {
      const idx = m.plan.indicesAt(t);
      const b = makeBatch(obj.dataset, idx, obj.loss, s0.dtype);
      xs.push(b.x);
      ys.push(b.y);
      sizes.push(idx.length);
    }
  }
  return { x: np.stack(xs), y: np.stack(ys), sizes };
}

/** Stacks K pytrees of one structure leaf by leaf on a new leading axis (consumes them). */
export function stackTrees<T extends Params | OptState>(trees: readonly T[]): T {
  const [first, ...rest] = trees;
  return tree.map((...leaves: Array[]) => np.stack(leaves), first, ...rest) as T;
}

/** Member k of a stacked pytree (new arrays; borrows `t`). */
export function unstackTree<T extends Params | OptState>(t: T, k: number): T {
  return tree.map((leaf: Array) => leaf.ref.slice([k, k + 1]).reshape(leaf.shape.slice(1)), t) as T;
}

const stack = stackTrees;

/**
 * Member k's evaluation at step t on its full train and test sets (BN-free models, so no model state):
 * the metrics of `runExperiment`'s evaluation (loss, accuracy for classification, gaps).
 */
async function evaluate(m: Member, params: Params, k: number, t: number): Promise<void> {
  const p = unstackTree(params, k);
  let r: Record<string, number>;
  try {
    r = await evaluationMetrics(m.evalTrain, m.evalTest, m.data.train.task === "classification", p);
  } finally {
    release(p);
  }
  for (const [key, value] of Object.entries(r)) m.buffer.push({ step: t, key, value });
  m.lastEval = r;
  m.evalStep = t;
}

/** Member k's checkpoint at step t, in the format `resumeExperiment` reads (model state []). */
async function checkpoint(m: Member, params: Params, state: OptState, k: number, t: number): Promise<void> {
  const p = unstackTree(params, k);
  const s = unstackTree(state, k);
  try {
    await writeTrainCheckpoint(m.store, m.runId, t, { params: p, opt: s, model: [] }, m.spec);
  } finally {
    release([p, s]);
  }
}

function describe(data: DataSplit, which: "train" | "test") {
  const d = data[which];
  return { name: d.name, n: d.n, xShape: d.xShape, task: d.task, numClasses: d.numClasses };
}
