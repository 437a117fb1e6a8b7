/**
 * What a run of a spec is made of, and the two things done to it each step, shared by the trainer
 * (train/trainer.ts, which adds the store, evaluation and checkpoints) and the browser playground
 * (web/playground/session.ts): `buildLab` turns a spec and its data into model, loss, optimizer,
 * schedule, batch plan, objectives, step engine and probes; `probeContext` is what a probe due at step
 * t sees; `updateStep` is update t. One place, so the page follows `sgdlab run`'s trajectory exactly.
 * Browser-safe: no store, no files (the caller loads the data).
 */
import { deriveKey, Key, UserError, type Array, type Params } from "../core/index.js";
import { growingBatches, makeBatchPlan, type BatchPlan } from "../data/batches.js";
import type { DataSplit } from "../data/types.js";
import type { ExperimentSpec } from "../experiments/schema.js";
import { createLoss, createObjective, noisyTargets, type Loss, type Objective } from "../losses/index.js";
import { createModel } from "../models/index.js";
import type { Model } from "../models/types.js";
import { createOptimizer, createSchedule, optimizerLr } from "../optim/registry.js";
import type { GradientTransformation, OptState, Schedule } from "../optim/types.js";
import { createProbes } from "../probes/index.js";
import type { Probe, ProbeContext } from "../probes/probe.js";
import { StepEngine, type TrainState } from "./engine.js";

/** A spec made runnable: everything but the live state. `dispose()` releases what it compiled. */
export interface Lab {
  spec: ExperimentSpec;
  data: DataSplit;
  model: Model;
  loss: Loss;
  opt: GradientTransformation;
  schedule: Schedule;
  plan: BatchPlan;
  root: Key;
  /** The training objective (train set, BN train mode, the spec's regularizer; compiled). */
  objective: Objective;
  /** Evaluation objectives: the same loss without regularizer, BN in eval mode. */
  evalTrain: Objective;
  evalTest: Objective;
  engine: StepEngine;
  probes: Probe[];
  dispose(): void;
}

/** Builds the lab of `spec` on its loaded `data` (the trainer's phase 1 after `loadData`). */
export function buildLab(spec: ExperimentSpec, data: DataSplit): Lab {
  const outputDim = data.train.task === "classification" ? data.train.numClasses : data.train.targetDim;
  const model = createModel(spec.model, data.train.xShape, outputDim);
  const loss = createLoss(spec.loss);
  const opt = createOptimizer(spec.optimizer);
  const schedule = createSchedule(spec.schedule, optimizerLr(spec.optimizer), spec.steps);
  const root = Key.fromSeed(spec.seed);
  if (spec.batchSchedule && spec.batchSize === "full") {
    throw new UserError("batchSchedule needs a numeric batchSize (the size before the first milestone)");
  }
  const plan = spec.batchSchedule
    ? growingBatches(data.train.n, { base: spec.batchSize as number, ...spec.batchSchedule }, root.fold("batches"))
    : makeBatchPlan(data.train.n, spec.batchSize, spec.replacement, root.fold("batches"));
  const chunking = { dtype: spec.dtype, chunkSize: spec.chunkSize, compile: true };
  const objective = createObjective(
    { model, loss, bnMode: "train", regularizer: spec.regularizer },
    data.train,
    "full",
    chunking,
  );
  const evalTrain = objective.variant({ bnMode: "eval", compile: true });
  const evalTest = createObjective({ model, loss, bnMode: "eval" }, data.test, "full", chunking);
  const engine = new StepEngine(objective, opt);
  const probes = createProbes(spec.probes);
  return {
    spec,
    data,
    model,
    loss,
    opt,
    schedule,
    plan,
    root,
    objective,
    evalTrain,
    evalTest,
    engine,
    probes,
    dispose() {
      for (const p of probes) p.dispose?.();
      engine.dispose();
      for (const o of [evalTrain, evalTest, objective]) o.dispose();
    },
  };
}

/** The step's mini-batch rows (null = full batch), from the lab's deterministic batch plan. */
export function batchIndices(lab: Lab, step: number): Int32Array | null {
  return lab.plan.kind === "full" ? null : lab.plan.indicesAt(step);
}

/** The live state a probe reads (borrowed). */
export interface ProbeSite {
  step: number;
  params: Params;
  initParams: Params;
  optState: OptState;
}

/**
 * What `probe` sees when it is due at `at.step`, on the state before that step's update: its key
 * (seed, "probe/<name>", step), the run's root key, and objectives on the training set with BN in train
 * mode and no regularizer (DESIGN.md, "objective contract"); "batch" is the step's mini-batch.
 */
export function probeContext(
  lab: Lab,
  probe: Probe,
  at: ProbeSite,
  indices: Int32Array | null,
  lr: number,
  artifact: (name: string, value: unknown) => void,
): ProbeContext {
  const { spec, data, model, loss, root } = lab;
  return {
    step: at.step,
    params: at.params,
    initParams: at.initParams,
    model,
    loss,
    data,
    batchIndices: indices,
    lr,
    dtype: spec.dtype,
    chunkSize: spec.chunkSize,
    key: deriveKey(spec.seed, `probe/${probe.name}`, at.step),
    rootKey: root,
    optState: at.optState,
    optimizer: spec.optimizer,
    transform: lab.opt,
    objective: (selection, o = {}) =>
      createObjective(
        { model, loss, bnMode: "train" },
        data.train,
        selection === "batch" && indices === null ? "full" : selection,
        {
          dtype: spec.dtype,
          chunkSize: o.chunkSize ?? spec.chunkSize,
          rootKey: root,
          indices: indices ?? undefined,
        },
      ),
    artifact,
  };
}

/**
 * Update `step` on its batch: the optimizer's key (seed, "optimizer", step) and, for label-noise SGD,
 * fresh noise on the batch's targets from (seed, "labelNoise", step). Consumes `state`; returns the
 * batch loss at the old parameters (a device scalar) and the new state.
 */
export function updateStep(
  lab: Lab,
  state: TrainState,
  step: number,
  indices: Int32Array | null,
  lr: number,
): [Array, TrainState] {
  const { spec, data } = lab;
  const key = deriveKey(spec.seed, "optimizer", step).toArray();
  const noisy = spec.labelNoise
    ? noisyTargets(data.train, indices, spec.labelNoise, deriveKey(spec.seed, "labelNoise", step))
    : undefined;
  return lab.engine.step(state, indices, lr, step, key, noisy);
}
