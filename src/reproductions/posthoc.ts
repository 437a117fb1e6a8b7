/**
 * Measurements on a trained member after training: the Hessian analysis of its training objective
 * (λmax, trace) at its final parameters.
 */
import { Key } from "../core/index.js";
import { analyzeHessian, type HessianReport } from "../curvature/analyze.js";
import type { TrainedModel } from "../experiments/external.js";
import { createLoss, createObjective, type Objective } from "../losses/index.js";

/** The full training objective of a trained model (BN in train mode, no regularizer). */
export function trainingObjective(t: TrainedModel): Objective {
  return createObjective({ model: t.model, loss: createLoss(t.loss) }, t.data, "full", {
    dtype: t.dtype,
    chunkSize: t.spec.chunkSize,
  });
}

/**
 * λmax (Lanczos, relative residual 1e-4) and the Hutchinson trace with `probes` Rademacher vectors
 * (with its standard error) of the training loss at the final parameters.
 */
export async function finalCurvature(t: TrainedModel, probes = 32): Promise<HessianReport> {
  return curvature(t, "hutchinson", probes);
}

/** λmax and the exact trace (P basis products; small models only) of the training loss. */
export async function exactCurvature(t: TrainedModel): Promise<HessianReport> {
  return curvature(t, "exact", 0);
}

async function curvature(t: TrainedModel, trace: "exact" | "hutchinson", probes: number): Promise<HessianReport> {
  const obj = trainingObjective(t);
  try {
    return await analyzeHessian(obj, t.params(t.dtype), {
      top: 1,
      bottom: 0,
      tol: 1e-4,
      trace,
      traceProbes: probes,
      key: Key.fromSeed(t.seed).fold("reproduction/curvature"),
    });
  } finally {
    obj.dispose();
  }
}
