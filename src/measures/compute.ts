/**
 * The generalization measures and bounds of one trained network: measures the per-layer and
 * per-example quantities (`quantities.ts`), searches the PAC-Bayes σ, estimates the constants of the
 * stability bounds, and hands everything to the pure functions of `theory/`. Names are those of
 * Jiang, Neyshabur, Mobahi, Krishnan & Bengio, "Fantastic Generalization Measures and Where to Find
 * Them" (ICLR 2020), Appendix C, plus the bounds named below.
 */
import {
  Key,
  keep,
  release,
  toHost,
  treeFromHost,
  treeSpec,
  leafNames,
  type FloatDtype,
  type Params,
} from "../core/index.js";
import { analyzeHessian } from "../curvature/analyze.js";
import type { Dataset } from "../data/types.js";
import { createLoss, createObjective, type LossConfig, type Objective } from "../losses/index.js";
import type { Model } from "../models/types.js";
import {
  gaussianKl,
  hardtRechtSingerConvex,
  hardtRechtSingerNonConvex,
  jiangMeasures,
  kuzborskijLampertNonConvex,
  largestSigma,
  marginPercentile,
  pacBayesBound,
  squaredDistance,
  squaredNorm,
  validationBound,
} from "../theory/index.js";
import { layerNorms, mlpDenseLayers, outputMargins, pathNorm, weightLayers } from "./quantities.js";

/** What the measures are computed from. */
export interface MeasureSubject {
  readonly model: Model;
  readonly loss: LossConfig;
  /** The training set (the n of every bound). */
  readonly train: Dataset;
  /** A held-out set never used in training (the validation bound; the risk of Kuzborskij–Lampert). */
  readonly test?: Dataset;
  /** θ, flat, in the order of `model.init`'s leaves. */
  readonly flat: Float64Array;
  /** θ₀, the initialization (distance measures, the PAC-Bayes prior mean, the curvature at init). */
  readonly init?: Float64Array;
  readonly dtype: FloatDtype;
  readonly seed: number;
  readonly chunkSize?: number;
  /** α₁…α_T of the run (the stability bounds). */
  readonly stepSizes?: Float64Array;
}

/** One reported value. */
export interface MeasureValue {
  readonly value: number;
  /** ln(value), finite where the value overflows (product measures). */
  readonly log?: number;
  /** Whether the value, read as a bound on the 0–1 generalization gap or risk, is ≥ its trivial level. */
  readonly vacuous?: boolean;
  /** Jiang et al. 2020 App. C equation number, or the paper and theorem of a bound. */
  readonly equation: number | string;
  /** Inputs worth seeing beside the value (σ, L, β, …) and caveats. */
  readonly details?: Record<string, number | string | boolean>;
}

/** Options of `computeMeasures`. */
export interface MeasureOptions {
  /** Confidence parameter δ of the bounds (default 0.05). */
  readonly delta?: number;
  /** The σ search's allowed increase of the training 0–1 error (loss for regression); default 0.1 (Jiang et al.). */
  readonly sigmaTarget?: number;
  /** Weight draws per σ (default 5). */
  readonly sigmaDraws?: number;
  /** Bisection steps (default 15, as in Jiang et al.'s code). */
  readonly sigmaIterations?: number;
  /** Initial upper end of the σ bracket (default 1). */
  readonly sigmaUpper?: number;
  /** Training examples whose per-example gradient norms estimate L (default 32). */
  readonly lipschitzExamples?: number;
  /** Skip the Hessian and gradient work (the stability bounds). Default false. */
  readonly skipStability?: boolean;
}

/** The result: every measure by name, and the raw quantities behind them. */
export interface MeasuresReport {
  readonly measures: Record<string, MeasureValue>;
  readonly quantities: Record<string, number>;
  readonly notes: string[];
}

/**
 * Measures Jiang et al. 2020 read as bounds of the form gap ≲ √(μ/m) (constants and log factors
 * dropped): reported `vacuous` when √(μ/m) ≥ 1, i.e. when even the constant-free leading term says
 * nothing about a 0–1 gap (every cited bound's constant is ≥ 1, so the full bound is vacuous too).
 */
