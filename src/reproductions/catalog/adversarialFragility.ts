/**
 * Adversarial fragility (Szegedy et al., "Intriguing properties of neural networks", ICLR 2014;
 * Goodfellow, Shlens & Szegedy, "Explaining and harnessing adversarial examples", ICLR 2015, Fig. 1
 * — the panda/gibbon figure; Madry et al., ICLR 2018, PGD eq. 2): a network with high clean accuracy
 * loses most of it to perturbations of a small L∞ norm found by projected gradient ascent on the input.
 */
import { lineFigure } from "../../report/index.js";
import { mnistData, widths } from "../specs.js";
import type { Reproduction, Size } from "../types.js";

const EPS = 0.1;

function plan(size: Size): { steps: number; n: number } {
  if (size === "smoke") return { steps: 20, n: 32 };
  if (size === "small") return { steps: 600, n: 500 };
  return { steps: 5000, n: 1000 };
}

export const adversarialFragility: Reproduction = {
  name: "adversarial-fragility",
  title: "Adversarial fragility: PGD at a small ε removes most of a network's accuracy",
  source: "Goodfellow, Shlens & Szegedy, ICLR 2015 (Fig. 1); Madry et al., ICLR 2018 (eq. 2)",
  claim:
    "An MLP with high clean test accuracy on MNIST digits (pixels in [0, 1], centred) keeps at most 20% of it under " +
    "a 10-step L∞ PGD attack of radius ε = 0.1 (pixel units).",
  criteria: [
    { name: "cleanAccuracy", statement: "clean accuracy on the attacked test examples", min: 0.85 },
    { name: "robustFraction", statement: "PGD robust accuracy at ε = 0.1 / clean accuracy", max: 0.2 },
  ],
  async execute(ctx) {
    const p = plan(ctx.size);
    const r = await ctx.run("mlp", {
      seed: 0,
      data: mnistData(ctx.size),
      model: { kind: "mlp", hidden: widths(ctx.size), activation: "relu" },
      loss: { kind: "ce" },
      optimizer: { kind: "adam", lr: 1e-3 },
      batchSize: 64,
      steps: p.steps,
      evalEvery: Math.max(1, Math.floor(p.steps / 6)),
      // measured at step 0 and just before the last update
      probes: [
        {
          kind: "adversarial",
          every: p.steps - 1,
          epsilons: [EPS / 4, EPS / 2, EPS],
          norms: ["linf"],
          attacks: ["fgsm", "pgd"],
          n: p.n,
          steps: 10,
        },
      ],
    });
    const clean = r.last("adversarial/clean/accuracy");
    const pgd = r.last(`adversarial/pgd/${EPS}/accuracy`);
    const eps = [0, EPS / 4, EPS / 2, EPS];
    const curve = (method: string) =>
      eps.map((e) => ({
        x: e,
        y: e === 0 ? clean : r.last(`adversarial/${method}/${e}/accuracy`),
      }));
    return {
      values: { cleanAccuracy: clean, robustFraction: pgd / clean },
      figures: [
        lineFigure({
          id: "robust-accuracy",
          title: "Test accuracy under L∞ attacks of radius ε",
          subtitle: `run ${r.runId}; ${p.n} test examples`,
          xLabel: "ε (pixel units, L∞)",
          yLabel: "accuracy (fraction)",
          series: [
            { name: "FGSM", points: curve("fgsm") },
            { name: "PGD, 10 steps", points: curve("pgd") },
          ],
          smooth: false,
        }),
      ],
    };
  },
};
