/**
 * Statistical stability of non-convergent training: whether the late-time loss has become a
 * stationary process, measured as the distance between its empirical distributions over two windows.
 */
import { keep } from "../core/index.js";
import { createObjective } from "../losses/objective.js";
import { wasserstein1 } from "../theory/wasserstein.js";
import type { Probe } from "./probe.js";
import type { ProbeConfig } from "./schema.js";

/**
 * W1 between the last two non-overlapping windows of `window` values of `history` (the older
 * history[−2w..−w) and the newer history[−w..]); null while fewer than 2w values exist.
 */
export function windowW1(history: readonly number[], window: number): number | null {
  if (history.length < 2 * window) return null;
  const n = history.length;
  return wasserstein1(history.slice(n - 2 * window, n - window), history.slice(n - window));
}

/**
 * `stability/lossW1`: every `every` steps, records the training loss L(θ_t) of `objective` (default
 * "batch": the step's mini-batch, measured before its update — the same value as train/batchLoss
 * without label noise; "full" or "subset:N" give a fixed objective whose fluctuation is the
 * trajectory's alone), and, once 2·window values exist, reports the 1-Wasserstein distance between
 * the empirical distributions of the last two windows of `window` values (`windowW1`). With `test`,
 * the same for the loss on the fixed subset of `test` test examples (`stability/testLossW1`). A
 * value near 0 (relative to the loss's own spread) says the loss distribution has stopped drifting:
 * the weights need not converge, their distribution does (the invariant-measure view of constant-step
 * SGD, Zhang et al., quoted in issue 8). Chandramoorthy, Loukas, Gatmiry & Jegelka (NeurIPS 2022,
 * "statistical algorithmic stability") bound the generalization of non-convergent training through
 * the time-asymptotic distribution of the loss; they compare runs on neighbouring training sets, while
 * this probe checks, within one run, that the window distributions have become stationary (the
 * premise of using those time-asymptotic statistics).
 * The history (the last 2·window values) is checkpointed, so a resumed run measures exactly as the
 * straight one. BN models are evaluated in train mode (batch statistics of each chunk).
 */
export function lossStabilityProbe(cfg: Extract<ProbeConfig, { kind: "lossStability" }>): Probe {
  const loss: number[] = [];
  const testLoss: number[] = [];
  const keepLast = (h: number[], v: number): void => {
    h.push(v);
    if (h.length > 2 * cfg.window) h.splice(0, h.length - 2 * cfg.window);
  };
  return {
    name: "stability",
    every: cfg.every,
    async measure(ctx) {
      const obj = ctx.objective(cfg.objective);
      try {
        keepLast(loss, await obj.value(keep(ctx.params)));
      } finally {
        obj.dispose();
      }
      if (cfg.test !== undefined) {
        const t = createObjective({ model: ctx.model, loss: ctx.loss }, ctx.data.test, `subset:${cfg.test}`, {
          dtype: ctx.dtype,
          chunkSize: ctx.chunkSize,
          rootKey: ctx.rootKey,
        });
        try {
          keepLast(testLoss, await t.value(keep(ctx.params)));
        } finally {
          t.dispose();
        }
      }
      const m: Record<string, number> = {};
      const w = windowW1(loss, cfg.window);
      if (w !== null) m["stability/lossW1"] = w;
      const wt = cfg.test === undefined ? null : windowW1(testLoss, cfg.window);
      if (wt !== null) m["stability/testLossW1"] = wt;
      return m;
    },
    saveState() {
      return { loss: Float64Array.from(loss), testLoss: Float64Array.from(testLoss) };
    },
    loadState(state) {
      loss.splice(0, loss.length, ...(state.loss ?? []));
      testLoss.splice(0, testLoss.length, ...(state.testLoss ?? []));
    },
  };
}
