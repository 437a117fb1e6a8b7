/**
 * Landscape smoothness along the gradient (Santurkar, Tsipras, Ilyas & Madry, NeurIPS 2018, "How
 * does batch normalization help optimization?", §3.1, Fig. 4): move from θ along −g, g = ∇L(θ), by
 * several step sizes η_i and record how much the loss and the gradient vary.
 *
 * Metrics: `smoothness/lossRange`, `smoothness/gradChange`, `smoothness/beta`, and `smoothness/gradNorm`
 * = ‖g‖ (the scale the others are read against).
 */
import { keep, release, toScalar, treeNorm, treeScale, treeSub, type Params } from "../core/index.js";
import type { Objective } from "../losses/objective.js";
import type { Probe } from "./probe.js";
import type { ProbeConfig } from "./schema.js";

/** The three quantities of Santurkar et al. (2018, Fig. 4) along −∇L. */
export interface Smoothness {
  /** max_i L(θ − η_i g) − min_i L(θ − η_i g) ("loss landscape"). */
  readonly lossRange: number;
  /** max_i ‖∇L(θ − η_i g) − ∇L(θ)‖₂ ("gradient predictiveness"). */
  readonly gradChange: number;
  /** max_i ‖∇L(θ − η_i g) − ∇L(θ)‖₂ / ‖η_i g‖₂ ("effective β-smoothness"). */
  readonly beta: number;
  /** ‖g‖₂ = ‖∇L(θ)‖₂. */
  readonly gradNorm: number;
  /** L(θ − η_i g) for each η_i, in the order given. */
  readonly losses: number[];
}

/**
 * With g = ∇L(θ) and θ_i = θ − η_i g for each step size η_i of `etas` (θ itself is not among the
 * points unless 0 is in `etas`):
 *   lossRange  = max_i L(θ_i) − min_i L(θ_i),
 *   gradChange = max_i ‖∇L(θ_i) − g‖₂,
 *   beta       = max_i ‖∇L(θ_i) − g‖₂ / (η_i ‖g‖₂)   (over η_i > 0),
 * as Santurkar et al. (2018, §3.1 and appendix) define them. For a quadratic L = ½(θ−θ*)ᵀA(θ−θ*),
 * ∇L(θ_i) − g = −η_i A g, so beta = ‖Ag‖/‖g‖ for every η_i (the eigenvalue when g is an eigenvector).
 * Values and gradients by `obj.valueAndGrad` (θ's dtype); a zero gradient gives beta = 0. Consumes θ.
 */
export async function smoothnessAlongGradient(
  obj: Objective,
  params: Params,
  etas: readonly number[],
): Promise<Smoothness> {
  if (etas.length === 0 || etas.some((e) => !(e >= 0))) {
    release(params);
    throw new Error(`smoothness: step sizes must be a non-empty list of numbers ≥ 0, got [${etas.join(", ")}]`);
  }
  let g: Params | null = null;
  try {
    const [v0, g0] = obj.valueAndGrad(keep(params));
    v0.dispose();
    g = g0;
    const gNorm = await toScalar(treeNorm(keep(g)));
    const losses: number[] = [];
    let gradChange = 0;
    let beta = 0;
    for (const eta of etas) {
      const [v, gi] = obj.valueAndGrad(treeSub(keep(params), treeScale(eta, keep(g))));
      const [loss, change] = await Promise.all([toScalar(v), toScalar(treeNorm(treeSub(gi, keep(g))))]);
      losses.push(loss);
      gradChange = Math.max(gradChange, change);
      if (eta > 0 && gNorm > 0) beta = Math.max(beta, change / (eta * gNorm));
    }
    return {
      lossRange: Math.max(...losses) - Math.min(...losses),
      gradChange,
      beta,
      gradNorm: gNorm,
      losses,
    };
  } finally {
    release(g);
    release(params);
  }
}

type SmoothnessProbeConfig = Extract<ProbeConfig, { kind: "smoothness" }>;

/**
 * The smoothness probe: `smoothnessAlongGradient` at the step sizes `etas` when given, else
 * `lrMultiples` × the step's learning rate (default {0.5, 1, 2, 4}·η — our choice of range around
 * the step actually taken; Santurkar et al. vary the step over a range of this kind).
 */
export function smoothnessProbe(cfg: SmoothnessProbeConfig): Probe {
  return {
    name: "smoothness",
    every: cfg.every,
    async measure(ctx) {
      const etas = cfg.etas ?? cfg.lrMultiples.map((m) => m * ctx.lr);
      const obj = ctx.objective(cfg.objective, { chunkSize: cfg.chunkSize });
      try {
        const r = await smoothnessAlongGradient(obj, keep(ctx.params), etas);
        return {
          "smoothness/lossRange": r.lossRange,
          "smoothness/gradChange": r.gradChange,
          "smoothness/beta": r.beta,
          "smoothness/gradNorm": r.gradNorm,
        };
      } finally {
        obj.dispose();
      }
    },
  };
}
