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
import type { Model, ModelState } from "../models/types.js";
import { createOptimizer, createSchedule, optimizerLr, optimizerMomentum } from "../optim/registry.js";
import { sgdNoiseScale } from "../optim/scaling.js";
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

/** One metric point before it is stored. */
export interface MetricRow {
  step: number;
  key: string;
  value: number;
}

/**
 * The metrics every update records: its batch loss (at the old parameters), η, the batch size and
 * the SGD noise scale η·N/(B(1−μ)) (Smith & Le, ICLR 2018; `sgdNoiseScale`).
 */
export function stepMetrics(
  spec: Pick<ExperimentSpec, "optimizer">,
  datasetSize: number,
  step: number,
  batchLoss: number,
  lr: number,
  batchSize: number,
): MetricRow[] {
  const momentum = optimizerMomentum(spec.optimizer);
  return [
    { step, key: "train/batchLoss", value: batchLoss },
    { step, key: "optim/lr", value: lr },
    { step, key: "optim/batchSize", value: batchSize },
    {
      step,
      key: "optim/noiseScale",
      value: lr > 0 ? sgdNoiseScale({ lr, datasetSize, batchSize, momentum }) : 0,
    },
  ];
}

/**
 * Whether a batch loss means divergence: not finite, or above `divergenceFactor` × the run's first
 * batch loss. Returns the `diverged` event's message, or null.
 */
export function divergence(
  spec: Pick<ExperimentSpec, "divergenceFactor">,
  initialLoss: number,
  batchLoss: number,
): string | null {
  if (Number.isFinite(batchLoss) && batchLoss <= spec.divergenceFactor * Math.max(initialLoss, 1e-12)) return null;
  const why = Number.isFinite(batchLoss) ? `> ${spec.divergenceFactor} x initial ${initialLoss}` : "is not finite";
  return `loss ${batchLoss} ${why}`;
}

/**
 * An evaluation's metrics: loss on the full train and test sets (the evaluation objectives: no
 * regularizer, BN in eval mode), their gap, and for classification the accuracies and their gap; keys
 * prefixed by `prefix` (e.g. "avg/" for the averaged iterate).
 */
export async function evaluationMetrics(
  evalTrain: Objective,
  evalTest: Objective,
  classification: boolean,
  params: Params,
  modelState: ModelState = [],
  prefix = "",
): Promise<Record<string, number>> {
  const tr = await evalTrain.evaluate(params, modelState);
  const te = await evalTest.evaluate(params, modelState);
  const m: Record<string, number> = {
    [`${prefix}train/loss`]: tr.loss,
    [`${prefix}test/loss`]: te.loss,
    [`${prefix}gap/loss`]: te.loss - tr.loss,
  };
  if (classification) {
    m[`${prefix}train/accuracy`] = tr.accuracy;
    m[`${prefix}test/accuracy`] = te.accuracy;
    m[`${prefix}gap/accuracy`] = tr.accuracy - te.accuracy;
  }
  return m;
}

/** A finished run's summary: its step, its last evaluation (and that step if earlier), last batch loss, pace. */
export function runSummary(
  step: number,
  lastEval: Record<string, number>,
  evalStep: number,
  batchLoss: number,
  stepsPerSec: number,
): Record<string, number> {
  return {
    step,
    ...lastEval,
    ...(evalStep >= 0 && evalStep !== step ? { evalStep } : {}),
    ...(Number.isNaN(batchLoss) ? {} : { "train/lastBatchLoss": batchLoss }),
    stepsPerSec,
  };
}
