import type { Array, JsTree, Key, Params } from "../core/index.js";

/** Optimizer state: a pytree of arrays only (so it can be jitted, checkpointed and restored). */
export type OptState = JsTree<Array>;

/**
 * Per-step inputs that are not gradients. Passed as arrays so that a jitted step never recompiles:
 * `lr` is the scheduled learning rate as a 0-d array in the parameter dtype; `step` the 0-based step
 * index as a 0-d array in the parameter dtype. `key` is for stochastic transforms; `gradFn` lets
 * wrappers like SAM evaluate the gradient at another point (added by the optimizer-zoo issue).
 */
export interface Extras {
  readonly lr: Array;
  readonly step: Array;
  readonly key?: Key;
  readonly gradFn?: (params: Params) => Params;
}

/**
 * An optax-style gradient transformation: `init(params) → state`,
 * `update(updates, state, params, extras) → [updates, state]`. Pure and jittable. `update` consumes
 * `updates`, `state` and `params` (disposing what it ignores; `chain` hands each transform its own
 * reference). `extras` is borrowed, never consumed: use `extras.lr.ref`. `init` consumes `params`.
 * The final updates are *added* to the parameters (so `scaleByLearningRate` negates).
 */
export interface GradientTransformation {
  init(params: Params): OptState;
  update(updates: Params, state: OptState, params: Params, extras: Extras): [Params, OptState];
}

/** A schedule maps a 0-based step index to a learning rate (host-side, plain numbers). */
export type Schedule = (step: number) => number;
