/**
 * Gradient-flow integrators: θ' = f(θ) with f = −∇L, on the host in float64 state, and the comparison
 * of gradient descent with step h against the plain flow θ' = −∇L and the IGR-modified flow
 * θ' = −∇(L + (h/4)‖∇L‖²) (Barrett & Dherin, "Implicit gradient regularization", ICLR 2021, Thm 3.1:
 * GD stays O(h²) close to the modified flow on a fixed time interval, O(h) close to the plain flow).
 * The modified flow is the flow of the objective with the explicit-gradient-regularization regularizer
 * `{kind: "egr", mu: h}` (losses/egr.ts), never a separate formula.
 */
import {
  dtypeOf,
  initRuntime,
  Key,
  treeFromHost,
  treeSpec,
  treeToHost,
  type Params,
  type TreeSpec,
} from "../core/index.js";
import { hessianOperator, lanczos } from "../curvature/index.js";
import { loadData } from "../data/index.js";
import type { ExperimentSpec } from "../experiments/schema.js";
import { createLoss, createObjective, type Objective } from "../losses/index.js";
import { createModel } from "../models/index.js";
import { fitPurePowerLaw } from "../theory/powerLaw.js";

/** θ ↦ θ' (a fresh host vector; the argument is not modified). Async: gradients come from the device. */
export type VectorField = (theta: Float64Array) => Promise<Float64Array>;

/** Work done by an integration. */
export interface FlowStats {
  /** Accepted steps. */
  steps: number;
  /** Rejected steps (adaptive methods only). */
  rejected: number;
  /** Vector-field evaluations. */
  evaluations: number;
}

/** The states at the requested times (in the requested order). */
export interface FlowSolution {
  times: number[];
  states: Float64Array[];
  stats: FlowStats;
}

/** One integrator interface for fixed-step and adaptive methods. */
export interface Integrator {
  /** "rk4(dt=…)" or "dopri(rtol=…, atol=…)". */
  readonly name: string;
  /** Integrates θ' = field(θ) from θ(0) = theta0 to each of `times` (≥ 0, any order); theta0 is not modified. */
  integrate(field: VectorField, theta0: Float64Array, times: readonly number[]): Promise<FlowSolution>;
}

/** y + Σ cᵢ kᵢ (a fresh vector). */
function combine(y: Float64Array, h: number, cs: readonly number[], ks: readonly Float64Array[]): Float64Array {
  const out = Float64Array.from(y);
  for (let j = 0; j < cs.length; j++) {
    const c = h * cs[j];
    if (c === 0) continue;
    const k = ks[j];
    for (let i = 0; i < out.length; i++) out[i] += c * k[i];
  }
  return out;
}

/** The output times sorted ascending with their positions in the request; checks they are finite and ≥ 0. */
function schedule(times: readonly number[]): { t: number; i: number }[] {
  for (const t of times)
    if (!(Number.isFinite(t) && t >= 0)) throw new Error(`flow: output times must be finite and >= 0, got ${t}`);
  return times.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t);
}

/**
 * The classical fourth-order Runge–Kutta method with fixed step ≤ `dt` (each interval between output
 * times is split into ⌈Δt/dt⌉ equal steps so that outputs fall on steps):
 *   k₁ = f(y), k₂ = f(y + dt/2·k₁), k₃ = f(y + dt/2·k₂), k₄ = f(y + dt·k₃), y⁺ = y + dt/6·(k₁ + 2k₂ + 2k₃ + k₄).
 * Global error O(dt⁴) (Hairer, Nørsett & Wanner, "Solving ODEs I", §II.1).
 */
export function rk4(opts: { dt: number }): Integrator {
  const { dt } = opts;
  if (!(dt > 0 && Number.isFinite(dt))) throw new Error(`rk4: dt must be > 0, got ${dt}`);
  return {
    name: `rk4(dt=${dt})`,
    async integrate(field, theta0, times) {
      const stats: FlowStats = { steps: 0, rejected: 0, evaluations: 0 };
      const states: Float64Array[] = new Array<Float64Array>(times.length);
      let y: Float64Array = Float64Array.from(theta0);
      let t = 0;
      for (const out of schedule(times)) {
        const n = Math.ceil((out.t - t) / dt - 1e-9);
        const h = n > 0 ? (out.t - t) / n : 0;
        for (let s = 0; s < n; s++) {
          const k1 = await field(y);
          const k2 = await field(combine(y, h, [0.5], [k1]));
          const k3 = await field(combine(y, h, [0.5], [k2]));
          const k4 = await field(combine(y, h, [1], [k3]));
          y = combine(y, h, [1 / 6, 1 / 3, 1 / 3, 1 / 6], [k1, k2, k3, k4]);
          stats.evaluations += 4;
          stats.steps++;
        }
        t = out.t;
        states[out.i] = Float64Array.from(y);
      }
      return { times: [...times], states, stats };
    },
  };
}

