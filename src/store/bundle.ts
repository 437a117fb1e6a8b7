/**
 * Run bundles: one run of a store as a self-contained byte string — its record (same id, same times),
 * every metric point (values bit for bit: NaN, ±Inf and −0 included), its events, its artifacts and
 * its latest checkpoint file — so that a run made on one machine can enter another machine's store
 * exactly as it was written. Cluster workers ship them through Redis or a shared folder (see
 * sweeps/redis.ts); `sgdlab ingest` imports them.
 *
 * Wire form: gzip of JSON (`format: "sgdlab-run-bundle/1"`), binary parts base64; metric values as
 * the little-endian float64 bytes of their values. Decoding validates the whole structure (zod), and
 * importing never trusts a path from the bundle: the checkpoint is written where this store puts
 * checkpoints, after its sha256 trailer has been checked.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { z } from "zod";
import { UserError } from "../core/errors.js";
import { decodeCheckpoint, writeFileAtomic } from "./checkpointFile.js";
import { checkpointPath } from "./checkpoints.js";
import {
  decodeJson,
  encodeJson,
  RUN_STATUSES,
  type ArtifactRecord,
  type CheckpointRecord,
  type MetricInput,
  type RunRecord,
  type RunStatus,
} from "./records.js";
import type { RunStore } from "./store.js";

/** The format tag of a serialized bundle. */
export const BUNDLE_FORMAT = "sgdlab-run-bundle/1";

/** One run, whole: what {@link exportBundle} reads and {@link importBundle} writes. */
export interface RunBundle {
  run: RunRecord;
  metrics: MetricInput[];
  events: { step: number | null; time: number; kind: string; message: string; data: unknown }[];
  artifacts: ArtifactRecord[];
  /** The run's latest checkpoint (at or before `upToStep` when exporting a prefix), file bytes included. */
  checkpoint: { record: CheckpointRecord; bytes: Uint8Array } | null;
}

/**
 * Reads run `runId` from `store` as a bundle. With `upToStep`, only its history up to that step:
 * metric points and artifacts at steps ≤ `upToStep` and the newest checkpoint at or before it — a
 * consistent prefix while the run is still being written (the trainer stores every metric up to a
 * checkpoint's step before it registers the checkpoint). Throws a `UserError` when the checkpoint
 * file is missing or damaged (a writer may have pruned it meanwhile: read again).
 */
export function exportBundle(store: RunStore, runId: string, opts: { upToStep?: number } = {}): RunBundle {
  const run = store.getRun(runId);
  const upTo = opts.upToStep ?? Number.MAX_SAFE_INTEGER;
  const metrics = store.getMetrics(run.id, { toStep: upTo }).map(({ step, key, value }) => ({ step, key, value }));
  const events = store
    .getEvents(run.id)
    .map(({ step, time, kind, message, data }) => ({ step, time, kind, message, data }));
  const artifacts = store
    .listArtifacts(run.id)
    .filter((a) => a.step <= upTo)
    .map((a) => store.getArtifact(run.id, a.name, a.step) as ArtifactRecord);
  const record = store
    .listCheckpoints(run.id)
    .filter((c) => c.step <= upTo)
    .pop();
  let checkpoint: RunBundle["checkpoint"] = null;
  if (record) {
    const file = join(store.dir, record.path);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new UserError(`run ${run.id}: checkpoint file ${file} cannot be read (${(e as Error).message})`, 1);
    }
    if (decodeCheckpoint(bytes, file).sha256 !== record.sha256) {
      throw new UserError(`run ${run.id}: checkpoint file ${file} is not the one registered (sha256 differs)`, 1);
    }
    checkpoint = { record, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  }
  return { run, metrics, events, artifacts, checkpoint };
}

/**
 * Writes `bundle` into `store` (see `RunStore.replaceRun`): the checkpoint file first (atomically,
 * at this store's own path for it, after checking its sha256), then the run and all its rows in one
 * transaction, replacing whatever the store held under that run id; then checkpoint files of that run
 * that are no longer registered are deleted. Idempotent. `status` overrides the stored status (a
 * worker imports a half-done run as `interrupted` to resume it). The run's sweep must exist in `store`.
 */
export function importBundle(store: RunStore, bundle: RunBundle, opts: { status?: RunStatus } = {}): RunRecord {
  const run = { ...bundle.run, ...(opts.status ? { status: opts.status } : {}) };
  if (run.sweepId !== null && store.sweeps.find(run.sweepId) === undefined) {
    throw new UserError(`run ${run.id} belongs to sweep ${run.sweepId}, which store ${store.dir} does not have`, 1);
  }
  const checkpoints: CheckpointRecord[] = [];
  if (bundle.checkpoint) {
    const { record, bytes } = bundle.checkpoint;
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const got = decodeCheckpoint(buf, `in the bundle of run ${run.id}`).sha256;
    if (got !== record.sha256) throw new UserError(`run ${run.id}: the bundle's checkpoint is not the one it names`, 1);
    const path = checkpointPath(run.id, record.step);
    writeFileAtomic(join(store.dir, path), bytes);
    checkpoints.push({ ...record, runId: run.id, path, bytes: bytes.byteLength });
  }
  store.replaceRun({ run, metrics: bundle.metrics, events: bundle.events, artifacts: bundle.artifacts, checkpoints });
  const keep = new Set(checkpoints.map((c) => c.path.split("/").pop()));
  const dir = join(store.dir, "checkpoints", run.id);
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    // no checkpoint folder: nothing to clean
  }
  for (const name of names) if (!keep.has(name)) rmSync(join(dir, name), { force: true });
  return store.getRun(run.id);
}

