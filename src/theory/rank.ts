/**
 * Rank statistics for comparing generalization measures with the observed generalization gap:
 * Kendall's τ-b with a jackknife standard error, and the granulated Kendall coefficient Ψ of Jiang,
 * Neyshabur, Mobahi, Krishnan & Bengio, "Fantastic Generalization Measures and Where to Find Them"
 * (ICLR 2020), §4 eqs. 4–5. Pure functions of host numbers.
 */
import { allFinite, check, probability } from "./checks.js";
import { normalQuantile } from "./stats.js";

/** Kendall's τ-b of two samples, with its pair counts and a jackknife standard error. */
export interface KendallTau {
  /** τ-b = (C − D)/√((n₀ − n₁)(n₀ − n₂)); NaN when one sample is constant. */
  readonly tau: number;
  readonly n: number;
  /** Concordant pairs C. */
  readonly concordant: number;
  /** Discordant pairs D. */
  readonly discordant: number;
  /** Pairs tied in x (n₁, including pairs tied in both). */
  readonly tiesX: number;
  /** Pairs tied in y (n₂, including pairs tied in both). */
  readonly tiesY: number;
  /** Jackknife standard error of τ-b (NaN when n < 3 or a leave-one-out τ is undefined). */
  readonly se: number;
  /** Normal-approximation interval τ ± z_{(1+level)/2}·se, clipped to [−1, 1]. */
  readonly ci: readonly [number, number];
  readonly level: number;
}

function tauB(c: number, d: number, n0: number, n1: number, n2: number): number {
  const den = Math.sqrt((n0 - n1) * (n0 - n2));
  return den > 0 ? (c - d) / den : NaN;
}

/**
 * Kendall's rank correlation τ-b (Kendall 1945, the tie-corrected form; what `scipy.stats.kendalltau`
 * returns by default): over the n₀ = n(n−1)/2 pairs, C concordant, D discordant, n₁ tied in x, n₂
 * tied in y (a pair tied in both counts in n₁ and n₂ and in neither C nor D),
 *
 *   τ_b = (C − D) / √((n₀ − n₁)(n₀ − n₂)).
 *
 * Standard error: the jackknife (Quenouille–Tukey; Efron & Stein 1981), se² = ((n−1)/n) Σᵢ(τ₍ᵢ₎ −
 * τ̄₍·₎)², with τ₍ᵢ₎ the τ-b of the sample without observation i — consistent for U-statistics such as
 * τ without assuming independence of x and y (unlike the null variance behind scipy's p-value). The
 * interval is the normal approximation τ ± z·se clipped to [−1, 1]. O(n²) time.
 *
 * @param opts.level confidence level of `ci` (default 0.95).
 */
export function kendallTau(x: ArrayLike<number>, y: ArrayLike<number>, opts: { level?: number } = {}): KendallTau {
  const what = "kendallTau";
  const level = opts.level ?? 0.95;
  probability(level, `${what}: level`);
  check(x.length === y.length, `${what}: x and y have different lengths (${x.length} and ${y.length})`);
  check(x.length >= 2, `${what}: needs at least 2 observations, got ${x.length}`);
  allFinite(x, `${what}: x`);
  allFinite(y, `${what}: y`);
  const n = x.length;
  // Per-observation counts over the pairs it belongs to, for the leave-one-out values.
  const ci = new Float64Array(n);
  const di = new Float64Array(n);
  const txi = new Float64Array(n);
  const tyi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const sx = Math.sign(x[i] - x[j]);
      const sy = Math.sign(y[i] - y[j]);
      if (sx === 0) {
        txi[i]++;
        txi[j]++;
      }
      if (sy === 0) {
        tyi[i]++;
        tyi[j]++;
      }
      if (sx * sy > 0) {
        ci[i]++;
        ci[j]++;
      } else if (sx * sy < 0) {
        di[i]++;
        di[j]++;
      }
    }
  }
  const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / 2;
  const [c, d, n1, n2] = [sum(ci), sum(di), sum(txi), sum(tyi)];
  const n0 = (n * (n - 1)) / 2;
  const tau = tauB(c, d, n0, n1, n2);
  let se = NaN;
  if (n >= 3) {
    const loo = Float64Array.from({ length: n }, (_, i) =>
      tauB(c - ci[i], d - di[i], n0 - (n - 1), n1 - txi[i], n2 - tyi[i]),
    );
    if (loo.every(Number.isFinite)) {
      const mean = loo.reduce((s, v) => s + v, 0) / n;
      se = Math.sqrt(((n - 1) / n) * loo.reduce((s, v) => s + (v - mean) ** 2, 0));
    }
  }
  const z = normalQuantile((1 + level) / 2);
  const ciOut: [number, number] = Number.isFinite(tau + se)
    ? [Math.max(-1, tau - z * se), Math.min(1, tau + z * se)]
    : [NaN, NaN];
  return { tau, n, concordant: c, discordant: d, tiesX: n1, tiesY: n2, se, ci: ciOut, level };
}

