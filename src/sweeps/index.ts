// Sweeps: grid expansion, sweep records, the executor interface and a local process-pool executor.
// Depends on experiments/ (spec resolution), store/ (sweep and run records) and train/ (members).
export { parseAxis, expandGrid, overrideArgs, type Axis, type Overrides } from "./grid.js";
export {
  planSweep,
  recordSweep,
  memberExperiment,
  describeOverrides,
  type SweepPlan,
  type SweepRequest,
} from "./plan.js";
export type { Executor, MemberTask, MemberOutcome } from "./executor.js";
export { LocalPoolExecutor, CLI_ENTRY, MEMBER_COMMAND, type LocalPoolOptions } from "./local.js";
export { memberStates, countMembers, type MemberState, type MemberStatus, type SweepCounts } from "./states.js";
export { runMember } from "./member.js";
export { runSweep, type SweepOptions, type SweepProgress, type SweepResult } from "./run.js";
export { runSweepBatched, type BatchedSweepOptions } from "./batched.js";
export {
  parseRedisUrl,
  checkPayload,
  memberPayload,
  jobIdOf,
  BundleShelf,
  PAYLOAD_FORMAT,
  type RedisTarget,
  type MemberPayload,
} from "./redis.js";
export {
  RedisExecutor,
  ingestSweeps,
  clusterStatus,
  queueViews,
  queueReport,
  type QueueView,
  type RedisExecutorOptions,
  type ClusterStatus,
  type QueueCounts,
} from "./redisExecutor.js";
export { runWorker, workerName, type WorkerOptions, type JobResult } from "./redisWorker.js";
