// The run store: SQLite tables for runs, metrics, events, checkpoints and artifacts; checkpoint files;
// exports; sweep records. Depends on nothing but core/errors.
export { RunStore, DEFAULT_STORE_DIR, DEFAULT_STALE_AFTER_MS, type OpenOptions, type RunImport } from "./store.js";
export { STORE_FILE, BUSY_TIMEOUT_MS, openDatabase, isCorruption, fsError } from "./sqlite.js";
export {
  RUN_STATUSES,
  encodeJson,
  decodeJson,
  canonicalJson,
  hashSpec,
  type RunStatus,
  type RunRecord,
  type NewRun,
  type MetricInput,
  type MetricPoint,
  type EventRecord,
  type CheckpointRecord,
  type ArtifactRecord,
} from "./records.js";
export { MIGRATIONS, SCHEMA_VERSION, migrate, schemaVersion, type Migration } from "./schema.js";
export {
  CHECKPOINT_MAGIC,
  CHECKPOINT_VERSION,
  encodeCheckpoint,
  decodeCheckpoint,
  writeCheckpointFile,
  writeFileAtomic,
  readCheckpointFile,
  type CheckpointDtype,
  type CheckpointData,
  type CheckpointArray,
  type CheckpointPayload,
  type LoadedCheckpoint,
} from "./checkpointFile.js";
export {
  checkpointPath,
  saveCheckpoint,
  loadCheckpoint,
  pruneCheckpoints,
  resumeCheckpoint,
  rewindRun,
  type SkippedCheckpoint,
} from "./checkpoints.js";
export { exportRun, type ExportFormat } from "./export.js";
export { SweepTable, type SweepRecord, type SweepMember, type NewSweep } from "./sweeps.js";
export { ReproductionTable, type ReproductionRecord, type NewReproduction } from "./reproductions.js";
export { codeVersion } from "./codeVersion.js";
export { newRunId, isProcessAlive } from "./runId.js";
export { BUNDLE_FORMAT, exportBundle, importBundle, encodeBundle, decodeBundle, type RunBundle } from "./bundle.js";
