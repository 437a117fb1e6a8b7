/**
 * The compiled pieces of a training run: one jitted step (objective value, gradient, optimizer update,
 * model-state update), a chunked path for full-batch objectives larger than one chunk, and jitted
 * evaluation chunks. Owns its compiled functions and cached device data; `dispose()` releases them.
 *
 * The training objective is L_B(θ) (the loss on the step's batch, normalisation layers in train mode)
 * plus an optional regularizer: an L2 penalty (λ/2)‖θ‖², or explicit gradient regularization
 * L̃ = L + (μ/4)‖∇L‖² (Barrett & Dherin, ICLR 2021) whose gradient takes one forward-over-reverse HVP.
 * The optimizer sees this objective through `Extras` (value, gradFn, chunkGradFn, ...).
 */
import {
  jit,
  tree,
  keep,
  lit,
  np,
  release,
  treeAdd,
  treeNormSq,
  treeScale,
  valueAndGrad,
  type Array,
  type FloatDtype,
  type OwnedFunction,
  type Params,
} from "../core/index.js";
import type { Dataset } from "../data/types.js";
import { accuracy, makeBatch } from "../losses/index.js";
import { egrValueAndGrad } from "../losses/egr.js";
import type { Batch, Loss } from "../losses/types.js";
import type { Model, ModelState } from "../models/types.js";
import type { Extras, GradientTransformation, OptState } from "../optim/types.js";

/** Loss and accuracy of one dataset. */
export interface EvalResult {
  loss: number;
  accuracy: number;
}

/** What the trainer owns between steps. `model` is [] for stateless models. */
export interface TrainState {
  params: Params;
  opt: OptState;
  model: ModelState;
}

/** A regularizer that changes the objective (lives with the losses, DESIGN.md). */
export type Regularizer = { kind: "l2"; lambda: number } | { kind: "egr"; mu: number };

export interface EngineOptions {
  dtype: FloatDtype;
  chunkSize: number;
  classification: boolean;
  regularizer?: Regularizer;
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
type GradFn = (params: Params, x: Array, y: Array) => [Array, Params];
type EvalFn = (params: Params, ms: ModelState, x: Array, y: Array) => [Array, Array];

/** The step's objective on its batch (see `StepEngine.#objective`). */
interface BatchObjective {
  valueAndGrad(p: Params): [Array, Params];
  grad(p: Params): Params;
  chunkGrad(p: Params, j: number, m: number): Params;
  dispose(): void;
}

/** Index ranges [start, end) of chunks of at most `size` covering 0..n. */
export function chunkRanges(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}

export class StepEngine {
  readonly #model: Model;
  readonly #loss: Loss;
  readonly #opt: GradientTransformation;
  readonly #o: EngineOptions;
  readonly #step: OwnedFunction<StepFn>;
  readonly #grad: OwnedFunction<GradFn>;
  readonly #eval: OwnedFunction<EvalFn>;
  readonly #cache = new Map<Dataset, Batch[]>();
  readonly stateful: boolean;

