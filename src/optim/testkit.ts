/**
 * Test support for optim/ (not part of the public surface): parameter trees from host vectors,
 * one eager optimizer step, toy objectives for the `Extras` that some rules need (`value`, `gradFn`),
 * and convex quadratics with host-side float64 references.
 */
import {
  jit,
  keep,
  lit,
  np,
  tree,
  treeAdd,
  treeNormSq,
  treeToHost,
  type Array as NpArray,
  type DType,
  type OwnedFunction,
  type Params,
} from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";

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
 * `Extras` for the toy objective L(w) = ½‖w‖² (for rules that read `value` or call `gradFn`; the
 * gradients handed to `update` need not match it): `value = L(params)`, `gradFn(p) = p`,
 * `valueAndGradFn`, `batchSize` 1. Borrows `params`, `lr` and `step`; the caller disposes `value`.
 * Jittable (call it inside the jitted function).
 */
export function halfSquareExtras(params: Params, lr: NpArray, step: NpArray): Extras & { value: NpArray } {
  const half = (p: Params): NpArray => {
    const s = treeNormSq(p);
    return s.mul(lit(0.5, s));
  };
  const gradFn = (p: Params): Params => tree.map((x: NpArray) => x.mul(lit(1, x)), p) as Params;
  return {
    lr,
    step,
    value: half(keep(params)),
    gradFn,
    valueAndGradFn: (p: Params) => [half(keep(p)), gradFn(p)],
    batchSize: 1,
  };
}

/**
 * One eager step `w ← w + u` with `[u, s] = opt.update(g, state, w, extras)`, `extras` from
 * `halfSquareExtras` (so `value`/`gradFn` describe L(w) = ½‖w‖², not `grads`); consumes `params`,
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
  const extras = halfSquareExtras(params, scalar(lr, dtype), scalar(step, dtype));
  const [u, s] = opt.update(grads, state, keep(params), extras);
  extras.lr.dispose();
  extras.step.dispose();
  extras.value.dispose();
  return [treeAdd(params, u), s];
}

/**
 * A jitted full step on the quadratic `q` for trees made by `treeOf`, as the trainer compiles it:
 * `g = A x − b` on the device, then `w ← w + u` with `[u, s] = opt.update(g, state, w, extras)`, where
 * `extras` carries `value = f(x) − f*` (≥ 0, as a loss) and `gradFn`/`valueAndGradFn` of the same
 * quadratic. Call it as `f(params, state, A, b, lr, step)` with `A`, `b` from `q.toDevice()`; dispose
 * it after. `fStar` is `q.fStar()` (a host number, baked into the compiled step).
 */
