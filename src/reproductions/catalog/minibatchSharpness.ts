/**
 * Mini-batch sharpness and the largest stable step (Granziol, Zohren & Roberts, "Learning rates as a
 * function of batch size: a random matrix theory approach to neural network training", JMLR 2022,
 * §3–4): the top eigenvalue of a mini-batch Hessian H_B exceeds the full-batch one by a term that
 * shrinks as B grows, so the largest stable step 2/λmax(H_B) grows with B towards 2/λmax(H).
 */
import { Key } from "../../core/index.js";
import { minibatchSharpness } from "../../curvature/minibatch.js";
import { lineFigure } from "../../report/index.js";
import { trainingObjective } from "../posthoc.js";
import { gdSpec } from "../specs.js";
import type { Reproduction, Size } from "../types.js";

function plan(size: Size): { batchSizes: number[]; steps: number } {
  if (size === "smoke") return { batchSizes: [4, 16], steps: 20 };
  if (size === "small") return { batchSizes: [8, 32, 128], steps: 300 };
  return { batchSizes: [32, 128, 512, 2048], steps: 2000 };
}

export const minibatchSharpnessReproduction: Reproduction = {
  name: "minibatch-sharpness",
  title: "Mini-batch sharpness: 2/λmax(H_B) grows with B towards the full-batch value",
  source: "Granziol, Zohren & Roberts, JMLR 23 (2022), §3–4",
  claim:
    "At a trained point, the mean λmax of mini-batch Hessians decreases as B grows (so the largest stable step " +
    "2/λmax grows), approaching the full-batch λmax.",
  criteria: [
    {
      name: "decreasingInB",
      statement: "min over consecutive batch sizes of mean λmax(H_B) / mean λmax(H_2B…) (≥ 1: non-increasing in B)",
      min: 1,
    },
    {
      name: "gapShrinks",
      statement: "|λmax(H_Bmax)/λmax(H) − 1| divided by |λmax(H_Bmin)/λmax(H) − 1|",
      max: 0.5,
    },
  ],
  async execute(ctx) {
    const p = plan(ctx.size);
    const r = await ctx.run("gd", gdSpec(ctx.size, { lr: 0.1, steps: p.steps, every: p.steps }));
    const t = await ctx.trained(r);
    const obj = trainingObjective(t);
    const m = await (async () => {
      try {
        return await minibatchSharpness(obj, t.params(t.dtype), {
          batchSizes: p.batchSizes,
          draws: 5,
          key: Key.fromSeed(0).fold("reproduction/minibatch"),
          tol: 1e-4,
        });
      } finally {
        obj.dispose();
      }
    })();
    const means = m.rows.map((row) => row.mean);
    const ratios = means.slice(1).map((v, i) => means[i] / v);
    const gap = (v: number) => Math.abs(v / m.full.lambdaMax - 1);
    return {
      values: {
        decreasingInB: Math.min(...ratios),
        gapShrinks: gap(means.at(-1)!) / gap(means[0]),
      },
      figures: [
        lineFigure({
          id: "stable-lr",
          title: "Largest stable step 2/λmax of mini-batch Hessians",
          subtitle: `run ${r.runId}; ${m.rows[0].lambdaMax.length} batches per size, mean ± std of λmax`,
          xLabel: "batch size B",
          yLabel: "2/λmax (step size)",
          series: [
            { name: "2/mean λmax(H_B)", points: m.rows.map((row) => ({ x: row.batchSize, y: row.maxStableLr })) },
          ],
          bands: [
            {
              name: "±1 std of λmax",
              points: m.rows.map((row) => ({
                x: row.batchSize,
                lo: 2 / (row.mean + row.std),
                hi: row.mean - row.std > 0 ? 2 / (row.mean - row.std) : 2 / row.mean,
              })),
            },
          ],
          rules: [{ y: m.full.maxStableLr, label: "full batch 2/λmax(H)" }],
          logX: true,
          smooth: false,
        }),
      ],
      notes: [
        `full-batch λmax ${m.full.lambdaMax.toPrecision(5)}; mean λmax(H_B): ` +
          m.rows.map((row) => `B=${row.batchSize} ${row.mean.toPrecision(5)} ± ${row.std.toPrecision(3)}`).join(", "),
      ],
    };
  },
};
