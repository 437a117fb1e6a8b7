/**
 * Normalisation layers: batch normalisation with explicit running statistics (and ghost batches),
 * layer normalisation, and `NormPass`, which threads the running statistics of a model's batch-norm
 * layers through one forward pass. Channels are the last axis ([B, d] or [B, H, W, C]).
 */
import { keep, lax, lit, np, release, UserError, type Array, type FloatDtype } from "../core/index.js";
import { checkBatch, constArray } from "./layers.js";
import type { ApplyOptions, ModelState } from "./types.js";
import type { Params } from "../core/index.js";

/** Learned per-channel scale and shift of a normalisation layer: γ, β [C]. */
export type AffineParams = {
  gamma: Array;
  beta: Array;
};

/** Running statistics of one batch-norm layer: mean and (unbiased) variance per channel, [C]. */
export type BatchNormState = {
  mean: Array;
  var: Array;
};

/** Hyperparameters of batch normalisation. */
export interface BatchNormOptions {
  /** Weight m of the newest batch in r ← (1 − m)·r + m·s (PyTorch's convention; default 0.1). */
  readonly momentum?: number;
  /** ε in 1/√(σ² + ε) (default 1e-5). */
  readonly eps?: number;
  /** Ghost batch size g, or null/undefined for whole-batch statistics. */
  readonly ghostBatch?: number | null;
}

/** The integers a, a + 1, …, b − 1. */
function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i < b; i++) out.push(i);
  return out;
}

/** γ = 1, β = 0 for C channels. */
export function initAffine(channels: number, dtype: FloatDtype): AffineParams {
  return { gamma: constArray([channels], 1, dtype), beta: constArray([channels], 0, dtype) };
}

/** Running statistics at the start of training: mean 0, variance 1 (as PyTorch). */
export function initBatchNormState(channels: number, dtype: FloatDtype): BatchNormState {
  return { mean: constArray([channels], 0, dtype), var: constArray([channels], 1, dtype) };
}

/** y·γ + β over the last axis, or y when `affine` is null (consumes both). */
function applyAffine(y: Array, affine: AffineParams | null): Array {
  return affine ? y.mul(affine.gamma).add(affine.beta) : y;
}

/**
 * (x − μ)/√(σ² + ε) with μ, σ² the mean and biased variance of x over `axes` (kept as size-1
 * axes). Returns [y, μ, σ²]; consumes x.
 */
function standardize(x: Array, axes: number[], eps: number): [Array, Array, Array] {
  const n = axes.reduce((s, a) => s * x.shape[a], 1);
  const mean = x.ref.sum(axes, { keepdims: true }).div(lit(n, x));
  const xc = x.sub(mean.ref);
  const v = xc.ref.mul(xc.ref).sum(axes, { keepdims: true }).div(lit(n, xc));
  const y = xc.div(np.sqrt(v.ref.add(lit(eps, v))));
  return [y, mean, v];
}

/** One ghost batch's statistics: mean and biased variance [C], and the count n per channel. */
interface ChunkStats {
  mean: Array;
  var: Array;
  n: number;
}

/**
 * Batch normalisation with batch statistics (Ioffe & Szegedy 2015, Alg. 1): for each channel c,
 * y = γ_c·(x − μ_B)/√(σ²_B + ε) + β_c with μ_B, σ²_B the mean and biased variance over every axis
 * but the last (the batch and, for [B, H, W, C], the spatial positions).
 *
 * With `ghostBatch` g (Hoffer, Hubara & Soudry 2017, Alg. 1, "ghost batch normalization"), the
 * batch is split into consecutive chunks of g examples (the last one smaller when g does not divide
 * B) and each chunk is normalised with its own statistics; g ≥ B is plain batch norm.
 *
 * With `state`, also returns the updated running statistics, each chunk in order applying
 * r ← (1 − m)·r + m·s (PyTorch's momentum m, default 0.1), with s the chunk mean, and for the
 * variance the unbiased σ²·n/(n − 1), n the count per channel (gradients stopped). Without state,
 * returns null. Throws a UserError when a chunk has one value per channel (as PyTorch). Consumes
 * x, affine and state.
 */
