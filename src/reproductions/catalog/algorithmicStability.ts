/**
 * Stability of SGD (Hardt, Recht & Singer, "Train faster, generalize better: Stability of stochastic
 * gradient descent", ICML 2016, Theorem 3.8 and its proof, Lemma 3.7): on a convex, L-Lipschitz,
 * β-smooth loss with α_t ≤ 2/β, coupled SGD runs on S and S⁽ⁱ⁾ (one example replaced, the same
 * sample path) satisfy E‖θ_T − θ'_T‖ ≤ (2L/n)Σα_t and the loss difference ε ≤ (2L²/n)Σα_t: the
 * distance grows with the steps and with the step size, and stays below the bound. Protocol:
 * logistic regression (a linear model with softmax CE on two Gaussian classes: convex, Lipschitz
 * and smooth), mini-batch SGD at two step sizes, coupled runs from train/coupled.ts.
 */
import { resolveSpec } from "../../experiments/resolve.js";
import { lineFigure } from "../../report/index.js";
import { coupledStability, hrsBounds, type CoupledReport, type HrsComparison } from "../../train/coupled.js";
import type { Reproduction, Size } from "../types.js";

const ETAS = [0.02, 0.1] as const;

function plan(size: Size): { n: number; steps: number; pairs: number } {
  if (size === "smoke") return { n: 40, steps: 40, pairs: 2 };
  if (size === "small") return { n: 200, steps: 400, pairs: 6 };
  return { n: 1000, steps: 4000, pairs: 20 };
}

/** Mean coupled distance at the recorded step closest to `step`. */
function distanceAt(r: CoupledReport, step: number): number {
  let best = 0;
  r.steps.forEach((s, i) => {
    if (Math.abs(s - step) < Math.abs(r.steps[best] - step)) best = i;
  });
  return r.meanDistance[best];
}

export const algorithmicStability: Reproduction = {
  name: "algorithmic-stability",
  title: "Uniform stability of SGD: the coupled-run distance grows with steps and step size, below the HRS bound",
  source: "Hardt, Recht & Singer, ICML 2016, Theorem 3.8 (convex case) and Lemma 3.7",
  claim:
    "On a convex problem (logistic regression), SGD on S and on S with one example replaced drift apart as " +
    "Σα_t grows — with the number of steps and with the step size — and both the parameter distance and the " +
    "held-out loss difference stay below the Hardt–Recht–Singer bounds (2L/n)Σα_t and (2L²/n)Σα_t.",
  criteria: [
    {
      name: "growsWithSteps",
      statement: "mean ‖θ_T − θ'_T‖ / mean ‖θ_{T/10} − θ'_{T/10}‖ at η = 0.1 (1 replaced example, mean over pairs)",
      min: 1.2,
    },
    {
      name: "growsWithEta",
      statement: "mean ‖θ_T − θ'_T‖ at η = 0.1 / the same at η = 0.02",
      min: 1.5,
    },
    {
      name: "distanceBelowBound",
      statement: "max over η of mean ‖θ_T − θ'_T‖ / (2L/n)Σα_t (L the largest per-example gradient norm measured)",
      max: 1,
    },
    {
      name: "stabilityBelowBound",
      statement: "max over η of the stability estimate (mean over pairs of max_z |Δℓ(z)| on held-out z) / (2L²/n)Σα_t",
      max: 1,
    },
  ],
  time: { small: "12 s (2026-12-01)" },
  async execute(ctx) {
    const p = plan(ctx.size);
    const reports: CoupledReport[] = [];
    const bounds: NonNullable<HrsComparison["convex"]>[] = [];
    for (const eta of ETAS) {
      ctx.log(`coupled runs at η = ${eta}: ${p.pairs} pairs, ${p.steps} steps`);
      const { spec } = resolveSpec(
        {
          name: `logreg-eta${eta}`,
          seed: 0,
          data: { kind: "gaussianMixture", classes: 2, dim: 5, nTrain: p.n, nTest: p.n },
          model: { kind: "linear" },
          loss: { kind: "ce" },
          optimizer: { kind: "sgd", lr: eta },
          batchSize: 10,
          steps: p.steps,
          dtype: "float64",
        },
        "algorithmic-stability",
      );
      const r = await coupledStability(spec, { replace: 1, pairs: p.pairs, every: Math.max(1, p.steps / 40) });
      reports.push(r);
      bounds.push(hrsBounds(r, true).convex!);
    }
    const big = reports[1];
    const T = p.steps;
    const notes = reports.map(
      (r, i) =>
        `η = ${ETAS[i]}: ‖θ_T − θ'_T‖ = ${distanceAt(r, T).toPrecision(3)} (bound ${bounds[i].distanceBound.toPrecision(3)}), ` +
        `stability ${r.stability.mean.toPrecision(3)} ± ${r.stability.stderr.toPrecision(2)} (bound ${bounds[i].lossBound.toPrecision(3)}; ` +
        `${bounds[i].why}), L = ${r.lipschitz.toPrecision(3)}, β = ${r.smoothness.toPrecision(3)}`,
    );
    return {
      values: {
        growsWithSteps: distanceAt(big, T) / distanceAt(big, T / 10),
        growsWithEta: distanceAt(reports[1], T) / distanceAt(reports[0], T),
        distanceBelowBound: Math.max(...reports.map((r, i) => distanceAt(r, T) / bounds[i].distanceBound)),
        stabilityBelowBound: Math.max(
          ...reports.map((r, i) => (bounds[i].applies ? r.stability.mean / bounds[i].lossBound : NaN)),
        ),
      },
      figures: [
        lineFigure({
          id: "distance",
          title: "Coupled-run distance ‖θ_t − θ'_t‖ (S vs S with one example replaced)",
          subtitle: `logistic regression, n = ${p.n}, batch 10, mean over ${p.pairs} pairs; dashed: HRS (2L/n)Σ_{s<t} α_s`,
          xLabel: "step",
          yLabel: "‖θ_t − θ'_t‖",
          series: reports.flatMap((r, i) => [
            { name: `η = ${ETAS[i]}`, points: r.steps.map((s, j) => ({ x: s, y: r.meanDistance[j] })) },
            {
              name: `bound η = ${ETAS[i]}`,
              points: r.steps.map((s) => ({ x: s, y: (2 * r.lipschitz * ETAS[i] * s) / r.n })),
            },
          ]),
          logY: false,
        }),
      ],
      notes,
    };
  },
};
