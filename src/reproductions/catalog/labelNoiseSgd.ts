/**
 * Label-noise SGD prefers flat minimizers (Blanc, Gupta, Valiant & Valiant, COLT 2020; Damian, Ma &
 * Lee, "Label noise SGD provably prefers flat global minimizers", NeurIPS 2021, §2 setting and
 * Theorem 1): on regression with the square loss near a manifold of interpolating solutions, SGD with
 * fresh Gaussian noise on the targets drifts along the manifold towards smaller tr ∇²L, which plain
 * SGD does not. Protocol as in the paper: an over-parameterized student on a teacher's (noiseless)
 * regression targets, the same initialization, batches and step size with and without label noise,
 * traces compared at equal (clean) training loss.
 */
import { lineFigure } from "../../report/index.js";
import { exactCurvature } from "../posthoc.js";
import { xy } from "../measure.js";
import type { Reproduction, Size } from "../types.js";

function plan(size: Size): { n: number; hidden: number; steps: number; every: number } {
  if (size === "smoke") return { n: 16, hidden: 8, steps: 40, every: 20 };
  if (size === "small") return { n: 64, hidden: 64, steps: 6000, every: 250 };
  return { n: 256, hidden: 256, steps: 50000, every: 1000 };
}

export const labelNoiseSgd: Reproduction = {
  name: "label-noise-sgd",
  title: "Label-noise SGD ends at a flatter minimizer than plain SGD at comparable loss",
  source: "Damian, Ma & Lee, NeurIPS 2021 (Theorem 1); Blanc, Gupta, Valiant & Valiant, COLT 2020",
  claim:
    "Teacher–student regression, over-parameterized tanh student, MSE: SGD with Gaussian label noise σ = 0.5 " +
    "ends with a smaller Hessian trace than plain SGD had when it was at the same clean training loss.",
  criteria: [
    {
      name: "traceRatio",
      statement:
        "exact tr ∇²L (clean targets) of the label-noise run at its end / of the plain run at its first checkpoint " +
        "whose clean training loss is ≤ the label-noise run's final one",
      max: 1,
    },
    {
      name: "plainReachesLoss",
      statement: "min clean training loss of the plain run / final clean training loss of the label-noise run",
      max: 1,
    },
  ],
  async execute(ctx) {
    const p = plan(ctx.size);
    const spec = (sigma: number) => ({
      seed: 0,
      data: { kind: "teacherStudent", dim: 10, hidden: 16, activation: "tanh", outDim: 1, nTrain: p.n, nTest: 256 },
      model: { kind: "mlp", hidden: [p.hidden], activation: "tanh" },
      loss: { kind: "mse", reduction: "half_mean" },
      optimizer: { kind: "sgd", lr: 0.1 },
      batchSize: p.n / 4,
      dtype: "float64",
      steps: p.steps,
      evalEvery: p.every,
      checkpointEvery: p.every,
      ...(sigma > 0 ? { labelNoise: { sigma } } : {}),
      probes: [{ kind: "hessian", every: p.every, topK: 1, tol: 1e-4 }],
    });
    const plain = await ctx.run("plain", spec(0));
    const noisy = await ctx.run("labelNoise σ=0.5", spec(0.5));
    const target = noisy.last("train/loss");
    const plainLoss = plain.series("train/loss");
    const match = plainLoss.find((q) => q.value <= target);
    const noisyEnd = await exactCurvature(await ctx.trained(noisy));
    const plainAt = match ? await exactCurvature(await ctx.trained(plain, match.step)) : null;
    return {
      values: {
        traceRatio: plainAt ? noisyEnd.trace! / plainAt.trace! : NaN,
        plainReachesLoss: Math.min(...plainLoss.map((q) => q.value)) / target,
      },
      figures: [
        lineFigure({
          id: "lambda-max",
          title: "λmax of the training loss, plain vs label-noise SGD",
          xLabel: "step",
          yLabel: "λmax (Hessian eigenvalue)",
          series: [plain, noisy].map((r) => ({ name: r.member, points: xy(r, "hessian/lambdaMax") })),
        }),
        lineFigure({
          id: "train-loss",
          title: "Clean training loss",
          xLabel: "step",
          yLabel: "loss (½·MSE)",
          series: [plain, noisy].map((r) => ({ name: r.member, points: xy(r, "train/loss") })),
          logY: true,
        }),
      ],
      notes: [
        plainAt && match
          ? `trace: label noise ${noisyEnd.trace!.toPrecision(5)} at step ${p.steps} (clean loss ${target.toPrecision(3)}); ` +
            `plain ${plainAt.trace!.toPrecision(5)} at step ${match.step} (clean loss ${match.value.toPrecision(3)})`
          : "the plain run never reached the label-noise run's final loss: no comparison point",
      ],
    };
  },
};
