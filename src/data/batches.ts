/**
 * Deterministic, stateless batch plans: the examples of step t are a pure function of (key, t), so
 * a checkpoint stores only the step and a resumed run draws exactly the batches it would have drawn
 * (DESIGN.md, "Determinism").
 */
import { UserError } from "../core/errors.js";
import type { Key } from "../core/keys.js";

/** Which examples each optimizer step uses. */
export interface BatchPlan {
  readonly kind: "full" | "withoutReplacement" | "withReplacement";
  /** Training-set size. */
  readonly n: number;
  /** Examples per step (n for full batch). */
  readonly batchSize: number;
  /** Steps per epoch: 1 for full batch, ⌊n/B⌋ otherwise. */
  readonly batchesPerEpoch: number;
  /** The example indices of step `step` (a fresh array; a pure function of the step). */
  indicesAt(step: number): Int32Array;
  /** The epoch step `step` belongs to: ⌊step / batchesPerEpoch⌋. */
  epochAt(step: number): number;
}

function checkStep(step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`step must be an integer >= 0, got ${step}`);
}

function checkN(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new UserError(`batch plan: the training set is empty (n = ${n})`);
}

/** Full-batch plan: every step uses all examples 0..n−1 in order. */
export function fullBatch(n: number): BatchPlan {
  checkN(n);
  return {
    kind: "full",
    n,
    batchSize: n,
    batchesPerEpoch: 1,
    indicesAt(step) {
      checkStep(step);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = i;
      return out;
    },
    epochAt(step) {
      checkStep(step);
      return step;
    },
  };
}

/**
 * Mini-batches of size B without replacement (random reshuffling): epoch e uses the permutation π_e
 * drawn from `key.fold(e)`, and step t = e·K + j (K = ⌊n/B⌋) uses π_e(jB .. jB+B−1); the last
 * n − K·B examples of each permutation are dropped. Requires 1 <= B <= n. The plan caches the
 * permutation of the last epoch it computed; results never depend on call order.
 */
export function miniBatches(n: number, batchSize: number, key: Key): BatchPlan {
  checkN(n);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > n) {
    throw new UserError(`batchSize must be an integer in [1, ${n}] (the training-set size), got ${batchSize}`);
  }
  const K = Math.floor(n / batchSize);
  let cached: { epoch: number; perm: Int32Array } | null = null;
  return {
    kind: "withoutReplacement",
    n,
    batchSize,
    batchesPerEpoch: K,
    indicesAt(step) {
      checkStep(step);
      const epoch = Math.floor(step / K);
      if (cached === null || cached.epoch !== epoch) cached = { epoch, perm: key.fold(epoch).rng().permutation(n) };
      const j = step - epoch * K;
      return cached.perm.slice(j * batchSize, (j + 1) * batchSize);
    },
    epochAt(step) {
      checkStep(step);
      return Math.floor(step / K);
    },
  };
}

/**
 * Mini-batches of size B with replacement: step t uses B indices drawn i.i.d. uniformly from
 * 0..n−1 with `key.fold(t)` (repeats possible within a batch). An "epoch" is K = max(1, ⌊n/B⌋)
 * steps. Requires B >= 1 (B may exceed n).
 */
export function miniBatchesWithReplacement(n: number, batchSize: number, key: Key): BatchPlan {
  checkN(n);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UserError(`batchSize must be an integer >= 1, got ${batchSize}`);
  }
  const K = Math.max(1, Math.floor(n / batchSize));
  return {
    kind: "withReplacement",
    n,
    batchSize,
    batchesPerEpoch: K,
    indicesAt(step) {
      checkStep(step);
      const rng = key.fold(step).rng();
      const out = new Int32Array(batchSize);
      for (let i = 0; i < batchSize; i++) out[i] = rng.int(n);
      return out;
    },
    epochAt(step) {
      checkStep(step);
      return Math.floor(step / K);
    },
  };
}

/**
 * The plan for an experiment's `batchSize` ("full" or B) and `replacement` flag: `fullBatch(n)`,
 * `miniBatches(n, B, key)` or `miniBatchesWithReplacement(n, B, key)`. Pass a key reserved for data
 * order, e.g. `Key.fromSeed(seed).fold("batches")`.
 */
export function makeBatchPlan(n: number, batchSize: number | "full", replacement: boolean, key: Key): BatchPlan {
  if (batchSize === "full") return fullBatch(n);
  return replacement ? miniBatchesWithReplacement(n, batchSize, key) : miniBatches(n, batchSize, key);
}