export const NORM_BOUNDS = [
  "spec-init",
  "spec-orig",
  "prod-of-spec/margin",
  "prod-of-fro/margin",
  "path-norm/margin",
  "pacbayes-init",
  "pacbayes-orig",
] as const;

const MAX_EXPANSIONS = 20;

/** Host forward pass: the row-major outputs [n, k] of the objective's examples, chunk by chunk. */
async function outputsOf(obj: Objective, p: Params): Promise<Float64Array> {
  const parts: Float64Array[] = [];
  for (const c of obj.chunks) parts.push(await toHost(obj.forward(keep(p), c.x.ref)));
  const out = new Float64Array(parts.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of parts) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

/** The measured quantity of the σ search at θ: 0–1 training error (classification) or loss. */
async function quantityAt(obj: Objective, p: Params, classification: boolean): Promise<number> {
  try {
    const r = await obj.evaluate(p);
    return classification ? 1 - r.accuracy : r.loss;
  } finally {
    release(p);
  }
}

/**
 * Every measure of Jiang et al. 2020 App. C that `jiangMeasures` computes, from θ (and θ₀ when given),
 * plus:
 *
 * - `pacbayes-bound`: the PAC-Bayes-kl bound (`pacBayesBound`; Dziugaite & Roy 2017) on the 0–1 risk
 *   of the Gibbs classifier Q = N(θ, σ²I) with prior P = N(θ₀, σ²I) (θ₀ = 0 without an init), σ from
 *   the search of Jiang et al. App. C: the largest σ (bisection, `largestSigma`) whose Monte-Carlo mean
 *   increase of the training error over `sigmaDraws` fixed draws stays ≤ `sigmaTarget`. ê_Q is that
 *   Monte-Carlo mean (not itself bounded: an optimistic reading). Because σ is chosen on the data, the
 *   KL pays ln |grid| for the finite set of values the bisection can return (a union bound over σ).
 * - `validation-bound`: Kawaguchi, Kaelbling & Bengio 2017 on the test error (one model, δ).
 * - `hrs-convex`, `hrs-nonconvex`: Hardt, Recht & Singer 2016 Thms 3.8 and 3.12 with L ≈ the largest
 *   per-example gradient norm measured (at θ and θ₀ on `lipschitzExamples` training examples: a lower
 *   estimate of the true Lipschitz constant), β ≈ λmax of the training-loss Hessian at θ (also a lower
 *   estimate of the worst-case smoothness), c = max_t t·α_t. Their assumptions (loss in [0, 1],
 *   convexity for 3.8) do not hold for a network with CE loss: read them as what the theorems would say.
 * - `kuzborskij-lampert`: their data-dependent bound with γ = λmax at θ₀ and the test error as risk.
 *
 * Consumes nothing (θ, θ₀ are host vectors).
 */
export async function computeMeasures(s: MeasureSubject, opts: MeasureOptions = {}): Promise<MeasuresReport> {
  const delta = opts.delta ?? 0.05;
  const notes: string[] = [];
  const q: Record<string, number> = {};
  const template = s.model.init(Key.fromSeed(0), s.dtype);
  const names = leafNames(template);
  const spec = treeSpec(template);
  release(template);
  const shapes = spec.shapes;
  const params = (flat: ArrayLike<number>) => treeFromHost(spec, flat) as Params;
  const classification = s.train.task === "classification";
  const n = s.train.n;

  // Per-layer quantities (host).
  const layers = layerNorms(weightLayers(names, shapes), s.flat, s.init);
  const dense = mlpDenseLayers(names, shapes, s.flat);
  const pn = dense ? pathNorm(dense) : undefined;
  if (!dense) notes.push("path norm: only for MLPs without normalization layers");

  const obj = createObjective({ model: s.model, loss: createLoss(s.loss) }, s.train, "full", {
    dtype: s.dtype,
    chunkSize: s.chunkSize,
  });
  const out: Record<string, MeasureValue> = {};
  try {
    const theta = params(s.flat);
    let base: { loss: number; accuracy: number };
    let margin: number | undefined;
    try {
      base = await obj.evaluate(theta);
      if (classification) {
        const margins = outputMargins(await outputsOf(obj, theta), s.train.labels!, s.train.numClasses);
        const g = marginPercentile(margins);
        q["margin"] = g;
        if (g > 0) margin = g;
        else notes.push(`margin: the 10th-percentile margin is ${g} ≤ 0, so the margin measures are undefined`);
      }
    } finally {
      release(theta);
    }
    const trainError = classification ? 1 - base.accuracy : NaN;
    q["trainLoss"] = base.loss;
    if (classification) q["trainError"] = trainError;

    // σ search (Jiang et al. App. C): fixed draws ε_s ~ N(0, I) from one key.
    const draws = opts.sigmaDraws ?? 5;
    const iterations = opts.sigmaIterations ?? 15;
    const key = Key.fromSeed(s.seed).fold("measures/sigma");
    const eps = Array.from({ length: draws }, (_, k) => key.fold(k).rng().normals(spec.size));
    const baseQ = classification ? trainError : base.loss;
    const perturbedMean = async (sigma: number): Promise<number> => {
      let total = 0;
      for (const e of eps)
        total += await quantityAt(obj, params(s.flat.map((v, i) => v + sigma * e[i])), classification);
      return total / draws;
    };
    const means = new Map<number, number>();
    const search = await largestSigma(
      async (sigma) => {
        const m = await perturbedMean(sigma);
        means.set(sigma, m);
        return m - baseQ;
      },
      { target: opts.sigmaTarget ?? 0.1, iterations, upper: opts.sigmaUpper ?? 1, maxExpansions: MAX_EXPANSIONS },
    );
    const sigma = search.sigma;
    q["sigma"] = sigma;

    const weightNormSq = squaredNorm(s.flat);
    const distNormSq = s.init ? squaredDistance(s.flat, s.init) : undefined;
    const jiang = jiangMeasures({
      layers,
      margin,
      n,
      pathNorm: pn,
      params: spec.size,
      sigma: sigma > 0 ? sigma : undefined,
      weightNormSq,
      distNormSq,
    });
    for (const [name, m] of Object.entries(jiang)) {
      const bound = (NORM_BOUNDS as readonly string[]).includes(name);
      out[name] = {
        value: m.value,
        log: m.log,
        equation: m.equation,
        ...(bound ? { vacuous: m.log - Math.log(n) >= 0 } : {}),
      };
    }

    if (classification && sigma > 0) {
      const risk = means.get(sigma) ?? (await perturbedMean(sigma));
      const gridCost = Math.log(MAX_EXPANSIONS + 1) + iterations * Math.LN2;
      const kl = gaussianKl(distNormSq ?? weightNormSq, sigma) + gridCost;
      const b = pacBayesBound({ empiricalRisk: Math.min(1, Math.max(0, risk)), n, kl, delta });
      out["pacbayes-bound"] = {
        value: b.value,
        vacuous: b.vacuous,
        equation: "Dziugaite & Roy 2017 (PAC-Bayes-kl, Maurer 2004 Thm 5); σ by Jiang et al. 2020 App. C",
        details: { sigma, empiricalRisk: risk, kl, prior: s.init ? "N(θ₀, σ²I)" : "N(0, σ²I)", delta },
      };
    }

    let testError: number | undefined;
    if (s.test && s.test.task === "classification") {
      const tobj = createObjective({ model: s.model, loss: createLoss(s.loss) }, s.test, "full", {
        dtype: s.dtype,
        chunkSize: s.chunkSize,
      });
      try {
        testError = await quantityAt(tobj, params(s.flat), true);
      } finally {
        tobj.dispose();
      }
      q["testError"] = testError;
      q["gap"] = testError - trainError;
      const v = validationBound({ validationRisk: testError, validationSize: s.test.n, delta });
      out["validation-bound"] = {
        value: v.value,
        vacuous: v.vacuous,
        equation: "Kawaguchi, Kaelbling & Bengio 2017 (Hoeffding + union bound, |F_val| = 1)",
        details: { testError, m: s.test.n, deviation: v.deviation, delta },
      };
    }

    if (!opts.skipStability && s.stepSizes && s.stepSizes.length > 0) {
      await stabilityBounds(s, obj, params, out, q, notes, {
        examples: opts.lipschitzExamples ?? 32,
        risk: testError,
      });
    }
  } finally {
    obj.dispose();
  }
  return { measures: out, quantities: q, notes };
}

async function lambdaMax(obj: Objective, p: Params, seed: number): Promise<number> {
  const r = await analyzeHessian(obj, p, {
    top: 1,
    bottom: 0,
    tol: 1e-3,
    trace: "none",
    key: Key.fromSeed(seed).fold("measures/hessian"),
  });
  return r.topEigenvalues[0];
}

async function stabilityBounds(
  s: MeasureSubject,
  obj: Objective,
  params: (flat: ArrayLike<number>) => Params,
  out: Record<string, MeasureValue>,
  q: Record<string, number>,
  notes: string[],
  o: { examples: number; risk?: number },
): Promise<void> {
  const n = s.train.n;
  const alphas = s.stepSizes!;
  const T = alphas.length;
  // L: the largest per-example gradient norm at θ (and θ₀) over a fixed sample of examples.
  const rows = Key.fromSeed(s.seed).fold("measures/lipschitz").rng().permutation(n).slice(0, Math.min(n, o.examples));
  let L = 0;
  for (const flat of s.init ? [s.flat, s.init] : [s.flat]) {
    for (const i of rows) {
      const one = obj.select(Int32Array.of(i));
      try {
        const { gradient } = await one.hostValueAndGradient(params(flat));
        L = Math.max(L, Math.sqrt(squaredNorm(gradient)));
      } finally {
        one.dispose();
      }
    }
  }
  const beta = await lambdaMax(obj, params(s.flat), s.seed);
  q["lipschitz"] = L;
  q["beta"] = beta;
  let sum = 0;
  let c = 0;
  alphas.forEach((a, t) => {
    sum += a;
    c = Math.max(c, a * (t + 1));
  });
  const caveat = "loss assumed in [0, 1] and L, β measured (lower estimates); CE on a network is neither";
  if (!(L > 0 && beta > 0)) {
    notes.push(`stability bounds: L = ${L}, β = ${beta}; the bounds need both > 0`);
    return;
  }
  const maxAlpha = alphas.reduce((m, a) => Math.max(m, a), 0);
  const applies = maxAlpha <= 2 / beta;
  const convex = applies
    ? hardtRechtSingerConvex({ lipschitz: L, smoothness: beta, stepSizes: alphas, n })
    : { value: (2 * L * L * sum) / n, vacuous: (2 * L * L * sum) / n >= 1 };
  out["hrs-convex"] = {
    value: convex.value,
    vacuous: convex.vacuous,
    equation: "Hardt, Recht & Singer 2016, Thm 3.8: (2L²/n) Σ α_t",
    details: {
      L,
      beta,
      sumSteps: sum,
      caveat: applies
        ? `${caveat}; convexity assumed`
        : `${caveat}; α = ${maxAlpha} > 2/β = ${2 / beta}: Thm 3.8 does not apply`,
    },
  };
  const nc = hardtRechtSingerNonConvex({ lipschitz: L, smoothness: beta, c, steps: T, n });
  out["hrs-nonconvex"] = {
    value: nc.value,
    vacuous: nc.vacuous,
    equation: "Hardt, Recht & Singer 2016, Thm 3.12 (α_t ≤ c/t)",
    details: { L, beta, c, T, caveat },
  };
  if (s.init && o.risk !== undefined) {
    const gamma = await lambdaMax(obj, params(s.init), s.seed);
    q["lambdaMaxInit"] = gamma;
    if (gamma > 0) {
      const risk = Math.max(o.risk, 1 / (s.test?.n ?? n));
      const kl = kuzborskijLampertNonConvex({ lipschitz: L, c, curvature: gamma, steps: T, n, risk });
      out["kuzborskij-lampert"] = {
        value: kl.value,
        vacuous: kl.vacuous,
        equation: "Kuzborskij & Lampert 2018, Thm 4 (γ = λmax at θ₀; an order of magnitude)",
        details: { L, gamma, c, T, risk, caveat },
      };
    } else notes.push(`kuzborskij-lampert: λmax at θ₀ is ${gamma} ≤ 0`);
  }
}
