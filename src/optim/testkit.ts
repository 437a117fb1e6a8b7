/**
 * Test support for optim/ (not part of the public surface): parameter trees from host vectors,
 * one eager optimizer step, and convex quadratics with host-side float64 references.
 */
import {
  jit,
  keep,
  np,
  tree,
  treeAdd,
  treeToHost,
  type Array as NpArray,
  type DType,
  type OwnedFunction,
  type Params,
} from "../core/index.js";
import type { GradientTransformation, OptState } from "./types.js";

/** Shapes of the test parameter tree `{ a: [2, k], b: [n − 2k] }` for a vector of length n. */
function split(n: number): { a: number[]; b: number[] } {
  const k = Math.floor(n / 4);
  return { a: [2, k], b: [n - 2 * k] };
}

/** A two-leaf parameter tree `{ a, b }` holding the host vector `x` (leaf order a, b). */
export function treeOf(x: ArrayLike<number>, dtype: DType = np.float64): Params {
  const s = split(x.length);
  const nw = s.a[0] * s.a[1];
  const buf = (from: number, to: number) =>
    dtype === np.float64 ? Float64Array.from(x).slice(from, to) : Float32Array.from(x).slice(from, to);
  return {
    a: np.array(buf(0, nw), { dtype }).reshape(s.a),
    b: np.array(buf(nw, x.length), { dtype }),
  };
}

/** The 0-d array `value` in `dtype`. */
export function scalar(value: number, dtype: DType = np.float64): NpArray {
  return np.full([], value, { dtype });
}

/**
 * One eager step `w ← w + u` with `[u, s] = opt.update(g, state, w, {lr, step})`; consumes `params`,
 * `state` and `grads`, returns the new parameters and state.
 */
export function applyStep(
  opt: GradientTransformation,
  params: Params,
  state: OptState,
  grads: Params,
  lr: number,
  step: number,
): [Params, OptState] {
  const dtype = tree.leaves(params)[0].dtype;
  const extras = { lr: scalar(lr, dtype), step: scalar(step, dtype) };
  const [u, s] = opt.update(grads, state, keep(params), extras);
  extras.lr.dispose();
  extras.step.dispose();
  return [treeAdd(params, u), s];
}

/**
 * A jitted full step on the quadratic `q` for trees made by `treeOf`, as the trainer compiles it:
 * `g = A x − b` on the device, then `w ← w + u` with `[u, s] = opt.update(g, state, w, {lr, step})`.
 * Call it as `f(params, state, A, b, lr, step)` with `A`, `b` from `q.toDevice()`; dispose it after.
 */
export function quadraticStep(
  opt: GradientTransformation,
): OwnedFunction<(p: Params, s: OptState, A: NpArray, b: NpArray, lr: NpArray, step: NpArray) => [Params, OptState]> {
  return jit((p: Params, s: OptState, A: NpArray, b: NpArray, lr: NpArray, step: NpArray): [Params, OptState] => {
    const { a: pa, b: pb } = p as { a: NpArray; b: NpArray };
    const shapeA = pa.shape;
    const x = np.concatenate([pa.ref.reshape([-1]), pb.ref]);
    const [ga, gb] = np.split(np.matmul(A, x).sub(b), [shapeA[0] * shapeA[1]]);
    const [u, s2] = opt.update({ a: ga.reshape(shapeA), b: gb }, s, keep(p), { lr, step });
    lr.dispose();
    step.dispose();
    return [treeAdd(p, u), s2];
  });
}

/** Reads a tree to the host (consumes it). */
export const host = treeToHost;

/** f(x) = ½ xᵀAx − bᵀx with A = Q diag(λ) Qᵀ, Q a product of Householder reflections; all on the host. */
export class Quadratic {
  readonly n: number;
  readonly A: Float64Array[];
  /** Orthonormal eigenvectors, as the columns Q[·][i]. */
  readonly Q: Float64Array[];
  readonly b: Float64Array;
  readonly xStar: Float64Array;

  constructor(
    readonly eigenvalues: readonly number[],
    seedVectors: readonly (readonly number[])[] = [],
  ) {
    const n = eigenvalues.length;
    this.n = n;
    const Q = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
    for (const h of seedVectors) {
      // Q ← (I − 2hhᵀ/hᵀh) Q
      const hh = h.reduce((s, v) => s + v * v, 0);
      for (let j = 0; j < n; j++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += h[i] * Q[i][j];
        for (let i = 0; i < n; i++) Q[i][j] -= (2 * h[i] * d) / hh;
      }
    }
    this.Q = Q;
    this.A = Array.from({ length: n }, (_, i) =>
      Float64Array.from({ length: n }, (_, j) => {
        let s = 0;
        for (let k = 0; k < n; k++) s += Q[i][k] * eigenvalues[k] * Q[j][k];
        return s;
      }),
    );
    this.xStar = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
    this.b = this.matvec(this.xStar);
  }

  /** `[A, b]` as device arrays of `dtype` (the caller owns them). */
  toDevice(dtype: DType = np.float64): [NpArray, NpArray] {
    const flatA = Float64Array.from(this.A.flatMap((row) => [...row]));
    const cast = (v: Float64Array) => (dtype === np.float64 ? v : Float32Array.from(v));
    return [np.array(cast(flatA), { dtype }).reshape([this.n, this.n]), np.array(cast(this.b), { dtype })];
  }

  /** A x. */
  matvec(x: ArrayLike<number>): Float64Array {
    return Float64Array.from(this.A, (row) => row.reduce((s, a, j) => s + a * x[j], 0));
  }

  /** ∇f(x) = Ax − b. */
  grad(x: ArrayLike<number>): Float64Array {
    const ax = this.matvec(x);
    return ax.map((v, i) => v - this.b[i]);
  }

  /** f(x) − f(x*) = ½ (x − x*)ᵀA(x − x*). */
  gap(x: ArrayLike<number>): number {
    const e = Float64Array.from({ length: this.n }, (_, i) => x[i] - this.xStar[i]);
    const ae = this.matvec(e);
    return 0.5 * e.reduce((s, v, i) => s + v * ae[i], 0);
  }

  /** Coordinates of x − x* in the eigenbasis: Qᵀ(x − x*). */
  toEigen(x: ArrayLike<number>): Float64Array {
    return Float64Array.from({ length: this.n }, (_, k) => {
      let s = 0;
      for (let i = 0; i < this.n; i++) s += this.Q[i][k] * (x[i] - this.xStar[i]);
      return s;
    });
  }

  /** x* + Q c. */
  fromEigen(c: ArrayLike<number>): Float64Array {
    return Float64Array.from({ length: this.n }, (_, i) => {
      let s = this.xStar[i];
      for (let k = 0; k < this.n; k++) s += this.Q[i][k] * c[k];
      return s;
    });
  }
}
