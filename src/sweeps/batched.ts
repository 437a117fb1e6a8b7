import { UserError } from "../core/errors.js";
import type { ResolvedExperiment } from "../experiments/resolve.js";
import type { RunStore } from "../store/index.js";
import type { TrainResult } from "../train/trainer.js";
import type { MemberOutcome } from "./executor.js";
import { memberExperiment, recordSweep, type SweepPlan } from "./plan.js";
import type { SweepProgress, SweepResult } from "./run.js";
import { countMembers, memberStates, settledStates } from "./states.js";

/** Options of {@link runSweepBatched}. */
export interface BatchedSweepOptions {
  store: RunStore;
  /** Run failed members again (a new run each); default false. Diverged members are final. */
  retryFailed?: boolean;
  progress?: (p: SweepProgress) => void;
  /** Aborting stops the group being trained (its members checkpoint, `interrupted`) and the sweep. */
  signal?: AbortSignal;
  /** Most members trained in one program (bounds memory); default 64. */
  maxGroup?: number;
  /** How often to look again at members still running elsewhere; 250 ms. */
  pollMs?: number;
}

/**
 * Runs a sweep in this process with its members trained in batched groups (`trainBatched`): the
 * members to run (pending ones, and failed ones with `retryFailed`) are grouped by `batchKey` — the
 * same model shape, data kind, loss, optimizer kind and hyperparameters but the learning rate — into
 * groups of at most `maxGroup`, each trained as one program, every member recorded under the sweep
 * as its own run exactly as the local executor records it (so `sgdlab show --sweep`, re-invoking and
 * `--retry-failed` work alike). Interrupted members resume from their checkpoints one by one with the
 * sequential trainer (the checkpoints are the same). Every member to run must pass `checkBatchable`:
 * otherwise a `UserError` naming the member and the field, before anything is written.
 */
export async function runSweepBatched(plan: SweepPlan, opts: BatchedSweepOptions): Promise<SweepResult> {
  const { store, signal } = opts;
  const maxGroup = opts.maxGroup ?? 64;
  if (!Number.isSafeInteger(maxGroup) || maxGroup < 1) {
    throw new UserError(`sweep: the batched group size must be a positive integer, got ${maxGroup}`);
  }
  const { batchKey, checkBatchable, trainBatched } = await import("../train/batched.js"); // loads jax-js
  const exps = new Map<number, ResolvedExperiment>();
  for (const m of plan.members) {
    const exp = memberExperiment(plan.base, plan.name, m.index, m.overrides);
    checkBatchable(exp.spec, `sweep ${plan.name} member ${m.index}`);
    exps.set(m.index, exp);
  }
  const { sweep } = recordSweep(store, plan);
  store.sweeps.claim(sweep.id);
  const ran: number[] = [];
  try {
    const states = await settledStates(store, sweep, signal, opts.pollMs);
    const fresh = states.filter((s) => s.status === "pending" || (s.status === "failed" && opts.retryFailed));
    const interrupted = states.filter((s) => s.status === "interrupted");
    const todo = fresh.length + interrupted.length;
    const t0 = performance.now();
    let ended = 0;
    const report = (last?: MemberOutcome) => {
      const elapsed = (performance.now() - t0) / 1000;
      opts.progress?.({
        sweep: sweep.name,
        counts: countMembers(memberStates(store, sweep)),
        etaSeconds: ended === 0 ? null : (elapsed / ended) * (todo - ended),
        last,
      });
    };
    const outcome = (index: number, r: TrainResult): MemberOutcome => {
      ended++;
      return { index, runId: r.runId, status: r.status as MemberOutcome["status"] };
    };
    report();
    const { runMember } = await import("./member.js");
    for (const s of interrupted) {
      if (signal?.aborted) break;
      ran.push(s.index);
      try {
        report(outcome(s.index, await runMember(store, sweep.id, s.index, { signal, resumeRunId: s.run!.id })));
      } catch (e) {
        ended++;
        report({ index: s.index, runId: s.run!.id, status: "failed", error: message(e) });
      }
    }
    for (const group of groups(
      fresh.map((s) => s.index),
      (i) => batchKey(exps.get(i)!.spec),
      maxGroup,
    )) {
      if (signal?.aborted) break;
      ran.push(...group);
      const created = new Map<number, string>();
      const members = group.map((index) => ({
        exp: exps.get(index)!,
        store: store.forSweepMember(sweep.id, index, (r) => created.set(index, r.id)),
      }));
      try {
        await trainBatched(members, {
          signal,
          onMemberEnd: (k, r) => report(outcome(group[k], r)),
        });
      } catch (e) {
        // runs already created were marked failed by trainBatched; record the others (a data file
        // that cannot be read, ...) so that re-invoking does not rerun them unless asked
        for (const [k, index] of group.entries()) {
          if (created.has(index)) continue;
          const { exp, store: view } = members[k];
          const run = view.createRun({ name: exp.spec.name, spec: exp.spec, specHash: exp.hash, seed: exp.spec.seed });
          view.finishRun(run.id, "failed", { error: message(e) });
        }
        for (const index of group) {
          ended++;
          report({ index, runId: created.get(index) ?? null, status: "failed", error: message(e) });
        }
      }
    }
  } finally {
    store.sweeps.release(sweep.id);
  }
  const members = memberStates(store, sweep);
  return { sweep, members, counts: countMembers(members), ran, aborted: signal?.aborted ?? false };
}

/** `indices` grouped by `key` (groups in order of first appearance), each split into runs of ≤ `max`. */
export function groups(indices: readonly number[], key: (index: number) => string, max: number): number[][] {
  const byKey = new Map<string, number[]>();
  for (const i of indices) {
    const k = key(i);
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push(i);
  }
  const out: number[][] = [];
  for (const g of byKey.values()) for (let a = 0; a < g.length; a += max) out.push(g.slice(a, a + max));
  return out;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
