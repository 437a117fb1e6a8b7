import type { RunStore, SweepRecord } from "../store/index.js";
import type { Executor, MemberOutcome, MemberTask } from "./executor.js";
import { memberExperiment, recordSweep, type SweepPlan } from "./plan.js";
import { countMembers, memberStates, settledStates, type MemberState, type SweepCounts } from "./states.js";

/** Progress of a sweep, reported after each member ends (and once at the start). */
export interface SweepProgress {
  sweep: string;
  /** Counts over all members, as the store has them now (members being run count as `running`). */
  counts: SweepCounts;
  /** Seconds left at the pace of this invocation (null until a member has ended). */
  etaSeconds: number | null;
  /** The member that just ended, if any. */
  last?: MemberOutcome;
}

/** Options of {@link runSweep}. */
export interface SweepOptions {
  store: RunStore;
  executor: Executor;
  /** Run failed members again (a new run each); default false. Diverged members are final. */
  retryFailed?: boolean;
  progress?: (p: SweepProgress) => void;
  /** Aborting stops submitting members and closes the executor (running members checkpoint). */
  signal?: AbortSignal;
  /** How often to look again at members still running elsewhere (a previous coordinator's); 250 ms. */
  pollMs?: number;
}

/** How a sweep invocation ended. */
export interface SweepResult {
  sweep: SweepRecord;
  /** Every member, as the store has it after this invocation. */
  members: MemberState[];
  counts: SweepCounts;
  /** Members this invocation started or resumed. */
  ran: number[];
  /** Whether the invocation was stopped by its signal. */
  aborted: boolean;
}

/**
 * Runs a sweep, idempotently: records it (or finds it again), claims it, and submits to `executor`
 * every member not yet ended — a new run for a pending member (and, with `retryFailed`, for a failed
 * one), a resume from its checkpoint for an interrupted one — at most `executor.slots` at once.
 * Completed and diverged members are skipped; a member still running (a worker of a coordinator that
 * was killed, finishing its checkpoint) is waited for first. A member that fails or diverges does not
 * stop the others. The store is consistent at every instant: each member's state is its newest run.
 */
export async function runSweep(plan: SweepPlan, opts: SweepOptions): Promise<SweepResult> {
  const { store, executor, signal } = opts;
  const { sweep } = recordSweep(store, plan);
  store.sweeps.claim(sweep.id);
  const ran: number[] = [];
  try {
    const states = await settledStates(store, sweep, signal, opts.pollMs);
    const todo = states.filter(
      (s) => s.status === "pending" || s.status === "interrupted" || (s.status === "failed" && opts.retryFailed),
    );
    const t0 = performance.now();
    let ended = 0;
    let inFlight = 0;
    const report = (last?: MemberOutcome) => {
      const elapsed = (performance.now() - t0) / 1000;
      const left = todo.length - ended;
      const counts = countMembers(memberStates(store, sweep));
      // members submitted but whose run is not recorded yet (a worker starting) are running too
      const starting = Math.max(0, inFlight - counts.running);
      counts.running += starting;
      counts.pending = Math.max(0, counts.pending - starting);
      opts.progress?.({
        sweep: sweep.name,
        counts,
        etaSeconds: ended === 0 ? null : (elapsed / ended) * left,
        last,
      });
    };
    report();
    let next = 0;
    const worker = async () => {
      while (next < todo.length && !signal?.aborted) {
        const s = todo[next++];
        const task: MemberTask = {
          storeDir: store.dir,
          sweepId: sweep.id,
          index: s.index,
          resumeRunId: s.status === "interrupted" ? s.run?.id : undefined,
          threads: threadsOf(sweep, s.index),
        };
        ran.push(s.index);
        inFlight++;
        const out = await executor.submit(task);
        inFlight--;
        ended++;
        store.sweeps.heartbeat(sweep.id);
        report(out);
      }
    };
    const onAbort = () => void executor.close();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await Promise.all(Array.from({ length: Math.min(executor.slots, todo.length) }, worker));
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  } finally {
    store.sweeps.release(sweep.id);
  }
  const members = memberStates(store, sweep);
  return { sweep, members, counts: countMembers(members), ran, aborted: signal?.aborted ?? false };
}

/** The Wasm threads a member's spec asks for. */
function threadsOf(sweep: SweepRecord, index: number): number {
  return memberExperiment(sweep.spec, sweep.name, index, sweep.members[index].overrides).spec.threads;
}