export function quadraticStep(
  opt: GradientTransformation,
  fStar = 0,
): OwnedFunction<(p: Params, s: OptState, A: NpArray, b: NpArray, lr: NpArray, step: NpArray) => [Params, OptState]> {
  return jit((p: Params, s: OptState, A: NpArray, b: NpArray, lr: NpArray, step: NpArray): [Params, OptState] => {
    const flat = (w: Params): [NpArray, number[]] => {
      const { a: pa, b: pb } = w as { a: NpArray; b: NpArray };
      const shapeA = pa.shape;
      return [np.concatenate([pa.reshape([-1]), pb]), shapeA];
    };
    const gradAt = (x: NpArray, shapeA: number[]): Params => {
      const [ga, gb] = np.split(np.matmul(A.ref, x).sub(b.ref), [shapeA[0] * shapeA[1]]);
      return { a: ga.reshape(shapeA), b: gb };
    };
    const valueAt = (x: NpArray): NpArray => {
      const f = np.dot(np.matmul(A.ref, x.ref), x.ref).mul(lit(0.5, x)).sub(np.dot(b.ref, x));
      return f.sub(lit(fStar, f));
    };
    const gradFn = (w: Params): Params => {
      const [x, shapeA] = flat(w);
      return gradAt(x, shapeA);
    };
    const valueAndGradFn = (w: Params): [NpArray, Params] => {
      const [x, shapeA] = flat(w);
      return [valueAt(x.ref), gradAt(x, shapeA)];
    };
    const [x, shapeA] = flat(keep(p));
    const value = valueAt(x.ref);
    const g = gradAt(x, shapeA);
    const [u, s2] = opt.update(g, s, keep(p), { lr, step, value, gradFn, valueAndGradFn, batchSize: 1 });
    tree.dispose([lr, step, value, A, b]);
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

  /** f(x*) = −½ bᵀx*. */
  fStar(): number {
    return -0.5 * this.b.reduce((s, v, i) => s + v * this.xStar[i], 0);
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

/** A two-leaf float64 tree `{ x: [w₀], y: [w₁] }` holding a 2-vector (global norms span both leaves). */
export function pairOf(w: ArrayLike<number>): Params {
  return {
    x: np.array(Float64Array.of(w[0]), { dtype: np.float64 }),
    y: np.array(Float64Array.of(w[1]), { dtype: np.float64 }),
  };
}

/**
 * The 2-parameter quadratic L(w) = ½ wᵀHw − cᵀw + d: host value and gradient (float64 references)
 * and the device gradient `gradFn` of `Extras` (on trees made by `pairOf`, consuming its argument).
 */
export class Quadratic2 {
  constructor(
    readonly H: readonly [number, number, number],
    readonly c: readonly [number, number] = [0, 0],
    readonly d = 0,
  ) {}

  /** L(w), with H = [[h₀, h₁], [h₁, h₂]]. */
  value(w: ArrayLike<number>): number {
    const [h0, h1, h2] = this.H;
    return (
      0.5 * (h0 * w[0] * w[0] + 2 * h1 * w[0] * w[1] + h2 * w[1] * w[1]) - this.c[0] * w[0] - this.c[1] * w[1] + this.d
    );
  }

  /** ∇L(w) = Hw − c. */
  grad(w: ArrayLike<number>): [number, number] {
    const [h0, h1, h2] = this.H;
    return [h0 * w[0] + h1 * w[1] - this.c[0], h1 * w[0] + h2 * w[1] - this.c[1]];
  }

  /** ∇L on the device, for `Extras.gradFn`. */
  readonly gradFn = (p: Params): Params => {
    const { x, y } = p as { x: NpArray; y: NpArray };
    const [h0, h1, h2] = this.H;
    return {
      x: x.ref.mul(h0).add(y.ref.mul(h1)).sub(this.c[0]),
      y: x.mul(h1).add(y.mul(h2)).sub(this.c[1]),
    };
  };
}

/** One step of `runPair`: the update, the iterate after it, and the optimizer after it. */
export interface PairStep {
  readonly u: Float64Array;
  readonly w: Float64Array;
  readonly averaged: Float64Array | null;
}

/**
 * Runs `steps` eager updates of `opt` on a 2-parameter tree from `w0`, with `lr` and the step index in
 * `extras`, `grads[t]` as the gradient (or `objective.grad(w_t)` where `grads` is absent or shorter),
 * and, when `objective` is given, `extras.value = objective.value(w_t)` and `extras.gradFn =
 * objective.gradFn`. Returns per step the update, the new iterate and `averaged(state)` (if any).
 */
export async function runPair(
  opt: GradientTransformation,
  w0: readonly number[],
  opts: { lr: number; steps: number; grads?: readonly (readonly number[])[]; objective?: Quadratic2 },
): Promise<PairStep[]> {
  const { lr, steps, grads = [], objective } = opts;
  let params = pairOf(w0);
  let state = opt.init(keep(params));
  let w = Float64Array.from(w0);
  const out: PairStep[] = [];
  try {
    for (let t = 0; t < steps; t++) {
      const g = grads[t] ?? objective?.grad(w);
      if (g === undefined) throw new Error(`runPair: no gradient for step ${t}`);
      const extras: Extras = {
        lr: scalar(lr),
        step: scalar(t),
        ...(objective ? { value: scalar(objective.value(w)), gradFn: objective.gradFn, batchSize: 1 } : {}),
      };
      let u: Params;
      try {
        [u, state] = opt.update(pairOf(g), state, keep(params), extras);
      } finally {
        tree.dispose([extras.lr, extras.step, extras.value]);
      }
      const uh = await treeToHost(keep(u));
      params = treeAdd(params, u);
      w = await treeToHost(keep(params));
      const avg = opt.averaged?.(state) ?? null;
      out.push({ u: uh, w, averaged: avg === null ? null : await treeToHost(avg) });
    }
  } finally {
    tree.dispose([params, state]);
  }
  return out;
}
