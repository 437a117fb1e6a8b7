/**
 * Generic probes of the foundation: the gradient norm of an objective, weight norms, the gradient
 * noise scale and effective learning rates.
 */
import { keep, toScalar, treeNormSq, treeSub, type Params } from "../core/index.js";
import type { Probe } from "./probe.js";
import type { ProbeConfig } from "./schema.js";
import { hessianProbe } from "./hessian.js";
import { adversarialProbe } from "./adversarial.js";
import { lossStabilityProbe } from "./stability.js";
import { sharpnessProbe } from "./sharpness.js";
import { smoothnessProbe } from "./smoothness.js";
import { weightDynamicsProbe } from "./weights.js";
import { effectiveLr } from "../models/index.js";
import { gradientNoise } from "../curvature/gradients.js";

/**
 * `grad/normSq` = ‖∇L(θ)‖² and `grad/norm` of the chosen objective (`ctx.objective`): the implicit
 * gradient regulariser of Barrett & Dherin (ICLR 2021, eq. 1: L̃ = L + (h/4)‖∇L‖²).
 */
export function gradNormProbe(cfg: Extract<ProbeConfig, { kind: "gradNorm" }>): Probe {
  return {
    name: "grad",
    every: cfg.every,
    async measure(ctx) {
      const obj = ctx.objective(cfg.objective);
      try {
        const nsq = await toScalar(treeNormSq(obj.grad(keep(ctx.params))));
        return { "grad/normSq": nsq, "grad/norm": Math.sqrt(nsq) };
      } finally {
        obj.dispose();
      }
    },
  };
}

/** `weights/norm` = ‖θ‖₂ and `weights/distFromInit` = ‖θ − θ₀‖₂. */
export function weightNormProbe(cfg: Extract<ProbeConfig, { kind: "weightNorm" }>): Probe {
  return {
    name: "weights",
    every: cfg.every,
    async measure(ctx) {
      const norm = Math.sqrt(await toScalar(treeNormSq(keep(ctx.params))));
      const dist = Math.sqrt(await toScalar(treeNormSq(treeSub(keep(ctx.params), keep(ctx.initParams) as Params))));
      return { "weights/norm": norm, "weights/distFromInit": dist };
    },
  };
}

/**
 * The gradient noise scale B_simple = tr(Σ)/‖G‖² (McCandlish, Kaplan & Amodei 2018, eq. 2.8) from
 * per-example gradients of the objective: grad/noiseScale, grad/traceCov, grad/normSq (of G).
 */
export function gradNoiseProbe(cfg: Extract<ProbeConfig, { kind: "gradNoise" }>): Probe {
  return {
    name: "gradNoise",
    every: cfg.every,
    async measure(ctx) {
      const obj = ctx.objective(cfg.objective);
      try {
        const r = await gradientNoise(obj, keep(ctx.params), { groupSize: cfg.groupSize });
        return { "grad/noiseScale": r.noiseScale, "grad/traceCov": r.traceCov, "grad/meanNormSq": r.gradNormSq };
      } finally {
        obj.dispose();
      }
    },
  };
}

/**
 * `weights/effectiveLr/<group>` = η/‖w‖² for each scale-invariant parameter group of a
 * scale-invariant network (Li, Bhojanapalli, Zaheer, Reddi & Kumar 2022; Arora, Li & Lyu 2019): the
 * step size that the direction w/‖w‖ effectively sees.
 */
export function effectiveLrProbe(cfg: Extract<ProbeConfig, { kind: "effectiveLr" }>): Probe {
  return {
    name: "effectiveLr",
    every: cfg.every,
    async measure(ctx) {
      const r = await effectiveLr(keep(ctx.params), ctx.lr);
      return Object.fromEntries(Object.entries(r).map(([g, v]) => [`weights/effectiveLr/${g}`, v]));
    },
  };
}

/** Builds the probes of a spec. */
export function createProbes(configs: readonly ProbeConfig[]): Probe[] {
  return configs.map((c) => {
    switch (c.kind) {
      case "adversarial":
        return adversarialProbe(c);
      case "lossStability":
        return lossStabilityProbe(c);
      case "gradNorm":
        return gradNormProbe(c);
      case "weightNorm":
        return weightNormProbe(c);
      case "weightDynamics":
        return weightDynamicsProbe(c);
      case "hessian":
        return hessianProbe(c);
      case "gradNoise":
        return gradNoiseProbe(c);
      case "effectiveLr":
        return effectiveLrProbe(c);
      case "sharpness":
        return sharpnessProbe(c);
      case "smoothness":
        return smoothnessProbe(c);
    }
  });
}
