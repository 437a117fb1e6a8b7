/**
 * Learning-curve fits: ε(m) = α·m^β + γ by nonlinear least squares, the pure power law ε = α·m^β by
 * log–log regression, and pairs-bootstrap percentile intervals for both (Hestness et al., "Deep
 * Learning Scaling is Predictable, Empirically", 2017, §3: ε(m) = α m^{β_g} + γ, β_g typically in
 * [−0.35, −0.07]). Pure functions of host numbers.
 */
import { allFinite, check, integer, probability } from "./checks.js";
import { quantile, seededRng } from "./stats.js";

/** A fitted ε(m) = α·m^β + γ. */
export interface PowerLawFit {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  /** Residual sum of squares Σ(εᵢ − α mᵢ^β − γ)². */
  readonly rss: number;
  /** Number of points. */
  readonly n: number;
  /** Whether β lies within one grid step of an end of `betaRange` (the fit may want a wider range). */
  readonly betaAtBound: boolean;
}

/** Options of `fitPowerLaw`. */
export interface PowerLawOptions {
  /** The interval searched for β (default [−3, 3]). */
  readonly betaRange?: readonly [number, number];
  /** Grid points in the initial scan of β (default 241: steps of 0.025 on the default range). */
  readonly gridSize?: number;
}

/** A fitted pure power law ε(m) = α·m^β (γ = 0). */
export interface PurePowerLawFit {
  readonly alpha: number;
  readonly beta: number;
  /** Ordinary least-squares standard error of β in the log–log regression (NaN when n = 2). */
  readonly betaStdErr: number;
  /** Coefficient of determination of the log–log regression. */
  readonly r2: number;
  readonly n: number;
}

/** A point estimate with a confidence interval. */
export interface Interval {
  readonly value: number;
  readonly ci: readonly [number, number];
}

/** Options of the bootstraps. */
export interface BootstrapOptions {
  /** Bootstrap resamples (default 1000). */
  readonly resamples?: number;
  /** Seed of the resampling stream (default 0). */
  readonly seed?: number;
  /** Confidence level of the percentile intervals (default 0.95). */
  readonly level?: number;
}

/** Result of `bootstrapPowerLaw`. */
export interface PowerLawBootstrap {
  readonly fit: PowerLawFit;
  readonly alpha: Interval;
  readonly beta: Interval;
  readonly gamma: Interval;
  /** Resamples requested. */
  readonly resamples: number;
  /** Resamples skipped because they had fewer distinct m than the model needs. */
  readonly failed: number;
  readonly level: number;
  readonly seed: number;
}

/** Result of `bootstrapPurePowerLaw`. */
export interface PurePowerLawBootstrap {
  readonly fit: PurePowerLawFit;
  readonly alpha: Interval;
  readonly beta: Interval;
  readonly resamples: number;
  readonly failed: number;
  readonly level: number;
  readonly seed: number;
}

function distinct(values: ArrayLike<number>): number {
  return new Set(Array.from(values)).size;
}

function checkPoints(m: ArrayLike<number>, eps: ArrayLike<number>, what: string, minPoints: number): void {
  check(m.length === eps.length, `${what}: m and ε have different lengths (${m.length} and ${eps.length})`);
  check(m.length >= minPoints, `${what}: needs at least ${minPoints} points, got ${m.length}`);
  allFinite(m, `${what}: m`);
  allFinite(eps, `${what}: ε`);
  for (let i = 0; i < m.length; i++) check(m[i] > 0, `${what}: m must be > 0, got m[${i}] = ${m[i]}`);
}

/** The profile of the model at fixed β: the linear least-squares α', γ on x = exp(β·(ln m − ln m_ref)). */
interface Profile {
  rss: number;
  a: number;
  gamma: number;
}

