/**
 * Random-label memorization (Zhang, Bengio, Hardt, Recht & Vinyals, "Understanding deep learning
 * requires rethinking generalization", ICLR 2017, §2, Fig. 1a–c): a network that fits the true labels
 * also fits partially or fully random labels to zero training error; with fully random labels test
 * accuracy is chance; fitting takes longer as the corruption grows.
 */
import { lineFigure } from "../../report/index.js";
import { firstAtLeast, xy } from "../measure.js";
import { mnistData } from "../specs.js";
import type { MemberRun, Reproduction, Size } from "../types.js";

const CORRUPTIONS = [0, 0.5, 1];

function plan(size: Size): { hidden: number[]; steps: number; evalEvery: number } {
  if (size === "smoke") return { hidden: [32], steps: 30, evalEvery: 5 };
  if (size === "small") return { hidden: [256], steps: 400, evalEvery: 5 };
  return { hidden: [512, 512], steps: 3000, evalEvery: 10 };
}

/** The first evaluation step with training accuracy ≥ 0.99 (NaN if never). */
function stepsToFit(r: MemberRun): number {
  return firstAtLeast(r.series("train/accuracy"), 0.99)?.step ?? NaN;
}

export const randomLabels: Reproduction = {
  name: "random-labels",
  title: "Random labels: networks memorize corrupted labels; test accuracy falls to chance",
  source: "Zhang, Bengio, Hardt, Recht & Vinyals, ICLR 2017, §2, Fig. 1",
  claim:
    "With label corruption 0, 0.5 and 1, an MLP reaches ≥ 99% training accuracy each time; at corruption 1 test " +
    "accuracy is within 3 points of chance; the steps needed to fit grow with the corruption.",
  criteria: [
    { name: "minTrainAccuracy", statement: "min over corruptions of the final training accuracy", min: 0.99 },
    {
      name: "randomTestGapToChance",
      statement: "|test accuracy at corruption 1 − 1/classes| (accuracy points as a fraction)",
      max: 0.03,
    },
    {
      name: "fitTimeOrder",
      statement:
        "min(steps-to-fit(0.5)/steps-to-fit(0), steps-to-fit(1)/steps-to-fit(0.5)); steps-to-fit = first evaluation with train accuracy ≥ 0.99",
      min: 1,
    },
  ],
  async execute(ctx) {
    const p = plan(ctx.size);
    const runs: MemberRun[] = [];
    for (const c of CORRUPTIONS) {
      runs.push(
        await ctx.run(`corruption=${c}`, {
          seed: 0,
          data: mnistData(ctx.size, { labelNoise: c }),
          model: { kind: "mlp", hidden: p.hidden, activation: "relu" },
          loss: { kind: "ce" },
          optimizer: { kind: "adam", lr: 1e-3 },
          batchSize: "full",
          steps: p.steps,
          evalEvery: p.evalEvery,
        }),
      );
    }
    const classes = ctx.size === "smoke" ? 4 : 10;
    const [s0, s5, s1] = runs.map(stepsToFit);
    return {
      values: {
        minTrainAccuracy: Math.min(...runs.map((r) => r.last("train/accuracy"))),
        randomTestGapToChance: Math.abs(runs[2].last("test/accuracy") - 1 / classes),
        fitTimeOrder: Math.min(s5 / s0, s1 / s5),
      },
      figures: [
        lineFigure({
          id: "train-accuracy",
          title: "Training accuracy by label corruption",
          xLabel: "step",
          yLabel: "training accuracy (fraction)",
          series: runs.map((r) => ({ name: r.member, points: xy(r, "train/accuracy") })),
        }),
        lineFigure({
          id: "test-accuracy",
          title: "Test accuracy by label corruption",
          xLabel: "step",
          yLabel: "test accuracy (fraction)",
          series: runs.map((r) => ({ name: r.member, points: xy(r, "test/accuracy") })),
          rules: [{ y: 1 / classes, label: "chance" }],
        }),
      ],
      notes: [`steps to fit: ${runs.map((r, i) => `${r.member} ${[s0, s5, s1][i]}`).join(", ")}`],
    };
  },
};
