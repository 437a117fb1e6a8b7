import type { Array, JsTree, Params } from "../core/index.js";

/** Optimizer state: a pytree of arrays only (so it can be jitted, checkpointed and restored). */
export type OptState = JsTree<Array>;

/**
 * Per-step inputs that are not gradients, all *borrowed* (use `.ref`). Passed as arrays so that a
 * jitted step never recompiles: `lr` is the scheduled learning rate and `step` the 0-based step index,
 * 0-d arrays in the parameter dtype.
 *
 * The trainer also passes the current mini-batch objective L_B so that wrappers can evaluate it
 * elsewhere (SAM's ascent point, step-tuned SGD's second gradient, GD on √L):
 * - `value`: L_B(params) (0-d);
 * - `gradFn(p)`: ∇L_B(p), consuming `p`; `valueAndGradFn(p)`: [L_B(p), ∇L_B(p)];
 * - `chunkGradFn(p, j, m)`: ∇ of the loss on the j-th of m equal contiguous chunks of the batch
 *   (m-sharpness; m must divide `batchSize`);
 * - `batchSize`: examples in the batch (a static number);
 * - `key`: a jax-js PRNG key (uint32[2]) derived from (seed, "optimizer", step), for stochastic rules.
 * Normalisation layers run in train mode in these calls, and they never update running statistics
 * (SAM's second pass leaves BN statistics unchanged: Foret et al. 2021, §4).
 */
export interface Extras {
  readonly lr: Array;
  readonly step: Array;
  readonly key?: Array;
  readonly value?: Array;
  readonly gradFn?: (params: Params) => Params;
  readonly valueAndGradFn?: (params: Params) => [Array, Params];
  readonly chunkGradFn?: (params: Params, chunk: number, chunks: number) => Params;
  readonly batchSize?: number;
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
  /**
   * For transforms that keep an averaged iterate (tail averaging, EMA, SWA, Gadam): that iterate,
   * read from `state` (borrowed; returns new references), or null while no average exists yet. The
   * trainer evaluates it beside the raw iterate (metrics `avg/...`).
   */
  averaged?(state: OptState): Params | null;
  /**
   * The optimizer's linear-stability threshold on the raw Hessian for learning rate `lr`: on a
   * quadratic, the iteration is stable iff λmax(H) lies below it (GD 2/η, heavy ball (2 + 2β)/η,
   * Nesterov, with weight decay: `momentumThreshold`). Absent where no such constant exists (adaptive
   * methods: see `preconditioner`; SAM, sign methods, normalized steps, clipping to ‖w‖).
   */
  stabilityThreshold?(lr: number): number;
  /** The diagonal preconditioner of adaptive methods (Adam, AdamW, RMSProp, AdaGrad), where it has one. */
  preconditioner?: Preconditioner;
}

/**
 * A diagonal preconditioner P read from the optimizer's own state: the update is ≈ −η P⁻¹ m for the
 * method's momentum (or gradient) m, so that λmax(P⁻¹H) is the preconditioned sharpness of Cohen et
 * al. 2022 ("Adaptive gradient methods at the edge of stability").
 */
export interface Preconditioner {
  /**
   * P's diagonal as a host float64 vector in parameter leaf order, computed as the update computes
   * it (ε, ε_root, bias correction). Borrows `state` (the whole optimizer's state; never consumed).
   * Throws a UserError where P is undefined (Adam before its first update).
   */
  diagonal(state: OptState): Promise<Float64Array>;
  /**
   * The threshold of λmax(P⁻¹H) with P frozen (Adam (2 + 2β₁)/((1 − β₁)η): `adamThreshold`). Absent
   * where it is not a constant: AdaGrad (P only grows, see `adagrad`), coupled weight decay with an
   * adaptive P (P⁻¹(H + λI) is not a shift of P⁻¹H), SAM.
   */
  threshold?(lr: number): number;
}

/** A schedule maps a 0-based step index to a learning rate (host-side, plain numbers). */
export type Schedule = (step: number) => number;
