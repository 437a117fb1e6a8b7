/**
 * Weight dynamics during training. Zhang, Li, Sra & Jadbabaie ("Neural network weights do not
 * converge to stationary points: an invariant measure perspective", ICML 2022) show that under SGD
 * the weights keep moving while the *distribution* of the iterates settles (an invariant measure):
 * this probe tracks both, the motion (distances, update norms and the angle between successive
 * updates) and the distribution (weight histograms on fixed bins and the 1-Wasserstein drift between
 * the weight distributions at t and t − k). All quantities are computed on the host in float64 from
 * one read of the parameters (exact for float32 and float64 runs).
 *
 * Metrics (θ = all parameter entries, biases and norm scales included; `<layer>` = the dotted leaf
 * path, e.g. `layers.0.W`, of each weight matrix, i.e. each leaf with two or more axes):
 * - `weights/norm` = ‖θ_t‖₂, `weights/distFromInit` = ‖θ_t − θ₀‖₂, `weights/distFromInit/<layer>`;
 * - `weights/frobenius/<layer>` = ‖W‖_F and `weights/spectral/<layer>` = σ_max(W) by power iteration
 *   on WᵀW (`spectralNorm`). A leaf of shape [d₁, …, d_{r−1}, d_r] is the matrix [d₁⋯d_{r−1}, d_r]:
 *   dense W [in, out] as is, a conv kernel HWIO [k, k, C_in, C_out] as the [k²·C_in, C_out] matrix
 *   it multiplies patches by (the transpose of [out, rest]: the same singular values). This is the
 *   norm of the reshaped kernel, not the operator norm of the convolution;
 * - with lag k: `weights/updateNorm` = ‖θ_t − θ_{t−k}‖₂ (from step k on), `weights/updateCos` =
 *   cos∠(θ_t − θ_{t−k}, θ_{t−k} − θ_{t−2k}) (from step 2k on; absent when an update is zero),
 *   `weights/w1Drift` = W₁ between the empirical distributions of the entries of θ_t and θ_{t−k}, and
 *   `weights/w1Drift/<layer>` per weight matrix (`wasserstein1`, theory/);
 * - artifact `weights/histogram` (option `histograms`): fixed bin edges and per-layer counts
 *   (`{range, edges, layers: {<layer>: {counts, below, above}}, all: {…}}`, `all` over θ).
 *
 * `weights/norm` and `weights/distFromInit` are the keys of the `weightNorm` probe too (which computes
 * them on the device in the run's dtype): configure one of the two.
 *
 * The probe keeps the host snapshots θ_{t−k}, θ_{t−2k} (and those between, when k > every) and
 * checkpoints them, so a resumed run measures exactly as the straight one.
 */
import { UserError } from "../core/errors.js";
import { keep, leafNames, treeSpec, treeToHost, type Params } from "../core/index.js";
import { wasserstein1 } from "../theory/wasserstein.js";
import type { Probe } from "./probe.js";
import type { ProbeConfig } from "./schema.js";

type WeightDynamicsConfig = Extract<ProbeConfig, { kind: "weightDynamics" }>;

/** Power-iteration limits of `spectralNorm`: at most this many products with WᵀW … */
export const SPECTRAL_MAX_ITER = 1000;
/** … stopping when the Rayleigh quotient changes by less than this, relatively. */
export const SPECTRAL_TOL = 1e-13;

/**
 * σ_max(W) of the row-major `rows`×`cols` matrix `w` by power iteration on WᵀW in float64: v ←
 * WᵀWv/‖WᵀWv‖ from a fixed generic start vector, σ² = ‖Wv‖² (the Rayleigh quotient), at most
 * `maxIter` (default 1000) iterations, stopping when σ² changes by less than `tol` (default 1e-13)
 * relatively. Deterministic. Converges slowly when σ₁ ≈ σ₂ (rate (σ₂/σ₁)²), from below.
 */
export function spectralNorm(
  w: ArrayLike<number>,
  rows: number,
  cols: number,
  opts: { maxIter?: number; tol?: number } = {},
): number {
  if (w.length !== rows * cols) throw new Error(`spectralNorm: ${w.length} entries for a ${rows}×${cols} matrix`);
  const maxIter = opts.maxIter ?? SPECTRAL_MAX_ITER;
  const tol = opts.tol ?? SPECTRAL_TOL;
  // a fixed start with no special structure (ones can be orthogonal to the top singular vector)
  let v = Float64Array.from({ length: cols }, (_, j) => 1 + 0.5 * Math.sin(1.618 * (j + 1)));
  normalize(v);
  const u = new Float64Array(rows);
  let sq = 0;
  for (let it = 0; it < maxIter; it++) {
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += w[i * cols + j] * v[j];
      u[i] = s;
    }
    const next = dot(u, u);
    const z = new Float64Array(cols);
    for (let i = 0; i < rows; i++) {
      const ui = u[i];
      if (ui !== 0) for (let j = 0; j < cols; j++) z[j] += w[i * cols + j] * ui;
    }
    const done = Math.abs(next - sq) <= tol * next;
    sq = next;
    if (done || normalize(z) === 0) break;
    v = z;
  }
  return Math.sqrt(sq);
}

