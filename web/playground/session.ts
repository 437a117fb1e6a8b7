/**
 * One training session in the page: a validated experiment spec turned into data, model, loss,
 * optimizer, objectives and the step engine with the library's own builders, exactly as the trainer's
 * `setup` (src/train/trainer.ts) does, then stepped the trainer's way — the hessian probe due at step
 * t measures before update t (phase 4), the update uses the key (seed, "optimizer", t) and, for
 * label-noise SGD, fresh noise from (seed, "labelNoise", t) (phase 5). So the page follows the same
 * trajectory as `sgdlab run` on `toSpec(state)` and measures the same λmax.
 *
 * Ownership (jax-js): the session owns params, optimizer state, model state, the initial params, the
 * objectives and the compiled step; `dispose()` releases them all. Every call that reads the state
 * borrows it through `keep`.
 */
import { deriveKey, Key, keep, nn, np, release, settle, toHost, toScalar, type Params } from "../../src/core/index.js";
import { syntheticData } from "../../src/data/build.js";
import { makeBatchPlan, type BatchPlan } from "../../src/data/batches.js";
import type { DataSplit } from "../../src/data/types.js";
import { ExperimentSpecSchema, type ExperimentSpec, type ExperimentSpecInput } from "../../src/experiments/schema.js";
import { createLoss, createObjective, noisyTargets, type Loss, type Objective } from "../../src/losses/index.js";
import { createModel } from "../../src/models/index.js";
import type { Model } from "../../src/models/types.js";
import { createOptimizer, createSchedule, optimizerLr } from "../../src/optim/registry.js";
import type { GradientTransformation, Schedule } from "../../src/optim/types.js";
import { hessianProbe } from "../../src/probes/hessian.js";
import type { Probe } from "../../src/probes/probe.js";
import { StepEngine, type TrainState } from "../../src/train/engine.js";

/** A λmax measurement (the hessian probe's metrics at one step). */
export interface Sharpness {
  step: number;
  lambdaMax: number;
  /** The optimizer's own stability threshold at η (2/η for GD), when it has one. */
  threshold: number | null;
  residual: number;
  hvps: number;
  ms: number;
}

/** Loss and accuracy on the full train and test sets (no regularizer). */
export interface Evaluation {
  step: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
}

/**
 * Parses a spec document with the run's schema (defaults filled in). Throws an Error whose message
 * lists each offending field as `path: message`.
 */
export function parseSpec(doc: ExperimentSpecInput): ExperimentSpec {
  const r = ExperimentSpecSchema.safeParse(doc);
  if (r.success) return r.data;
  throw new Error(r.error.issues.map((i) => `${i.path.map(String).join(".") || "spec"}: ${i.message}`).join("; "));
}

export class Session {
  readonly spec: ExperimentSpec;
  readonly data: DataSplit;
  readonly model: Model;
  readonly #loss: Loss;
  readonly #opt: GradientTransformation;
  readonly #schedule: Schedule;
  readonly #plan: BatchPlan;
  readonly #root: Key;
  readonly #objective: Objective;
  readonly #evalTrain: Objective;
  readonly #evalTest: Objective;
  readonly #engine: StepEngine;
  readonly #probe: Probe;
  #state: TrainState;
  readonly #initParams: Params;
  #step = 0;
  #disposed = false;

  /** Builds everything a run of `spec` needs (synthetic data only); nothing trains yet. */
  constructor(spec: ExperimentSpec) {
    this.spec = spec;
    this.data = syntheticData(spec.data, spec.seed);
    const train = this.data.train;
    const outputDim = train.task === "classification" ? train.numClasses : train.targetDim;
    this.model = createModel(spec.model, train.xShape, outputDim);
    this.#loss = createLoss(spec.loss);
    this.#opt = createOptimizer(spec.optimizer);
    this.#schedule = createSchedule(spec.schedule, optimizerLr(spec.optimizer), spec.steps);
    this.#root = Key.fromSeed(spec.seed);
    this.#plan = makeBatchPlan(train.n, spec.batchSize, spec.replacement, this.#root.fold("batches"));
    const chunking = { dtype: spec.dtype, chunkSize: spec.chunkSize, compile: true };
    const model = this.model;
    const loss = this.#loss;
    this.#objective = createObjective(
      { model, loss, bnMode: "train", regularizer: spec.regularizer },
      train,
      "full",
      chunking,
    );
    this.#evalTrain = this.#objective.variant({ bnMode: "eval", compile: true });
    this.#evalTest = createObjective({ model, loss, bnMode: "eval" }, this.data.test, "full", chunking);
    this.#engine = new StepEngine(this.#objective, this.#opt);
    const hessianCfg = spec.probes.find((p) => p.kind === "hessian");
    if (!hessianCfg || hessianCfg.kind !== "hessian") throw new Error("the playground's spec needs a hessian probe");
    this.#probe = hessianProbe(hessianCfg);
    this.#initParams = model.init(this.#root.fold("init"), spec.dtype);
    const params = keep(this.#initParams);
    this.#state = { params, opt: this.#opt.init(keep(params)), model: this.#engine.initModelState() };
  }

