/**
 * Spectral density of a symmetric operator by stochastic Lanczos quadrature (SLQ): the smoothed
 * eigenvalue histogram of the Hessian (Ghorbani, Krishnan & Xiao 2019), with no eigendecomposition.
 */
import { UserError } from "../core/errors.js";
import type { Key } from "../core/keys.js";
import { lanczosTridiagonal } from "./lanczos.js";
import type { LinearOperator } from "./operator.js";
import { tridiagonalEigen } from "./tridiagonal.js";
import { randomVector } from "./vectors.js";

/** Options of `slq`. */
export interface SlqOptions {
  /** Number of probe vectors (default 1). */
  probes?: number;
  /** Lanczos steps m per probe, 1 ≤ m ≤ dim (fewer are taken on breakdown). */
  steps: number;
  /** Randomness for the probes. */
  key: Key;
  /** Probe distribution before normalization: "rademacher" (default) or "gaussian". */
  distribution?: "rademacher" | "gaussian";
  /** Full reorthogonalization of each Lanczos run (default true; see `lanczosTridiagonal`). */
  reorthogonalize?: boolean;
}

/** One Gauss quadrature rule per probe: the spectral measure of A seen from each probe. */
export interface SpectralDensity {
  /** nodes[p][j]: eigenvalue θ_j of probe p's T_m, ascending. */
  nodes: number[][];
  /** weights[p][j]: squared first component τ_j² of the eigenvector of θ_j (Σ_j = 1 per probe). */
  weights: number[][];
  /** Operator applications used in all. */
  matvecs: number;
}

/**
 * Stochastic Lanczos quadrature for the spectral density φ(t) = (1/n) Σᵢ δ(t − λᵢ) of A (Ubaru, Chen
 * & Saad, SIMAX 2017, eq. 2.5–2.8; Ghorbani, Krishnan & Xiao, ICML 2019, §2; Lin, Saad & Yang 2016).
 *
 * For each probe v (Rademacher or Gaussian, normalized to ‖v‖ = 1, so E[v vᵀ] = I/n), m Lanczos
 * steps give T_m = Σ_j θ_j s_j s_jᵀ and the m-point Gauss rule vᵀ f(A) v ≈ Σ_j τ_j² f(θ_j) with
 * τ_j = s_j[0] (Golub & Meurant 1994), exact for polynomials of degree < 2m. Averaging over probes,
 * (1/n) tr f(A) ≈ (1/P) Σ_p Σ_j τ_{pj}² f(θ_{pj}); `densityOnGrid` takes f as a Gaussian kernel. The
 * weights of a probe sum to 1 (a row of an orthogonal matrix). Only the first row of each T_m's
 * eigenvectors is computed (O(m²) per probe).
 *
 * @param options see `SlqOptions` (defaults: probes 1, distribution "rademacher", reorthogonalize true).
 */
export async function slq(op: LinearOperator, options: SlqOptions): Promise<SpectralDensity> {
  const n = op.dim;
  const probes = options.probes ?? 1;
  if (!Number.isInteger(probes) || probes < 1)
    throw new UserError(`slq: probes must be a positive integer, got ${options.probes}`);
  if (!Number.isInteger(options.steps) || options.steps < 1 || options.steps > n)
    throw new UserError(`slq: steps must be an integer in [1, ${n}], got ${options.steps}`);
  const base = options.key.fold("slq");
  const nodes: number[][] = [];
  const weights: number[][] = [];
  let matvecs = 0;
  for (let p = 0; p < probes; p++) {
    const v = randomVector(n, base.fold(p).rng(), options.distribution ?? "rademacher");
    const t = await lanczosTridiagonal(op, v, options.steps, { reorthogonalize: options.reorthogonalize ?? true });
    matvecs += t.matvecs;
    const eig = tridiagonalEigen(t.alpha, t.beta, { vectors: [0] });
    nodes.push([...eig.values]);
    weights.push(Array.from(eig.vectors, (s) => s * s));
  }
  return { nodes, weights, matvecs };
}

