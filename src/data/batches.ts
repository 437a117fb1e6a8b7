/**
 * Deterministic, stateless batch plans: the examples of step t are a pure function of (key, t), so
 * a checkpoint stores only the step and a resumed run draws exactly the batches it would have drawn
 * (DESIGN.md, "Determinism").
 */
import { check, UserError } from "../core/errors.js";
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

/** A batch-size schedule: the 0-based step index → the batch size of that step. */
export type BatchSizeSchedule = (step: number) => number;

/** Options of `batchSizeSchedule`. */
export interface BatchSizeScheduleOptions {
  /** Batch size B₀ ≥ 1 before the first milestone. */
  readonly base: number;
  /** Strictly increasing steps at which B is multiplied by `factor`. */
  readonly milestones: readonly number[];
  /** Factor α ≥ 1 (the factor the learning rate would have been divided by; 1 keeps B fixed). */
  readonly factor: number;
  /** Cap on the batch size (e.g. the training-set size; default none). */
  readonly maxBatchSize?: number;
}

/**
 * "Don't decay the learning rate, increase the batch size" (Smith, Kindermans, Ying & Le, ICLR 2018):
 * instead of dividing η by α at each milestone, multiply B by α:
 *
 * `B(t) = min(round(B₀ · α^{#{i : m_i ≤ t}}), B_max)`, the new size applying from step `m_i` on (as
 * `stepDecay` in optim/). The caller keeps η constant (or, past `maxBatchSize`, decays η as the paper
 * does once B reaches its ceiling). The one size rule of sgdlab: `growingBatches` uses it.
 *
 * @param opts.base B₀. @param opts.milestones strictly increasing steps. @param opts.factor α ≥ 1.
 * @param opts.maxBatchSize default none; an integer ≥ B₀.
 */
export function batchSizeSchedule(opts: BatchSizeScheduleOptions): BatchSizeSchedule {
  const { base, milestones, factor, maxBatchSize = Infinity } = opts;
  check(Number.isInteger(base) && base >= 1, `batchSizeSchedule: base must be an integer ≥ 1, got ${base}`);
  check(Number.isFinite(factor) && factor >= 1, `batchSizeSchedule: factor must be a finite number ≥ 1, got ${factor}`);
  check(
    maxBatchSize === Infinity || (Number.isInteger(maxBatchSize) && maxBatchSize >= base),
    `batchSizeSchedule: maxBatchSize must be an integer ≥ base (${base}), got ${maxBatchSize}`,
  );
  for (let i = 0; i < milestones.length; i++) {
    const m = milestones[i];
    check(Number.isInteger(m) && m >= 0, `batchSizeSchedule: milestones[${i}] must be an integer ≥ 0, got ${m}`);
    check(
      i === 0 || m > milestones[i - 1],
      `batchSizeSchedule: milestones must be strictly increasing, got [${milestones.join(", ")}]`,
    );
  }
  const ms = milestones.slice();
  return (t) => {
    let k = 0;
    while (k < ms.length && ms[k] <= t) k++;
    return Math.min(Math.round(base * factor ** k), maxBatchSize);
  };
}

/**
 * Mini-batches whose size grows at milestones — "don't decay the learning rate, increase the batch
 * size" (Smith, Kindermans, Ying & Le, ICLR 2018): B(t) = `batchSizeSchedule` with the cap n, i.e.
 * min(round(base · factor^(number of milestones ≤ t)), n); the milestones may come in any order. Examples come from one stream of per-epoch permutations (epoch e from key.fold(e));
 * step t takes the next B(t) positions of the stream, so every epoch still visits each example once.
 * Stateless: the stream offset of step t is Σ_{s<t} B(s), computed in closed form per segment.
 */
export function growingBatches(
  n: number,
  schedule: { base: number; milestones: readonly number[]; factor: number },
  key: Key,
): BatchPlan & { batchSizeAt(step: number): number } {
  checkN(n);
  const { base, factor } = schedule;
  const milestones = [...schedule.milestones].sort((a, b) => a - b);
  if (!Number.isInteger(base) || base < 1 || base > n)
    throw new UserError(`batchSize must be an integer in [1, ${n}] (the training-set size), got ${base}`);
  const sizeAt = batchSizeSchedule({ base, milestones, factor, maxBatchSize: n });
  const offsetAt = (step: number) => {
    let off = 0;
    let s = 0;
    for (const m of [...milestones, Infinity]) {
      const end = Math.min(m, step);
      if (end > s) off += (end - s) * sizeAt(s);
      s = Math.max(s, m);
      if (s >= step) break;
    }
    return off;
  };
  const perms = new Map<number, Int32Array>();
  const perm = (e: number) => {
    let p = perms.get(e);
    if (!p) {
      p = key.fold(e).rng().permutation(n);
      if (perms.size > 4) perms.clear();
      perms.set(e, p);
    }
    return p;
  };
  return {
    kind: "withoutReplacement",
    n,
    batchSize: base,
    batchesPerEpoch: Math.max(1, Math.floor(n / base)),
    batchSizeAt: sizeAt,
    indicesAt(step) {
      checkStep(step);
      const b = sizeAt(step);
      const start = offsetAt(step);
      const out = new Int32Array(b);
      for (let i = 0; i < b; i++) {
        const pos = start + i;
        out[i] = perm(Math.floor(pos / n))[pos % n];
      }
      return out;
    },
    epochAt(step) {
      checkStep(step);
      return Math.floor(offsetAt(step) / n);
    },
  };
}
