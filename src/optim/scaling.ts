/**
 * Pure host helpers relating learning rate, batch size and SGD noise: scaling rules for the rate
 * when the batch size changes, the SGD noise scale, and batch-size schedules. No tensors.
 */
import { check } from "../core/index.js";

function checkPositive(value: number, what: string): void {
  check(Number.isFinite(value) && value > 0, `${what} must be a finite number > 0, got ${value}`);
}

function checkBatch(value: number, what: string): void {
  check(Number.isInteger(value) && value >= 1, `${what} must be an integer ≥ 1, got ${value}`);
}

/** A batch from which a learning rate was tuned and the batch it is moved to. */
export interface BatchChange {
  /** The batch size B the rate was tuned at. */
  readonly batchSize: number;
  /** The new batch size B'. */
  readonly newBatchSize: number;
}

/**
 * The linear scaling rule (Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour",
 * 2017, §2.1; Smith & Le, ICLR 2018): `η' = η · B'/B`, which keeps the SGD noise scale `ηN/B` fixed.
 *
 * @param lr η > 0. @param change.batchSize B ≥ 1. @param change.newBatchSize B' ≥ 1.
 */
export function linearLrScaling(lr: number, change: BatchChange): number {
  checkPositive(lr, "linearLrScaling: lr");
  checkBatch(change.batchSize, "linearLrScaling: batchSize");
  checkBatch(change.newBatchSize, "linearLrScaling: newBatchSize");
  return (lr * change.newBatchSize) / change.batchSize;
}

/**
 * The square-root scaling rule (Krizhevsky, "One weird trick for parallelizing convolutional neural
 * networks", 2014; Hoffer, Hubara & Soudry, NeurIPS 2017): `η' = η · √(B'/B)`, which keeps the
 * covariance of the update fixed (the rule reported to suit Adam-type methods).
 *
 * @param lr η > 0. @param change.batchSize B ≥ 1. @param change.newBatchSize B' ≥ 1.
 */
export function sqrtLrScaling(lr: number, change: BatchChange): number {
  checkPositive(lr, "sqrtLrScaling: lr");
  checkBatch(change.batchSize, "sqrtLrScaling: batchSize");
  checkBatch(change.newBatchSize, "sqrtLrScaling: newBatchSize");
  return lr * Math.sqrt(change.newBatchSize / change.batchSize);
}

/** Inputs of `sgdNoiseScale`. */
export interface NoiseScaleInputs {
  /** Learning rate ε > 0. */
  readonly lr: number;
  /** Training-set size N ≥ 1. */
  readonly datasetSize: number;
  /** Batch size B ≥ 1. */
  readonly batchSize: number;
  /** Momentum m ∈ [0, 1) (default 0). */
  readonly momentum?: number;
}

/**
 * The SGD noise scale (Smith & Le, "A Bayesian Perspective on Generalization and Stochastic Gradient
 * Descent", ICLR 2018, valid for B ≪ N): `g = εN/(B(1 − m))`; without momentum `g = εN/B`
 * (the exact form is `ε(N/B − 1)`). The best batch size grows ∝ εN/(1 − m).
 *
 * @param inputs.lr ε. @param inputs.datasetSize N. @param inputs.batchSize B. @param inputs.momentum
 * m, default 0.
 */
export function sgdNoiseScale(inputs: NoiseScaleInputs): number {
  const { lr, datasetSize, batchSize, momentum = 0 } = inputs;
  checkPositive(lr, "sgdNoiseScale: lr");
  checkBatch(datasetSize, "sgdNoiseScale: datasetSize");
  checkBatch(batchSize, "sgdNoiseScale: batchSize");
  check(
    Number.isFinite(momentum) && momentum >= 0 && momentum < 1,
    `sgdNoiseScale: momentum must lie in [0, 1), got ${momentum}`,
  );
  return (lr * datasetSize) / (batchSize * (1 - momentum));
}

/** A batch-size schedule: the 0-based step index → the batch size of that step. */
export type BatchSizeSchedule = (step: number) => number;

/** Options of `batchSizeSchedule`. */
export interface BatchSizeScheduleOptions {
  /** Batch size B₀ ≥ 1 before the first milestone. */
  readonly base: number;
  /** Strictly increasing steps at which B is multiplied by `factor`. */
  readonly milestones: readonly number[];
  /** Factor α > 1 (the factor the learning rate would have been divided by). */
  readonly factor: number;
  /** Cap on the batch size (e.g. the training-set size; default none). */
  readonly maxBatchSize?: number;
}

/**
 * "Don't decay the learning rate, increase the batch size" (Smith, Kindermans, Ying & Le, ICLR 2018):
 * instead of dividing η by α at each milestone, multiply B by α:
 *
 * `B(t) = min(round(B₀ · α^{#{i : m_i ≤ t}}), B_max)`, the new size applying from step `m_i` on (as
 * `stepDecay`). The caller keeps η constant (or, past `maxBatchSize`, decays η as the paper does
 * once B reaches its ceiling).
 *
 * @param opts.base B₀. @param opts.milestones strictly increasing steps. @param opts.factor α > 1.
 * @param opts.maxBatchSize default none.
 */
export function batchSizeSchedule(opts: BatchSizeScheduleOptions): BatchSizeSchedule {
  const { base, milestones, factor, maxBatchSize = Infinity } = opts;
  checkBatch(base, "batchSizeSchedule: base");
  check(Number.isFinite(factor) && factor > 1, `batchSizeSchedule: factor must be a finite number > 1, got ${factor}`);
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