/** Where `densityOnGrid` evaluates the density: an explicit grid, or `points` equispaced in [min, max]. */
export interface DensityGridOptions {
  /** Kernel width σ > 0 (Gaussian standard deviation, in eigenvalue units). */
  sigma: number;
  /** Explicit evaluation points (overrides min/max/points). */
  grid?: readonly number[];
  /** Lower end (default: smallest node − 5σ). */
  min?: number;
  /** Upper end (default: largest node + 5σ). */
  max?: number;
  /** Number of equispaced points, ≥ 2 (default 1000). */
  points?: number;
}

/**
 * The smoothed SLQ density on a grid: φ_σ(t) = (1/P) Σ_p Σ_j τ_{pj}² N(t; θ_{pj}, σ²) with
 * N(t; μ, σ²) = exp(−(t − μ)²/(2σ²)) / (σ√(2π)) (Ghorbani, Krishnan & Xiao 2019, eq. 4). It is a
 * probability density (integrates to 1) whose expectation over probes is the Gaussian-smoothed
 * spectral density (1/n) Σᵢ N(t; λᵢ, σ²) up to the quadrature error.
 *
 * @param options see `DensityGridOptions` (defaults: range nodes ∓ 5σ, 1000 points).
 * @returns the grid and the density at each point.
 */
export function densityOnGrid(
  result: Pick<SpectralDensity, "nodes" | "weights">,
  options: DensityGridOptions,
): { grid: number[]; density: number[] } {
  const { sigma } = options;
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new UserError(`densityOnGrid: sigma must be > 0, got ${sigma}`);
  const probes = result.nodes.length;
  if (probes === 0 || result.weights.length !== probes)
    throw new UserError("densityOnGrid: result needs at least one probe and one weight list per probe");
  const all = result.nodes.flat();
  const grid = options.grid !== undefined ? [...options.grid] : linspace(all, sigma, options);
  const norm = 1 / (probes * sigma * Math.sqrt(2 * Math.PI));
  const density = grid.map((t) => {
    let s = 0;
    for (let p = 0; p < probes; p++) {
      const nd = result.nodes[p];
      const w = result.weights[p];
      for (let j = 0; j < nd.length; j++) s += w[j] * Math.exp(-((t - nd[j]) ** 2) / (2 * sigma * sigma));
    }
    return s * norm;
  });
  return { grid, density };
}

function linspace(nodes: number[], sigma: number, options: DensityGridOptions): number[] {
  const lo = options.min ?? nodes.reduce((m, x) => Math.min(m, x), Infinity) - 5 * sigma;
  const hi = options.max ?? nodes.reduce((m, x) => Math.max(m, x), -Infinity) + 5 * sigma;
  const points = options.points ?? 1000;
  if (!Number.isInteger(points) || points < 2)
    throw new UserError(`densityOnGrid: points must be an integer >= 2, got ${points}`);
  if (!(hi > lo)) throw new UserError(`densityOnGrid: max (${hi}) must exceed min (${lo})`);
  return Array.from({ length: points }, (_, i) => lo + ((hi - lo) * i) / (points - 1));
}

/**
 * The SLQ estimate of tr f(A) = Σᵢ f(λᵢ): n·(1/P) Σ_p Σ_j τ_{pj}² f(θ_{pj}) (Ubaru, Chen & Saad 2017,
 * eq. 2.8; with unit probes, n·vᵀf(A)v is unbiased for Rademacher and Gaussian directions alike).
 * E.g. f(x) = x gives the trace, f(x) = log x the log-determinant of a PD operator.
 */
export function slqTrace(
  result: Pick<SpectralDensity, "nodes" | "weights">,
  dim: number,
  f: (x: number) => number,
): number {
  const probes = result.nodes.length;
  let s = 0;
  for (let p = 0; p < probes; p++)
    for (let j = 0; j < result.nodes[p].length; j++) s += result.weights[p][j] * f(result.nodes[p][j]);
  return (dim * s) / probes;
}
