/**
 * The norm-, margin- and flatness-based complexity measures of Jiang, Neyshabur, Mobahi, Krishnan &
 * Bengio, "Fantastic Generalization Measures and Where to Find Them" (ICLR 2020), Appendix C, under
 * that paper's names, from per-layer quantities the caller measured. Equation numbers are those of
 * arXiv:1912.02178 as cross-referenced by the reference implementation of Dziugaite et al. 2020
 * ("In search of robust measures of generalization", measures.py). Pure functions of host numbers.
 */
import { check, integer, positive } from "./checks.js";

/** Per-layer quantities of one weight matrix W_i (a convolution kernel reshaped to out × rest). */
export interface LayerNorms {
  /** ‖W_i‖₂, the largest singular value. */
  readonly spectral: number;
  /** ‖W_i‖_F. */
  readonly frobenius: number;
  /** ‖W_i − W_i⁰‖_F, the distance from the initialization (needed by spec-init and frob-distance). */
  readonly distFrobenius?: number;
  /** ‖W_i − W_i⁰‖₂ (needed by dist-spec-init). */
  readonly distSpectral?: number;
}

/** Inputs of `jiangMeasures`; measures whose inputs are missing are left out of the result. */
export interface MeasureInputs {
  /** The d weight layers, biases and normalization parameters excluded (Jiang et al. fold BN into the preceding layer). */
  readonly layers: readonly LayerNorms[];
  /** γ: the margin at the 10th percentile (`marginPercentile`), > 0. */
  readonly margin?: number;
  /** m: training-set size (enters the PAC-Bayes measures). */
  readonly n?: number;
  /** The ℓ₂ path norm, computed by the caller (Neyshabur et al. 2015: Σ over input–output paths of Π w²). */
  readonly pathNorm?: number;
  /** ω: number of parameters. */
  readonly params?: number;
  /** σ from `largestSigma` (perturbation that raises the training error by the set amount). */
  readonly sigma?: number;
  /** ‖w‖₂² over all weights (pacbayes-orig). */
  readonly weightNormSq?: number;
  /** ‖w − w⁰‖₂² over all weights (pacbayes-init). */
  readonly distNormSq?: number;
}

/** One measure: its value, its natural log (finite where the value overflows), its equation. */
export interface Measure {
  readonly value: number;
  readonly log: number;
  /** Equation number in Jiang et al. 2020, Appendix C. */
  readonly equation: number;
}

const measure = (log: number, equation: number): Measure => ({ value: Math.exp(log), log, equation });
const plain = (value: number, equation: number): Measure => ({ value, log: Math.log(value), equation });

/**
 * The Appendix-C measures of Jiang et al. 2020 (μ as defined in each equation, before the paper's
 * monotone normalizations such as √(μ/m), which do not change rankings at fixed m). With d layers,
 * s_i = ‖W_i‖₂, f_i = ‖W_i‖_F, Δ_i = W_i − W_i⁰, γ the margin:
 *
 * | name | eq. | μ |
 * |---|---|---|
 * | `params` | 20 | ω |
 * | `inverse-margin` | 22 | 1/γ² |
 * | `spec-init` | 29 | Π s_i² · Σ ‖Δ_i‖_F²/s_i² / γ² |
 * | `spec-orig` | 30 | Π s_i² · Σ f_i²/s_i² / γ² |
 * | `prod-of-spec/margin` | 31 | Π s_i² / γ² |
 * | `prod-of-spec` | 32 | Π s_i² |
 * | `fro/spec` | 33 | Σ f_i²/s_i² |
 * | `sum-of-spec/margin` | 34 | d (Π s_i²/γ²)^{1/d} |
 * | `sum-of-spec` | 35 | d (Π s_i²)^{1/d} |
 * | `prod-of-fro/margin` | 36 | Π f_i² / γ² |
 * | `prod-of-fro` | 37 | Π f_i² |
 * | `sum-of-fro/margin` | 38 | d (Π f_i²/γ²)^{1/d} |
 * | `sum-of-fro` | 39 | d (Π f_i²)^{1/d} |
 * | `frob-distance` | 40 | Σ ‖Δ_i‖_F² |
 * | `dist-spec-init` | 41 | Σ ‖Δ_i‖₂² |
 * | `param-norm` | 42 | Σ f_i² |
 * | `path-norm/margin` | 43 | pathNorm / γ² |
 * | `path-norm` | 44 | pathNorm |
 * | `pacbayes-init` | 48 | ‖w − w⁰‖²/(4σ²) + ln(m/σ) + 10 |
 * | `pacbayes-orig` | 49 | ‖w‖²/(4σ²) + ln(m/σ) + 10 |
 * | `pacbayes-flatness` | 53 | 1/σ² |
 *
 * (sum-of-spec is the minimum of Σ s_i² over the rescalings s_i → c_i s_i with Π c_i = 1 that
 * leave a ReLU network's function unchanged, hence the geometric mean.) Products are computed in log
 * space; `log` stays finite when `value` overflows. Not included: the VC-dimension bound (eq. 19),
 * the sharpness measures (need a worst-case search) and the magnitude-aware variants.
 */