const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString("base64");
const unb64 = (s: string) => {
  const b = Buffer.from(s, "base64");
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/** A bundle as bytes (gzip of JSON; see the module comment). */
export function encodeBundle(b: RunBundle): Buffer {
  const keys = [...new Set(b.metrics.map((m) => m.key))];
  const keyIndex = new Map(keys.map((k, i) => [k, i]));
  const values = new Float64Array(b.metrics.map((m) => m.value));
  const wire = {
    format: BUNDLE_FORMAT,
    run: b.run,
    metrics: {
      keys,
      key: b.metrics.map((m) => keyIndex.get(m.key)),
      step: b.metrics.map((m) => m.step),
      value: b64(new Uint8Array(values.buffer)),
    },
    events: b.events,
    artifacts: b.artifacts.map((a) =>
      a.kind === "blob" ? { ...a, value: b64(a.value) } : { ...a, value: encodeJson(a.value ?? null) },
    ),
    checkpoint: b.checkpoint && { record: b.checkpoint.record, bytes: b64(b.checkpoint.bytes) },
  };
  return gzipSync(encodeJson(wire));
}

const int = z.number().int().nonnegative();
const time = z.number().int();
const wireSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  run: z.object({
    id: z.string().regex(/^[\w.-]+$/),
    name: z.string().min(1),
    spec: z.unknown(),
    specHash: z.string(),
    status: z.enum(RUN_STATUSES as [RunStatus, ...RunStatus[]]),
    createdAt: time,
    startedAt: time.nullable(),
    finishedAt: time.nullable(),
    updatedAt: time,
    codeVersion: z.string(),
    backend: z.string().nullable(),
    dtype: z.string().nullable(),
    seed: z.number().int().nullable(),
    pid: z.number().int().nullable(),
    hostname: z.string().nullable(),
    summary: z.record(z.string(), z.unknown()).nullable(),
    error: z.string().nullable(),
    sweepId: z.string().nullable(),
    sweepIndex: int.nullable(),
  }),
  metrics: z.object({ keys: z.array(z.string().min(1)), key: z.array(int), step: z.array(int), value: z.string() }),
  events: z.array(
    z.object({ step: int.nullable(), time, kind: z.string().min(1), message: z.string(), data: z.unknown() }),
  ),
  artifacts: z.array(
    z.object({
      runId: z.string(),
      name: z.string().min(1),
      step: int,
      createdAt: time,
      kind: z.enum(["json", "blob"]),
      value: z.string(),
    }),
  ),
  checkpoint: z
    .object({
      record: z.object({
        runId: z.string(),
        step: int,
        path: z.string(),
        createdAt: time,
        bytes: int,
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
      }),
      bytes: z.string(),
    })
    .nullable(),
});

/** Parses bytes written by {@link encodeBundle}; anything else is a `UserError` (exit 1) saying what is wrong. */
export function decodeBundle(bytes: Uint8Array, what = "run bundle"): RunBundle {
  let doc: unknown;
  try {
    doc = decodeJson(gunzipSync(bytes).toString("utf8"));
  } catch (e) {
    throw new UserError(`${what} is not a gzipped JSON bundle (${(e as Error).message})`, 1);
  }
  const r = wireSchema.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UserError(`${what} is malformed: ${i.path.join(".") || "(top)"}: ${i.message}`, 1);
  }
  const w = r.data;
  const raw = unb64(w.metrics.value);
  const n = w.metrics.step.length;
  if (w.metrics.key.length !== n || raw.byteLength !== 8 * n || w.metrics.key.some((k) => k >= w.metrics.keys.length)) {
    throw new UserError(`${what} is malformed: its metric columns disagree`, 1);
  }
  const values = new Float64Array(raw.slice().buffer);
  const runId = w.run.id;
  return {
    run: w.run as RunRecord,
    metrics: w.metrics.step.map((step, i) => ({ step, key: w.metrics.keys[w.metrics.key[i]], value: values[i] })),
    events: w.events.map((e) => ({ ...e, data: e.data ?? null })),
    artifacts: w.artifacts.map((a) =>
      a.kind === "blob"
        ? { runId, name: a.name, step: a.step, createdAt: a.createdAt, kind: "blob", value: unb64(a.value) }
        : { runId, name: a.name, step: a.step, createdAt: a.createdAt, kind: "json", value: decodeJson(a.value) },
    ),
    checkpoint: w.checkpoint && { record: { ...w.checkpoint.record, runId }, bytes: unb64(w.checkpoint.bytes) },
  };
}
