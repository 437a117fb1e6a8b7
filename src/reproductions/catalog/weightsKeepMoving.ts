/**
 * Weights keep moving while their distribution settles (the invariant-measure view of SGD: Zhang, Li,
 * Sra & Jadbabaie, "Neural network weights do not converge to stationary points: an invariant measure
 * perspective", ICML 2022, §1 and Fig. 1): on a late loss plateau of constant-step SGD the parameters
 * keep changing by a non-vanishing amount per window, while the empirical distribution of the weights
 * barely changes.
 */
import { lineFigure } from "../../report/index.js";
import { lateMean, xy } from "../measure.js";
import { mnistData, widths } from "../specs.js";
import type { Reproduction, Size } from "../types.js";

function plan(size: Size): { steps: number; every: number } {
  if (size === "smoke") return { steps: 40, every: 10 };
  if (size === "small") return { steps: 3000, every: 100 };
  return { steps: 30000, every: 500 };
}

export const weightsKeepMoving: Reproduction = {
  name: "weights-keep-moving",
  title: "Weights keep moving on a loss plateau while their distribution settles",
  source: "Zhang, Li, Sra & Jadbabaie, ICML 2022 (§1, Fig. 1; §5 setting: normalized nets, SGD with weight decay)",
  claim:
    "Constant-step mini-batch SGD with momentum and weight decay on a batch-norm MLP (MNIST digits): over the last " +
    "quarter of training the update norm per window " +
    "stays at least 10% of its first value, while the W1 drift of the weight distribution is at most 10% of the " +
    "root-mean-square movement of a single weight.",
  criteria: [
    {
      name: "updateNormKept",
      statement: "mean ‖θ_t − θ_{t−k}‖ over the last 25% of measurements / the first ‖θ_k − θ_0‖",
      min: 0.1,
    },
    {
      name: "distributionDrift",
      statement: "mean over the last 25% of W1(weights_t, weights_{t−k}) / (‖θ_t − θ_{t−k}‖/√P)",
      max: 0.1,
    },
  ],
  async execute(ctx) {
    const p = plan(ctx.size);
    const r = await ctx.run("sgd", {
      seed: 0,
      data: mnistData(ctx.size),
      // Zhang et al.'s setting (their §5: normalized networks trained by SGD with momentum and weight
      // decay): batch norm makes the loss invariant to the scale of the hidden weights and weight decay
      // keeps shrinking it, so the gradient noise never vanishes (a plain CE MLP on separable data
      // converges instead: updateNorm fell to 1% of its first value in a first protocol)
      model: { kind: "mlp", hidden: widths(ctx.size), activation: "relu", norm: "batch" },
      loss: { kind: "ce" },
      optimizer: { kind: "sgd", lr: 0.1, momentum: 0.9, weightDecay: 5e-4 },
      batchSize: 32,
      steps: p.steps,
      evalEvery: p.every * 5,
      probes: [{ kind: "weightDynamics", every: p.every, histograms: false }],
    });
    const t = await ctx.trained(r);
    const P = t.flat.length;
    const upd = r.series("weights/updateNorm");
    const w1 = r.series("weights/w1Drift");
    const rel = w1.map((q, i) => ({ step: q.step, value: (q.value * Math.sqrt(P)) / upd[i].value }));
    return {
      values: {
        updateNormKept: lateMean(upd, 0.25) / upd[0].value,
        distributionDrift: lateMean(rel, 0.25),
      },
      figures: [
        lineFigure({
          id: "movement",
          title: "Per-window movement of the weights and of their distribution",
          subtitle: `run ${r.runId}; window ${p.every} steps; P = ${P}`,
          xLabel: "step",
          yLabel: "distance",
          series: [
            {
              name: "‖θ_t − θ_{t−k}‖/√P (RMS per weight)",
              points: upd.map((q) => ({ x: q.step, y: q.value / Math.sqrt(P) })),
            },
            { name: "W1 of the weight distributions", points: xy(r, "weights/w1Drift") },
          ],
          logY: true,
        }),
        lineFigure({
          id: "loss",
          title: "Training loss",
          xLabel: "step",
          yLabel: "loss (nats)",
          series: [{ name: "train/loss", points: xy(r, "train/loss") }],
          logY: true,
        }),
      ],
    };
  },
};
