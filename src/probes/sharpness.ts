/**
 * Parameter-perturbation robustness: average and worst-case sharpness of an objective, plain and
 * adaptive (ASAM-normalized), with m-sharpness. Metric keys (σ and ρ written as JS numbers):
 *
 * - `sharpness/average/<σ>` and `…/<σ>/stderr`, `sharpness/adaptiveAverage/<σ>` and `…/stderr`;
 * - `sharpness/worst/<ρ>` and `sharpness/adaptiveWorst/<ρ>` (with `m`: the m-sharpness, and
 *   `…/<ρ>/stderr` over the chunks).
 *
 * Every loss difference is taken on one `Objective` (the probe's `objective`, default "subset:256").
 */
import {
  keep,
  release,
  toScalar,
  treeFromHost,
  treeSpec,
  treeToHost,
  type Key,
  type Params,
  type TreeSpec,
} from "../core/index.js";
import { treeAdd } from "../core/tree.js";
import type { Objective } from "../losses/objective.js";
import type { Probe } from "./probe.js";
import type { ProbeConfig } from "./schema.js";

/** A Monte Carlo mean with its standard error (NaN with one draw). */
export interface Estimate {
  readonly mean: number;
  readonly stderr: number;
}

/** Mean and standard error s/√n of `xs`. */
export function meanStderr(xs: readonly number[]): Estimate {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { mean, stderr: NaN };
  const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { mean, stderr: Math.sqrt(v / n) };
}

/**
 * The ASAM scale T_θ = |θ| + η, elementwise, as a host vector (Kwon, Kim, Park & Choi, ICML 2021,
 * §3, T_w = diag(|w_i|) + η I — the normalization operator; Andriushchenko et al. 2023 use η = 0).
 * Consumes θ.
 */
export async function adaptiveScale(params: Params, eta: number): Promise<Float64Array> {
  const t = await treeToHost(params);
  for (let i = 0; i < t.length; i++) t[i] = Math.abs(t[i]) + eta;
  return t;
}

/** θ + δ for a host vector δ (consumes θ). */
function shifted(params: Params, spec: TreeSpec, delta: ArrayLike<number>): Params {
  return treeAdd(params, treeFromHost(spec, delta) as Params);
}

/** Options of `averageSharpness`. */
export interface AverageSharpnessOptions {
  readonly sigmas: readonly number[];
  /** Draws of ε (the same draws serve every σ: common random numbers). */
  readonly samples: number;
  readonly key: Key;
  /** ASAM scale T_θ (host, `adaptiveScale`): the perturbation becomes σ T_θ ⊙ ε. */
  readonly scale?: Float64Array;
}

/**
 * Average sharpness S_avg(σ) = E_ε[L(θ + σ T ⊙ ε)] − L(θ), ε ~ N(0, I), by Monte Carlo over
 * `samples` draws, with its standard error, for each σ (T = 1, or the ASAM scale for the adaptive
 * average sharpness of Andriushchenko, Croce, Müller, Hein & Flammarion, ICML 2023, "A modern look
 * at the relationship between sharpness and generalization", eq. 2 with δ ~ N(0, σ² diag(|θ|²))).
 * The Gaussian perturbation is the sharpness of Keskar et al. (ICLR 2017) averaged instead of
 * maximized and the quantity behind the PAC-Bayes measures of Jiang et al. (ICLR 2020, "Fantastic
 * generalization measures", §C: sharpness and PAC-Bayes with σ). For a quadratic
 * L = ½(θ−θ*)ᵀA(θ−θ*) it equals (σ²/2)·tr(TAT) exactly in expectation. Losses by `obj.value`.
 * Borrows nothing: consumes θ.
 */
