import type { RunStatus } from "../store/index.js";

/**
 * One member to run: which sweep and member, in which store, and whether to resume its interrupted
 * run. Everything else (the spec) the worker reads from the store, so a task is a few strings that
 * any backend (a local process, a cluster job) can carry.
 */
export interface MemberTask {
  /** Absolute path of the run store folder. */
  storeDir: string;
  sweepId: string;
  index: number;
  /** Resume this interrupted run from its latest checkpoint instead of starting a new run. */
  resumeRunId?: string;
  /** Wasm threads the member's spec asks for (`SGDLAB_THREADS` of its process). */
  threads: number;
}

/** How a member ended: its run (null if none was recorded) and final status. */
export interface MemberOutcome {
  index: number;
  runId: string | null;
  status: Exclude<RunStatus, "running">;
  error?: string;
}

/**
 * Where sweep members run. The sweep logic (`runSweep`) only submits tasks and awaits outcomes, so a
 * cluster backend is one more implementation of this interface.
 */
export interface Executor {
  /** How many members run at once; `runSweep` never has more than this many submitted. */
  readonly slots: number;
  /** Runs one member; resolves when it has ended (never rejects: a failure is an outcome). */
  submit(task: MemberTask): Promise<MemberOutcome>;
  /** Stops members still running (they checkpoint and end `interrupted`) and frees the backend. */
  close(): Promise<void>;
}
