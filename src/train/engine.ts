/**
 * The compiled pieces of a training run around its training `Objective` (losses/objective.ts: the
 * loss on the step's batch, normalisation layers in train mode, plus the regularizer): one jitted
 * step (objective value and gradient, optimizer update, model-state update) and a chunked path for
 * full-batch objectives larger than one chunk. The optimizer sees the objective through `Extras`
 * (value, gradFn, chunkGradFn, ...). `dispose()` releases the compiled step (not the objective).
 */
import {
  jit,
  tree,
  keep,
  lit,
  np,
  release,
  treeAdd,
  type Array,
  type OwnedFunction,
  type Params,
} from "../core/index.js";
import type { Dataset } from "../data/types.js";
import { makeBatch, type Objective } from "../losses/index.js";
import type { ModelState } from "../models/types.js";
import type { Extras, GradientTransformation, OptState } from "../optim/types.js";

/** What the trainer owns between steps. `model` is [] for stateless models. */
export interface TrainState {
  params: Params;
  opt: OptState;
  model: ModelState;
}

type StepFn = (
  params: Params,
  opt: OptState,
  ms: ModelState,
  x: Array,
  y: Array,
  lr: Array,
  step: Array,
  key: Array,
) => [Array, Params, OptState, ModelState];

export class StepEngine {
  readonly #objective: Objective;
  readonly #opt: GradientTransformation;
  readonly #step: OwnedFunction<StepFn>;

  /** @param objective the training objective over the training set (borrowed). */
  constructor(objective: Objective, opt: GradientTransformation) {
    this.#objective = objective;
    this.#opt = opt;
    const model = objective.model;
    this.#step = jit(((params, opt, ms, x, y, lr, step, key) => {
      const f = objective.onBatch(x, y);
      const [value, g] = f.valueAndGrad(keep(params));
      const extras: Extras = {
        lr,
        step,
        key,
        value,
        batchSize: x.shape[0],
        gradFn: f.grad,
        valueAndGradFn: f.valueAndGrad,
        chunkGradFn: f.chunkGrad,
      };
      const [u, s] = this.#opt.update(g, opt, keep(params), extras);
      let ms2 = ms;
      if (this.stateful) {
        const [out, next] = model.applyTrain!(keep(params), ms, x.ref);
        out.dispose();
        ms2 = next;
      }
      release([lr, step, key, x, y]);
      return [value, treeAdd(params, u), s, ms2];
    }) as StepFn);
  }

  get stateful(): boolean {
    return this.#objective.stateful;
  }

  /** The initial model state (running statistics), or [] for stateless models. */
  initModelState(): ModelState {
    return this.stateful ? this.#objective.model.initState!(this.#objective.dtype) : [];
  }

  /**
   * One optimizer step on the rows `indices` of the training set (null = all of it, on the device
   * already), or on all rows of `noisy` (the step's batch with fresh label noise). Consumes `s` and
   * `key`; returns the objective value at the old parameters and the new state.
   */
  step(
    s: TrainState,
    indices: Int32Array | null,
    lr: number,
    stepIndex: number,
    key: Array,
    noisy?: Dataset,
  ): [Array, TrainState] {
    const obj = this.#objective;
    const lrArr = this.#scalar(lr);
    const stepArr = this.#scalar(stepIndex);
    if (indices !== null || noisy !== undefined) {
      const b = makeBatch(noisy ?? obj.dataset, noisy ? null : indices, obj.loss, obj.dtype);
      const [v, p, o, m] = this.#step(s.params, s.opt, s.model, b.x, b.y, lrArr, stepArr, key);
      return [v, { params: p, opt: o, model: m }];
    }
    const chunks = obj.chunks;
    if (chunks.length === 1) {
      const c = chunks[0];
      const [v, p, o, m] = this.#step(s.params, s.opt, s.model, c.x.ref, c.y.ref, lrArr, stepArr, key);
      return [v, { params: p, opt: o, model: m }];
    }
    // Full batch over several chunks: the objective accumulates the gradient chunk by chunk (bounded
    // memory) and the update runs eagerly, with the chunked objective behind gradFn.
    if (this.stateful) {
      release([s.params, s.opt, s.model, lrArr, stepArr, key]);
      throw new Error("full-batch training of a batch-norm model needs chunkSize ≥ n (statistics of the whole batch)");
    }
    const [value, grads] = obj.valueAndGrad(keep(s.params));
    const extras: Extras = {
      lr: lrArr,
      step: stepArr,
      key,
      value,
      batchSize: obj.dataset.n,
      gradFn: (p) => obj.grad(p),
      valueAndGradFn: (p) => obj.valueAndGrad(p),
    };
    const [u, o] = this.#opt.update(grads, s.opt, keep(s.params), extras);
    release([lrArr, stepArr, key]);
    return [value, { params: treeAdd(s.params, u), opt: o, model: s.model }];
  }

  /**
   * Batch-norm statistics recomputed for `params` (e.g. an averaged iterate: SWA's "BN update",
   * Izmailov et al. 2018, §3.2), as PyTorch's `update_bn` does: the average over the training data of
   * the batch statistics (each chunk weighted by its size; unbiased variances).
   *
   * `applyTrain` updates running statistics affinely, r' = a⊙r + c with a = (1 − momentum)^(ghost
   * batches), so two calls from r and r + 1 give a = r'₁ − r'₀ and the chunk's statistics as the
   * fixed point (r'₀ − a⊙r)/(1 − a), whatever the model's momentum. Returns new state ([] for
   * stateless models); borrows `params`.
   */
  recalibrate(params: Params): ModelState {
    if (!this.stateful) return [];
    const obj = this.#objective;
    const model = obj.model;
    let acc: ModelState | null = null;
    for (const c of obj.chunks) {
      const r = model.initState!(obj.dtype);
      const r1 = tree.map((x: Array) => x.add(lit(1, x)), keep(r)) as ModelState;
      const [o0, s0] = model.applyTrain!(keep(params), keep(r), c.x.ref);
      const [o1, s1] = model.applyTrain!(keep(params), r1, c.x.ref);
      release([o0, o1]);
      const a = tree.map((x: Array, y: Array) => x.sub(y), s1, keep(s0)) as ModelState;
      const w = c.n / obj.dataset.n;
      const fixed = tree.map(
        (s: Array, ai: Array, ri: Array) => s.sub(ai.ref.mul(ri)).div(lit(1, ai).sub(ai)).mul(lit(w, s)),
        s0,
        a,
        r,
      ) as ModelState;
      acc = acc === null ? fixed : (tree.map((x: Array, y: Array) => x.add(y), acc, fixed) as ModelState);
    }
    return acc!;
  }

  #scalar(v: number): Array {
    return np.array(v, { dtype: this.#objective.dtype === "float64" ? np.float64 : np.float32 });
  }

  dispose(): void {
    this.#step.dispose();
  }
}
