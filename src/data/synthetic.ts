/**
 * Synthetic datasets, each `(opts, key) => Dataset`, computed on the host in float64. Every random
 * quantity comes from its own child of `key` ("means", "labels", "x", "noise", "teacher", ...), so the
 * planted parameters (means, teacher weights, w*) depend only on the key and the dimensions, not on
 * `n`; the `...Means` / `...Weights` / `...Direction` exports return them for checks and reports.
 */
import { check } from "../core/errors.js";
import type { Key } from "../core/keys.js";
import { makeDataset } from "./dataset.js";
import type { Dataset } from "./types.js";

function checkInt(value: number, min: number, what: string): void {
  check(Number.isInteger(value) && value >= min, `${what} must be an integer >= ${min}, got ${value}`);
}
function checkNonNeg(value: number, what: string): void {
  check(Number.isFinite(value) && value >= 0, `${what} must be a finite number >= 0, got ${value}`);
}

/** Balanced labels in random order: y_i = π(i) mod C for a permutation π from `key`. */
function balancedLabels(n: number, classes: number, key: Key): Int32Array {
  const perm = key.rng().permutation(n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = perm[i] % classes;
  return y;
}

/** Options of `gaussianMixture`. */
export interface GaussianMixtureOptions {
  /** Number of examples. */
  n: number;
  /** Number of classes C (default 2). */
  classes?: number;
  /** Input dimension d (default 2). */
  dim?: number;
  /** Root-mean-square distance s between two class means (default 3). */
  separation?: number;
  /** Within-class standard deviation σ per coordinate (default 1). */
  noise?: number;
}

/**
 * The class means of `gaussianMixture`: μ_c ~ N(0, s²/(2d) I_d) i.i.d., so that
 * E‖μ_a − μ_b‖² = s² for a ≠ b. Returns C × d values, row-major.
 */
export function gaussianMixtureMeans(opts: GaussianMixtureOptions, key: Key): Float64Array {
  const classes = opts.classes ?? 2;
  const dim = opts.dim ?? 2;
  const s = opts.separation ?? 3;
  checkInt(classes, 2, "gaussianMixture.classes");
  checkInt(dim, 1, "gaussianMixture.dim");
  checkNonNeg(s, "gaussianMixture.separation");
  return key
    .fold("means")
    .rng()
    .normals(classes * dim, s / Math.sqrt(2 * dim));
}

/**
 * An isotropic Gaussian mixture: x_i = μ_{y_i} + σ ξ_i, ξ_i ~ N(0, I_d), with balanced labels
 * (each class ⌊n/C⌋ or ⌈n/C⌉ times, in random order) and means μ_c from `gaussianMixtureMeans`
 * (μ_c ~ N(0, s²/(2d) I_d)).
 * Options: `n`; `classes` C = 2; `dim` d = 2; `separation` s = 3; `noise` σ = 1.
 */
export function gaussianMixture(opts: GaussianMixtureOptions, key: Key): Dataset {
  const means = gaussianMixtureMeans(opts, key);
  const classes = opts.classes ?? 2;
  const dim = opts.dim ?? 2;
  const noise = opts.noise ?? 1;
  checkInt(opts.n, 1, "gaussianMixture.n");
  checkNonNeg(noise, "gaussianMixture.noise");
  const labels = balancedLabels(opts.n, classes, key.fold("labels"));
  const rng = key.fold("x").rng();
  const x = new Float64Array(opts.n * dim);
  for (let i = 0; i < opts.n; i++) {
    for (let j = 0; j < dim; j++) x[i * dim + j] = means[labels[i] * dim + j] + noise * rng.normal();
  }
  return makeDataset({ name: "gaussianMixture", xShape: [dim], x, labels, numClasses: classes });
}

/** Options of `twoSpirals`. */
export interface SpiralsOptions {
  /** Number of examples. */
  n: number;
  /** Standard deviation σ of the Gaussian noise added to each coordinate (default 0.05). */
  noise?: number;
  /** Number of turns T of each spiral (default 1.5). */
  turns?: number;
}

/**
 * Two interleaved spirals in 2-D, classes 0 and 1 balanced in random order. With t ~ U[0, 1):
 * r = √t, φ = 2πT·r + πy, x = r·(cos φ, sin φ) + σ ξ, ξ ~ N(0, I₂). The arms of the two classes
 * lie 1/(2T) apart along any ray; r = √t spreads points roughly evenly along the arc.
 * Options: `n`; `noise` σ = 0.05; `turns` T = 1.5.
 */
export function twoSpirals(opts: SpiralsOptions, key: Key): Dataset {
  const noise = opts.noise ?? 0.05;
  const turns = opts.turns ?? 1.5;
  checkInt(opts.n, 1, "spirals.n");
  checkNonNeg(noise, "spirals.noise");
  check(Number.isFinite(turns) && turns > 0, `spirals.turns must be > 0, got ${turns}`);
  const labels = balancedLabels(opts.n, 2, key.fold("labels"));
  const rng = key.fold("x").rng();
  const x = new Float64Array(opts.n * 2);
  for (let i = 0; i < opts.n; i++) {
    const r = Math.sqrt(rng.uniform());
    const phi = 2 * Math.PI * turns * r + Math.PI * labels[i];
    x[2 * i] = r * Math.cos(phi) + noise * rng.normal();
    x[2 * i + 1] = r * Math.sin(phi) + noise * rng.normal();
  }
  return makeDataset({ name: "spirals", xShape: [2], x, labels, numClasses: 2 });
}

/** Options of `moons`. */
export interface MoonsOptions {
  /** Number of examples. */
  n: number;
  /** Standard deviation σ of the Gaussian noise added to each coordinate (default 0.1). */
  noise?: number;
}

/**
 * Two interleaving half-circles (as scikit-learn's `make_moons`, but with random angles), classes
 * balanced in random order. With t ~ U[0, π): class 0 at (cos t, sin t), class 1 at
 * (1 − cos t, 1/2 − sin t); then + σ ξ, ξ ~ N(0, I₂).
 * Options: `n`; `noise` σ = 0.1.
 */
export function moons(opts: MoonsOptions, key: Key): Dataset {
  const noise = opts.noise ?? 0.1;
  checkInt(opts.n, 1, "moons.n");
  checkNonNeg(noise, "moons.noise");
  const labels = balancedLabels(opts.n, 2, key.fold("labels"));
  const rng = key.fold("x").rng();
  const x = new Float64Array(opts.n * 2);
  for (let i = 0; i < opts.n; i++) {
    const t = Math.PI * rng.uniform();
    const [a, b] = labels[i] === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
    x[2 * i] = a + noise * rng.normal();
    x[2 * i + 1] = b + noise * rng.normal();
  }
  return makeDataset({ name: "moons", xShape: [2], x, labels, numClasses: 2 });
}

/** Options of `circles`. */
export interface CirclesOptions {
  /** Number of examples. */
  n: number;
  /** Standard deviation σ of the Gaussian noise added to each coordinate (default 0.1). */
  noise?: number;
  /** Radius ρ of the inner circle, the outer one having radius 1 (default 0.5). */
  factor?: number;
}

/**
 * Two concentric circles (as scikit-learn's `make_circles`, with random angles), classes balanced in
 * random order. With t ~ U[0, 2π): class 0 at (cos t, sin t) on the outer circle, class 1 at
 * ρ(cos t, sin t) on the inner one; then + σ ξ, ξ ~ N(0, I₂). Not linearly separable; a radial
 * boundary separates them. Options: `n`; `noise` σ = 0.1; `factor` ρ = 0.5.
 */
export function circles(opts: CirclesOptions, key: Key): Dataset {
  const noise = opts.noise ?? 0.1;
  const factor = opts.factor ?? 0.5;
  checkInt(opts.n, 1, "circles.n");
  checkNonNeg(noise, "circles.noise");
  check(Number.isFinite(factor) && factor > 0 && factor < 1, `circles.factor must be in (0, 1), got ${factor}`);
  const labels = balancedLabels(opts.n, 2, key.fold("labels"));
  const rng = key.fold("x").rng();
  const x = new Float64Array(opts.n * 2);
  for (let i = 0; i < opts.n; i++) {
    const t = 2 * Math.PI * rng.uniform();
    const r = labels[i] === 0 ? 1 : factor;
    x[2 * i] = r * Math.cos(t) + noise * rng.normal();
    x[2 * i + 1] = r * Math.sin(t) + noise * rng.normal();
  }
  return makeDataset({ name: "circles", xShape: [2], x, labels, numClasses: 2 });
}

/** Options of `xor`. */
export interface XorOptions {
  /** Number of examples. */
  n: number;
  /** Standard deviation σ of the Gaussian noise added to each coordinate after labelling (default 0). */
  noise?: number;
  /** Gap γ pushing every point away from both axes (default 0.1). */
  margin?: number;
}

/**
 * The XOR problem (the classic non-linearly-separable set; Minsky & Papert 1969): u ~ U[−1, 1]²,
 * label y = 1[u₁u₂ > 0] (class 1 in the first and third quadrants), x = u + γ·sign(u) + σ ξ,
 * ξ ~ N(0, I₂), so that without noise every point lies at least γ from both axes. Labels follow the
 * draw (balanced in expectation, not exactly). Options: `n`; `noise` σ = 0; `margin` γ = 0.1.
 */
export function xor(opts: XorOptions, key: Key): Dataset {
  const noise = opts.noise ?? 0;
  const margin = opts.margin ?? 0.1;
  checkInt(opts.n, 1, "xor.n");
  checkNonNeg(noise, "xor.noise");
  checkNonNeg(margin, "xor.margin");
  const rng = key.fold("x").rng();
  const x = new Float64Array(opts.n * 2);
  const labels = new Int32Array(opts.n);
  for (let i = 0; i < opts.n; i++) {
    const u1 = 2 * rng.uniform() - 1;
    const u2 = 2 * rng.uniform() - 1;
    labels[i] = u1 * u2 > 0 ? 1 : 0;
    x[2 * i] = u1 + margin * Math.sign(u1) + noise * rng.normal();
    x[2 * i + 1] = u2 + margin * Math.sign(u2) + noise * rng.normal();
  }
  return makeDataset({ name: "xor", xShape: [2], x, labels, numClasses: 2 });
}

/** Activations a teacher network may use. */
export type TeacherActivation = "relu" | "tanh" | "sigmoid" | "linear";

/** Options of `teacherStudent`. */
export interface TeacherStudentOptions {
  /** Number of examples. */
  n: number;
  /** Input dimension d (default 10). */
  dim?: number;
  /** Hidden width h of the teacher (default 32). */
  hidden?: number;
  /** Teacher activation φ (default "relu"). */
  activation?: TeacherActivation;
  /** Output (target) dimension k (default 1). */
  outDim?: number;
  /** Standard deviation σ of the Gaussian label noise (default 0). */
  noise?: number;
}

/** The teacher's weights: W1 (h × d), entries N(0, 1/d); W2 (k × h), entries N(0, 1/h); no biases. */
export function teacherWeights(opts: TeacherStudentOptions, key: Key): { w1: Float64Array; w2: Float64Array } {
  const dim = opts.dim ?? 10;
  const hidden = opts.hidden ?? 32;
  const outDim = opts.outDim ?? 1;
  checkInt(dim, 1, "teacherStudent.dim");
  checkInt(hidden, 1, "teacherStudent.hidden");
  checkInt(outDim, 1, "teacherStudent.outDim");
  const rng = key.fold("teacher").rng();
  const w1 = rng.normals(hidden * dim, 1 / Math.sqrt(dim));
  const w2 = rng.normals(outDim * hidden, 1 / Math.sqrt(hidden));
  return { w1, w2 };
}

function activate(kind: TeacherActivation, z: number): number {
  switch (kind) {
    case "relu":
      return z > 0 ? z : 0;
    case "tanh":
      return Math.tanh(z);
    case "sigmoid":
      return 1 / (1 + Math.exp(-z));
    case "linear":
      return z;
  }
}

/**
 * Teacher–student regression: x ~ N(0, I_d), y = W2 φ(W1 x) + σ ξ, ξ ~ N(0, I_k), where (W1, W2)
 * is a random one-hidden-layer teacher (`teacherWeights`: W1 ~ N(0, 1/d), W2 ~ N(0, 1/h), no
 * biases) evaluated on the host in float64 (Gardner & Derrida 1989; Saad & Solla 1995).
 * Options: `n`; `dim` d = 10; `hidden` h = 32; `activation` φ = "relu"; `outDim` k = 1; `noise` σ = 0.
 */
export function teacherStudent(opts: TeacherStudentOptions, key: Key): Dataset {
  const { w1, w2 } = teacherWeights(opts, key);
  const dim = opts.dim ?? 10;
  const hidden = opts.hidden ?? 32;
  const outDim = opts.outDim ?? 1;
  const act = opts.activation ?? "relu";
  const noise = opts.noise ?? 0;
  checkInt(opts.n, 1, "teacherStudent.n");
  checkNonNeg(noise, "teacherStudent.noise");
  check(["relu", "tanh", "sigmoid", "linear"].includes(act), `teacherStudent.activation: unknown "${act}"`);
  const x = key
    .fold("x")
    .rng()
    .normals(opts.n * dim);
  const noiseRng = key.fold("noise").rng();
  const targets = new Float64Array(opts.n * outDim);
  const h = new Float64Array(hidden);
  for (let i = 0; i < opts.n; i++) {
    for (let u = 0; u < hidden; u++) {
      let z = 0;
      for (let j = 0; j < dim; j++) z += w1[u * dim + j] * x[i * dim + j];
      h[u] = activate(act, z);
    }
    for (let o = 0; o < outDim; o++) {
      let y = 0;
      for (let u = 0; u < hidden; u++) y += w2[o * hidden + u] * h[u];
      targets[i * outDim + o] = y + noise * noiseRng.normal();
    }
  }
  return makeDataset({ name: "teacherStudent", xShape: [dim], x, targets, targetDim: outDim });
}

/** Options of `sparseLinear`. */
export interface SparseLinearOptions {
  /** Number of examples. */
  n: number;
  /** Input dimension d (default 100). */
  dim?: number;
  /** Number of nonzero entries k of w* (default 5). */
  k?: number;
  /** Standard deviation σ of the Gaussian label noise (default 0). */
  noise?: number;
}

/** The planted k-sparse w* of `sparseLinear`: a uniformly random support of size k, entries ±1/√k (‖w*‖ = 1). */
export function sparseLinearWeights(opts: SparseLinearOptions, key: Key): Float64Array {
  const dim = opts.dim ?? 100;
  const k = opts.k ?? 5;
  checkInt(dim, 1, "sparseLinear.dim");
  checkInt(k, 1, "sparseLinear.k");
  check(k <= dim, `sparseLinear.k (${k}) must be <= dim (${dim})`);
  const support = key.fold("support").rng().permutation(dim);
  const signs = key.fold("signs").rng();
  const w = new Float64Array(dim);
  for (let j = 0; j < k; j++) w[support[j]] = signs.rademacher() / Math.sqrt(k);
  return w;
}

/**
 * Sparse linear regression: x ~ N(0, I_d), y = ⟨w*, x⟩ + σ ξ, ξ ~ N(0, 1), with w* k-sparse
 * (`sparseLinearWeights`: random support, entries ±1/√k), the setting of diagonal linear networks
 * (Woodworth et al. 2020). Options: `n`; `dim` d = 100; `k` = 5; `noise` σ = 0.
 */
export function sparseLinear(opts: SparseLinearOptions, key: Key): Dataset {
  const w = sparseLinearWeights(opts, key);
  const dim = w.length;
  const noise = opts.noise ?? 0;
  checkInt(opts.n, 1, "sparseLinear.n");
  checkNonNeg(noise, "sparseLinear.noise");
  const x = key
    .fold("x")
    .rng()
    .normals(opts.n * dim);
  const noiseRng = key.fold("noise").rng();
  const targets = new Float64Array(opts.n);
  for (let i = 0; i < opts.n; i++) {
    let y = 0;
    for (let j = 0; j < dim; j++) y += w[j] * x[i * dim + j];
    targets[i] = y + noise * noiseRng.normal();
  }
  return makeDataset({ name: "sparseLinear", xShape: [dim], x, targets, targetDim: 1 });
}

/** Options of `linearlySeparable`. */
export interface LinearlySeparableOptions {
  /** Number of examples. */
  n: number;
  /** Input dimension d (default 2). */
  dim?: number;
  /** Margin γ: every example has |⟨w*, x⟩| >= γ (default 0.1). */
  margin?: number;
}

/** The separating unit vector w* of `linearlySeparable`: g/‖g‖, g ~ N(0, I_d). */
export function separatingDirection(opts: Pick<LinearlySeparableOptions, "dim">, key: Key): Float64Array {
  const dim = opts.dim ?? 2;
  checkInt(dim, 1, "linearlySeparable.dim");
  const rng = key.fold("direction").rng();
  for (;;) {
    const g = rng.normals(dim);
    const norm = Math.hypot(...g);
    if (norm > 1e-12) return g.map((v) => v / norm);
  }
}

/**
 * Binary classification separable by a hyperplane through 0 with margin γ: z ~ N(0, I_d),
 * s = ⟨w*, z⟩, label y = 1[s > 0] (0 when s <= 0), x = z + γ·sign(s)·w* (sign(0) = −1), so that
 * (2y − 1)⟨w*, x⟩ = |s| + γ >= γ. The data are separable with margin γ by the unit vector w*
 * (`separatingDirection`); the component orthogonal to w* stays N(0, I − w*w*ᵀ).
 * Options: `n`; `dim` d = 2; `margin` γ = 0.1.
 */
export function linearlySeparable(opts: LinearlySeparableOptions, key: Key): Dataset {
  const w = separatingDirection(opts, key);
  const dim = w.length;
  const margin = opts.margin ?? 0.1;
  checkInt(opts.n, 1, "linearlySeparable.n");
  checkNonNeg(margin, "linearlySeparable.margin");
  const x = key
    .fold("x")
    .rng()
    .normals(opts.n * dim);
  const labels = new Int32Array(opts.n);
  for (let i = 0; i < opts.n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += w[j] * x[i * dim + j];
    const sign = s > 0 ? 1 : -1;
    labels[i] = s > 0 ? 1 : 0;
    for (let j = 0; j < dim; j++) x[i * dim + j] += margin * sign * w[j];
  }
  return makeDataset({ name: "linearlySeparable", xShape: [dim], x, labels, numClasses: 2 });
}
