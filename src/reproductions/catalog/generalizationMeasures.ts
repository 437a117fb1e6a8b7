/**
 * Complexity measures against the generalization gap (Jiang, Neyshabur, Mobahi, Krishnan & Bengio,
 * "Fantastic Generalization Measures and Where to Find Them", ICLR 2020, §4–6, App. C): a grid over
 * learning rate, batch size, width and depth; for every measure Kendall's τ with the gap across the
 * grid (jackknife 95% interval) and the granulated Ψ; norm-based bounds vacuous, the validation bound
 * not (Kawaguchi, Kaelbling & Bengio 2017, who make the same point about norm-based bounds).
 */
import { lineFigure } from "../../report/index.js";
import { computeMeasures, NORM_BOUNDS, rankMeasures, trainedSubject, type RankEntry } from "../../measures/index.js";
import { mnistData } from "../specs.js";
import type { Reproduction, Size } from "../types.js";

function plan(size: Size): { lrs: number[]; batches: number[]; widths: number[]; depths: number[]; steps: number } {
  if (size === "smoke") return { lrs: [0.05, 0.2], batches: [32], widths: [8, 16], depths: [1], steps: 20 };
  if (size === "small") return { lrs: [0.02, 0.1], batches: [32, 128], widths: [32, 128], depths: [1, 2], steps: 500 };
  return { lrs: [0.01, 0.03, 0.1], batches: [32, 128, 512], widths: [128, 512], depths: [1, 2, 3], steps: 5000 };
}

export const generalizationMeasures: Reproduction = {
  name: "generalization-measures",
  title: "Generalization measures ranked against the generalization gap over a hyperparameter grid",
  source: "Jiang, Neyshabur, Mobahi, Krishnan & Bengio, ICLR 2020, §4 (τ, Ψ) and App. C (measures)",
  claim:
    "Over a grid of learning rate, batch size, width and depth, some complexity measures rank the generalization " +
    "gap (their Kendall τ's confidence interval excludes 0); the norm-based bounds are vacuous while the validation " +
    "bound on held-out data is not.",
  criteria: [
    {
      name: "measuresWithTauCiExcludingZero",
      statement:
        "number of measures whose 95% jackknife interval of Kendall τ (measure vs test − train error) excludes 0",
      min: 1,
    },
    {
      name: "normBoundsVacuousFraction",
      statement: `fraction of (run, norm-based bound: ${NORM_BOUNDS.join(", ")}) pairs reported vacuous (√(μ/m) ≥ 1)`,
      min: 1,
    },
    {
      name: "validationBoundNonVacuousFraction",
      statement: "fraction of runs whose Kawaguchi et al. validation bound (test set, δ = 0.05) is < 1",
      min: 1,
    },
  ],
  time: { small: "130 s (2026-12-01)" },
  async execute(ctx) {
    const p = plan(ctx.size);
    const entries: RankEntry[] = [];
    let bounds = 0;
    let vacuous = 0;
    let validOk = 0;
    for (const lr of p.lrs)
      for (const batchSize of p.batches)
        for (const width of p.widths)
          for (const depth of p.depths) {
            const hparams = { lr, batchSize, width, depth };
            const member = `lr=${lr},B=${batchSize},w=${width},d=${depth}`;
            const run = await ctx.run(member, {
              seed: 0,
              data: mnistData(ctx.size),
              model: { kind: "mlp", hidden: Array<number>(depth).fill(width), activation: "relu" },
              loss: { kind: "ce" },
              optimizer: { kind: "sgd", lr },
              batchSize,
              steps: p.steps,
              evalEvery: p.steps,
              checkpointEvery: 0,
            });
            const r = await computeMeasures(await trainedSubject(await ctx.trained(run)), { lipschitzExamples: 16 });
            for (const b of NORM_BOUNDS) {
              const m = r.measures[b];
              if (m?.vacuous === undefined) continue;
              bounds++;
              if (m.vacuous) vacuous++;
            }
            if (r.measures["validation-bound"]?.vacuous === false) validOk++;
            entries.push({ runId: run.runId, hparams, gap: r.quantities.gap, measures: r.measures });
            ctx.log(`${member}: gap ${r.quantities.gap.toFixed(3)}, train error ${r.quantities.trainError.toFixed(3)}`);
          }
    const ranks = rankMeasures(entries, ["lr", "batchSize", "width", "depth"]);
    const excluding = ranks.filter((r) => r.ci[0] > 0 || r.ci[1] < 0);
    const top = ranks.map((r, i) => ({ i, r }));
    return {
      values: {
        measuresWithTauCiExcludingZero: excluding.length,
        normBoundsVacuousFraction: bounds > 0 ? vacuous / bounds : NaN,
        validationBoundNonVacuousFraction: validOk / entries.length,
      },
      figures: [
        lineFigure({
          id: "kendall-tau",
          title: "Kendall τ of each measure with the generalization gap (95% jackknife interval)",
          subtitle: top.map(({ i, r }) => `${i}: ${r.measure}`).join(", "),
          xLabel: "measure (index, sorted by τ)",
          yLabel: "Kendall τ (dimensionless)",
          series: [{ name: "τ", points: top.map(({ i, r }) => ({ x: i, y: r.tau })) }],
          bands: [{ name: "95% CI", points: top.map(({ i, r }) => ({ x: i, lo: r.ci[0], hi: r.ci[1] })) }],
          rules: [{ y: 0, label: "τ = 0" }],
          logY: false,
          smooth: false,
        }),
      ],
      notes: [
        ...ranks.map(
          (r) =>
            `${r.measure}: τ ${r.tau.toFixed(3)} [${r.ci[0].toFixed(2)}, ${r.ci[1].toFixed(2)}], Ψ ${r.psi.toFixed(3)} (${r.n} runs)`,
        ),
        `gaps: ${entries.map((e) => e.gap.toFixed(3)).join(", ")}`,
      ],
    };
  },
};