/** Options of {@link dormandPrince}. */
export interface DormandPrinceOptions {
  /** Relative tolerance (default 1e-8). */
  rtol?: number;
  /** Absolute tolerance (default 1e-10). */
  atol?: number;
  /** First step (default: Hairer's estimate 0.01·‖y₀‖/‖f(y₀)‖ in the error norm). */
  h0?: number;
  /** Accepted + rejected steps before giving up (default 1e6). */
  maxSteps?: number;
}

// Dormand & Prince (1980) RK5(4)7M tableau (Hairer, Nørsett & Wanner, Table II.5.2); the field is
// autonomous, so the nodes c = (0, 1/5, 3/10, 4/5, 8/9, 1, 1) are not needed.
const A: number[][] = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
/** b (5th order, = the last row of A: FSAL) minus b̂ (embedded 4th order). */
const E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];

/**
 * Adaptive Dormand–Prince 5(4) with error control (Dormand & Prince 1980; Hairer, Nørsett & Wanner,
 * "Solving ODEs I", §II.4–5): the 5th-order solution is propagated (local extrapolation), the
 * embedded 4th-order one estimates the error err = ‖(y₅ − y₄)ᵢ / (atol + rtol·max(|yᵢ|, |y⁺ᵢ|))‖_RMS;
 * a step is accepted when err ≤ 1, else rejected and retried; the next step is
 * h·min(5, max(0.2, 0.9·err^(−1/5))) (no growth right after a rejection). FSAL: the last stage of an
 * accepted step is the first of the next (6 evaluations per step). Steps are shortened to land on the
 * output times without shrinking the step proposed for the next interval.
 */
export function dormandPrince(opts: DormandPrinceOptions = {}): Integrator {
  const rtol = opts.rtol ?? 1e-8;
  const atol = opts.atol ?? 1e-10;
  const maxSteps = opts.maxSteps ?? 1e6;
  if (!(rtol >= 0 && atol >= 0 && rtol + atol > 0)) throw new Error(`dopri: tolerances must be >= 0, not both 0`);
  return {
    name: `dopri(rtol=${rtol}, atol=${atol})`,
    async integrate(field, theta0, times) {
      const stats: FlowStats = { steps: 0, rejected: 0, evaluations: 0 };
      const states: Float64Array[] = new Array<Float64Array>(times.length);
      const plan = schedule(times);
      const n = theta0.length;
      let y: Float64Array = Float64Array.from(theta0);
      let t = 0;
      let k1 = await field(y);
      stats.evaluations++;
      const scaleNorm = (v: Float64Array, ref: Float64Array) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += (v[i] / (atol + rtol * Math.abs(ref[i]))) ** 2;
        return Math.sqrt(s / Math.max(1, n));
      };
      let h = opts.h0 ?? 0;
      if (!(h > 0)) {
        const d0 = scaleNorm(y, y);
        const d1 = scaleNorm(k1, y);
        h = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1;
      }
      let rejectedLast = false;
      for (const out of plan) {
        while (t < out.t) {
          if (stats.steps + stats.rejected >= maxSteps)
            throw new Error(`dopri: more than ${maxSteps} steps before t = ${out.t} (stopped at t = ${t})`);
          const remaining = out.t - t;
          const last = h >= remaining * (1 - 1e-12);
          const step = last ? remaining : h;
          const ks = [k1];
          for (let s = 1; s < 7; s++) {
            const ys = combine(y, step, A[s], ks);
            ks.push(await field(ys));
          }
          stats.evaluations += 6;
          const yNew = combine(y, step, A[6], ks); // 5th order; ks[6] = f(yNew) (FSAL)
          const errVec = combine(new Float64Array(n), step, E, ks);
          let s2 = 0;
          for (let i = 0; i < n; i++) {
            const sc = atol + rtol * Math.max(Math.abs(y[i]), Math.abs(yNew[i]));
            s2 += (errVec[i] / sc) ** 2;
          }
          const err = Math.sqrt(s2 / Math.max(1, n));
          const factor = err === 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * err ** -0.2));
          if (err <= 1 && Number.isFinite(err)) {
            t = last ? out.t : t + step;
            y = yNew;
            k1 = ks[6];
            stats.steps++;
            // The proposal grows from the step actually taken only when it was not shortened to land.
            if (!last || step === h) h = step * (rejectedLast ? Math.min(1, factor) : factor);
            rejectedLast = false;
          } else {
            stats.rejected++;
            h = step * (Number.isFinite(err) ? Math.min(1, factor) : 0.2);
            rejectedLast = true;
            if (!(h > 1e-300)) throw new Error(`dopri: step size underflow at t = ${t}`);
          }
        }
        states[out.i] = Float64Array.from(y);
      }
      return { times: [...times], states, stats };
    },
  };
}