export function jiangMeasures(inputs: MeasureInputs): Record<string, Measure> {
  const what = "jiangMeasures";
  const { layers, margin, n, pathNorm, params, sigma, weightNormSq, distNormSq } = inputs;
  check(layers.length >= 1, `${what}: no layers`);
  layers.forEach((l, i) => {
    positive(l.spectral, `${what}: layers[${i}].spectral`);
    positive(l.frobenius, `${what}: layers[${i}].frobenius`);
    check(
      l.frobenius >= l.spectral * (1 - 1e-9),
      `${what}: layers[${i}]: ‖W‖_F (${l.frobenius}) < ‖W‖₂ (${l.spectral}) is impossible`,
    );
  });
  const d = layers.length;
  const logSpec = layers.reduce((s, l) => s + 2 * Math.log(l.spectral), 0);
  const logFro = layers.reduce((s, l) => s + 2 * Math.log(l.frobenius), 0);
  const out: Record<string, Measure> = {
    "prod-of-spec": measure(logSpec, 32),
    "fro/spec": plain(
      layers.reduce((s, l) => s + (l.frobenius / l.spectral) ** 2, 0),
      33,
    ),
    "sum-of-spec": measure(Math.log(d) + logSpec / d, 35),
    "prod-of-fro": measure(logFro, 37),
    "sum-of-fro": measure(Math.log(d) + logFro / d, 39),
    "param-norm": plain(
      layers.reduce((s, l) => s + l.frobenius ** 2, 0),
      42,
    ),
  };
  if (params !== undefined) {
    integer(params, `${what}: params`);
    out["params"] = plain(params, 20);
  }
  const hasDist = layers.every((l) => l.distFrobenius !== undefined);
  if (hasDist) {
    layers.forEach((l, i) => check(l.distFrobenius! >= 0, `${what}: layers[${i}].distFrobenius must be ≥ 0`));
    out["frob-distance"] = plain(
      layers.reduce((s, l) => s + l.distFrobenius! ** 2, 0),
      40,
    );
  }
  if (layers.every((l) => l.distSpectral !== undefined)) {
    out["dist-spec-init"] = plain(
      layers.reduce((s, l) => s + l.distSpectral! ** 2, 0),
      41,
    );
  }
  if (pathNorm !== undefined) {
    positive(pathNorm, `${what}: pathNorm`);
    out["path-norm"] = plain(pathNorm, 44);
  }
  if (margin !== undefined) {
    positive(margin, `${what}: margin (a non-positive 10th-percentile margin makes the margin measures undefined)`);
    const lm = 2 * Math.log(margin);
    out["inverse-margin"] = measure(-lm, 22);
    out["spec-orig"] = measure(logSpec - lm + Math.log(out["fro/spec"].value), 30);
    out["prod-of-spec/margin"] = measure(logSpec - lm, 31);
    out["sum-of-spec/margin"] = measure(Math.log(d) + (logSpec - lm) / d, 34);
    out["prod-of-fro/margin"] = measure(logFro - lm, 36);
    out["sum-of-fro/margin"] = measure(Math.log(d) + (logFro - lm) / d, 38);
    if (hasDist) {
      const ratio = layers.reduce((s, l) => s + (l.distFrobenius! / l.spectral) ** 2, 0);
      out["spec-init"] = measure(logSpec - lm + Math.log(ratio), 29);
    }
    if (pathNorm !== undefined) out["path-norm/margin"] = measure(Math.log(pathNorm) - lm, 43);
  }
  if (sigma !== undefined) {
    positive(sigma, `${what}: sigma`);
    out["pacbayes-flatness"] = plain(1 / sigma ** 2, 53);
    if (n !== undefined) {
      integer(n, `${what}: n`);
      const tail = Math.log(n / sigma) + 10;
      if (distNormSq !== undefined) out["pacbayes-init"] = plain(distNormSq / (4 * sigma ** 2) + tail, 48);
      if (weightNormSq !== undefined) out["pacbayes-orig"] = plain(weightNormSq / (4 * sigma ** 2) + tail, 49);
    }
  }
  return out;
}

/**
 * The margin Jiang et al. use: the margins f(x)[y] − max_{j≠y} f(x)[j] over the training set, sorted,
 * and the k-th smallest with k = max(1, ⌊n/10⌋) (the 10th percentile, as `kthvalue(m // 10)` in the
 * reference implementation). The caller computes the per-example margins.
 */
export function marginPercentile(margins: ArrayLike<number>, fraction = 0.1): number {
  check(margins.length >= 1, "marginPercentile: no margins");
  check(fraction > 0 && fraction <= 1, `marginPercentile: fraction must lie in (0, 1], got ${fraction}`);
  const sorted = Float64Array.from(margins).sort();
  check(!Number.isNaN(sorted[sorted.length - 1]), "marginPercentile: NaN margin");
  const k = Math.max(1, Math.floor(sorted.length * fraction));
  return sorted[k - 1];
}
