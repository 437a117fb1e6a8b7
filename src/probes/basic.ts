/**
 * Generic probes of the foundation: the full-objective gradient norm and weight norms.
 */
import { keep, toScalar, treeNormSq, treeSub, type Params } from "../core/index.js";
import { fullBatchValueAndGrad } from "../losses/index.js";
import { takeRows } from "../data/index.js";
import type { Probe, ProbeContext } from "./probe.js";
import type { ProbeConfig } from "./schema.js";
import { hessianProbe } from "./hessian.js";
import { effectiveLr } from "../models/index.js";
import { curvatureObjective } from "../curvature/objective.js";
import { gradientNoise } from "../curvature/gradients.js";

/** The training subset a measurement's objective uses ("full", "batch" or "subset:N"). */
export function objectiveIndices(objective: string, ctx: ProbeContext): Int32Array | null {
  if (objective === "full") return null;
  if (objective === "batch") return ctx.batchIndices;
  const n = Number(objective.slice("subset:".length));
  const total = ctx.data.train.n;
  // A fixed subset, the same at every step and for every probe: the first n of one permutation.
  const perm = ctx.rootKey.fold("objective/subset").rng().permutation(total);
  return perm.subarray(0, Math.min(n, total));
}

/**
 * `grad/normSq` = ‖∇L(θ)‖² and `grad/norm` of the chosen objective: the implicit gradient
 * regulariser of Barrett & Dherin (ICLR 2021, eq. 1: L̃ = L + (h/4)‖∇L‖²).
 */
export function gradNormProbe(cfg: Extract<ProbeConfig, { kind: "gradNorm" }>): Probe {
  return {
    name: "grad",
    every: cfg.every,
    async measure(ctx) {
      const idx = objectiveIndices(cfg.objective, ctx);
      const ds = idx === null ? ctx.data.train : takeRows(ctx.data.train, idx);
      const { value, grad } = fullBatchValueAndGrad(ctx.model, keep(ctx.params), ds, ctx.loss, {
        dtype: ctx.dtype,
        chunkSize: ctx.chunkSize,
      });
      value.dispose();
      const nsq = await toScalar(treeNormSq(grad));
      return { "grad/normSq": nsq, "grad/norm": Math.sqrt(nsq) };
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
      const idx = objectiveIndices(cfg.objective, ctx);
      const ds = idx === null ? ctx.data.train : takeRows(ctx.data.train, idx);
      const obj = curvatureObjective(ctx.model, keep(ctx.params), ds, ctx.loss, "full", { chunkSize: ctx.chunkSize });
      try {
        const r = await gradientNoise(obj, { groupSize: cfg.groupSize });
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
      case "gradNorm":
        return gradNormProbe(c);
      case "weightNorm":
        return weightNormProbe(c);
      case "hessian":
        return hessianProbe(c);
      case "gradNoise":
        return gradNoiseProbe(c);
      case "effectiveLr":
        return effectiveLrProbe(c);
    }
  });
}
