/**
 * Sharpness-aware minimization finds flatter minima (Foret, Kleiner, Mobahi & Neyshabur, "Sharpness-
 * aware minimization for efficiently improving generalization", ICLR 2021, §2 eq. 1–2 and §4.2, Fig. 3
 * on the Hessian spectrum): at an equal number of steps, SAM's final λmax and trace lie below SGD's,
 * with test accuracy no worse beyond the seed-to-seed spread.
 */
import { lineFigure } from "../../report/index.js";
import { finalCurvature } from "../posthoc.js";
import { mnistData, widths } from "../specs.js";
import type { MemberRun, Reproduction, Size } from "../types.js";

function plan(size: Size): { seeds: number[]; steps: number } {
  if (size === "smoke") return { seeds: [0, 1], steps: 20 };
  if (size === "small") return { seeds: [0, 1, 2], steps: 600 };
  return { seeds: [0, 1, 2, 3, 4], steps: 5000 };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));

export const samFlatterMinima: Reproduction = {
  name: "sam-flatter-minima",
  title: "SAM finds flatter minima than SGD at equal steps",
  source: "Foret, Kleiner, Mobahi & Neyshabur, ICLR 2021, §2 (eq. 1–2), §4.2",
  claim:
    "SGD and SAM (ρ = 0.05) with the same base SGD, steps and seeds: SAM's final λmax and Hessian trace are below " +
    "SGD's; SAM's test accuracy is not lower by more than the seed-to-seed spread.",
  criteria: [
    { name: "lambdaMaxRatio", statement: "mean final λmax of SAM / of SGD", max: 1 },
    { name: "traceRatio", statement: "mean final Hessian trace (Hutchinson, 32 probes) of SAM / of SGD", max: 1 },
    {
      name: "accuracyDeficit",
      statement: "(mean test accuracy of SGD − of SAM) − sample std of SGD's test accuracy over seeds",
      max: 0,
    },
  ],
  async execute(ctx) {
    const p = plan(ctx.size);
    const base = { kind: "sgd", lr: 0.05, momentum: 0.9 };
    const spec = (seed: number, optimizer: Record<string, unknown>) => ({
      seed,
      data: mnistData(ctx.size),
      model: { kind: "mlp", hidden: widths(ctx.size), activation: "tanh" },
      loss: { kind: "ce" },
      optimizer,
      batchSize: ctx.size === "smoke" ? 16 : 64,
      steps: p.steps,
      evalEvery: Math.max(1, Math.floor(p.steps / 6)),
    });
    const sgd: MemberRun[] = [];
    const sam: MemberRun[] = [];
    for (const seed of p.seeds) {
      sgd.push(await ctx.run(`sgd seed=${seed}`, spec(seed, base)));
      sam.push(await ctx.run(`sam seed=${seed}`, spec(seed, { kind: "sam", rho: 0.05, base })));
    }
    const curv = async (runs: MemberRun[]) => Promise.all(runs.map(async (r) => finalCurvature(await ctx.trained(r))));
    const cs = await curv(sgd);
    const ca = await curv(sam);
    const accS = sgd.map((r) => r.last("test/accuracy"));
    const accA = sam.map((r) => r.last("test/accuracy"));
    const lam = (c: typeof cs) => mean(c.map((x) => x.topEigenvalues[0]));
    const tr = (c: typeof cs) => mean(c.map((x) => x.trace ?? NaN));
    return {
      values: {
        lambdaMaxRatio: lam(ca) / lam(cs),
        traceRatio: tr(ca) / tr(cs),
        accuracyDeficit: mean(accS) - mean(accA) - std(accS),
      },
      figures: [
        lineFigure({
          id: "test-accuracy",
          title: "Test accuracy, SGD vs SAM",
          xLabel: "step",
          yLabel: "test accuracy (fraction)",
          series: [...sgd, ...sam].map((r) => ({
            name: r.member,
            points: r.series("test/accuracy").map((q) => ({ x: q.step, y: q.value })),
            dashed: r.member.startsWith("sam"),
          })),
        }),
      ],
      notes: [
        `final λmax SGD ${cs.map((c) => c.topEigenvalues[0].toPrecision(4)).join(", ")}; ` +
          `SAM ${ca.map((c) => c.topEigenvalues[0].toPrecision(4)).join(", ")}`,
        `final trace SGD ${cs.map((c) => c.trace?.toPrecision(4)).join(", ")}; SAM ${ca.map((c) => c.trace?.toPrecision(4)).join(", ")}`,
        `test accuracy SGD ${accS.join(", ")}; SAM ${accA.join(", ")}`,
      ],
    };
  },
};