function profile(beta: number, lm: Float64Array, y: Float64Array, ybar: number, syy: number): Profile {
  const n = lm.length;
  // One pass with a shift (x at the centre is exp(0) = 1) keeps the sums accurate without a buffer.
  let sx = 0;
  let sxx0 = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = Math.exp(beta * lm[i]) - 1;
    sx += dx;
    sxx0 += dx * dx;
    sxy += dx * (y[i] - ybar);
  }
  const xbar = 1 + sx / n;
  const sxx = sxx0 - (sx * sx) / n;
  const sx2 = sxx0 + 2 * sx + n;
  // x constant (β = 0): α is not identified; the best model is the mean.
  if (!(sxx > 1e-14 * sx2)) return { rss: syy, a: 0, gamma: ybar };
  const a = sxy / sxx;
  return { rss: Math.max(syy - (sxy * sxy) / sxx, 0), a, gamma: ybar - a * xbar };
}

function rssAt(a: number, beta: number, gamma: number, lm: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < lm.length; i++) {
    const r = y[i] - a * Math.exp(beta * lm[i]) - gamma;
    s += r * r;
  }
  return s;
}

/** Solves the 3×3 system A z = b by Gaussian elimination with partial pivoting; null if singular. */
function solve3(A: number[][], b: number[]): number[] | null {
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < 3; c++) {
    let p = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (!(Math.abs(M[p][c]) > 0)) return null;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < 3; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k < 4; k++) M[r][k] -= f * M[c][k];
    }
  }
  const z = [0, 0, 0];
  for (let r = 2; r >= 0; r--) {
    let s = M[r][3];
    for (let k = r + 1; k < 3; k++) s -= M[r][k] * z[k];
    z[r] = s / M[r][r];
  }
  return z.every(Number.isFinite) ? z : null;
}

/**
 * Fits ε(m) = α·m^β + γ by least squares, Σᵢ(εᵢ − α mᵢ^β − γ)² → min (Hestness et al. 2017, §3).
 *
 * Method (variable projection, Golub & Pereyra 1973): for fixed β the model is linear in (α, γ), so
 * the residual sum of squares profiled over them, RSS(β), is a function of β alone. RSS(β) is scanned
 * on a grid over `betaRange`, minimized by golden-section search between the best grid point's
 * neighbours, and the result polished by Levenberg–Marquardt steps on (α, β, γ) jointly. m is
 * centred at its geometric mean internally (α' = α·m_ref^β) for conditioning.
 *
 * Assumptions: additive errors of roughly equal variance on ε; the least-squares minimum lies inside
 * `betaRange` (else `betaAtBound` is set). Needs ≥ 4 points with ≥ 3 distinct m > 0 (three
 * parameters; with three points any data fit exactly).
 *
 * @param m training-set sizes (> 0). @param eps the measured errors/losses at each m.
 * @param opts.betaRange default [−3, 3]. @param opts.gridSize default 241.
 */
