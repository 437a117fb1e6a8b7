/**
 * `MeasureSubject`s from what sgdlab can load: a stored run (θ from its latest checkpoint, θ₀ from
 * its step-0 checkpoint or re-created exactly as the trainer does, the test split, the step sizes of
 * its schedule) or an external model (`--model`, `--from-json`: no θ₀, no schedule).
 */
import { Key, treeToHost } from "../core/index.js";
import { loadData } from "../data/index.js";
import { loadRunModel, type ExternalModel, type TrainedModel } from "../experiments/external.js";
import { createSchedule, optimizerLr } from "../optim/index.js";
import { loadCheckpoint, type RunStore } from "../store/index.js";
import type { MeasureSubject } from "./compute.js";

/** θ₀ of a trained model: the trainer's `model.init(Key.fromSeed(seed).fold("init"), dtype)`. */
export async function initialParams(t: TrainedModel): Promise<Float64Array> {
  return treeToHost(t.model.init(Key.fromSeed(t.seed).fold("init"), t.dtype));
}

/** α_t = schedule(t) for t = 0…T−1 (the optimizer's nominal rate; adaptive methods rescale it). */
export function stepSizes(t: TrainedModel): Float64Array {
  const schedule = createSchedule(t.spec.schedule, optimizerLr(t.spec.optimizer), t.spec.steps);
  return Float64Array.from({ length: t.spec.steps }, (_, k) => schedule(k));
}

/** The subject of a trained model (test split reloaded from its spec). */
export async function trainedSubject(t: TrainedModel, init?: Float64Array): Promise<MeasureSubject> {
  const split = await loadData(t.spec.data, t.spec.seed);
  return {
    model: t.model,
    loss: t.loss,
    train: t.data,
    test: split.test,
    flat: t.flat,
    init: init ?? (await initialParams(t)),
    dtype: t.dtype,
    seed: t.seed,
    chunkSize: t.spec.chunkSize,
    stepSizes: stepSizes(t),
  };
}

/** The subject of run `runRef` at its latest checkpoint; θ₀ from its step-0 checkpoint when stored. */
export async function runSubject(store: RunStore, runRef: string): Promise<MeasureSubject> {
  const run = store.getRun(runRef);
  const t = await loadRunModel(store, run.id);
  const c0 = store.getCheckpoint(run.id, 0) ? loadCheckpoint(store, run.id, 0) : undefined;
  const init = c0?.arrays.params?.data as Float64Array | undefined;
  return trainedSubject(t, init);
}

/** The subject of an external model (no initialization, no test split, no training schedule). */
export function externalSubject(e: ExternalModel, seed = 0): MeasureSubject {
  return { model: e.model, loss: e.loss, train: e.data, flat: e.flat, dtype: "float64", seed };
}