export function batchNormTrain(
  x: Array,
  affine: AffineParams | null,
  state: BatchNormState | null,
  opts: BatchNormOptions = {},
): [Array, BatchNormState | null] {
  const { momentum = 0.1, eps = 1e-5, ghostBatch = null } = opts;
  const b = x.shape[0];
  const perExample = x.shape.slice(1, -1).reduce((s, v) => s * v, 1);
  const g = ghostBatch === null || ghostBatch >= b ? b : ghostBatch;
  const full = Math.floor(b / g);
  const rest = b - full * g;
  if (Math.min(g, rest || g) * perExample < 2) {
    x.dispose();
    release(affine);
    release(state);
    throw new UserError(
      `batch norm in train mode needs more than one value per channel; got a batch of ${b}` +
        (ghostBatch === null ? "" : ` split into ghost batches of model.ghostBatch = ${ghostBatch}`) +
        ` (use a larger batch size${ghostBatch === null ? "" : " or ghostBatch"})`,
    );
  }
  const ys: Array[] = [];
  const stats: ChunkStats[] = [];
  const inner = x.shape.slice(1);
  if (full > 1) {
    // [G, g, ..., C]: one reshape normalises all full ghost batches at once.
    const xs = (rest > 0 ? x.ref.slice([0, full * g]) : x.ref).reshape([full, g, ...inner]);
    const [y, mean, v] = standardize(xs, range(1, inner.length + 1), eps);
    ys.push(y.reshape([full * g, ...inner]));
    const c = inner[inner.length - 1];
    const means = mean.reshape([full, c]);
    const vars = v.reshape([full, c]);
    if (state !== null)
      for (let l = 0; l < full; l++)
        stats.push({ mean: means.ref.slice(l), var: vars.ref.slice(l), n: g * perExample });
    means.dispose();
    vars.dispose();
  } else {
    const xs = rest > 0 ? x.ref.slice([0, g]) : x.ref;
    const axes = range(0, xs.ndim - 1);
    const [y, mean, v] = standardize(xs, axes, eps);
    ys.push(y);
    stats.push({ mean: mean.reshape([-1]), var: v.reshape([-1]), n: g * perExample });
  }
  if (rest > 0) {
    const xs = x.ref.slice([full * g, b]);
    const axes = range(0, xs.ndim - 1);
    const [y, mean, v] = standardize(xs, axes, eps);
    ys.push(y);
    stats.push({ mean: mean.reshape([-1]), var: v.reshape([-1]), n: rest * perExample });
  }
  x.dispose();
  const y = applyAffine(ys.length === 1 ? ys[0] : np.concatenate(ys, 0), affine);
  if (state === null) {
    release(stats.map((s) => [s.mean, s.var]));
    return [y, null];
  }
  // Each ghost batch in order, as if they were consecutive steps.
  let { mean: rm, var: rv } = state;
  for (const s of stats) {
    const keepOld = lit(1 - momentum, rm);
    const unbiased = lax.stopGradient(s.var).mul(lit((momentum * s.n) / (s.n - 1), rv));
    rm = rm.mul(keepOld.ref).add(lax.stopGradient(s.mean).mul(lit(momentum, rm)));
    rv = rv.mul(keepOld).add(unbiased);
  }
  return [y, { mean: rm, var: rv }];
}

/**
 * Batch normalisation with running statistics (Ioffe & Szegedy 2015, Alg. 2, inference):
 * y = γ·(x − r_μ)/√(r_σ² + ε) + β per channel (last axis). Consumes x, affine and state.
 */
export function batchNormEval(x: Array, affine: AffineParams | null, state: BatchNormState, eps = 1e-5): Array {
  const y = x.sub(state.mean).div(np.sqrt(state.var.add(lit(eps, state.var))));
  return applyAffine(y, affine);
}

