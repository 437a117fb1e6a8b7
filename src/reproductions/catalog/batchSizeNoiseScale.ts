/**
 * The SGD noise scale g = εN/(B(1 − m)) sets the outcome (Smith & Le, "A Bayesian perspective on
 * generalization and stochastic gradient descent", ICLR 2018, §5 eq. 8 and Fig. 5), so increasing the
 * batch size B by α at the milestones where the step ε would be divided by α reaches the same test
 * accuracy with fewer parameter updates (Smith, Kindermans, Ying & Le, "Don't decay the learning
 * rate, increase the batch size", ICLR 2018, §2–3, Fig. 2).
 */
import { lineFigure } from "../../report/index.js";
import { xy } from "../measure.js";
import type { MemberRun, Reproduction, Size } from "../types.js";

function plan(size: Size): { n: number; epochs: number; hidden: number[] } {
  if (size === "smoke") return { n: 1000, epochs: 4, hidden: [16] };
  if (size === "small") return { n: 2000, epochs: 10, hidden: [100] };
  return { n: 5000, epochs: 60, hidden: [200, 200] };
}

export const batchSizeNoiseScale: Reproduction = {
  name: "batch-size-noise-scale",
  title: "Equal SGD noise scale, equal outcome; growing the batch instead of decaying the step",
  source: "Smith & Le, ICLR 2018 (§5, eq. 8); Smith, Kindermans, Ying & Le, ICLR 2018 (§2–3)",
  claim:
    "Runs with equal g = εN/(B(1−m)) over the same epochs end within 1 point of test accuracy; multiplying B by 5 " +
    "where ε would be divided by 5 ends within 1 point of the decayed-ε run with fewer parameter updates.",
  criteria: [
    {
      name: "equalNoiseSpread",
      statement: "max − min final test accuracy over (ε, B) = (0.025, 32), (0.05, 64), (0.1, 128) (m = 0.9)",
      max: 0.01,
    },
    {
      name: "growingVsDecayed",
      statement: "|final test accuracy of growing-B − of decayed-ε| (same schedule of milestones in epochs)",
      max: 0.01,
    },
    { name: "updateRatio", statement: "parameter updates of growing-B / of decayed-ε", max: 1 },
  ],
  async execute(ctx) {
    const p = plan(ctx.size);
    const data =
      ctx.size === "smoke"
        ? { kind: "gaussianMixture", nTrain: p.n, nTest: 200, classes: 4, dim: 10 }
        : { kind: "mnist", nTrain: 8000, nTest: 2000, balancedSubset: p.n, normalize: "center" };
    const base = (lr: number, batchSize: number, steps: number, extra: Record<string, unknown> = {}) => ({
      seed: 0,
      data,
      model: { kind: "mlp", hidden: p.hidden, activation: "tanh" },
      loss: { kind: "ce" },
      optimizer: { kind: "sgd", lr, momentum: 0.9 },
      batchSize,
      steps,
      evalEvery: steps,
      ...extra,
    });
    const steps = (b: number) => Math.round((p.epochs * p.n) / b);
    const equal: MemberRun[] = [];
    for (const [lr, b] of [
      [0.025, 32],
      [0.05, 64],
      [0.1, 128],
    ])
      equal.push(await ctx.run(`lr=${lr} B=${b}`, base(lr, b, steps(b))));

    // milestones at 40% and 70% of the epochs; decayed: ε ÷ 5 there; growing: B × 5 there
    const b0 = 32;
    const e1 = Math.round(0.4 * p.epochs);
    const e2 = Math.round(0.7 * p.epochs);
    const decaySteps = steps(b0);
    const m1 = Math.round((e1 * p.n) / b0);
    const m2 = Math.round((e2 * p.n) / b0);
    const decayed = await ctx.run(
      "decayed ε",
      base(0.1, b0, decaySteps, { schedule: { kind: "step", milestones: [m1, m2], gamma: 0.2 } }),
    );
    const g1 = m1;
    const g2 = g1 + Math.round(((e2 - e1) * p.n) / (b0 * 5));
    const growSteps = g2 + Math.round(((p.epochs - e2) * p.n) / (b0 * 25));
    const growing = await ctx.run(
      "growing B",
      base(0.1, b0, growSteps, { batchSchedule: { milestones: [g1, g2], factor: 5 } }),
    );
    const acc = equal.map((r) => r.last("test/accuracy"));
    return {
      values: {
        equalNoiseSpread: Math.max(...acc) - Math.min(...acc),
        growingVsDecayed: Math.abs(growing.last("test/accuracy") - decayed.last("test/accuracy")),
        updateRatio: growSteps / decaySteps,
      },
      figures: [
        lineFigure({
          id: "batch-loss",
          title: "Mini-batch loss by epoch",
          xLabel: "step",
          yLabel: "loss (nats)",
          series: [...equal, decayed, growing].map((r) => ({ name: r.member, points: xy(r, "train/batchLoss") })),
          logY: true,
        }),
      ],
      notes: [
        `test accuracy: ${[...equal, decayed, growing].map((r) => `${r.member} ${r.last("test/accuracy")}`).join(", ")}`,
        `updates: decayed ε ${decaySteps}, growing B ${growSteps}`,
      ],
    };
  },
};