export async function averageSharpness(
  obj: Objective,
  params: Params,
  opts: AverageSharpnessOptions,
): Promise<Map<number, Estimate>> {
  try {
    const spec = treeSpec(params);
    const base = await obj.value(keep(params));
    const diffs = opts.sigmas.map(() => [] as number[]);
    for (let s = 0; s < opts.samples; s++) {
      const eps = opts.key.fold(s).rng().normals(spec.size);
      if (opts.scale) for (let i = 0; i < eps.length; i++) eps[i] *= opts.scale[i];
      for (const [j, sigma] of opts.sigmas.entries()) {
        const delta = eps.map((e) => sigma * e);
        diffs[j].push((await obj.value(shifted(keep(params), spec, delta))) - base);
      }
    }
    return new Map(opts.sigmas.map((sigma, j) => [sigma, meanStderr(diffs[j])]));
  } finally {
    release(params);
  }
}

/** Options of `worstCaseSharpness`. */
export interface WorstCaseOptions {
  readonly rho: number;
  /** Ascent steps per restart (default 10). */
  readonly steps?: number;
  /** Step length in units of ρ (default 1). */
  readonly stepSize?: number;
  /** Random starts in the ball; the best value over all iterates of all restarts is kept (default 1). */
  readonly restarts?: number;
  readonly key: Key;
  /** ASAM scale T_θ (host, `adaptiveScale`): the ball becomes ‖T⁻¹δ‖₂ ≤ ρ. */
  readonly scale?: Float64Array;
}

/**
 * Worst-case sharpness S_max(ρ) = max_{‖T⁻¹δ‖₂ ≤ ρ} L(θ + δ) − L(θ) by projected gradient ascent
 * (Foret, Kleiner, Mobahi & Neyshabur, ICLR 2021, eq. 1 — SAM's inner problem, solved there by one
 * step; Keskar et al. 2017 maximize in a box; Andriushchenko et al. 2023, eq. 1, run multi-step
 * ascent). With δ = T ⊙ u (T = 1 plain; T = |θ| + η adaptive, Kwon et al. 2021, eq. 6), each restart
 * draws u₀ uniformly in the ball ‖u‖ ≤ ρ and iterates
 *   u ← Π_ρ(u + αρ · g_u/‖g_u‖),  g_u = T ⊙ ∇L(θ + T ⊙ u),  Π_ρ(u) = u·min(1, ρ/‖u‖),
 * for `steps` steps (normalized steps of length α·ρ, α = `stepSize`), and the largest
 * L(θ + T ⊙ u_k) − L(θ) seen over every iterate of every restart is returned (a lower bound of the
 * maximum). Values and gradients come from `obj.valueAndGrad` (θ's dtype). For a quadratic at its
 * minimum the maximum is (ρ²/2)·λmax(TAT). Consumes θ.
 */
export async function worstCaseSharpness(obj: Objective, params: Params, opts: WorstCaseOptions): Promise<number> {
  const steps = opts.steps ?? 10;
  const alpha = (opts.stepSize ?? 1) * opts.rho;
  const restarts = opts.restarts ?? 1;
  const t = opts.scale;
  try {
    const spec = treeSpec(params);
    const n = spec.size;
    const lossAt = async (delta: Float64Array): Promise<[number, Float64Array]> => {
      const [v, g] = obj.valueAndGrad(shifted(keep(params), spec, delta));
      return Promise.all([toScalar(v), treeToHost(g)]);
    };
    const base = (await lossAt(new Float64Array(n)))[0];
    let best = -Infinity;
    for (let r = 0; r < restarts; r++) {
      const rng = opts.key.fold(r).rng();
      const u = rng.normals(n);
      const radius = (opts.rho * Math.pow(rng.uniform(), 1 / n)) / norm(u);
      for (let i = 0; i < n; i++) u[i] *= radius;
      for (let k = 0; ; k++) {
        const delta = t ? u.map((x, i) => x * t[i]) : u;
        const [v, g] = await lossAt(delta);
        best = Math.max(best, v - base);
        if (k === steps) break;
        if (t) for (let i = 0; i < n; i++) g[i] *= t[i];
        const gn = norm(g);
        if (!(gn > 0)) break; // a stationary point: nothing to ascend
        for (let i = 0; i < n; i++) u[i] += (alpha * g[i]) / gn;
        const un = norm(u);
        if (un > opts.rho) for (let i = 0; i < n; i++) u[i] *= opts.rho / un;
      }
    }
    return best;
  } finally {
    release(params);
  }
}