/**
 * The gradient field θ ↦ −∇L̃(θ) of an objective (its regularizer included: with `{kind: "egr", mu: h}`
 * this is the IGR-modified flow). θ is uploaded in the objective's dtype; the gradient is read back in
 * float64. Borrows `obj`.
 */
export function gradientField(obj: Objective, spec: TreeSpec): VectorField {
  const dtype = dtypeOf(obj.dtype);
  return async (theta) => {
    const g = await treeToHost(obj.grad(treeFromHost(spec, theta, dtype) as Params));
    for (let i = 0; i < g.length; i++) g[i] = -g[i];
    return g;
  };
}

/**
 * Gradient descent θₖ₊₁ = θₖ + h·f(θₖ) (f = −∇L) on the host in float64, returning θ at the
 * requested step counts (sorted ascending, ≥ 0).
 */
export async function gradientDescentHost(
  field: VectorField,
  theta0: Float64Array,
  h: number,
  atSteps: readonly number[],
): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  let y: Float64Array = Float64Array.from(theta0);
  let k = 0;
  for (const target of atSteps) {
    for (; k < target; k++) y = combine(y, h, [1], [await field(y)]);
    out.push(Float64Array.from(y));
  }
  return out;
}

/** ‖a − b‖₂. */
export function distance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** One step size of {@link compareGdWithFlows}. */
export interface FlowComparisonRow {
  h: number;
  /** GD steps K = round(T/h); the comparison time is K·h. */
  steps: number;
  time: number;
  /** ‖θ_GD(K·h) − θ_flow(K·h)‖ and ‖θ_GD(K·h) − θ_mod(K·h)‖ (modified flow with μ = h). */
  distFlow: number;
  distModified: number;
  /** The same distances along t = k·h at about `samples` step counts k. */
  along: { step: number; t: number; distFlow: number; distModified: number }[];
  /** Work of the modified flow's integration. */
  modifiedStats: FlowStats;
}

/** The result of {@link compareGdWithFlows}. */
export interface FlowComparison {
  rows: FlowComparisonRow[];
  /** Log–log least-squares slopes of the final distances against h (NaN with < 3 step sizes or a zero distance). */
  slopeFlow: number;
  slopeModified: number;
  flowStats: FlowStats;
  integrator: string;
}

/** Log–log slope of y against x (NaN when it cannot be fitted). */
export function logLogSlope(x: readonly number[], y: readonly number[]): number {
  if (x.length < 3 || !y.every((v) => v > 0 && Number.isFinite(v))) return NaN;
  return fitPurePowerLaw(x, y).beta;
}

/**
 * GD with each step size h for K = round(T/h) steps against the plain flow θ' = `plain`(θ) and the
 * modified flow θ' = `modified(h)`(θ), integrated by `integrator` from the same θ₀ to the same times
 * t = k·h (Barrett & Dherin 2021, Thm 3.1: the distances shrink as O(h) and O(h²) on a smooth loss).
 * `modified` null skips the modified flow (its distances are NaN).
 */
