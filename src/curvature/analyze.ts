/**
 * One-shot Hessian analysis of an objective (what `sgdlab hessian` prints): loss, ‖∇L‖, top and
 * bottom eigenvalues with Ritz residuals (Lanczos), the trace (exact from P basis-vector products for
 * small models, else Hutchinson with its standard error), optionally the SLQ spectral density, and
 * the cost in Hessian-vector products.
 */
import { keep, release, treeSpec, type Params } from "../core/index.js";
import type { Key } from "../core/keys.js";
import type { Objective, ObjectiveDescription } from "../losses/objective.js";
import { hessianOperator } from "./hvp.js";
import { densityOnGrid, slq } from "./density.js";
import { lanczos } from "./lanczos.js";
import { CountingOperator, type LinearOperator } from "./operator.js";
import { hutchinson } from "./trace.js";

export interface HessianAnalysisOptions {
  /** Number of largest eigenvalues (0 for none). */
  top: number;
  /** Number of smallest (most negative) eigenvalues (0 for none). */
  bottom: number;
  /** Relative Ritz residual tolerance of Lanczos. */
  tol: number;
  maxIter?: number;
  /** Trace: "exact" (P products), "hutchinson", "auto" (exact when P ≤ exactTraceMax), or "none". */
  trace: "exact" | "hutchinson" | "auto" | "none";
  /** Rademacher probes of Hutchinson's estimator (default 64). */
  traceProbes?: number;
  /** Largest P for which "auto" computes the exact trace (default 2000). */
  exactTraceMax?: number;
  /** Spectral density by SLQ: number of probes and Lanczos steps per probe (omit for none). */
  density?: { probes: number; steps: number; points?: number };
  key: Key;
}

export interface HessianReport {
  objective: ObjectiveDescription;
  parameterCount: number;
  loss: number;
  gradNorm: number;
  topEigenvalues: number[];
  topResiduals: number[];
  bottomEigenvalues: number[];
  bottomResiduals: number[];
  converged: boolean;
  trace: number | null;
  traceStderr: number | null;
  traceMethod: "exact" | "hutchinson" | null;
  density: { nodes: number[][]; weights: number[][]; grid: number[]; density: number[]; sigma: number } | null;
  hvps: number;
  seconds: number;
}

/** tr(A) = Σᵢ eᵢᵀ A eᵢ from `dim` products with basis vectors (exact up to rounding). */
export async function exactTrace(op: LinearOperator): Promise<number> {
  let t = 0;
  const e = new Float64Array(op.dim);
  for (let i = 0; i < op.dim; i++) {
    e[i] = 1;
    t += (await op.matvec(e))[i];
    e[i] = 0;
  }
  return t;
}

/** Runs the requested measurements on `obj`'s Hessian at θ (the objective is borrowed; θ consumed). */
export async function analyzeHessian(
  obj: Objective,
  theta: Params,
  opts: HessianAnalysisOptions,
): Promise<HessianReport> {
  const t0 = performance.now();
  const dim = treeSpec(theta).size;
  let value: number, gradient: Float64Array;
  try {
    ({ value, gradient } = await obj.hostValueAndGradient(keep(theta)));
  } catch (e) {
    release(theta);
    throw e;
  }
  let gnsq = 0;
  for (const g of gradient) gnsq += g * g;
  const hess = hessianOperator(obj, theta);
  const op = new CountingOperator(hess);
  try {
    const report: HessianReport = {
      objective: obj.description,
      parameterCount: dim,
      loss: value,
      gradNorm: Math.sqrt(gnsq),
      topEigenvalues: [],
      topResiduals: [],
      bottomEigenvalues: [],
      bottomResiduals: [],
      converged: true,
      trace: null,
      traceStderr: null,
      traceMethod: null,
      density: null,
      hvps: 0,
      seconds: 0,
    };
    const k = Math.max(opts.top, opts.bottom);
    if (k > 0) {
      const which = opts.top > 0 && opts.bottom > 0 ? "both" : opts.top > 0 ? "largest" : "smallest";
      const r = await lanczos(op, {
        k: Math.min(k, dim),
        which,
        tol: opts.tol,
        maxIter: opts.maxIter,
        key: opts.key.fold("lanczos"),
      });
      const kk = Math.min(k, dim);
      const topN = which === "smallest" ? 0 : Math.min(opts.top, kk);
      const off = which === "both" ? kk : 0;
      report.topEigenvalues = r.values.slice(0, topN);
      report.topResiduals = r.residuals.slice(0, topN);
      if (which !== "largest") {
        report.bottomEigenvalues = r.values.slice(off, off + Math.min(opts.bottom, kk));
        report.bottomResiduals = r.residuals.slice(off, off + Math.min(opts.bottom, kk));
      }
      report.converged = r.converged;
    }
    const method = opts.trace === "auto" ? (dim <= (opts.exactTraceMax ?? 2000) ? "exact" : "hutchinson") : opts.trace;
    if (method === "exact") {
      report.trace = await exactTrace(op);
      report.traceMethod = "exact";
    } else if (method === "hutchinson") {
      const h = await hutchinson(op, { samples: opts.traceProbes ?? 64, key: opts.key.fold("hutchinson") });
      report.trace = h.estimate;
      report.traceStderr = h.stdError;
      report.traceMethod = "hutchinson";
    }
    if (opts.density) {
      const d = await slq(op, {
        probes: opts.density.probes,
        steps: Math.min(opts.density.steps, dim),
        key: opts.key.fold("slq"),
      });
      const all = d.nodes.flat();
      const lo = Math.min(...all);
      const hi = Math.max(...all);
      const sigma = Math.max((hi - lo) / 100, 1e-12);
      const g = densityOnGrid(d, {
        min: lo - 5 * sigma,
        max: hi + 5 * sigma,
        points: opts.density.points ?? 400,
        sigma,
      });
      report.density = { nodes: d.nodes, weights: d.weights, grid: g.grid, density: g.density, sigma };
    }
    report.hvps = op.count;
    report.seconds = (performance.now() - t0) / 1000;
    return report;
  } finally {
    hess.dispose();
  }
}