/**
 * m-sharpness (Foret et al. 2021, §4.1; Andriushchenko & Flammarion, ICML 2022, eq. 3):
 * (1/K) Σ_k max_{‖T⁻¹δ‖≤ρ} L_{S_k}(θ + δ) − L_{S_k}(θ) over the K = ⌊n/m⌋ consecutive chunks S_k of
 * m examples of the objective (the remaining n mod m examples are left out), each maximized by
 * `worstCaseSharpness` with its own key; returns the mean over chunks and its standard error.
 * Consumes θ.
 */
export async function mSharpness(obj: Objective, params: Params, m: number, opts: WorstCaseOptions): Promise<Estimate> {
  try {
    const k = Math.floor(obj.dataset.n / m);
    if (k < 1) throw new Error(`sharpness: m = ${m} exceeds the objective's ${obj.dataset.n} examples`);
    const values: number[] = [];
    for (let j = 0; j < k; j++) {
      const chunk = obj.select(Int32Array.from({ length: m }, (_, i) => j * m + i));
      try {
        values.push(await worstCaseSharpness(chunk, keep(params), { ...opts, key: opts.key.fold(j) }));
      } finally {
        chunk.dispose();
      }
    }
    return meanStderr(values);
  } finally {
    release(params);
  }
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

type SharpnessProbeConfig = Extract<ProbeConfig, { kind: "sharpness" }>;

/**
 * The sharpness probe: average sharpness at each σ of `sigmas` (and `adaptiveSigmas`), worst-case
 * sharpness at each ρ of `rhos` (and `adaptiveRhos`, ASAM scale |θ| + `eta`), the latter as
 * m-sharpness when `m` is set. Keys derive from `ctx.key`; the objective is disposed after use.
 */
export function sharpnessProbe(cfg: SharpnessProbeConfig): Probe {
  return {
    name: "sharpness",
    every: cfg.every,
    async measure(ctx) {
      const obj = ctx.objective(cfg.objective, { chunkSize: cfg.chunkSize });
      try {
        const out: Record<string, number> = {};
        const scale =
          cfg.adaptiveSigmas.length + cfg.adaptiveRhos.length > 0
            ? await adaptiveScale(keep(ctx.params), cfg.eta)
            : undefined;
        const average = async (name: string, sigmas: readonly number[], s?: Float64Array) => {
          if (sigmas.length === 0) return;
          const key = ctx.key.fold(name);
          const r = await averageSharpness(obj, keep(ctx.params), { sigmas, samples: cfg.samples, key, scale: s });
          for (const [sigma, e] of r) {
            out[`sharpness/${name}/${sigma}`] = e.mean;
            out[`sharpness/${name}/${sigma}/stderr`] = e.stderr;
          }
        };
        const worst = async (name: string, rhos: readonly number[], s?: Float64Array) => {
          for (const rho of rhos) {
            const opts = {
              rho,
              steps: cfg.steps,
              stepSize: cfg.stepSize,
              restarts: cfg.restarts,
              key: ctx.key.fold(name).fold(String(rho)),
              scale: s,
            };
            if (cfg.m === undefined) {
              out[`sharpness/${name}/${rho}`] = await worstCaseSharpness(obj, keep(ctx.params), opts);
            } else {
              const e = await mSharpness(obj, keep(ctx.params), cfg.m, opts);
              out[`sharpness/${name}/${rho}`] = e.mean;
              if (Number.isFinite(e.stderr)) out[`sharpness/${name}/${rho}/stderr`] = e.stderr;
            }
          }
        };
        await average("average", cfg.sigmas);
        await average("adaptiveAverage", cfg.adaptiveSigmas, scale);
        await worst("worst", cfg.rhos);
        await worst("adaptiveWorst", cfg.adaptiveRhos, scale);
        return out;
      } finally {
        obj.dispose();
      }
    },
  };
}
