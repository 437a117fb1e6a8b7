import { createHash } from "node:crypto";

/** Where a run stands. `interrupted` is also reported for a `running` run whose process is gone. */
export type RunStatus = "running" | "completed" | "diverged" | "failed" | "interrupted";

/** Every run status, in the order the CLI lists them. */
export const RUN_STATUSES: readonly RunStatus[] = ["running", "completed", "diverged", "failed", "interrupted"];

/** A run as stored (times in ms since the Unix epoch, UTC). */
export interface RunRecord {
  id: string;
  name: string;
  /** The full resolved experiment spec. */
  spec: unknown;
  specHash: string;
  /** The effective status: a `running` run whose process is dead or silent reads `interrupted`. */
  status: RunStatus;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Last heartbeat (or any status change). */
  updatedAt: number;
  codeVersion: string;
  backend: string | null;
  dtype: string | null;
  seed: number | null;
  pid: number | null;
  hostname: string | null;
  /** Final metrics; non-finite numbers survive the round trip. */
  summary: Record<string, unknown> | null;
  /** Why the run failed or was interrupted. */
  error: string | null;
  /** The sweep this run is a member of (see sweeps.ts), and its member index there; null otherwise. */
  sweepId: string | null;
  sweepIndex: number | null;
}

/** What `createRun` needs; omitted fields get defaults described there. */
export interface NewRun {
  name: string;
  spec: unknown;
  specHash?: string;
  codeVersion?: string;
  backend?: string;
  dtype?: string;
  seed?: number;
  /** Files the run under a sweep as member `index`. */
  sweep?: { id: string; index: number };
}

/** One metric value to write. */
export interface MetricInput {
  step: number;
  key: string;
  value: number;
}

/** One stored metric value; `finite` is `Number.isFinite(value)`. */
export interface MetricPoint extends MetricInput {
  finite: boolean;
}

/** An event in a run's log (divergence, lr change, resume, …). */
export interface EventRecord {
  /** Increasing sequence number within the store. */
  seq: number;
  runId: string;
  step: number | null;
  time: number;
  kind: string;
  message: string;
  data: unknown;
}

/** A checkpoint file registered for a run; `path` is relative to the store folder. */
export interface CheckpointRecord {
  runId: string;
  step: number;
  path: string;
  createdAt: number;
  bytes: number;
  /** The sha256 in the file's trailer (of every byte before it), hex. */
  sha256: string;
}

/** A stored artifact: a JSON value or raw bytes, per (run, name, step). */
export type ArtifactRecord = { runId: string; name: string; step: number; createdAt: number } & (
  { kind: "json"; value: unknown } | { kind: "blob"; value: Uint8Array }
);

const TAG = "$nonFinite";

/**
 * Serializes a JSON-like value, keeping NaN/±Infinity as `{"$nonFinite": "NaN" | "Infinity" | "-Infinity"}`
 * (plain JSON turns them into `null`). Inverse of {@link decodeJson}.
 */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === "number" && !Number.isFinite(v) ? { [TAG]: String(v) } : v,
  );
}

/** Parses text written by {@link encodeJson}, restoring tagged non-finite numbers. */
export function decodeJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const t = o[TAG];
      if (typeof t === "string" && Object.keys(o).length === 1) return Number(t);
    }
    return v;
  });
}

/** JSON with object keys sorted at every level, so equal values give equal text (for hashing). */
export function canonicalJson(value: unknown): string {
  return encodeJson(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

/** sha256 (hex) of the canonical JSON of a spec: the default `specHash` of a run. */
export function hashSpec(spec: unknown): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}

/** How a metric value is stored: finite REAL, or NULL plus a `special` tag (see schema.ts). */
export interface StoredValue {
  value: number | null;
  finite: 0 | 1;
  special: "nan" | "inf" | "-inf" | "-0" | null;
}

/** Maps a number to its stored columns; {@link decodeMetricValue} inverts it exactly (NaN, ±Inf, −0). */
export function encodeMetricValue(x: number): StoredValue {
  if (Number.isNaN(x)) return { value: null, finite: 0, special: "nan" };
  if (x === Infinity) return { value: null, finite: 0, special: "inf" };
  if (x === -Infinity) return { value: null, finite: 0, special: "-inf" };
  if (Object.is(x, -0)) return { value: 0, finite: 1, special: "-0" };
  return { value: x, finite: 1, special: null };
}

/** Inverse of {@link encodeMetricValue}. */
export function decodeMetricValue(value: number | null, special: string | null): number {
  switch (special) {
    case "nan":
      return NaN;
    case "inf":
      return Infinity;
    case "-inf":
      return -Infinity;
    case "-0":
      return -0;
    default:
      return value ?? NaN;
  }
}
