/**
 * Adaptive edge of stability (Cohen, Ghorbani, Krishnan, Agarwal, Medapati, Badura, Suo, Cardoze,
 * Nado, Dahl & Gilmer, "Adaptive gradient methods at the edge of stability", 2022, §3–4): under
 * full-batch Adam the preconditioned sharpness λmax(P⁻¹H), P = diag(√v̂ + ε), rises to Adam's
 * stability threshold (2 + 2β₁)/((1 − β₁)η) = 38/η for β₁ = 0.9 and hovers there.
 */
import { sharpnessFigure } from "../../report/index.js";
import { lateMean, xy } from "../measure.js";
import { mnistData, widths } from "../specs.js";
import type { Reproduction, Size } from "../types.js";

function plan(size: Size): { lr: number; steps: number; every: number } {
  if (size === "smoke") return { lr: 0.01, steps: 40, every: 10 };
  if (size === "small") return { lr: 0.004, steps: 1500, every: 25 };
  return { lr: 0.001, steps: 6000, every: 50 };
}

export const adamEdgeOfStability: Reproduction = {
  name: "adam-edge-of-stability",
  title: "Adaptive edge of stability: λmax(P⁻¹H) rises to Adam's threshold 38/η and hovers there",
  source: "Cohen et al. 2022, Adaptive gradient methods at the edge of stability, §3–4",
  claim:
    "Full-batch Adam (β₁ = 0.9) on a tanh MLP with MSE: the preconditioned sharpness reaches (2+2β₁)/((1−β₁)η) " +
    "and its late mean sits near it.",
  criteria: [
    { name: "crosses", statement: "max_t λmax(P⁻¹H) / threshold", min: 1 },
    {
      name: "lateRatio",
      statement: "mean λmax(P⁻¹H) / threshold over the last 25% of measurements",
      min: 0.85,
      max: 1.35,
    },
  ],
  async execute(ctx) {
    const p = plan(ctx.size);
    const r = await ctx.run(`adam lr=${p.lr}`, {
      seed: 0,
      data: mnistData(ctx.size),
      model: { kind: "mlp", hidden: widths(ctx.size), activation: "tanh" },
      loss: { kind: "mse", reduction: "half_mean" },
      optimizer: { kind: "adam", lr: p.lr },
      batchSize: "full",
      steps: p.steps,
      evalEvery: Math.max(1, Math.floor(p.steps / 10)),
      probes: [{ kind: "hessian", every: p.every, topK: 1, tol: 1e-3, preconditioned: true }],
    });
    const ratio = r.series("hessian/precondEosRatio");
    return {
      values: {
        crosses: ratio.length ? Math.max(...ratio.map((q) => q.value)) : NaN,
        lateRatio: lateMean(ratio, 0.25),
      },
      figures: [
        sharpnessFigure({
          id: "precond-sharpness",
          lambdaMax: xy(r, "hessian/precondLambdaMax"),
          threshold: xy(r, "hessian/precondThreshold"),
          thresholdLabel: "(2+2β₁)/((1−β₁)η)",
          preconditioned: true,
          subtitle: `${r.member} · run ${r.runId}`,
        }),
      ],
    };
  },
};