  /** Steps taken so far (the index of the next update). */
  get step(): number {
    return this.#step;
  }

  /** The step size η at the next step. */
  get lr(): number {
    return this.#schedule(this.#step);
  }

  /** Whether the hessian probe is due before the next update. */
  get sharpnessDue(): boolean {
    const every = this.#probe.every;
    return typeof every === "number" ? this.#step % every === 0 : every(this.#step);
  }

  /** The step's mini-batch rows (null = full batch), as the trainer draws them. */
  #indices(): Int32Array | null {
    return this.#plan.kind === "full" ? null : this.#plan.indicesAt(this.#step);
  }

  /**
   * The hessian probe at the current parameters (before the next update), as the trainer calls it:
   * warm-started Lanczos on the full training objective (no regularizer), key (seed, "probe/hessian", t).
   */
  async measureSharpness(): Promise<Sharpness> {
    const { spec, model } = this;
    const loss = this.#loss;
    const indices = this.#indices();
    const at = this.#step;
    const lr = this.lr;
    const t0 = performance.now();
    const values = await this.#probe.measure({
      step: at,
      params: this.#state.params,
      initParams: this.#initParams,
      model,
      loss,
      data: this.data,
      batchIndices: indices,
      lr,
      dtype: spec.dtype,
      chunkSize: spec.chunkSize,
      key: deriveKey(spec.seed, `probe/${this.#probe.name}`, at),
      rootKey: this.#root,
      optState: this.#state.opt,
      optimizer: spec.optimizer,
      transform: this.#opt,
      objective: (selection, o = {}) =>
        createObjective(
          { model, loss, bnMode: "train" },
          this.data.train,
          selection === "batch" && indices === null ? "full" : selection,
          {
            dtype: spec.dtype,
            chunkSize: o.chunkSize ?? spec.chunkSize,
            rootKey: this.#root,
            indices: indices ?? undefined,
          },
        ),
      artifact: () => {},
    });
    return {
      step: at,
      lambdaMax: values["hessian/lambdaMax"],
      threshold: values["hessian/threshold"] ?? null,
      residual: values["hessian/residual"],
      hvps: values["hessian/hvps"],
      ms: performance.now() - t0,
    };
  }

  /** One optimizer update (the trainer's phase 5). Returns the batch loss at the old parameters. */
  async trainStep(): Promise<number> {
    const { spec, data } = this;
    const t = this.#step;
    const indices = this.#indices();
    const key = deriveKey(spec.seed, "optimizer", t).toArray();
    const noisy = spec.labelNoise
      ? noisyTargets(data.train, indices, spec.labelNoise, deriveKey(spec.seed, "labelNoise", t))
      : undefined;
    const [value, state] = this.#engine.step(this.#state, indices, this.lr, t, key, noisy);
    this.#state = state;
    const batchLoss = await toScalar(value);
    await settle([state.params, state.opt]);
    this.#step = t + 1;
    return batchLoss;
  }

  /** Loss and accuracy on the full train and test sets at the current parameters. */
  async evaluate(): Promise<Evaluation> {
    const s = this.#state;
    const tr = await this.#evalTrain.evaluate(s.params, s.model);
    const te = await this.#evalTest.evaluate(s.params, s.model);
    return {
      step: this.#step,
      trainLoss: tr.loss,
      trainAccuracy: tr.accuracy,
      testLoss: te.loss,
      testAccuracy: te.accuracy,
    };
  }

  /**
   * The model's class probabilities at the points `xy` (m × 2, row-major; float64 host values):
   * softmax of the outputs (m × C). MSE-trained outputs are read the same way (a monotone map of the
   * regression onto the one-hot targets).
   */
  async predict(xy: Float64Array): Promise<Float64Array> {
    const m = xy.length / 2;
    const x = np.array(Float32Array.from(xy), { dtype: np.float32 }).reshape([m, 2]);
    return toHost(nn.softmax(this.model.apply(keep(this.#state.params), x), -1));
  }

  /** Releases every array and compiled function the session owns (idempotent). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    release([this.#state.params, this.#state.opt, this.#state.model, this.#initParams]);
    this.#probe.dispose?.();
    this.#engine.dispose();
    for (const o of [this.#evalTrain, this.#evalTest, this.#objective]) o.dispose();
  }
}