/** One trained model in a ranking study: its hyperparameters, its measure value, its generalization gap. */
export interface RankedModel {
  /** Hyperparameter values by axis name (the grid Θ₁ × … × Θₙ). */
  readonly hparams: Readonly<Record<string, string | number | boolean>>;
  /** The complexity measure μ(θ). */
  readonly measure: number;
  /** The generalization gap g(θ) (or whatever the measure should rank). */
  readonly gap: number;
}

/** ψᵢ of one hyperparameter axis. */
export interface AxisKendall {
  readonly axis: string;
  /** Mean τ over the groups where only this axis varies (NaN when no group has a defined τ). */
  readonly psi: number;
  /** Groups whose τ entered the mean (≥ 2 models and τ defined). */
  readonly groups: number;
  /** Groups left out: one model only, or τ undefined (measure or gap constant within the group). */
  readonly skipped: number;
}

/** Result of `granulatedKendall`. */
export interface GranulatedKendall {
  /** Ψ = mean of ψᵢ over the axes with a defined ψᵢ. */
  readonly psi: number;
  readonly perAxis: readonly AxisKendall[];
  /** τ-b over all models together (the paper's overall ranking coefficient, eq. 3). */
  readonly tau: number;
}

/**
 * The granulated Kendall coefficient (Jiang et al. 2020, §4, eqs. 4–5). For axis i, with
 * mᵢ = |Θ₁ × … × Θᵢ₋₁ × Θᵢ₊₁ × … × Θₙ| the number of settings of the other axes,
 *
 *   ψᵢ = (1/mᵢ) Σ_{θ₁…θᵢ₋₁, θᵢ₊₁…θₙ} τ( ∪_{θᵢ ∈ Θᵢ} {(μ(θ), g(θ))} ),   Ψ = (1/n) Σᵢ ψᵢ,
 *
 * i.e. τ between measure and gap within each group of models that differ only in axis i, averaged
 * over the groups, then over the axes. τ is `kendallTau`'s τ-b. Choice for incomplete grids (the paper
 * assumes a full one): groups with one model, or with an undefined τ, are skipped and the mean is over
 * the remaining groups (`groups`, `skipped` say how many); an axis with no usable group is left out of
 * Ψ. On a full grid with defined τ's this is exactly eqs. 4–5.
 *
 * @param models every model must carry every axis in `axes`.
 * @param axes the hyperparameter axes (default: the keys of the first model's `hparams`).
 */
export function granulatedKendall(models: readonly RankedModel[], axes?: readonly string[]): GranulatedKendall {
  const what = "granulatedKendall";
  check(models.length >= 2, `${what}: needs at least 2 models, got ${models.length}`);
  const names = axes ?? Object.keys(models[0].hparams);
  check(names.length >= 1, `${what}: no hyperparameter axes`);
  models.forEach((r, k) => {
    check(Number.isFinite(r.measure) && Number.isFinite(r.gap), `${what}: model ${k} has a non-finite measure or gap`);
    for (const a of names) check(a in r.hparams, `${what}: model ${k} has no value for axis "${a}"`);
  });
  const perAxis = names.map((axis): AxisKendall => {
    const groups = new Map<string, RankedModel[]>();
    for (const r of models) {
      const key = JSON.stringify(names.filter((a) => a !== axis).map((a) => r.hparams[a]));
      const g = groups.get(key);
      if (g) g.push(r);
      else groups.set(key, [r]);
    }
    let total = 0;
    let used = 0;
    for (const g of groups.values()) {
      if (g.length < 2) continue;
      const t = kendallTau(
        g.map((r) => r.measure),
        g.map((r) => r.gap),
      ).tau;
      if (Number.isFinite(t)) {
        total += t;
        used++;
      }
    }
    return { axis, psi: used > 0 ? total / used : NaN, groups: used, skipped: groups.size - used };
  });
  const defined = perAxis.filter((a) => Number.isFinite(a.psi));
  return {
    psi: defined.length > 0 ? defined.reduce((s, a) => s + a.psi, 0) / defined.length : NaN,
    perAxis,
    tau: kendallTau(
      models.map((r) => r.measure),
      models.map((r) => r.gap),
    ).tau,
  };
}
