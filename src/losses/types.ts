import type { Array } from "../core/index.js";

/** What a loss expects as `y`: int32 class indices, or float target vectors [B, k]. */
export type TargetKind = "labels" | "vectors";

/**
 * A loss maps model outputs [B, k] and targets to a scalar (mean over the batch unless a reduction
 * says otherwise). Consumes both arguments.
 */
export interface Loss {
  readonly name: string;
  /** Targets it wants for classification data: CE takes labels, MSE takes one-hot vectors. */
  readonly targetKind: TargetKind;
  /** Whether the value is a mean over examples (chunked objectives then weight by chunk size). */
  readonly perExampleMean: boolean;
  (out: Array, y: Array): Array;
}

/** A batch on the device: inputs [B, ...xShape] and targets as the loss wants them. */
export interface Batch {
  readonly x: Array;
  readonly y: Array;
}
