/**
 * Directions of loss-landscape slices, as host float64 vectors in the parameter tree's leaf order:
 * filter-normalized random directions (Li, Xu, Taylor, Studer & Goldstein, NeurIPS 2018, "Visualizing
 * the loss landscape of neural nets", §4), the PCA plane of an optimization trajectory (ibid., §6) and
 * the line between two solutions (Goodfellow, Vinyals & Saxe, ICLR 2015).
 */
import { UserError } from "../core/errors.js";
import type { Key } from "../core/keys.js";

/** Shapes and dotted names of the parameter leaves, in flattening order (`treeSpec`, `leafNames`). */
export interface LeafLayout {
  readonly shapes: readonly (readonly number[])[];
  readonly names: readonly string[];
}

/**
 * What to do with 1-D leaves (biases, batch-norm scales and shifts) of a filter-normalized direction,
 * following the reference code of Li et al. (`normalize_directions_for_weights`, `ignore='biasbn'`):
 * "ignore" sets d to 0 there (the paper's default), "include" sets d = θ there.
 */
export type BiasBnMode = "ignore" | "include";

/**
 * Filter normalization (Li et al. 2018, §4, eq. 1 context): for each filter j of each weight leaf,
 * d_j ← d_j · ‖θ_j‖ / (‖d_j‖ + 1e-10), where a filter is one output unit — every entry whose last index
 * is j (a dense W [d_in, d_out] has one filter per column, i.e. per neuron's incoming weights; a conv
 * kernel [k, k, C_in, C_out] one per output channel). Leaves with at most one axis (biases, BN γ and
 * β) follow `biasBn` (default "ignore": zero). Returns a new vector; `d` and `theta` are not modified.
 * The 1e-10 is the reference implementation's guard against a zero filter of d.
 */
export function filterNormalize(
  d: Float64Array,
  theta: Float64Array,
  layout: LeafLayout,
  biasBn: BiasBnMode = "ignore",
): Float64Array {
  if (d.length !== theta.length) throw new Error(`filterNormalize: d has ${d.length} entries, θ ${theta.length}`);
  const out = new Float64Array(d.length);
  let o = 0;
  for (const shape of layout.shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (shape.length <= 1) {
      if (biasBn === "include") out.set(theta.subarray(o, o + size), o);
    } else {
      const f = shape[shape.length - 1];
      const dn = new Float64Array(f);
      const tn = new Float64Array(f);
      for (let i = 0; i < size; i++) {
        dn[i % f] += d[o + i] * d[o + i];
        tn[i % f] += theta[o + i] * theta[o + i];
      }
      const s = Array.from({ length: f }, (_, j) => Math.sqrt(tn[j]) / (Math.sqrt(dn[j]) + 1e-10));
      for (let i = 0; i < size; i++) out[o + i] = d[o + i] * s[i % f];
    }
    o += size;
  }
  if (o !== d.length) throw new Error(`filterNormalize: layout has ${o} entries, d ${d.length}`);
  return out;
}

/**
 * A filter-normalized Gaussian direction (Li et al. 2018, §4): d ~ N(0, I) drawn on the host from
 * `key`, then `filterNormalize(d, θ, layout, biasBn)`.
 */
export function randomDirection(theta: Float64Array, layout: LeafLayout, key: Key, biasBn: BiasBnMode): Float64Array {
  return filterNormalize(key.rng().normals(theta.length), theta, layout, biasBn);
}

/** The PCA plane of a trajectory (`pcaDirections`). */
export interface PcaPlane {
  /** Orthonormal principal directions (k of them). */
  directions: Float64Array[];
  /** Fraction of the trajectory's variance along each direction. */
  explainedVariance: number[];
  /** Coordinates of each trajectory point relative to the final one, projected on the directions. */
  path: number[][];
}

/**
 * The top-k principal directions of an optimization trajectory (Li et al. 2018, §6): the rows of
 * M = [θ_0 − θ_n; …; θ_{n−1} − θ_n] are centred (as PCA does) and the unit directions are the top
 * right singular vectors of the centred M, found from the eigenvectors u of the small (n × n) Gram
 * matrix G = M_c M_cᵀ as v = M_cᵀu / ‖M_cᵀu‖ (cyclic Jacobi on G, float64). Explained variance of v_k
 * is λ_k / Σλ. The path is each θ_i − θ_n projected on the directions (the trajectory drawn on the plane).
 *
 * @param trajectory the checkpoints in step order; the last one is the plane's origin.
 * @throws UserError with fewer than k + 1 points, or when the trajectory spans fewer than k dimensions.
 */
export function pcaDirections(trajectory: readonly Float64Array[], k = 2): PcaPlane {
  const n = trajectory.length - 1;
  if (n < k) {
    throw new UserError(`pca directions need at least ${k + 1} checkpoints, the run has ${trajectory.length}`);
  }
  const last = trajectory[n];
  const dim = last.length;
  const rows = trajectory.slice(0, n).map((t) => {
    const r = new Float64Array(dim);
    for (let i = 0; i < dim; i++) r[i] = t[i] - last[i];
    return r;
  });
  const mean = new Float64Array(dim);
  for (const r of rows) for (let i = 0; i < dim; i++) mean[i] += r[i] / n;
  const centred = rows.map((r) => r.map((v, i) => v - mean[i]));
  const g = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let i = 0; i < dim; i++) s += centred[a][i] * centred[b][i];
      g[a * n + b] = g[b * n + a] = s;
    }
  }
  const { values, vectors } = jacobiEigen(g, n);
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  const total = values.reduce((s, v) => s + Math.max(v, 0), 0);
  const directions: Float64Array[] = [];
  const explainedVariance: number[] = [];
  for (const j of order.slice(0, k)) {
    if (!(values[j] > 1e-12 * total) || total === 0) {
      throw new UserError(`the trajectory spans fewer than ${k} dimensions: no PCA plane`);
    }
    const v = new Float64Array(dim);
    for (let a = 0; a < n; a++) {
      const u = vectors[a * n + j];
      for (let i = 0; i < dim; i++) v[i] += u * centred[a][i];
    }
    let sq = 0;
    for (let i = 0; i < dim; i++) sq += v[i] * v[i];
    const s = 1 / Math.sqrt(sq);
    for (let i = 0; i < dim; i++) v[i] *= s;
    directions.push(v);
    explainedVariance.push(values[j] / total);
  }
  const path = [...rows, new Float64Array(dim)].map((r) =>
    directions.map((v) => {
      let s = 0;
      for (let i = 0; i < dim; i++) s += r[i] * v[i];
      return s;
    }),
  );
  return { directions, explainedVariance, path };
}

/**
 * Eigen-decomposition of a symmetric n×n matrix (row-major) by cyclic Jacobi rotations (Golub & Van
 * Loan, Matrix Computations 4th ed., §8.5): values and column eigenvectors V (V[i*n + j] is entry i
 * of eigenvector j). For the small Gram matrices of PCA.
 */
export function jacobiEigen(a: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += m[p * n + p] ** 2;
      for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Array.from({ length: n }, (_, i) => m[i * n + i]), vectors: v };
}
