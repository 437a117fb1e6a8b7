import { UserError } from "../core/errors.js";
import type { RunStore } from "../store/index.js";
import type { TrainOptions, TrainResult } from "../train/trainer.js";
import { memberExperiment } from "./plan.js";

/**
 * Runs member `index` of sweep `sweepId` in this process, as `sgdlab run` would (or, with
 * `resumeRunId`, continues that interrupted run from its latest checkpoint as `sgdlab resume` would).
 * The run is filed under the sweep. A member that fails before its run exists (a data file that
 * cannot be read, …) still gets a `failed` run recording the error, so that re-invoking the sweep
 * does not rerun it unless asked (`--retry-failed`).
 */
export async function runMember(
  store: RunStore,
  sweepId: string,
  index: number,
  opts: Omit<TrainOptions, "store"> & { resumeRunId?: string } = {},
): Promise<TrainResult> {
  const { resumeExperiment, runExperiment } = await import("../train/trainer.js"); // loads jax-js
  const sweep = store.sweeps.get(sweepId);
  const member = sweep.members.find((m) => m.index === index);
  if (member === undefined) throw new UserError(`sweep ${sweep.name} has no member ${index}`);
  let created: string | null = null;
  const view = store.forSweepMember(sweep.id, index, (r) => (created = r.id));
  const { resumeRunId, ...train } = opts;
  if (resumeRunId !== undefined) {
    const run = store.getRun(resumeRunId);
    if (run.sweepId !== sweep.id || run.sweepIndex !== index) {
      throw new UserError(`run ${run.id} is not member ${index} of sweep ${sweep.name}`);
    }
    try {
      return await resumeExperiment(run.id, { ...train, store: view });
    } catch (e) {
      if (store.getRun(run.id).status === "interrupted") store.finishRun(run.id, "failed", { error: message(e) });
      throw e;
    }
  }
  const exp = memberExperiment(sweep.spec, sweep.name, index, member.overrides);
  try {
    return await runExperiment(exp, { ...train, store: view });
  } catch (e) {
    if (created === null) {
      const run = view.createRun({ name: exp.spec.name, spec: exp.spec, specHash: exp.hash, seed: exp.spec.seed });
      view.finishRun(run.id, "failed", { error: message(e) });
    }
    throw e;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
