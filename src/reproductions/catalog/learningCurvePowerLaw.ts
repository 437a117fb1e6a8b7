/**
 * Learning curves follow a power law ε(m) = α·m^β + γ whose exponent can be estimated from a handful
 * of training-set sizes (Hestness, Narang, Ardalani, Diamos, Jun, Kianinejad, Patwary, Yang & Zhou,
 * "Deep Learning Scaling is Predictable, Empirically", 2017, §3 and Fig. 1). The claim is checked on
 * a task whose exponent is known in closed form.
 *
 * Planted task: least-squares linear regression in d dimensions, x ~ N(0, I_d), y = w*·x + σξ. The
 * least-squares estimate from m examples has expected test MSE σ²(1 + d/(m − d − 1)) (Breiman &
 * Freedman 1983; Hastie, Montanari, Rosset & Tibshirani, "Surprises in high-dimensional ridgeless
 * least squares interpolation", Ann. Stat. 2022, §2, the underparameterized case), so the excess
 * error falls as m^(−1) for m ≫ d over the floor γ = σ²: the planted exponent is β = −1.
 *
 * Protocol: `teacherStudent` data with a linear teacher (dim d, noise σ = 0.5 on train and test
 * targets), a `linear` student without bias (d parameters, W = 0 at init), MSE with reduction "mean",
 * full-batch GD with η = 0.4 (below 2/λmax: the Hessian 2XᵀX/m has λmax ≤ 2(1 + √(d/m))² ≈ 3.5 at
 * m = 10d) for enough steps that the optimization error is negligible (checked: the final gradient
 * norm). Sizes m = d·{10, 15, 22, 33, 50, 75, 110} (1.04 decades), several data seeds per size; the
 * test MSE on a large held-out set is the error. ε(m) = α m^β + γ is fitted to every (m, ε) pair,
 * with a pairs-bootstrap 95% percentile interval for β (`bootstrapPowerLaw`, 1000 resamples, seed 0).
 *
 * Measured at `small` (d = 20, 6 seeds per size, 42 runs, 55 s, 2026-12-01): FAIL on the CI width only.
 * β̂ = −0.73 with 95% CI [−1.50, −0.28] (contains −1, but 1.21 wide > 1), γ̂ = 0.248 (σ² = 0.25),
 * final ‖∇L‖ ≤ 9e-8. The fitted floor γ and β trade off: the excess error (≤ 12% of σ² at m = 10d,
 * 0.9% at 110d) is small against the seed-to-seed spread of the test MSE, so with γ free β is loosely
 * determined; the criterion was not changed.
 */
import { learningCurveFigure, logLogFigure } from "../../report/index.js";
import { bootstrapPowerLaw, fitPowerLaw, quantile, seededRng } from "../../theory/index.js";
import type { MemberRun, Reproduction, Size } from "../types.js";

const MULTIPLIERS = [10, 15, 22, 33, 50, 75, 110];
const SIGMA = 0.5;
const PLANTED_BETA = -1;

function plan(size: Size): { dim: number; seeds: number; nTest: number; steps: number } {
  if (size === "smoke") return { dim: 3, seeds: 1, nTest: 500, steps: 20 };
  if (size === "small") return { dim: 20, seeds: 6, nTest: 100000, steps: 150 };
  return { dim: 50, seeds: 10, nTest: 200000, steps: 200 };
}

/** The 95% band of the fitted curve over `grid` from pairs-bootstrap refits (percentiles per grid point). */
function curveBand(m: number[], eps: number[], grid: number[], resamples = 300): { lo: number[]; hi: number[] } {
  const rng = seededRng(1);
  const curves: number[][] = grid.map(() => []);
  for (let r = 0; r < resamples; r++) {
    const idx = m.map(() => rng.int(m.length));
    const mm = idx.map((i) => m[i]);
    if (new Set(mm).size < 3) continue;
    const f = fitPowerLaw(
      mm,
      idx.map((i) => eps[i]),
    );
    grid.forEach((g, k) => curves[k].push(f.alpha * g ** f.beta + f.gamma));
  }
  return { lo: curves.map((c) => quantile(c, 0.025)), hi: curves.map((c) => quantile(c, 0.975)) };
}

