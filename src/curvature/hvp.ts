/**
 * Exact Hessian-vector products of an objective (losses/objective.ts) at a point by forward-over-
 * reverse differentiation, and the chunk-summing machinery shared with the GGN operator (ggn.ts).
 */
import {
  check,
  grad,
  jvp,
  keep,
  linearize,
  release,
  treeFromHost,
  treeSpec,
  treeToHost,
  type Params,
} from "../core/index.js";
import type { Objective, ObjectiveChunk } from "../losses/objective.js";
import type { LinearOperator } from "./operator.js";

/** An operator that holds device state (linearizations); `dispose()` releases it. */
export interface DisposableOperator extends LinearOperator {
  dispose(): void;
}

/**
 * How a chunk's product is computed.
 *
 * - "linearize": `linearize` once per chunk when the operator is first used (one forward and backward
 *   pass, residuals kept on the device), then one application of the linear function per vector;
 * - "jvp": a fresh `jvp` per vector (no memory held between products);
 * - "auto": "linearize" for the leading chunks covering at most `maxLinearizedExamples` examples,
 *   "jvp" for the rest.
 *
 * Both give the same numbers (bit-identical in bench/hvp.ts); only time and memory differ. Measured
 * there (MLP 784-256-256-10, tanh, CE, B = 1000, float32, 1 thread): a fresh jvp 360 ms per product,
 * a linearized application 178 ms (≈ 0.5×) after a one-off ≈ 0.3 s linearization holding ≈ 55 MB of
 * residuals per 1000-example chunk; jit(jvp(grad)) 1490 ms (+275 MB at compilation); vmap of
 * jvp(grad) over 4 vectors 3600 ms per vector.
 *
 * jax-js 0.1.25 leak: under nested differentiation its JVP rule for `reciprocal` never releases its
 * operand, so every jvp(grad) through a log, a division by a traced value or a reduce-max (CE has all
 * three) leaks device memory: ≈ 200 KB per product for the chunk above. A linearization leaks that
 * once; its applications leak nothing. Hence "auto" linearizes as much as memory allows (canary and
 * repro in hvp.test.ts; the one-line upstream fix is `reciprocal(x)` for `reciprocal(x.ref)`).
 */
export type ProductMode = "auto" | "linearize" | "jvp";

/** Options shared by `hessianOperator` and `ggnOperator`. */
export interface ProductOptions {
  /** Default "auto". */
  readonly mode?: ProductMode;
  /** Examples whose linearizations "auto" may keep (default 8192: ≈ 450 MB for the MLP above). */
  readonly maxLinearizedExamples?: number;
}

/** Options of `hessianOperator`. */
export type HessianOperatorOptions = ProductOptions;

/** A chunk's product prepared once per point: `apply` consumes its tangent tree. */
export interface PreparedProduct {
  apply(v: Params): Params;
  dispose(): void;
}

/** How one chunk's operator product is computed (see `chunkedOperator`). */
export interface ChunkProduct {
  /** Prepares the chunk's product at the point θ (borrowed), e.g. by `linearize`. */
  prepare(c: ObjectiveChunk, theta: Params): PreparedProduct;
  /** One product A_c v at θ (borrowed) from scratch; consumes `v`. */
  direct(c: ObjectiveChunk, theta: Params, v: Params): Params;
}

/**
 * The operator v ↦ Σ_c w_c A_c v at the point θ over the objective's chunks, with A_c given by
 * `product`: each host vector is uploaded once as a parameter tree in θ's dtype, each chunk's product
 * is read back to the host and accumulated in float64 (so at most one chunk's graph is alive per
 * call). Which chunks are prepared once and which are computed per vector follows `opts.mode`. The
 * operator owns θ (consumed; released by `dispose()`) and borrows `obj` (dispose the operator before
 * the objective). Curvature is of unregularized objectives (a UserError otherwise).
 */