export function fitPowerLaw(m: ArrayLike<number>, eps: ArrayLike<number>, opts: PowerLawOptions = {}): PowerLawFit {
  const what = "fitPowerLaw";
  checkPoints(m, eps, what, 4);
  check(distinct(m) >= 3, `${what}: needs at least 3 distinct values of m, got ${distinct(m)}`);
  const [lo, hi] = opts.betaRange ?? [-3, 3];
  check(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi, `${what}: betaRange must be [lo, hi] with lo < hi`);
  const gridSize = opts.gridSize ?? 241;
  integer(gridSize, `${what}: gridSize`, 3);
  const n = m.length;
  const logRef = Array.from(m).reduce((s, v) => s + Math.log(v), 0) / n;
  const lm = Float64Array.from(m, (v) => Math.log(v) - logRef);
  const y = Float64Array.from(eps);
  const ybar = y.reduce((s, v) => s + v, 0) / n;
  const syy = y.reduce((s, v) => s + (v - ybar) ** 2, 0);

  const step = (hi - lo) / (gridSize - 1);
  let best = 0;
  let bestRss = Infinity;
  for (let k = 0; k < gridSize; k++) {
    const r = profile(lo + k * step, lm, y, ybar, syy).rss;
    if (r < bestRss) [best, bestRss] = [k, r];
  }
  // Golden-section search on [β_{k−1}, β_{k+1}].
  let a = lo + Math.max(best - 1, 0) * step;
  let b = lo + Math.min(best + 1, gridSize - 1) * step;
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = profile(c, lm, y, ybar, syy).rss;
  let fd = profile(d, lm, y, ybar, syy).rss;
  for (let it = 0; it < 200 && b - a > 1e-13 * (1 + Math.abs(a)); it++) {
    if (fc < fd) {
      [b, d, fd] = [d, c, fc];
      c = b - g * (b - a);
      fc = profile(c, lm, y, ybar, syy).rss;
    } else {
      [a, c, fc] = [c, d, fd];
      d = a + g * (b - a);
      fd = profile(d, lm, y, ybar, syy).rss;
    }
  }
  let beta = (a + b) / 2;
  let p = profile(beta, lm, y, ybar, syy);
  if (bestRss < p.rss) {
    beta = lo + best * step;
    p = profile(beta, lm, y, ybar, syy);
  }
  let [aa, gamma] = [p.a, p.gamma];
  let rss = rssAt(aa, beta, gamma, lm, y);

  // Levenberg–Marquardt polish on (α', β, γ): the profiled search leaves β accurate to ~√ε_machine.
  let lambda = 1e-3;
  for (let it = 0; it < 50 && rss > 0; it++) {
    const JtJ = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    const Jtr = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const e = Math.exp(beta * lm[i]);
      const J = [e, aa * lm[i] * e, 1];
      const r = y[i] - aa * e - gamma;
      for (let u = 0; u < 3; u++) {
        Jtr[u] += J[u] * r;
        for (let v = 0; v < 3; v++) JtJ[u][v] += J[u] * J[v];
      }
    }
    const A = JtJ.map((row, u) => row.map((v, w) => (u === w ? v * (1 + lambda) : v)));
    const z = solve3(A, Jtr);
    if (z === null) break;
    const nb = beta + z[1];
    const trial = nb >= lo && nb <= hi ? rssAt(aa + z[0], nb, gamma + z[2], lm, y) : Infinity;
    if (trial < rss) {
      const gain = rss - trial;
      [aa, beta, gamma, rss] = [aa + z[0], nb, gamma + z[2], trial];
      lambda = Math.max(lambda / 10, 1e-12);
      if (gain <= 1e-15 * rss) break;
    } else {
      lambda *= 10;
      if (lambda > 1e8) break;
    }
  }
  return {
    alpha: aa * Math.exp(-beta * logRef),
    beta,
    gamma,
    rss,
    n,
    betaAtBound: beta <= lo + step || beta >= hi - step,
  };
}

/**
 * Fits the pure power law ε(m) = α·m^β (γ = 0) by ordinary least squares on ln ε = ln α + β ln m
 * (the straight line of a log–log plot). Assumes multiplicative errors of equal variance in log
 * space. Needs ≥ 3 points with ≥ 2 distinct m > 0, and every ε > 0.
 */
export function fitPurePowerLaw(m: ArrayLike<number>, eps: ArrayLike<number>): PurePowerLawFit {
  const what = "fitPurePowerLaw";
  checkPoints(m, eps, what, 3);
  for (let i = 0; i < eps.length; i++) {
    check(eps[i] > 0, `${what}: ε must be > 0 for a log–log fit, got ε[${i}] = ${eps[i]}`);
  }
  check(distinct(m) >= 2, `${what}: needs at least 2 distinct values of m`);
  const n = m.length;
  const x = Float64Array.from(m, Math.log);
  const y = Float64Array.from(eps, Math.log);
  const xbar = x.reduce((s, v) => s + v, 0) / n;
  const ybar = y.reduce((s, v) => s + v, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - xbar) ** 2;
    sxy += (x[i] - xbar) * (y[i] - ybar);
    syy += (y[i] - ybar) ** 2;
  }
  const beta = sxy / sxx;
  const rss = Math.max(syy - beta * sxy, 0);
  return {
    alpha: Math.exp(ybar - beta * xbar),
    beta,
    betaStdErr: n > 2 ? Math.sqrt(rss / (n - 2) / sxx) : NaN,
    r2: syy > 0 ? 1 - rss / syy : 1,
    n,
  };
}

