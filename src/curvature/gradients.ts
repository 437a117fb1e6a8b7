/**
 * Gradient statistics of an objective at a point: the objective's gradient norm, the per-example
 * gradient covariance trace and the gradient noise scale (exactly, and by the two-batch-size estimator).
 */
import {
  check,
  grad,
  keep,
  release,
  toScalar,
  treeFromHost,
  treeNormSq,
  treeSpec,
  treeSub,
  type Array as JaxArray,
  type Key,
  type Params,
} from "../core/index.js";
import type { Objective } from "../losses/objective.js";
import { twoBatchEstimates } from "../theory/index.js";

/**
 * ‖∇L(θ)‖² of the objective, the implicit gradient regularizer of gradient descent with step h
 * (Barrett & Dherin 2021, "Implicit gradient regularization", ICLR: GD follows the modified loss
 * L̃ = L + (h/4)‖∇L‖² to O(h²)). Accumulated over chunks in float64; consumes θ.
 */
export async function gradientNormSq(obj: Objective, theta: Params): Promise<number> {
  const g = (await obj.hostValueAndGradient(theta)).gradient;
  let s = 0;
  for (const x of g) s += x * x;
  return s;
}

/** Per-example gradient statistics (`gradientNoise`). */
export interface GradientNoise {
  /** Number of examples n. */
  n: number;
  /** ‖G‖² with G = (1/n) Σᵢ gᵢ the mean per-example gradient. */
  gradNormSq: number;
  /** tr Σ = (1/n) Σᵢ ‖gᵢ − G‖², Σ the per-example gradient covariance. */
  traceCov: number;
  /** B_simple = tr Σ / ‖G‖². */
  noiseScale: number;
}

/** The mean per-example gradient G: ∇L for per-example-mean losses, ∇L/n for summed ones. */
async function meanGradient(obj: Objective, theta: Params): Promise<Float64Array> {
  const g = (await obj.hostValueAndGradient(theta)).gradient;
  if (!obj.loss.perExampleMean) for (let i = 0; i < g.length; i++) g[i] /= obj.dataset.n;
  return g;
}

/**
 * The per-example gradient covariance trace and the simple gradient noise scale of the objective's
 * examples (McCandlish, Kaplan, Amodei & OpenAI Dota Team 2018, "An empirical model of large-batch
 * training", eq. 2.8): B_simple = tr Σ / ‖G‖², with gᵢ = ∇ℓᵢ the gradient of the loss on example i
 * alone, G = (1/n) Σᵢ gᵢ and tr Σ = (1/n) Σᵢ ‖gᵢ − G‖² (the population covariance of the n examples).
 *
 * G comes from the chunked objective gradient (∇L, or ∇L/n for summed losses) and stays on the device;
 * then each example's gradient is taken alone (a batch of one, n backward passes, no vmap: jax-js's
 * vmap over matmul is slow) and ‖gᵢ − G‖² is read to the host in groups of `groupSize` examples,
 * which bounds the pending work; sums are in float64 on the host. The two-pass form avoids the
 * cancellation of (1/n)Σ‖gᵢ‖² − ‖G‖² when the noise is small.
 *
 * @param theta the point (consumed). @param opts.groupSize examples per host read, default 16.
 */
export async function gradientNoise(
  obj: Objective,
  theta: Params,
  opts: { groupSize?: number } = {},
): Promise<GradientNoise> {
  const groupSize = opts.groupSize ?? 16;
  if (!(Number.isInteger(groupSize) && groupSize > 0)) release(theta);
  check(Number.isInteger(groupSize) && groupSize > 0, `gradientNoise: groupSize must be a positive integer`);
  const gMean = await meanGradient(obj, keep(theta));
  let gradNormSq = 0;
  for (const x of gMean) gradNormSq += x * x;
  const gTree = treeFromHost(treeSpec(theta), gMean) as Params;
  let sum = 0;
  try {
    let pending: Promise<number>[] = [];
    const flush = async () => {
      for (const v of await Promise.all(pending)) sum += v;
      pending = [];
    };
    for (const c of obj.chunks) {
      for (let j = 0; j < c.n; j++) {
        const f = (p: Params): JaxArray =>
          obj.loss(obj.forward(p, c.x.ref.slice([j, j + 1])), c.y.ref.slice([j, j + 1]));
        const gi = grad(f)(keep(theta)) as Params;
        pending.push(toScalar(treeNormSq(treeSub(gi, keep(gTree)))));
        if (pending.length >= groupSize) await flush();
      }
    }
    await flush();
  } finally {
    release([gTree, theta]);
  }
  const n = obj.dataset.n;
  const traceCov = sum / n;
  return { n, gradNormSq, traceCov, noiseScale: traceCov / gradNormSq };
}

