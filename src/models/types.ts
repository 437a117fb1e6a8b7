import type { Array, FloatDtype, Key, Params } from "../core/index.js";

/** Options of a forward pass. `train` selects batch statistics in normalisation layers. */
export interface ApplyOptions {
  readonly train?: boolean;
}

/**
 * A model is data plus pure functions (equinox style): a JSON config, `init(key)` building the
 * parameter pytree and `apply(params, x)` mapping a batch [B, ...inputShape] to outputs [B, outputDim].
 * `apply` consumes `params` and `x` (jax-js ownership).
 */
export interface Model<C = unknown> {
  readonly config: C;
  readonly inputShape: readonly number[];
  readonly outputDim: number;
  init(key: Key, dtype: FloatDtype): Params;
  apply(params: Params, x: Array, opts?: ApplyOptions): Array;
  /** Number of scalar parameters. */
  paramCount(): number;
}