export const learningCurvePowerLaw: Reproduction = {
  name: "learning-curve-power-law",
  title: "Learning curves are power laws; the planted exponent of least squares is recovered",
  source:
    "Hestness et al. 2017 (§3, Fig. 1); planted exponent: Breiman & Freedman 1983, Hastie, Montanari, Rosset & Tibshirani 2022 (§2)",
  claim:
    "Test error over ≥ 6 training-set sizes spanning ≥ 1 decade fits ε(m) = α m^β + γ; on least-squares regression, " +
    "whose expected excess error is σ²d/(m − d − 1) ∝ m^(−1), the bootstrap CI of β contains the planted −1.",
  criteria: [
    { name: "sizes", statement: "number of distinct training-set sizes m", min: 6 },
    { name: "span", statement: "max m / min m", min: 10 },
    {
      name: "plantedInCi",
      statement: "1 when the planted β = −1 lies in the 95% pairs-bootstrap CI of the fitted β, else 0",
      min: 1,
    },
    { name: "ciWidth", statement: "width of the 95% CI of β (a CI wider than 1 says nothing)", max: 1 },
    { name: "gradNorm", statement: "largest final ‖∇L‖ over the runs (optimization error negligible)", max: 1e-4 },
  ],
  time: { small: "55 s (2026-12-01)" },
  async execute(ctx) {
    const p = plan(ctx.size);
    const sizes = MULTIPLIERS.map((k) => k * p.dim);
    const runs: { m: number; seed: number; run: MemberRun }[] = [];
    for (const m of sizes) {
      for (let seed = 0; seed < p.seeds; seed++) {
        const run = await ctx.run(`m=${m} seed=${seed}`, {
          seed,
          data: {
            kind: "teacherStudent",
            dim: p.dim,
            hidden: 32,
            activation: "linear",
            noise: SIGMA,
            nTrain: m,
            nTest: p.nTest,
          },
          model: { kind: "linear", bias: false, init: "zeros" },
          loss: { kind: "mse", reduction: "mean" },
          optimizer: { kind: "sgd", lr: 0.4 },
          batchSize: "full",
          // probes measure before a step: one extra step puts a gradient-norm measurement at step `p.steps`
          steps: p.steps + 1,
          evalEvery: p.steps + 1,
          probes: [{ kind: "gradNorm", every: p.steps }],
        });
        runs.push({ m, seed, run });
      }
    }
    const m = runs.map((r) => r.m);
    const eps = runs.map((r) => r.run.last("test/loss"));
    const boot = bootstrapPowerLaw(m, eps, { resamples: 1000, seed: 0 });
    const [lo, hi] = boot.beta.ci;
    const grid = Array.from({ length: 40 }, (_, i) => sizes[0] * (sizes.at(-1)! / sizes[0]) ** (i / 39));
    const band = curveBand(m, eps, grid);
    const means = sizes.map((s) => {
      const e = runs.filter((r) => r.m === s).map((r) => r.run.last("test/loss"));
      return { x: s, y: e.reduce((a, b) => a + b, 0) / e.length };
    });
    const gradNorm = Math.max(...runs.map((r) => r.run.last("grad/norm")));
    const f = boot.fit;
    const sigma2 = SIGMA * SIGMA;
    return {
      values: {
        sizes: new Set(m).size,
        span: Math.max(...m) / Math.min(...m),
        plantedInCi: lo <= PLANTED_BETA && PLANTED_BETA <= hi ? 1 : 0,
        ciWidth: hi - lo,
        gradNorm,
      },
      figures: [
        learningCurveFigure({
          points: means,
          fit: {
            a: f.alpha,
            alpha: -f.beta,
            c: f.gamma,
            grid,
            band: { grid, lo: band.lo, hi: band.hi, label: "95% pairs-bootstrap band" },
          },
          title: "Least-squares learning curve and the fitted power law",
          subtitle: `d = ${p.dim}, σ = ${SIGMA}, ${p.seeds} data seed(s) per size (points: means); planted β = −1, γ = σ² = ${sigma2}`,
          yLabel: "test MSE (mean squared error)",
        }),
        logLogFigure({
          id: "excess-error",
          title: "Excess test error over the noise floor σ², against the closed form",
          subtitle: "measured: mean test MSE − σ²; theory: σ²·d/(m − d − 1)",
          xLabel: "training-set size m (examples)",
          yLabel: "excess test MSE",
          series: [
            { name: "measured − σ²", points: means.map((q) => ({ x: q.x, y: q.y - sigma2 })) },
            {
              name: "theory σ²d/(m − d − 1)",
              points: sizes.map((s) => ({ x: s, y: (sigma2 * p.dim) / (s - p.dim - 1) })),
            },
          ],
          referenceSlopes: [-1],
        }),
      ],
      notes: [
        `fit: α = ${f.alpha.toPrecision(4)}, β = ${f.beta.toPrecision(4)} (95% CI [${lo.toPrecision(4)}, ${hi.toPrecision(4)}]), ` +
          `γ = ${f.gamma.toPrecision(4)} (95% CI [${boot.gamma.ci[0].toPrecision(4)}, ${boot.gamma.ci[1].toPrecision(4)}]; σ² = ${sigma2})` +
          `${f.betaAtBound ? " — β at the edge of its search range" : ""}`,
        `mean test MSE by m: ${means.map((q) => `${q.x}: ${q.y.toPrecision(5)}`).join(", ")}`,
        `${runs.length} runs, ${boot.failed} of ${boot.resamples} bootstrap resamples skipped`,
      ],
    };
  },
};
