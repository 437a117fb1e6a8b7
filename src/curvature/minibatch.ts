/**
 * Sharpness of mini-batch Hessians against the full-batch one, and the largest stable learning rates
 * they imply (Granziol et al. 2022).
 */
import { check, keep, release, type Key, type Params } from "../core/index.js";
import type { Objective, ObjectiveDescription } from "../losses/objective.js";
import { hessianOperator, type ProductMode } from "./hvp.js";
import { lanczos } from "./lanczos.js";

/** 2/λ, the largest stable GD step on a quadratic of top curvature λ (Infinity for λ ≤ 0). */
function stableLr(lambda: number): number {
  return lambda > 0 ? 2 / lambda : Infinity;
}

/** Options of `minibatchSharpness`. */
export interface MinibatchSharpnessOptions {
  /** Batch sizes B to measure, each in [1, n]. */
  readonly batchSizes: readonly number[];
  /** Random batches per size (default 5). */
  readonly draws?: number;
  readonly key: Key;
  /** Relative Ritz residual tolerance of Lanczos (default 1e-6). */
  readonly tol?: number;
  /** Maximum Lanczos steps per eigenvalue (default: lanczos's). */
  readonly maxIter?: number;
  /** Warm-start each batch's Lanczos from the full-batch top eigenvector (default true). */
  readonly warmStart?: boolean;
  /** How the Hessian products are computed (default "auto", see `ProductMode`). */
  readonly mode?: ProductMode;
}

/** λmax of the mini-batch Hessians of one batch size. */
export interface MinibatchSharpnessRow {
  batchSize: number;
  /** λmax(H_B) of each drawn batch. */
  lambdaMax: number[];
  /** Mean and sample standard deviation (n − 1; 0 for one draw) of `lambdaMax`. */
  mean: number;
  std: number;
  /** 2 / mean λmax(H_B): the largest stable step of GD on the batch's quadratic model (∞ if ≤ 0). */
  maxStableLr: number;
  /** Rows of the objective's dataset in each batch (for the record and for re-measurement). */
  batches: Int32Array[];
  /** Hessian-vector products spent on this size. */
  hvps: number;
}

/** The result of `minibatchSharpness`. */
export interface MinibatchSharpness {
  /** The objective the batches are drawn from. */
  objective: ObjectiveDescription;
  /** λmax of the objective's own Hessian and 2/λmax. */
  full: { lambdaMax: number; maxStableLr: number; hvps: number };
  rows: MinibatchSharpnessRow[];
}

/**
 * λmax of mini-batch Hessians H_B = ∇²L_B(θ) for each batch size B in `opts.batchSizes` (`draws`
 * batches each, drawn without replacement from the objective's examples as the first B of
 * `key.fold(B).fold(d).rng().permutation(n)`), their mean and standard deviation, against λmax of the
 * objective's Hessian, and the implied largest stable learning rate 2/λmax(B).
 *
 * Granziol, Zohren & Roberts 2022, "Learning rates as a function of batch size: a random matrix theory
 * approach to neural network training", JMLR 23 (§3–4): the extreme eigenvalues of H_B exceed those of
 * the full Hessian by a term that shrinks as B grows, so the largest stable SGD step grows about
 * linearly with B (√B for Adam). Each λmax is the top Ritz value of `lanczos` (k = 1, "largest") on
 * the batch's exact Hessian (`hessianOperator`), computed in the objective's chunk size.
 *
 * @param opts.draws default 5. @param opts.tol default 1e-6. @param opts.warmStart default true.
 * @param theta the point (consumed). @param opts.mode default "auto".
 */
export async function minibatchSharpness(
  obj: Objective,
  theta: Params,
  opts: MinibatchSharpnessOptions,
): Promise<MinibatchSharpness> {
  try {
    return await measure(obj, theta, opts);
  } finally {
    release(theta);
  }
}

async function measure(obj: Objective, theta: Params, opts: MinibatchSharpnessOptions): Promise<MinibatchSharpness> {
  const draws = opts.draws ?? 5;
  const n = obj.dataset.n;
  const tol = opts.tol ?? 1e-6;
  check(Number.isInteger(draws) && draws > 0, `minibatchSharpness: draws must be a positive integer, got ${draws}`);
  for (const b of opts.batchSizes)
    check(Number.isInteger(b) && b >= 1 && b <= n, `minibatchSharpness: batch size ${b} outside [1, ${n}]`);
  const top = async (o: Objective, key: Key, start?: Float64Array) => {
    const op = hessianOperator(o, keep(theta), { mode: opts.mode });
    try {
      const r = await lanczos(op, {
        k: 1,
        which: "largest",
        tol,
        maxIter: opts.maxIter,
        key,
        start: start ? [start] : undefined,
      });
      return { value: r.values[0], vector: r.vectors[0], matvecs: r.matvecs };
    } finally {
      op.dispose();
    }
  };
  const full = await top(obj, opts.key.fold("full"));
  const rows: MinibatchSharpnessRow[] = [];
  for (const b of opts.batchSizes) {
    const lambdaMax: number[] = [];
    const batches: Int32Array[] = [];
    let hvps = 0;
    for (let d = 0; d < draws; d++) {
      const key = opts.key.fold(b).fold(d);
      const indices = key.rng().permutation(n).slice(0, b);
      const sub = obj.select(indices);
      try {
        const r = await top(sub, key.fold("lanczos"), opts.warmStart === false ? undefined : full.vector);
        lambdaMax.push(r.value);
        hvps += r.matvecs;
      } finally {
        sub.dispose();
      }
      batches.push(indices);
    }
    const mean = lambdaMax.reduce((s, x) => s + x, 0) / draws;
    const variance = draws > 1 ? lambdaMax.reduce((s, x) => s + (x - mean) ** 2, 0) / (draws - 1) : 0;
    rows.push({ batchSize: b, lambdaMax, mean, std: Math.sqrt(variance), maxStableLr: stableLr(mean), batches, hvps });
  }
  return {
    objective: obj.description,
    full: { lambdaMax: full.value, maxStableLr: stableLr(full.value), hvps: full.matvecs },
    rows,
  };
}
