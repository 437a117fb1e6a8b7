/**
 * Training checkpoints: parameters, optimizer state and model state flattened to float64 (exact for
 * float32 and float64 runs), probes' own state (e.g. the warm-start eigenvectors of the Hessian probe,
 * so that a resumed run measures exactly as the straight one), and the step. Keys and the data position need no storage: both are pure functions of
 * (seed, step) — batch plans are stateless and every key is derived from (seed, purpose, step).
 */
import { keep, release, treeFromHost, treeSpec, treeToHost, type Params, type TreeSpec } from "../core/index.js";
import { loadCheckpoint, resumeCheckpoint, rewindRun, saveCheckpoint, type RunStore } from "../store/index.js";
import { UserError } from "../core/errors.js";
import type { ModelState } from "../models/types.js";
import type { GradientTransformation } from "../optim/types.js";
import type { TrainState } from "./engine.js";

/** Writes the state at `step` with the run's resolved spec (borrows `params` and `state`). */
export async function writeTrainCheckpoint(
  store: RunStore,
  runId: string,
  step: number,
  live: TrainState,
  spec: unknown,
  probeState: Record<string, Float64Array> = {},
): Promise<void> {
  const p = await treeToHost(keep(live.params));
  const s = await treeToHost(keep(live.opt));
  const m = await treeToHost(keep(live.model));
  // the checkpoint carries its full resolved spec, so a file alone is enough to analyse it
  const meta = { format: "sgdlab-train/1", step, runId, spec };
  const probes = Object.fromEntries(Object.entries(probeState).map(([k, v]) => [`probe/${k}`, v]));
  saveCheckpoint(store, runId, step, { meta, arrays: { params: p, optState: s, modelState: m, ...probes } });
}

/**
 * Restores the newest intact checkpoint of `runId` (rewinding the run past damaged newer ones, see
 * `rewindRun`). `template` (borrowed) gives the parameter structure and
 * dtypes; the optimizer state's structure comes from `opt.init(template)`.
 */
export function readTrainCheckpoint(
  store: RunStore,
  runId: string,
  template: Params,
  opt: GradientTransformation,
  modelState: ModelState,
): { step: number; state: TrainState; probeState: Record<string, Float64Array> } | null {
  // the newest intact checkpoint; damaged newer ones are dropped with their later metrics (an event says so)
  const from = resumeCheckpoint(store, runId);
  if (from === null) return null;
  if (from.skipped.length) {
    const steps = from.skipped.map((s) => s.step).join(", ");
    rewindRun(store, runId, from.record.step, `newer checkpoints unusable (steps ${steps})`);
  }
  const { meta, arrays } = loadCheckpoint(store, runId, from.record.step);
  const step = (meta as { step?: unknown }).step;
  const pSpec = treeSpec(template);
  const st = opt.init(keep(template));
  const sSpec: TreeSpec = treeSpec(st);
  release(st);
  const mSpec: TreeSpec = treeSpec(modelState);
  const p = arrays.params?.data;
  const s = arrays.optState?.data;
  const m = arrays.modelState?.data ?? new Float64Array(0);
  if (
    typeof step !== "number" ||
    !p ||
    !s ||
    p.length !== pSpec.size ||
    s.length !== sSpec.size ||
    m.length !== mSpec.size
  ) {
    release(modelState);
    throw new UserError(`checkpoint of run ${runId} does not match its spec (model or optimizer changed?)`, 1);
  }
  const model = treeFromHost(mSpec, m);
  release(modelState);
  const probeState = Object.fromEntries(
    Object.entries(arrays)
      .filter(([k]) => k.startsWith("probe/"))
      .map(([k, v]) => [k.slice("probe/".length), v.data as Float64Array]),
  );
  return { step, state: { params: treeFromHost(pSpec, p), opt: treeFromHost(sSpec, s), model }, probeState };
}
