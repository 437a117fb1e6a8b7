/**
 * Sharpness tracking during training: the top (and bottom) Hessian eigenvalues of the training
 * objective by Lanczos, warm-started from the previous measurement's eigenvectors, compared with the
 * optimizer's stability threshold (edge of stability: Cohen, Kaur, Li, Kolter & Talwalkar, ICLR 2021,
 * λmax rises to ≈ 2/η under full-batch GD), plus optional Hutchinson trace and SLQ density.
 *
 * Metrics: hessian/lambdaMax, hessian/lambda2..k, hessian/lambdaMin (and lambdaMin2..), hessian/residual
 * (largest relative Ritz residual), hessian/hvps (products used), hessian/threshold and
 * hessian/eosRatio = λmax / threshold (= λmax·η/2 for plain GD), hessian/trace and
 * hessian/traceStderr. Artifact hessian/density: {nodes, weights, grid, density, sigma}.
 */
import { keep } from "../core/index.js";
import { analyzeHessian } from "../curvature/analyze.js";
import { lanczos } from "../curvature/lanczos.js";
import { hessianOperator } from "../curvature/hvp.js";
import { CountingOperator } from "../curvature/operator.js";
import { hutchinson } from "../curvature/trace.js";
import { preconditionedOperator } from "../curvature/precond.js";
import { UserError } from "../core/errors.js";
import type { LinearOperator } from "../curvature/operator.js";
import type { ProbeContext } from "./probe.js";
import type { Probe } from "./probe.js";
import type { ProbeConfig } from "./schema.js";

type HessianProbeConfig = Extract<ProbeConfig, { kind: "hessian" }>;

/** The sharpness probe; keeps the last eigenvectors for warm starts. */
export function hessianProbe(cfg: HessianProbeConfig): Probe {
  let previous: Float64Array[] | null = null;
  return {
    name: "hessian",
    every: cfg.every,
    saveState() {
      return Object.fromEntries((previous ?? []).map((v, i) => [`v${i}`, v]));
    },
    loadState(state) {
      const vs = Object.keys(state)
        .filter((k) => /^v[0-9]+$/.test(k))
        .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
        .map((k) => state[k]);
      previous = vs.length ? vs : null;
    },
    async measure(ctx) {
      const obj = ctx.objective(cfg.objective, { chunkSize: cfg.chunkSize });
      const hess = hessianOperator(obj, keep(ctx.params));
      const op = new CountingOperator(hess);
      try {
        const out: Record<string, number> = {};
        const which = cfg.bottomK > 0 ? "both" : "largest";
        const k = Math.min(Math.max(cfg.topK, cfg.bottomK), op.dim);
        const r = await lanczos(op, {
          k,
          which,
          tol: cfg.tol,
          maxIter: cfg.maxIter,
          key: ctx.key,
          start: cfg.warmStart && previous ? previous : undefined,
        });
        const top = r.values.slice(0, Math.min(cfg.topK, k));
        top.forEach((v, i) => (out[i === 0 ? "hessian/lambdaMax" : `hessian/lambda${i + 1}`] = v));
        if (which === "both") {
          r.values
            .slice(k, k + cfg.bottomK)
            .forEach((v, i) => (out[i === 0 ? "hessian/lambdaMin" : `hessian/lambdaMin${i + 1}`] = v));
        }
        out["hessian/residual"] = Math.max(
          ...r.residuals.map((res, i) => res / Math.max(Math.abs(r.values[i]), 1e-30)),
        );
        previous = r.vectors
          .slice(0, Math.min(cfg.topK, k))
          .concat(which === "both" ? r.vectors.slice(k, k + cfg.bottomK) : []);
        const threshold = ctx.lr > 0 ? ctx.transform.stabilityThreshold?.(ctx.lr) : undefined;
        if (threshold !== undefined) {
          out["hessian/threshold"] = threshold;
          out["hessian/eosRatio"] = top[0] / threshold;
        }
        if (cfg.preconditioned) Object.assign(out, await preconditionedSharpness(ctx, op, cfg));
        if (cfg.traceProbes > 0) {
          const h = await hutchinson(op, { samples: cfg.traceProbes, key: ctx.key.fold("trace") });
          out["hessian/trace"] = h.estimate;
          out["hessian/traceStderr"] = h.stdError;
        }
        if (cfg.density) {
          const rep = await analyzeHessian(obj, keep(ctx.params), {
            top: 0,
            bottom: 0,
            tol: cfg.tol,
            trace: "none",
            density: { probes: cfg.density.probes, steps: cfg.density.steps },
            key: ctx.key.fold("density"),
          });
          ctx.artifact("hessian/density", { ...rep.density, objective: obj.description });
          out["hessian/densityHvps"] = rep.hvps;
        }
        out["hessian/hvps"] = op.count;
        return out;
      } finally {
        hess.dispose();
        obj.dispose();
      }
    },
  };
}

/**
 * λmax(P⁻¹H) through the similar symmetric operator P^{-1/2} H P^{-1/2}, with P and the threshold the
 * optimizer's own (`ctx.transform.preconditioner`: Adam/AdamW (2 + 2β₁)/((1 − β₁)η), RMSProp 2/η or
 * its momentum form; Cohen et al. 2022, "Adaptive gradient methods at the edge of stability", §3).
 * Nothing at step 0 (Adam's P needs its bias correction, defined after the first update); threshold
 * and ratio only where the optimizer has a constant threshold (not AdaGrad). A UserError when the
 * optimizer has no preconditioner.
 */
async function preconditionedSharpness(
  ctx: ProbeContext,
  op: LinearOperator,
  cfg: HessianProbeConfig,
): Promise<Record<string, number>> {
  const pre = ctx.transform.preconditioner;
  if (pre === undefined) {
    throw new UserError(
      `hessian probe: preconditioned sharpness needs an optimizer with a diagonal preconditioner ` +
        `(adam, adamw, rmsprop, adagrad, gadam, or sam around one), not ${ctx.optimizer.kind}`,
    );
  }
  if (ctx.step === 0) return {};
  const p = await pre.diagonal(ctx.optState);
  const r = await lanczos(preconditionedOperator(op, p), {
    k: 1,
    tol: cfg.tol,
    maxIter: cfg.maxIter,
    key: ctx.key.fold("precond"),
  });
  const threshold = ctx.lr > 0 ? pre.threshold?.(ctx.lr) : undefined;
  if (threshold === undefined) return { "hessian/precondLambdaMax": r.values[0] };
  return {
    "hessian/precondLambdaMax": r.values[0],
    "hessian/precondThreshold": threshold,
    "hessian/precondEosRatio": r.values[0] / threshold,
  };
}