export async function compareGdWithFlows(
  plain: VectorField,
  modified: ((h: number) => VectorField) | null,
  theta0: Float64Array,
  opts: { hs: readonly number[]; time: number; integrator: Integrator; samples?: number; log?: (m: string) => void },
): Promise<FlowComparison> {
  const samples = opts.samples ?? 10;
  const plans = opts.hs.map((h) => {
    const steps = Math.max(1, Math.round(opts.time / h));
    const stride = Math.max(1, Math.floor(steps / samples));
    const at: number[] = [];
    for (let k = stride; k < steps; k += stride) at.push(k);
    at.push(steps);
    return { h, steps, at };
  });
  const allTimes = [...new Set(plans.flatMap((p) => p.at.map((k) => k * p.h)))].sort((a, b) => a - b);
  const flow = await opts.integrator.integrate(plain, theta0, allTimes);
  opts.log?.(`flow: ${opts.integrator.name}, ${flow.stats.steps} steps, ${flow.stats.evaluations} gradients`);
  const flowAt = new Map(allTimes.map((t, i) => [t, flow.states[i]]));
  const rows: FlowComparisonRow[] = [];
  for (const p of plans) {
    const gd = await gradientDescentHost(plain, theta0, p.h, p.at);
    const times = p.at.map((k) => k * p.h);
    const mod = modified
      ? await opts.integrator.integrate(modified(p.h), theta0, times)
      : { states: times.map(() => null), stats: { steps: 0, rejected: 0, evaluations: 0 } };
    const along = p.at.map((k, i) => ({
      step: k,
      t: times[i],
      distFlow: distance(gd[i], flowAt.get(times[i])!),
      distModified: mod.states[i] ? distance(gd[i], mod.states[i]) : NaN,
    }));
    const end = along[along.length - 1];
    rows.push({
      h: p.h,
      steps: p.steps,
      time: end.t,
      distFlow: end.distFlow,
      distModified: end.distModified,
      along,
      modifiedStats: mod.stats,
    });
    const modText = modified ? `, ‖GD − modified‖ = ${end.distModified.toExponential(3)}` : "";
    opts.log?.(`h=${p.h}: ‖GD − flow‖ = ${end.distFlow.toExponential(3)}${modText}`);
  }
  const hs = rows.map((r) => r.h);
  return {
    rows,
    slopeFlow: logLogSlope(
      hs,
      rows.map((r) => r.distFlow),
    ),
    slopeModified: logLogSlope(
      hs,
      rows.map((r) => r.distModified),
    ),
    flowStats: flow.stats,
    integrator: opts.integrator.name,
  };
}

/** A spec's loss as a flow problem (see {@link flowProblem}). */
export interface FlowProblem {
  /** θ₀ (float64) and its tree structure. */
  theta0: Float64Array;
  spec: TreeSpec;
  /** The unregularized full-training-set objective in float64. */
  objective: Objective;
  /** θ ↦ −∇L(θ). */
  plain: VectorField;
  /** θ ↦ −∇(L + (h/4)‖∇L‖²): the objective with the egr regularizer μ = h. */
  modified(h: number): VectorField;
  /** λmax of ∇²L(θ₀) (Lanczos, relative residual 1e-6). */
  lambdaMax(): Promise<number>;
  dispose(): void;
}

/**
 * The flow problem of a spec: its data, model and loss (without the spec's regularizer), the full
 * training set in float64, and its initialization `model.init(Key.fromSeed(seed).fold("init"))` — the
 * trainer's, drawn in float64.
 */
export async function flowProblem(
  s: Pick<ExperimentSpec, "seed" | "data" | "model" | "loss" | "backend" | "chunkSize">,
): Promise<FlowProblem> {
  await initRuntime(s.backend);
  const data = await loadData(s.data, s.seed);
  const outputDim = data.train.task === "classification" ? data.train.numClasses : data.train.targetDim;
  const model = createModel(s.model, data.train.xShape, outputDim);
  const loss = createLoss(s.loss);
  const objective = createObjective({ model, loss }, data.train, "full", {
    dtype: "float64",
    chunkSize: s.chunkSize,
    compile: true,
  });
  const p = model.init(Key.fromSeed(s.seed).fold("init"), "float64") as Params;
  const spec = treeSpec(p);
  const theta0 = await treeToHost(p);
  const variants: Objective[] = [];
  return {
    theta0,
    spec,
    objective,
    plain: gradientField(objective, spec),
    modified(h) {
      const v = objective.variant({ regularizer: { kind: "egr", mu: h }, compile: true });
      variants.push(v);
      return gradientField(v, spec);
    },
    async lambdaMax() {
      const op = hessianOperator(objective, treeFromHost(spec, theta0, dtypeOf("float64")) as Params);
      try {
        const r = await lanczos(op, { k: 1, tol: 1e-6, key: Key.fromSeed(s.seed).fold("flow/lanczos") });
        return r.values[0];
      } finally {
        op.dispose();
      }
    },
    dispose() {
      for (const v of variants) v.dispose();
      objective.dispose();
    },
  };
}
