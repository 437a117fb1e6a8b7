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

/** A checkpoint that could not be used, and why. */
export interface SkippedCheckpoint {
  step: number;
  reason: string;
}

/**
 * The checkpoint to resume a run from: the one at `step` when given (a `UserError` listing the
 * available steps when there is none there, or when its file is damaged), else the newest whose file
 * reads back intact, with the newer damaged ones in `skipped`. Returns null when the run has no
 * checkpoint at all; throws a `UserError` (exit 1) when it has some but none is intact.
 */
export function resumeCheckpoint(
  store: RunStore,
  runId: string,
  step?: number,
): { record: CheckpointRecord; skipped: SkippedCheckpoint[] } | null {
  const all = store.listCheckpoints(runId);
  if (step !== undefined) {
    if (!all.some((c) => c.step === step)) {
      throw new UserError(
        `run ${runId} has no checkpoint at step ${step}; it has ${all.length ? `steps ${all.map((c) => c.step).join(", ")}` : "none"}`,
      );
    }
    return { record: loadCheckpoint(store, runId, step).record, skipped: [] };
  }
  if (all.length === 0) return null;
  const skipped: SkippedCheckpoint[] = [];
  for (const c of [...all].reverse()) {
    try {
      return { record: loadCheckpoint(store, runId, c.step).record, skipped };
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      skipped.push({ step: c.step, reason: e.message });
    }
  }
  throw new UserError(
    `run ${runId}: no intact checkpoint (${skipped.map((s) => `step ${s.step}: ${s.reason}`).join("; ")})`,
    1,
  );
}

/**
 * Rewinds a run to its checkpoint at `step` (see `RunStore.truncateAfter`): later metric points and
 * checkpoints are deleted in one transaction, then the later checkpoint files, and a `rewind` event
 * records why. The run's resumed trajectory then rewrites steps after `step` exactly once.
 */
export function rewindRun(store: RunStore, runId: string, step: number, why: string): number[] {
  const removed = store.truncateAfter(runId, step);
  for (const c of removed) rmSync(join(store.dir, c.path), { force: true });
  store.logEvent(runId, {
    step,
    kind: "rewind",
    message: `rewound to the checkpoint at step ${step}: ${why}`,
    data: { removedCheckpoints: removed.map((c) => c.step) },
  });
  return removed.map((c) => c.step);
}