/** Counts of `x` in the `bins` equal bins of [lo, hi] (the last closed), with those below and above. */
export function weightHistogram(
  x: ArrayLike<number>,
  lo: number,
  hi: number,
  bins: number,
): { counts: number[]; below: number; above: number } {
  const counts = new Array<number>(bins).fill(0);
  let below = 0;
  let above = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < lo) below++;
    else if (v > hi) above++;
    else if (v >= lo) counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]++;
  }
  return { counts, below, above };
}

/** Cosine of the angle between two vectors (NaN when one is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function dist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** Scales `v` to unit norm in place and returns its former norm. */
function normalize(v: Float64Array): number {
  const n = Math.sqrt(dot(v, v));
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return n;
}

interface Leaf {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Where each leaf lies in the flat host vector (`treeToHost` order), with its dotted name. */
function layout(params: Params): Leaf[] {
  const names = leafNames(params);
  let offset = 0;
  return treeSpec(params).shapes.map((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const leaf = { name: names[i], shape, offset, size };
    offset += size;
    return leaf;
  });
}

/**
 * The weight-dynamics probe `{kind: "weightDynamics", every, lag = every, bins = 50, range = [-1, 1],
 * histograms = true}` (see the file comment for its metrics). `lag` must be a multiple of `every`.
 */
export function weightDynamicsProbe(cfg: WeightDynamicsConfig): Probe {
  const lag = cfg.lag ?? cfg.every;
  if (lag % cfg.every !== 0) {
    throw new UserError(`weightDynamics probe: lag ${lag} must be a multiple of every (${cfg.every})`);
  }
  const [lo, hi] = cfg.range;
  if (!(lo < hi)) throw new UserError(`weightDynamics probe: range [${lo}, ${hi}] needs lo < hi`);
  const edges = Array.from({ length: cfg.bins + 1 }, (_, i) => lo + ((hi - lo) * i) / cfg.bins);
  /** Host snapshots θ_s by step s (those a later measurement can still need). */
  let snapshots = new Map<number, Float64Array>();
  let init: Float64Array | null = null;
  let leaves: Leaf[] | null = null;
  return {
    name: "weightDynamics",
    every: cfg.every,
    saveState() {
      return Object.fromEntries([...snapshots].map(([s, v]) => [`s${s}`, v]));
    },
    loadState(state) {
      snapshots = new Map(
        Object.entries(state)
          .filter(([k]) => /^s[0-9]+$/.test(k))
          .map(([k, v]) => [Number(k.slice(1)), Float64Array.from(v)]),
      );
    },
    async measure(ctx) {
      const t = ctx.step;
      leaves ??= layout(ctx.params);
      // θ₀ is the run's initialization, the same on resume: a cache, not state
      init ??= await treeToHost(keep(ctx.initParams));
      const theta = await treeToHost(keep(ctx.params));
      const matrices = leaves.filter((l) => l.shape.length >= 2 && l.size > 0);
      const part = (v: Float64Array, l: Leaf) => v.subarray(l.offset, l.offset + l.size);
      const out: Record<string, number> = {
        "weights/norm": Math.sqrt(dot(theta, theta)),
        "weights/distFromInit": dist(theta, init),
      };
      for (const l of matrices) {
        const w = part(theta, l);
        const cols = l.shape[l.shape.length - 1];
        out[`weights/distFromInit/${l.name}`] = dist(w, part(init, l));
        out[`weights/frobenius/${l.name}`] = Math.sqrt(dot(w, w));
        out[`weights/spectral/${l.name}`] = spectralNorm(w, l.size / cols, cols);
      }
      const prev = snapshots.get(t - lag);
      if (prev) {
        const update = theta.map((x, i) => x - prev[i]);
        out["weights/updateNorm"] = Math.sqrt(dot(update, update));
        const before = snapshots.get(t - 2 * lag);
        if (before) {
          const c = cosine(
            update,
            prev.map((x, i) => x - before[i]),
          );
          if (Number.isFinite(c)) out["weights/updateCos"] = c;
        }
        out["weights/w1Drift"] = wasserstein1(theta, prev);
        for (const l of matrices) out[`weights/w1Drift/${l.name}`] = wasserstein1(part(theta, l), part(prev, l));
      }
      if (cfg.histograms) {
        const layers = Object.fromEntries(
          matrices.map((l) => [l.name, weightHistogram(part(theta, l), lo, hi, cfg.bins)]),
        );
        ctx.artifact("weights/histogram", {
          range: [lo, hi],
          edges,
          layers,
          all: weightHistogram(theta, lo, hi, cfg.bins),
        });
      }
      snapshots.set(t, theta);
      // measurements at t' ≥ t + every read θ_{t'−k} and θ_{t'−2k}
      for (const s of snapshots.keys()) if (s < t + cfg.every - 2 * lag) snapshots.delete(s);
      return out;
    },
  };
}