function interval(value: number, draws: number[], level: number): Interval {
  return { value, ci: [quantile(draws, (1 - level) / 2), quantile(draws, (1 + level) / 2)] };
}

/** The percentile interval of parameter `k` of `fit` from the refits `b`. */
function intervalOf<F extends Record<K, number>, K extends string>(
  fit: F,
  b: { fits: F[]; level: number },
  k: K,
): Interval {
  return interval(
    fit[k],
    b.fits.map((f) => f[k]),
    b.level,
  );
}

/**
 * Resamples the (m, ε) pairs with replacement `resamples` times from `seededRng(seed)` and refits
 * each; resamples with fewer than `minDistinct` distinct m are skipped (counted as failed).
 */
function pairsBootstrap<T>(
  m: ArrayLike<number>,
  eps: ArrayLike<number>,
  opts: BootstrapOptions,
  minDistinct: number,
  fit: (m: Float64Array, eps: Float64Array) => T,
  what: string,
): { fits: T[]; failed: number; resamples: number; level: number; seed: number } {
  const resamples = opts.resamples ?? 1000;
  const seed = opts.seed ?? 0;
  const level = opts.level ?? 0.95;
  integer(resamples, `${what}: resamples`, 2);
  probability(level, `${what}: level`);
  const rng = seededRng(seed);
  const n = m.length;
  const fits: T[] = [];
  let failed = 0;
  for (let r = 0; r < resamples; r++) {
    const mm = new Float64Array(n);
    const ee = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const j = rng.int(n);
      mm[i] = m[j];
      ee[i] = eps[j];
    }
    if (distinct(mm) < minDistinct) {
      failed++;
      continue;
    }
    fits.push(fit(mm, ee));
  }
  check(fits.length >= 2, `${what}: fewer than 2 of ${resamples} resamples had ${minDistinct} distinct m`);
  return { fits, failed, resamples, level, seed };
}

/**
 * `fitPowerLaw` with percentile bootstrap intervals (Efron & Tibshirani 1993, §13.3): the pairs
 * (mᵢ, εᵢ) are resampled with replacement (fixed seed), each resample refitted, and the interval
 * for each parameter is the [(1 − level)/2, (1 + level)/2] quantile range of its refits. Resamples
 * with fewer than 3 distinct m cannot be fitted and are skipped (`failed`). With few points the
 * percentile interval undercovers; treat it as a lower bound on the uncertainty.
 *
 * @param opts.resamples default 1000. @param opts.seed default 0. @param opts.level default 0.95.
 * Also accepts `fitPowerLaw`'s options.
 */
export function bootstrapPowerLaw(
  m: ArrayLike<number>,
  eps: ArrayLike<number>,
  opts: BootstrapOptions & PowerLawOptions = {},
): PowerLawBootstrap {
  const fit = fitPowerLaw(m, eps, opts);
  const b = pairsBootstrap(m, eps, opts, 3, (mm, ee) => fitPowerLaw(mm, ee, opts), "bootstrapPowerLaw");
  return {
    fit,
    alpha: intervalOf(fit, b, "alpha"),
    beta: intervalOf(fit, b, "beta"),
    gamma: intervalOf(fit, b, "gamma"),
    resamples: b.resamples,
    failed: b.failed,
    level: b.level,
    seed: b.seed,
  };
}

/** `fitPurePowerLaw` with pairs-bootstrap percentile intervals, as `bootstrapPowerLaw` (≥ 2 distinct m per resample). */
export function bootstrapPurePowerLaw(
  m: ArrayLike<number>,
  eps: ArrayLike<number>,
  opts: BootstrapOptions = {},
): PurePowerLawBootstrap {
  const fit = fitPurePowerLaw(m, eps);
  const b = pairsBootstrap(m, eps, opts, 2, fitPurePowerLaw, "bootstrapPurePowerLaw");
  return {
    fit,
    alpha: intervalOf(fit, b, "alpha"),
    beta: intervalOf(fit, b, "beta"),
    resamples: b.resamples,
    failed: b.failed,
    level: b.level,
    seed: b.seed,
  };
}