/** Noise-scale quantities recovered from two batch sizes (`twoBatchEstimates` of theory/). */
export interface TwoBatchEstimate {
  /** Estimate of ‖G‖². */
  gradNormSq: number;
  /** Estimate of tr Σ. */
  traceCov: number;
  /** tr Σ / ‖G‖² from the two estimates (not unbiased: a ratio of unbiased estimates). */
  noiseScale: number;
}

/** Options of `twoBatchNoiseScale`. */
export interface TwoBatchOptions {
  /** Small batch size b ≥ 1. */
  small: number;
  /** Large batch size B > b. */
  big: number;
  /** Batches drawn at each size, whose squared norms are averaged (default 8). */
  draws?: number;
  key: Key;
}

/**
 * The two-batch-size noise-scale estimate of McCandlish et al. 2018 (App. A.1; the formulas are
 * `twoBatchEstimates` in theory/) measured on the objective's
 * examples: `draws` batches of b and of B examples drawn uniformly *with replacement* (independent
 * draws, as the estimator assumes) from `key.fold("small"|"big").fold(d)`, each batch's mean gradient
 * G_b (∇L_b, or ∇L_b/b for summed losses) from a batch objective in the objective's chunk size, and
 * ‖G_b‖², ‖G_B‖² averaged over the draws. Also returns those averages.
 *
 * @param theta the point (consumed). @param opts.draws default 8.
 */
export async function twoBatchNoiseScale(
  obj: Objective,
  theta: Params,
  opts: TwoBatchOptions,
): Promise<TwoBatchEstimate & { normSqSmall: number; normSqBig: number; draws: number }> {
  try {
    return await twoBatch(obj, theta, opts);
  } finally {
    release(theta);
  }
}

async function twoBatch(
  obj: Objective,
  theta: Params,
  opts: TwoBatchOptions,
): Promise<TwoBatchEstimate & { normSqSmall: number; normSqBig: number; draws: number }> {
  const draws = opts.draws ?? 8;
  check(Number.isInteger(draws) && draws > 0, `twoBatchNoiseScale: draws must be a positive integer`);
  check(
    Number.isInteger(opts.small) && Number.isInteger(opts.big) && opts.small >= 1 && opts.big > opts.small,
    `twoBatchNoiseScale: need integer batch sizes 1 ≤ small < big, got ${opts.small}, ${opts.big}`,
  );
  const n = obj.dataset.n;
  const meanNormSq = async (size: number, which: "small" | "big"): Promise<number> => {
    let total = 0;
    for (let d = 0; d < draws; d++) {
      const rng = opts.key.fold(which).fold(d).rng();
      const indices = Int32Array.from({ length: size }, () => rng.int(n));
      const sub = obj.select(indices);
      try {
        const g = await meanGradient(sub, keep(theta));
        let s = 0;
        for (const x of g) s += x * x;
        total += s;
      } finally {
        sub.dispose();
      }
    }
    return total / draws;
  };
  const normSqSmall = await meanNormSq(opts.small, "small");
  const normSqBig = await meanNormSq(opts.big, "big");
  const e = twoBatchEstimates({ bSmall: opts.small, bBig: opts.big, normSqSmall, normSqBig });
  return { gradNormSq: e.gradNormSq, traceCov: e.traceCov, noiseScale: e.bSimple, normSqSmall, normSqBig, draws };
}
