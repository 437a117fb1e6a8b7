/**
 * The SGD noise scale of Smith & Le 2018, a pure host formula (no tensors). The learning-rate
 * scaling rules for a batch-size change live in theory/ (`batchScalingSuggestion`: linear and
 * square root), the batch-size schedule in data/ (`batchSizeSchedule`, used by `growingBatches`).
 */
import { check } from "../core/index.js";

function checkPositive(value: number, what: string): void {
  check(Number.isFinite(value) && value > 0, `${what} must be a finite number > 0, got ${value}`);
}

function checkBatch(value: number, what: string): void {
  check(Number.isInteger(value) && value >= 1, `${what} must be an integer ≥ 1, got ${value}`);
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
