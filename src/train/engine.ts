/**
 * The compiled pieces of a training run: one jitted step (value, gradient, update), a chunked
 * gradient path for full-batch objectives larger than one chunk, and jitted evaluation chunks.
 * Owns its compiled functions and cached device data; `dispose()` releases them.
 */
import {
  jit,
  keep,
  np,
  release,
  treeAdd,
  treeScale,
  valueAndGrad,
  type Array,
  type FloatDtype,
  type OwnedFunction,
  type Params,
} from "../core/index.js";
import type { Dataset } from "../data/types.js";
import { accuracy, makeBatch } from "../losses/index.js";
import type { Batch, Loss } from "../losses/types.js";
import type { Model } from "../models/types.js";
import type { GradientTransformation, OptState } from "../optim/types.js";

/** Loss and accuracy of one dataset. */
export interface EvalResult {
  loss: number;
  accuracy: number;
}

type StepFn = (
  params: Params,
  state: OptState,
  x: Array,
  y: Array,
  lr: Array,
  step: Array,
) => [Array, Params, OptState];
type GradFn = (params: Params, x: Array, y: Array) => [Array, Params];
type UpdateFn = (params: Params, state: OptState, grads: Params, lr: Array, step: Array) => [Params, OptState];
type EvalFn = (params: Params, x: Array, y: Array) => [Array, Array];

/** Index ranges [start, end) of chunks of at most `size` covering 0..n. */
export function chunkRanges(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}

export class StepEngine {
  readonly #model: Model;
  readonly #loss: Loss;
  readonly #dtype: FloatDtype;
  readonly #chunkSize: number;
  readonly #step: OwnedFunction<StepFn>;
  readonly #grad: OwnedFunction<GradFn>;
  readonly #update: OwnedFunction<UpdateFn>;
  readonly #eval: OwnedFunction<EvalFn>;
  readonly #cache = new Map<Dataset, Batch[]>();

  readonly #classification: boolean;

  constructor(
    model: Model,
    loss: Loss,
    opt: GradientTransformation,
    opts: { dtype: FloatDtype; chunkSize: number; classification: boolean },
  ) {
    const { dtype, chunkSize, classification } = opts;
    this.#classification = classification;
    this.#model = model;
    this.#loss = loss;
    this.#dtype = dtype;
    this.#chunkSize = chunkSize;
    const objective = (p: Params, x: Array, y: Array) => loss(model.apply(p, x), y);
    const update: UpdateFn = (params, state, grads, lr, step) => {
      const [u, s] = opt.update(grads, state, keep(params), { lr, step });
      lr.dispose();
      step.dispose();
      return [treeAdd(params, u), s];
    };
    this.#step = jit(((params, state, x, y, lr, step) => {
      const [value, g] = valueAndGrad(objective)(keep(params), x, y);
      const [p, s] = update(params, state, g, lr, step);
      return [value, p, s];
    }) as StepFn);
    this.#grad = jit(((params, x, y) => valueAndGrad(objective)(params, x, y)) as GradFn);
    this.#update = jit(update);
    this.#eval = jit(((params, x, y) => {
      const out = model.apply(params, x);
      if (!classification) return [loss(out, y), np.zeros([])];
      return [loss(out.ref, y.ref), accuracy(out, y)];
    }) as EvalFn);
  }

  /** Device chunks of a dataset, uploaded once and cached for the engine's lifetime. */
  chunks(ds: Dataset): Batch[] {
    let c = this.#cache.get(ds);
    if (!c) {
      c = chunkRanges(ds.n, this.#chunkSize).map(([a, b]) =>
        makeBatch(
          ds,
          Int32Array.from({ length: b - a }, (_, i) => a + i),
          this.#loss,
          this.#dtype,
        ),
      );
      this.#cache.set(ds, c);
    }
    return c;
  }

  /**
   * One optimizer step on the batch given by `indices` (null = the full training set), consuming
   * `params` and `state`. Returns the objective value at the old params as a 0-d array.
   */
  step(
    params: Params,
    state: OptState,
    ds: Dataset,
    indices: Int32Array | null,
    lr: number,
    stepIndex = 0,
  ): [Array, Params, OptState] {
    const lrArr = this.#scalar(lr);
    const stepArr = this.#scalar(stepIndex);
    if (indices !== null) {
      const b = makeBatch(ds, indices, this.#loss, this.#dtype);
      return this.#step(params, state, b.x, b.y, lrArr, stepArr);
    }
    const chunks = this.chunks(ds);
    if (chunks.length === 1) {
      return this.#step(params, state, chunks[0].x.ref, chunks[0].y.ref, lrArr, stepArr);
    }
    const [value, grads] = this.fullGradient(keep(params), ds);
    const [p, s] = this.#update(params, state, grads, lrArr, stepArr);
    return [value, p, s];
  }

  /**
   * Value and gradient of the objective over all of `ds`, summed over chunks with weights n_c/n for
   * per-example-mean losses (exact: L = Σ_c (n_c/n) L_c), plain sums otherwise. Consumes `params`.
   */
  fullGradient(params: Params, ds: Dataset): [Array, Params] {
    const chunks = this.chunks(ds);
    let value: Array | null = null;
    let grads: Params | null = null;
    for (const c of chunks) {
      const [v, g] = this.#grad(keep(params), c.x.ref, c.y.ref);
      const w = this.#loss.perExampleMean ? c.x.shape[0] / ds.n : 1;
      const vw = w === 1 ? v : v.mul(this.#scalar(w));
      const gw = w === 1 ? g : treeScale(this.#scalar(w), g);
      value = value === null ? vw : value.add(vw);
      grads = grads === null ? gw : treeAdd(grads, gw);
    }
    release(params);
    return [value!, grads!];
  }

  /** Loss and accuracy over all of `ds` in chunks (borrows `params`). */
  async evaluate(params: Params, ds: Dataset): Promise<EvalResult> {
    let loss = 0;
    let correct = 0;
    for (const c of this.chunks(ds)) {
      const n = c.x.shape[0];
      const [l, a] = this.#eval(keep(params), c.x.ref, c.y.ref);
      const [lv, av] = await Promise.all([l.data(), a.data()]);
      loss += this.#loss.perExampleMean ? Number(lv[0]) * n : Number(lv[0]);
      correct += Math.round(Number(av[0]) * n); // a count: undo the float32 rounding of count/n
    }
    return {
      loss: this.#loss.perExampleMean ? loss / ds.n : loss,
      accuracy: this.#classification ? correct / ds.n : NaN,
    };
  }

  #scalar(v: number): Array {
    return np.array(v, { dtype: this.#dtype === "float64" ? np.float64 : np.float32 });
  }

  get model(): Model {
    return this.#model;
  }

  dispose(): void {
    for (const f of [this.#step, this.#grad, this.#update, this.#eval]) f.dispose();
    for (const c of this.#cache.values()) for (const b of c) release([b.x, b.y]);
    this.#cache.clear();
  }
}
