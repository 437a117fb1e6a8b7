import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { check, UserError } from "../core/errors.js";
import {
  readCheckpointFile,
  writeCheckpointFile,
  type CheckpointPayload,
  type LoadedCheckpoint,
} from "./checkpointFile.js";
import type { CheckpointRecord } from "./records.js";
import { isProcessAlive } from "./runId.js";
import type { RunStore } from "./store.js";

/** The path of a run's checkpoint at `step`, relative to the store: `checkpoints/<runId>/step-<step>.ckpt`. */
export function checkpointPath(runId: string, step: number): string {
  return `checkpoints/${runId}/step-${step}.ckpt`;
}

/**
 * Writes a run's checkpoint at `step` atomically (see `writeCheckpointFile`) and then registers it in the
 * store. A crash before the registration leaves the previous checkpoint as the latest one.
 */
export function saveCheckpoint(
  store: RunStore,
  runId: string,
  step: number,
  payload: CheckpointPayload,
): CheckpointRecord {
  check(Number.isSafeInteger(step) && step >= 0, `checkpoint step must be a non-negative integer, got ${step}`);
  store.getRun(runId); // fail on an unknown run before writing a file
  const rel = checkpointPath(runId, step);
  const { bytes, sha256 } = writeCheckpointFile(join(store.dir, rel), payload);
  return store.addCheckpoint(runId, { step, path: rel, bytes, sha256 });
}

/**
 * Reads a run's checkpoint at `step` (default: the latest registered). Throws a `UserError` when there is
 * none, or when the file is missing, truncated, corrupted, or not the file that was registered.
 */
export function loadCheckpoint(
  store: RunStore,
  runId: string,
  step?: number,
): LoadedCheckpoint & { record: CheckpointRecord } {
  const record = step === undefined ? store.latestCheckpoint(runId) : store.getCheckpoint(runId, step);
  if (record === undefined) {
    throw new UserError(
      step === undefined ? `run ${runId} has no checkpoint` : `run ${runId} has no checkpoint at step ${step}`,
    );
  }
  const file = join(store.dir, record.path);
  const { meta, arrays, sha256 } = readCheckpointFile(file);
  if (sha256 !== record.sha256) {
    throw new UserError(
      `checkpoint file ${file} is not the one registered for step ${record.step} (sha256 differs)`,
      1,
    );
  }
  return { meta, arrays, record };
}

/**
 * Keeps a run's `keepLast` newest checkpoints (by step) and deletes the others (row first, then file),
 * plus leftover `*.tmp-<pid>` files of writers that are no longer alive. Returns the steps removed.
 */
export function pruneCheckpoints(store: RunStore, runId: string, keepLast: number): number[] {
  check(Number.isSafeInteger(keepLast) && keepLast >= 0, `keepLast must be a non-negative integer, got ${keepLast}`);
  const all = store.listCheckpoints(runId);
  const drop = all.slice(0, Math.max(0, all.length - keepLast));
  for (const c of drop) {
    store.removeCheckpoint(runId, c.step);
    rmSync(join(store.dir, c.path), { force: true });
  }
  const dir = join(store.dir, "checkpoints", runId);
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    // no folder: nothing to clean
  }
  for (const name of names) {
    const m = /\.tmp-(\d+)$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !isProcessAlive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
  return drop.map((c) => c.step);
}