/**
 * Layer normalisation (Ba, Kiros & Hinton 2016, eq. 4): each example is standardised over all of
 * its features, y = γ·(x − μ)/√(σ² + ε) + β with μ, σ² the mean and biased variance over every axis
 * but the first; γ, β are per channel (the last axis), so on [B, H, W, C] this is group norm with
 * one group (Wu & He 2018). `eps` defaults to 1e-5. Consumes x and affine.
 */
export function layerNorm(x: Array, affine: AffineParams | null, eps = 1e-5): Array {
  const axes = range(1, x.ndim);
  const [y, mean, v] = standardize(x, axes, eps);
  mean.dispose();
  v.dispose();
  return applyAffine(y, affine);
}

/**
 * How the batch-norm layers of one forward pass run, and the running statistics they read and
 * write. A model calls `batchNorm` once per layer, in a fixed order; the model state is the list of
 * every layer's `BatchNormState` in that order.
 *
 * - "eval": running statistics from the state (`apply` with `train: false`; the state is borrowed);
 * - "batch": batch statistics, nothing updated (`apply` with `train: true`);
 * - "update": batch statistics, and `finish()` returns the updated state (`applyTrain`).
 */
export class NormPass {
  #next: BatchNormState[] = [];
  #i = 0;
  private constructor(
    readonly mode: "eval" | "batch" | "update",
    private readonly states: BatchNormState[] | null,
    private readonly opts: BatchNormOptions,
  ) {}

  /**
   * The pass of `apply(params, x, opts)` of `model` (a name for messages): "batch" with
   * `opts.train`, else "eval". Eval mode without `opts.state` calls `onError` (which releases the
   * caller's arrays) and throws an Error. Keeps (does not consume) `opts.state`.
   */
  static forApply(model: string, opts: ApplyOptions | undefined, bn: BatchNormOptions, onError: () => void): NormPass {
    if (opts?.train) return new NormPass("batch", null, bn);
    if (opts?.state === undefined) {
      onError();
      throw new Error(
        `${model}: apply in eval mode (train: false, the default) uses batch-norm running statistics, ` +
          `so it needs opts.state (from initState/applyTrain); pass { train: true } for batch statistics`,
      );
    }
    return new NormPass("eval", keep(opts.state) as unknown as BatchNormState[], bn);
  }

  /** The pass of `applyTrain(params, state, x)`; consumes `state`. */
  static forTrain(state: ModelState, bn: BatchNormOptions): NormPass {
    return new NormPass("update", state as unknown as BatchNormState[], bn);
  }

  /** Batch norm of x (consumed, with `affine`) in this pass's mode, as the next layer in order. */
  batchNorm(x: Array, affine: AffineParams | null): Array {
    const i = this.#i++;
    if (this.mode === "batch") return batchNormTrain(x, affine, null, this.opts)[0];
    const s = this.states?.[i];
    if (s === undefined) {
      x.dispose();
      release(affine);
      throw new Error(`batch-norm state has ${this.states?.length ?? 0} layers; the model needs more`);
    }
    if (this.mode === "eval") return batchNormEval(x, affine, s, this.opts.eps);
    const [y, next] = batchNormTrain(x, affine, s, this.opts);
    this.#next.push(next as BatchNormState);
    return y;
  }

  /** The updated state ("update"), or null; checks that every layer of the state was used. */
  finish(): ModelState | null {
    const n = this.states?.length ?? 0;
    if (this.mode !== "batch" && this.#i !== n) {
      release(this.states?.slice(this.#i) ?? null);
      release(this.#next);
      throw new Error(`batch-norm state has ${n} layers; the model used ${this.#i}`);
    }
    return this.mode === "update" ? (this.#next as unknown as ModelState) : null;
  }
}

/** `checkBatch` for `applyTrain`: also releases `state` when the batch does not fit. */
export function checkBatchWithState(
  params: Params,
  state: ModelState,
  x: Array,
  inputShape: readonly number[],
  model: string,
): void {
  try {
    checkBatch(params, x, inputShape, model);
  } catch (e) {
    release(state);
    throw e;
  }
}
