import type { RunRecord, RunStatus, RunStore, SweepRecord } from "../store/index.js";
import type { Overrides } from "./grid.js";

/** Where a member stands: the status of its newest run, or `pending` when it has none. */
export type MemberStatus = RunStatus | "pending";

/** One member of a sweep as the store knows it now. */
export interface MemberState {
  index: number;
  overrides: Overrides;
  status: MemberStatus;
  /** Its newest run (null while pending). */
  run: RunRecord | null;
  /** How many runs were recorded for it (more than one after a `--retry-failed`). */
  attempts: number;
}

/** Member counts of a sweep by status. */
export type SweepCounts = Record<MemberStatus | "total", number>;

/** Every member of `sweep` with the status of its newest run. */
export function memberStates(store: RunStore, sweep: SweepRecord): MemberState[] {
  const runs = store.listRuns({ sweepId: sweep.id }); // newest first
  const newest = new Map<number, RunRecord>();
  const attempts = new Map<number, number>();
  for (const r of runs) {
    if (r.sweepIndex === null) continue;
    if (!newest.has(r.sweepIndex)) newest.set(r.sweepIndex, r);
    attempts.set(r.sweepIndex, (attempts.get(r.sweepIndex) ?? 0) + 1);
  }
  return sweep.members.map((m) => {
    const run = newest.get(m.index) ?? null;
    return {
      index: m.index,
      overrides: m.overrides,
      status: run?.status ?? "pending",
      run,
      attempts: attempts.get(m.index) ?? 0,
    };
  });
}

/** Counts of members by status (completed, failed, diverged, running, interrupted, pending) and the total. */
export function countMembers(states: readonly MemberState[]): SweepCounts {
  const c: SweepCounts = { completed: 0, failed: 0, diverged: 0, running: 0, interrupted: 0, pending: 0, total: 0 };
  for (const s of states) {
    c[s.status]++;
    c.total++;
  }
  return c;
}

/**
 * The members' states once none is `running` (a worker of a coordinator that was killed finishing
 * its checkpoint), looking again every `pollMs` ms (default 250); stops waiting when `signal` aborts.
 */
export async function settledStates(
  store: RunStore,
  sweep: SweepRecord,
  signal?: AbortSignal,
  pollMs = 250,
): Promise<MemberState[]> {
  let states = memberStates(store, sweep);
  while (states.some((s) => s.status === "running") && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, pollMs));
    states = memberStates(store, sweep);
  }
  return states;
}
