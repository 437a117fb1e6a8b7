/**
 * Training checkpoints: parameters and optimizer state flattened to float64 (exact for float32 and
 * float64 runs) plus the step. Keys and the data position need no storage: both are pure functions of
 * (seed, step) — batch plans are stateless and every key is derived from (seed, purpose, step).
 */
import { keep, release, treeFromHost, treeSpec, treeToHost, type Params, type TreeSpec } from "../core/index.js";
import { loadCheckpoint, saveCheckpoint, type RunStore } from "../store/index.js";
import { UserError } from "../core/errors.js";
import type { GradientTransformation, OptState } from "../optim/types.js";

/** Writes the state at `step` (borrows `params` and `state`). */
export async function writeTrainCheckpoint(
  store: RunStore,
  runId: string,
  step: number,
  params: Params,
  state: OptState,
): Promise<void> {
  const p = await treeToHost(keep(params));
  const s = await treeToHost(keep(state));
  saveCheckpoint(store, runId, step, { meta: { step, format: "sgdlab-train/1" }, arrays: { params: p, optState: s } });
}

/**
 * Restores the latest checkpoint of `runId`. `template` (borrowed) gives the parameter structure and
 * dtypes; the optimizer state's structure comes from `opt.init(template)`.
 */
export function readTrainCheckpoint(
  store: RunStore,
  runId: string,
  template: Params,
  opt: GradientTransformation,
): { step: number; params: Params; state: OptState } | null {
  if (!store.latestCheckpoint(runId)) return null;
  const { meta, arrays } = loadCheckpoint(store, runId);
  const step = (meta as { step?: unknown }).step;
  const pSpec = treeSpec(template);
  const st = opt.init(keep(template));
  const sSpec: TreeSpec = treeSpec(st);
  release(st);
  const p = arrays.params?.data;
  const s = arrays.optState?.data;
  if (typeof step !== "number" || !p || !s || p.length !== pSpec.size || s.length !== sSpec.size) {
    throw new UserError(`checkpoint of run ${runId} does not match its spec (model or optimizer changed?)`, 1);
  }
  return { step, params: treeFromHost(pSpec, p), state: treeFromHost(sSpec, s) };
}