  constructor(model: Model, loss: Loss, opt: GradientTransformation, opts: EngineOptions) {
    this.#model = model;
    this.#loss = loss;
    this.#opt = opt;
    this.#o = opts;
    this.stateful = typeof model.applyTrain === "function" && typeof model.initState === "function";
    const { classification } = opts;
    const stepFn: StepFn = (params, opt, ms, x, y, lr, step, key) => {
      const objective = this.#objective(x, y);
      const [value, g] = objective.valueAndGrad(keep(params));
      const extras = this.#extras(objective, value, lr, step, key, x.shape[0]);
      const [u, s] = this.#opt.update(g, opt, keep(params), extras);
      let ms2 = ms;
      if (this.stateful) {
        const [out, next] = this.#model.applyTrain!(keep(params), ms, x.ref);
        out.dispose();
        ms2 = next;
      }
      objective.dispose();
      release([lr, step, key, x, y]);
      return [value, treeAdd(params, u), s, ms2];
    };
    this.#step = jit(stepFn);
    this.#grad = jit(((params, x, y) => {
      const o = this.#objective(x, y);
      const r = o.valueAndGrad(params);
      o.dispose();
      release([x, y]);
      return r;
    }) as GradFn);
    this.#eval = jit(((params, ms, x, y) => {
      const out = this.stateful ? model.apply(params, x, { train: false, state: ms }) : model.apply(params, x);
      if (this.stateful) release(ms);
      if (!classification) return [loss(out, y), np.zeros([])];
      return [loss(out.ref, y.ref), accuracy(out, y)];
    }) as EvalFn);
  }

  /** The initial model state (running statistics), or [] for stateless models. */
  initModelState(): ModelState {
    return this.stateful ? this.#model.initState!(this.#o.dtype) : [];
  }

  /**
   * The step's objective on batch (x, y), borrowed: L_B in train mode plus the regularizer. `fn(p)`
   * consumes p; valueAndGrad and grad consume p.
   */
  #objective(x: Array, y: Array): BatchObjective {
    const model = this.#model;
    const loss = this.#loss;
    const reg = this.#o.regularizer;
    const base = (p: Params, xs: Array, ys: Array): Array => loss(model.apply(p, xs, { train: true }), ys);
    const withL2 = (p: Params, xs: Array, ys: Array): Array =>
      reg?.kind === "l2" ? base(keep(p), xs, ys).add(treeNormSq(p).mul(lit(reg.lambda / 2, xs))) : base(p, xs, ys);
    const valueAndGradOn = (p: Params, xs: Array, ys: Array): [Array, Params] => {
      if (reg?.kind === "egr") {
        const mu = lit(reg.mu, xs);
        const r = egrValueAndGrad((q: Params) => base(q, xs.ref, ys.ref), p, mu) as [Array, Params];
        release([xs, ys]);
        return r;
      }
      return valueAndGrad((q: Params) => withL2(q, xs.ref, ys.ref))(p) as [Array, Params];
    };
    const rows = (a: Array, j: number, m: number) => {
      const b = a.shape[0] / m;
      return a.ref.slice([j * b, (j + 1) * b]);
    };
    return {
      valueAndGrad: (p: Params) => valueAndGradOn(p, x.ref, y.ref),
      grad: (p: Params) => {
        const [v, g] = valueAndGradOn(p, x.ref, y.ref);
        v.dispose();
        return g;
      },
      chunkGrad: (p: Params, j: number, m: number) => {
        if (!Number.isInteger(j) || j < 0 || j >= m || x.shape[0] % m !== 0) {
          release(p);
          throw new Error(`chunkGradFn: chunk ${j} of ${m} does not divide a batch of ${x.shape[0]}`);
        }
        const [v, g] = valueAndGradOn(p, rows(x, j, m), rows(y, j, m));
        v.dispose();
        return g;
      },
      dispose: () => undefined,
    };
  }

  #extras(objective: BatchObjective, value: Array, lr: Array, step: Array, key: Array, batchSize: number): Extras {
    return {
      lr,
      step,
      key,
      value,
      batchSize,
      gradFn: objective.grad,
      valueAndGradFn: objective.valueAndGrad,
      chunkGradFn: objective.chunkGrad,
    };
  }

  /** Device chunks of a dataset, uploaded once and cached for the engine's lifetime. */
  chunks(ds: Dataset): Batch[] {
    let c = this.#cache.get(ds);
    if (!c) {
      c = chunkRanges(ds.n, this.#o.chunkSize).map(([a, b]) =>
        makeBatch(
          ds,
          Int32Array.from({ length: b - a }, (_, i) => a + i),
          this.#loss,
          this.#o.dtype,
        ),
      );
      this.#cache.set(ds, c);
    }
    return c;
  }

  /**
   * One optimizer step on the batch `indices` of `ds` (null = all of `ds`, cached on the device unless
   * `fresh`, e.g. when the targets carry fresh label noise). Consumes `s` (except on the chunked path,
   * which needs no `key`); returns the objective value at the old parameters and the new state.
   */
  step(
    s: TrainState,
    ds: Dataset,
    indices: Int32Array | null,
    lr: number,
    stepIndex: number,
    key: Array,
    fresh = false,
  ): [Array, TrainState] {
    const lrArr = this.#scalar(lr);
    const stepArr = this.#scalar(stepIndex);
    if (indices !== null || fresh) {
      const b = makeBatch(ds, indices, this.#loss, this.#o.dtype);
      const [v, p, o, m] = this.#step(s.params, s.opt, s.model, b.x, b.y, lrArr, stepArr, key);
      return [v, { params: p, opt: o, model: m }];
    }
    const chunks = this.chunks(ds);
    if (chunks.length === 1) {
      const c = chunks[0];
      const [v, p, o, m] = this.#step(s.params, s.opt, s.model, c.x.ref, c.y.ref, lrArr, stepArr, key);
      return [v, { params: p, opt: o, model: m }];
    }
    // Full batch over several chunks: accumulate the gradient chunk by chunk (bounded memory) and
    // update eagerly, with the chunked objective behind gradFn.
    if (this.stateful) {
      release([s.params, s.opt, s.model, lrArr, stepArr, key]);
      throw new Error("full-batch training of a batch-norm model needs chunkSize ≥ n (statistics of the whole batch)");
    }
    const [value, grads] = this.fullGradient(keep(s.params), ds);
    const extras: Extras = {
      lr: lrArr,
      step: stepArr,
      key,
      value,
      batchSize: ds.n,
      gradFn: (p) => {
        const [v, g] = this.fullGradient(p, ds);
        v.dispose();
        return g;
      },
      valueAndGradFn: (p) => this.fullGradient(p, ds),
    };
    const [u, o] = this.#opt.update(grads, s.opt, keep(s.params), extras);
    release([lrArr, stepArr, key]);
    return [value, { params: treeAdd(s.params, u), opt: o, model: s.model }];
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

  /** Loss and accuracy over all of `ds` in chunks (borrows `params` and `ms`). */
  async evaluate(params: Params, ms: ModelState, ds: Dataset): Promise<EvalResult> {
    let loss = 0;
    let correct = 0;
    for (const c of this.chunks(ds)) {
      const n = c.x.shape[0];
      const [l, a] = this.#eval(keep(params), keep(ms), c.x.ref, c.y.ref);
      const [lv, av] = await Promise.all([l.data(), a.data()]);
      loss += this.#loss.perExampleMean ? Number(lv[0]) * n : Number(lv[0]);
      correct += Math.round(Number(av[0]) * n); // a count: undo the float32 rounding of count/n
    }
    return {
      loss: this.#loss.perExampleMean ? loss / ds.n : loss,
      accuracy: this.#o.classification ? correct / ds.n : NaN,
    };
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
  recalibrate(params: Params, ds: Dataset): ModelState {
    if (!this.stateful) return [];
    const model = this.#model;
    let acc: ModelState | null = null;
    for (const c of this.chunks(ds)) {
      const r = model.initState!(this.#o.dtype);
      const r1 = tree.map((x: Array) => x.add(lit(1, x)), keep(r)) as ModelState;
      const [o0, s0] = model.applyTrain!(keep(params), keep(r), c.x.ref);
      const [o1, s1] = model.applyTrain!(keep(params), r1, c.x.ref);
      release([o0, o1]);
      const a = tree.map((x: Array, y: Array) => x.sub(y), s1, keep(s0)) as ModelState;
      const w = c.x.shape[0] / ds.n;
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
    return np.array(v, { dtype: this.#o.dtype === "float64" ? np.float64 : np.float32 });
  }

  get model(): Model {
    return this.#model;
  }

  dispose(): void {
    for (const f of [this.#step, this.#grad, this.#eval]) f.dispose();
    for (const c of this.#cache.values()) for (const b of c) release([b.x, b.y]);
    this.#cache.clear();
  }
}