export function chunkedOperator(
  obj: Objective,
  theta: Params,
  product: ChunkProduct,
  opts: ProductOptions = {},
): DisposableOperator {
  const mode = opts.mode ?? "auto";
  const maxLin = opts.maxLinearizedExamples ?? 8192;
  const spec = treeSpec(theta);
  let chunks: readonly ObjectiveChunk[];
  try {
    check(["auto", "linearize", "jvp"].includes(mode), `operator: mode must be auto, linearize or jvp, got "${mode}"`);
    check(maxLin >= 0, `operator: maxLinearizedExamples must be ≥ 0, got ${maxLin}`);
    check(
      obj.regularizer === undefined,
      `operator: curvature of a regularized objective (${obj.description.regularizer}) is not supported`,
    );
    chunks = obj.chunks;
  } catch (e) {
    release(theta);
    throw e;
  }
  let covered = 0;
  const linearized = chunks.map((c) => {
    covered += c.n;
    return mode === "linearize" || (mode === "auto" && covered <= maxLin);
  });
  let prepared: (PreparedProduct | undefined)[] = chunks.map(() => undefined);
  let disposed = false;
  return {
    dim: spec.size,
    async matvec(v: Float64Array): Promise<Float64Array> {
      if (disposed) throw new Error("operator used after dispose()");
      if (v.length !== spec.size) throw new RangeError(`matvec: vector has ${v.length} entries, expected ${spec.size}`);
      let out: Float64Array | null = null;
      const vt = treeFromHost(spec, v);
      try {
        for (let i = 0; i < chunks.length; i++) {
          const c = chunks[i];
          let hv: Params;
          if (linearized[i]) {
            // Synchronous check-and-set: concurrent matvecs never prepare a chunk twice.
            const p = (prepared[i] ??= product.prepare(c, theta));
            hv = p.apply(keep(vt));
          } else {
            hv = product.direct(c, theta, keep(vt));
          }
          const h = await treeToHost(hv);
          const w = c.weight;
          // The first chunk's host copy becomes the sum (0 + w·h, as accumulating into zeros rounds).
          if (out === null) {
            for (let j = 0; j < h.length; j++) h[j] = 0 + w * h[j];
            out = h;
          } else for (let j = 0; j < h.length; j++) out[j] += w * h[j];
        }
      } finally {
        release(vt);
      }
      return out ?? new Float64Array(spec.size);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const p of prepared) p?.dispose();
      prepared = [];
      release(theta);
    },
  };
}

/**
 * The exact Hessian H = ∇²L(θ) = Σ_c w_c ∇²L_c(θ) of an objective at θ as an operator, by
 * forward-over-reverse differentiation (Pearlmutter 1994, "Fast exact multiplication by the Hessian";
 * H_c v = ∂/∂ε ∇L_c(θ + εv)|₀ = `jvp(grad(L_c), [θ], [v])`), or its `linearize`d form (see
 * `ProductMode`). Never reverse-over-reverse (wrong numbers on jax-js 0.1.25 Wasm float32) and never
 * jitted (4× slower and +275 MB in bench/hvp.ts): jax-js 0.1.25's jit fusion hands the weight-gradient
 * matmuls of jvp∘grad an operand already broadcast to [out, in, batch], misses the reuse, and fuses the
 * elementwise tangent into the matmul's reduction (recomputed `in` times per element, no tiled SIMD
 * path: one kernel is ~46% of the jitted product's time; canary in hvp.test.ts). Eager, the tangent is
 * materialized once and every matmul is a plain two-operand one. Host vectors are float64; the
 * products run in the parameters' dtype.
 *
 * @param theta the point (consumed: the operator owns it). @param opts.mode default "auto".
 * @param opts.maxLinearizedExamples default 8192.
 */
export function hessianOperator(obj: Objective, theta: Params, opts: HessianOperatorOptions = {}): DisposableOperator {
  const product: ChunkProduct = {
    prepare(c, p) {
      const [g, lin] = linearize(grad(obj.chunkLoss(c)), [keep(p)]) as unknown as [
        Params,
        ((v: Params) => Params) & { dispose(): void },
      ];
      release(g);
      return { apply: (v) => lin(v), dispose: () => lin.dispose() };
    },
    direct(c, p, v) {
      const [g, hv] = jvp(grad(obj.chunkLoss(c)), [keep(p)], [v]) as unknown as [Params, Params];
      release(g);
      return hv;
    },
  };
  return chunkedOperator(obj, theta, product, opts);
}
