import type { Array, FloatDtype, JsTree, Key, Params } from "../core/index.js";

/** Non-trainable model state: batch-norm running statistics (a pytree of arrays). */
export type ModelState = JsTree<Array>;

/**
 * Options of a forward pass. `train` selects batch statistics in normalisation layers (default
 * false: running statistics from `state`, which stateful models then require).
 */
export interface ApplyOptions {
  readonly train?: boolean;
  /** Running statistics for eval-mode normalisation (borrowed). */
  readonly state?: ModelState;
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
  /** Stateful models (batch norm) only: the initial running statistics. */
  initState?(dtype: FloatDtype): ModelState;
  /**
   * Stateful models only: a train-mode forward pass with batch statistics that also returns the
   * updated running statistics (momentum update). Consumes params, state and x.
   */
  applyTrain?(params: Params, state: ModelState, x: Array): [Array, ModelState];
}
