import { decodeJson } from "./records.js";
import type { CheckpointRecord, EventRecord, RunRecord, RunStatus } from "./records.js";
import { isProcessAlive } from "./runId.js";

/** A `runs` row as SQLite returns it (see schema.ts). */
export interface RunRow {
  id: string;
  name: string;
  spec: string;
  spec_hash: string;
  status: RunStatus;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  code_version: string;
  backend: string | null;
  dtype: string | null;
  seed: number | null;
  pid: number | null;
  hostname: string | null;
  summary: string | null;
  error: string | null;
  sweep_id: string | null;
  sweep_index: number | null;
}

/** A `checkpoints` row. */
export interface CheckpointRow {
  run_id: string;
  step: number;
  path: string;
  created_at: number;
  bytes: number;
  sha256: string;
}

/** An `events` row. */
export interface EventRow {
  id: number;
  run_id: string;
  step: number | null;
  time: number;
  kind: string;
  message: string;
  data: string | null;
}

/** Where liveness is judged from: this host's name, the time now, and the heartbeat staleness limit. */
export interface Liveness {
  host: string;
  now: number;
  staleAfterMs: number;
}

/**
 * Why a `running` row belongs to a run that is no longer alive, or null if it may be: its process is
 * gone on this host (`process.kill(pid, 0)`), or its heartbeat is older than `staleAfterMs`.
 */
export function deathReason(r: RunRow, l: Liveness): string | null {
  if (r.hostname === l.host && r.pid !== null && !isProcessAlive(r.pid)) {
    return `process ${r.pid} on ${r.hostname} ended without finishing the run`;
  }
  const age = l.now - r.updated_at;
  if (age > l.staleAfterMs) return `no heartbeat for ${Math.round(age / 1000)} s (process ${r.pid} on ${r.hostname})`;
  return null;
}

/** Row → record; a `running` row whose run is dead reads `interrupted`, with the reason as its error. */
export function runFromRow(r: RunRow, l: Liveness): RunRecord {
  const reason = r.status === "running" ? deathReason(r, l) : null;
  return {
    id: r.id,
    name: r.name,
    spec: decodeJson(r.spec),
    specHash: r.spec_hash,
    status: reason === null ? r.status : "interrupted",
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
    codeVersion: r.code_version,
    backend: r.backend,
    dtype: r.dtype,
    seed: r.seed,
    pid: r.pid,
    hostname: r.hostname,
    summary: r.summary === null ? null : (decodeJson(r.summary) as Record<string, unknown>),
    error: r.error ?? reason,
    sweepId: r.sweep_id ?? null,
    sweepIndex: r.sweep_index ?? null,
  };
}

/** Row → checkpoint record. */
export function checkpointFromRow(r: CheckpointRow): CheckpointRecord {
  return { runId: r.run_id, step: r.step, path: r.path, createdAt: r.created_at, bytes: r.bytes, sha256: r.sha256 };
}

/** Row → event record. */
export function eventFromRow(r: EventRow): EventRecord {
  const data = r.data === null ? null : decodeJson(r.data);
  return { seq: r.id, runId: r.run_id, step: r.step, time: r.time, kind: r.kind, message: r.message, data };
}
