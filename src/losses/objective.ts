/**
 * The one objective module (DESIGN.md, "One Objective"): which loss is differentiated — the model,
 * the loss, which examples (full / a fixed subset / the current mini-batch), the normalisation-layer
 * mode and the regularizer — with one chunking rule and one subset rule. The step engine, every probe
 * and the curvature operators take an `Objective`; nothing else assembles one.
 */
import {
  check,
  grad,
  jit,
  jvp,
  keep,
  np,
  release,
  toScalar,
  treeAdd,
  treeScale,
  treeSpec,
  treeToHost,
  valueAndGrad,
  type Array,
  type FloatDtype,
  type Key,
  type OwnedFunction,
  type Params,
  type TreeSpec,
} from "../core/index.js";
import { takeRows } from "../data/dataset.js";
import type { Dataset } from "../data/types.js";
import type { Model, ModelState } from "../models/types.js";
import { accuracy } from "./accuracy.js";
import { makeBatch } from "./batch.js";
import { egrFromParts } from "./egr.js";
import { l2Penalty } from "./l2.js";
import type { Loss } from "./types.js";

/**
 * Which training examples an objective covers; stored with every metric computed on it.
 *
 * - `full`: the whole training set (in chunks);
 * - `subset`: a fixed subset of `n` examples, the same at every step and for every probe of a run
 *   (`subsetIndices`: it derives from the run seed, never from the step or the probe);
 * - `batch`: the current mini-batch (the rows the optimizer step used).
 */
export type ObjectiveSpec = { kind: "full" } | { kind: "subset"; n: number } | { kind: "batch" };

/** An `ObjectiveSpec` or its string form as configs write it: "full", "batch", "subset:N" (validated). */
export type ObjectiveSpecInput = ObjectiveSpec | string;

/**
 * The objective's regularizer (objective-changing regularizers live with the losses, STYLE.md):
 * an L2 penalty (λ/2)‖θ‖² (`l2Penalty`), or explicit gradient regularization L + (μ/4)‖∇L‖²
 * (Barrett & Dherin 2021, `egrFromParts`). Added once to the chunk-summed loss.
 */
export type Regularizer = { kind: "l2"; lambda: number } | { kind: "egr"; mu: number };

/**
 * Normalisation-layer mode: "train" normalises each chunk by its own batch statistics (no running-
 * statistics update); "eval" uses running statistics passed as model state. Irrelevant ("n/a" in the
 * description) for models without batch norm.
 */
export type BnMode = "train" | "eval";

/** The JSON description of an objective, stored with every metric computed on it. */
export interface ObjectiveDescription {
  readonly kind: ObjectiveSpec["kind"];
  /** Number of examples. */
  readonly n: number;
  readonly chunkSize: number;
  readonly bnMode: "n/a" | BnMode;
  /** "none", "l2(λ)" or "egr(μ)". */
  readonly regularizer: string;
}

/** One device chunk: inputs, targets, its size and its weight in the objective. */
export interface ObjectiveChunk {
  readonly x: Array;
  readonly y: Array;
  readonly n: number;
  /** w_c = n_c/n for per-example-mean losses, 1 for summed losses. */
  readonly weight: number;
}

/** What an objective differentiates (everything but the examples). */
export interface ObjectiveDefinition {
  readonly model: Model;
  readonly loss: Loss;
  /** Default "train" (batch statistics). */
  readonly bnMode?: BnMode;
  readonly regularizer?: Regularizer;
}

/** Options of `createObjective`. */
export interface ObjectiveOptions {
  /** Precision of the uploaded examples (match the parameters); default float32. */
  readonly dtype?: FloatDtype;
  /** Examples per chunk (bounds device memory); default 1000. */
  readonly chunkSize?: number;
  /** The run's root key (`Key.fromSeed(seed)`): `subset` objectives draw their examples from it. */
  readonly rootKey?: Key;
  /** The mini-batch rows (`batch` objectives; repeats allowed). */
  readonly indices?: Int32Array;
  /** Compile the per-chunk gradient and evaluation with `jit` (the trainer's hot path). */
  readonly compile?: boolean;
}

/** The spec in object form; throws a UserError for a malformed string. */
export function parseObjectiveSpec(spec: ObjectiveSpecInput): ObjectiveSpec {
  if (typeof spec !== "string") return spec;
  if (spec === "full" || spec === "batch") return { kind: spec };
  const m = /^subset:(\d+)$/.exec(spec);
  check(m !== null, `objective: expected "full", "batch" or "subset:N", got "${spec}"`);
  return { kind: "subset", n: Number(m[1]) };
}

/**
 * The one subset rule: the examples of a `subset:N` objective over `total` training examples are the
 * first min(N, total) of the permutation `rootKey.fold("objective/subset").rng().permutation(total)`,
 * so every probe and `sgdlab hessian --objective subset:N` on a run see the same examples.
 */
export function subsetIndices(total: number, n: number, rootKey: Key): Int32Array {
  return rootKey.fold("objective/subset").rng().permutation(total).slice(0, Math.min(n, total));
}

/**
 * The one chunking rule: chunks [start, end) of at most `chunkSize` of n examples, in order, with
 * weights w_c = n_c/n for per-example-mean losses (L = Σ_c w_c L_c is then exactly the mean over all
 * n) and 1 for summed losses.
 */
export function chunkPlan(n: number, chunkSize: number, loss: Loss): { start: number; end: number; weight: number }[] {
  check(
    Number.isInteger(chunkSize) && chunkSize > 0,
    `objective: chunkSize must be a positive integer, got ${chunkSize}`,
  );
  const out: { start: number; end: number; weight: number }[] = [];
  for (let a = 0; a < n; a += chunkSize) {
    const b = Math.min(n, a + chunkSize);
    out.push({ start: a, end: b, weight: loss.perExampleMean ? (b - a) / n : 1 });
  }
  return out;
}

/** The gradient closures of an objective on one batch (`Objective.onBatch`); each consumes `p`. */
export interface BatchFunctions {
  valueAndGrad(p: Params): [Array, Params];
  grad(p: Params): Params;
  /** ∇ on the j-th of m equal contiguous chunks of the batch (m-sharpness); m must divide the batch. */
  chunkGrad(p: Params, j: number, m: number): Params;
}

type ChunkVG = (p: Params, x: Array, y: Array) => [Array, Params];
type ChunkEval = (p: Params, ms: ModelState, x: Array, y: Array) => [Array, Array];

/**
 * L(θ) = Σ_c w_c L_c(θ) + R(θ) over chunks c of the selected examples (`chunkPlan`), with
 * L_c = loss(model(θ, X_c; BN mode), Y_c) and R the regularizer. Holds the selected examples on the
 * device (uploaded once, on first use) and, when compiled, its jitted chunk functions. Every method
 * consumes its parameter argument; `dispose()` releases the device state.
 */
export class Objective {
  readonly model: Model;
  readonly loss: Loss;
  readonly bnMode: BnMode;
  readonly regularizer: Regularizer | undefined;
  readonly description: ObjectiveDescription;
  readonly dtype: FloatDtype;
  #chunks: ObjectiveChunk[] | null = null;
  readonly #shared: boolean;
  readonly #compiled: { vg: OwnedFunction<ChunkVG>; ev: OwnedFunction<ChunkEval> } | null;
  #disposed = false;

  constructor(
    def: ObjectiveDefinition,
    /** The examples covered (the subset or batch rows, in order). */
    readonly dataset: Dataset,
    kind: ObjectiveSpec["kind"],
    readonly chunkSize: number,
    opts: { dtype?: FloatDtype; compile?: boolean; chunks?: ObjectiveChunk[] } = {},
  ) {
    check(dataset.n > 0, `objective: no examples selected from "${dataset.name}"`);
    chunkPlan(dataset.n, chunkSize, def.loss); // validates chunkSize
    this.model = def.model;
    this.loss = def.loss;
    this.bnMode = def.bnMode ?? "train";
    this.regularizer = def.regularizer;
    this.dtype = opts.dtype ?? "float32";
    this.#shared = opts.chunks !== undefined;
    this.#chunks = opts.chunks ?? null;
    const stateful = typeof def.model.applyTrain === "function";
    const reg = def.regularizer;
    this.description = Object.freeze({
      kind,
      n: dataset.n,
      chunkSize,
      bnMode: stateful ? this.bnMode : "n/a",
      regularizer: reg === undefined ? "none" : reg.kind === "l2" ? `l2(${reg.lambda})` : `egr(${reg.mu})`,
    });
    this.#compiled = opts.compile
      ? {
          vg: jit(((p, x, y) => {
            const r = valueAndGrad((q: Params) => this.lossOn(q, x.ref, y.ref))(p) as [Array, Params];
            release([x, y]);
            return r;
          }) as ChunkVG),
          ev: jit(((p, ms, x, y) => this.#evalChunk(p, ms, x, y)) as ChunkEval),
        }
      : null;
  }

  /** Whether the model has batch norm (running statistics). */
  get stateful(): boolean {
    return typeof this.model.applyTrain === "function" && typeof this.model.initState === "function";
  }

  /**
   * The same examples (sharing the device chunks, which stay owned by this objective) under another
   * BN mode or regularizer, e.g. the evaluation objective of a training objective.
   */
  variant(def: { bnMode?: BnMode; regularizer?: Regularizer; compile?: boolean }): Objective {
    return new Objective(
      { model: this.model, loss: this.loss, bnMode: def.bnMode ?? this.bnMode, regularizer: def.regularizer },
      this.dataset,
      this.description.kind,
      this.chunkSize,
      { dtype: this.dtype, compile: def.compile, chunks: this.chunks.slice() },
    );
  }

  /** The `batch` objective over the rows `indices` of this objective's examples (same definition). */
  select(indices: Int32Array): Objective {
    return new Objective(
      { model: this.model, loss: this.loss, bnMode: this.bnMode, regularizer: this.regularizer },
      takeRows(this.dataset, indices, `${this.dataset.name}[batch]`),
      "batch",
      this.chunkSize,
      { dtype: this.dtype },
    );
  }

  /** The device chunks (borrowed), uploaded on first use. */
  get chunks(): readonly ObjectiveChunk[] {
    check(!this.#disposed, "objective used after dispose()", 1);
    if (this.#chunks === null) {
      const chunks: ObjectiveChunk[] = [];
      try {
        for (const { start, end, weight } of chunkPlan(this.dataset.n, this.chunkSize, this.loss)) {
          const idx = start === 0 && end === this.dataset.n ? null : rangeIndices(start, end);
          const { x, y } = makeBatch(this.dataset, idx, this.loss, this.dtype);
          chunks.push({ x, y, n: end - start, weight });
        }
      } catch (e) {
        for (const c of chunks) release([c.x, c.y]);
        throw e;
      }
      this.#chunks = chunks;
    }
    return this.#chunks;
  }

  /** The model's forward pass in this objective's BN mode (consumes p and x; borrows `state`). */
  forward(p: Params, x: Array, state?: ModelState): Array {
    if (this.bnMode === "eval" && this.stateful) {
      check(state !== undefined, "objective: eval-mode batch norm needs the running statistics (model state)", 1);
      return this.model.apply(p, x, { train: false, state });
    }
    return this.model.apply(p, x, { train: this.bnMode === "train" });
  }

  /** The unregularized loss on (x, y): loss(model(p, x), y). Consumes all three. */
  lossOn(p: Params, x: Array, y: Array): Array {
    return this.loss(this.forward(p, x), y);
  }

  /** θ ↦ L_c(θ) of one chunk, unregularized (consumes θ; borrows the chunk). */
  chunkLoss(c: ObjectiveChunk): (p: Params) => Array {
    return (p) => this.lossOn(p, c.x.ref, c.y.ref);
  }

  /**
   * Value and gradient of the objective over a list of (x, y, weight) parts — Σ w L_part + R — on the
   * device. The regularizer is applied once, to the summed loss: L2 adds `l2Penalty`, EGR adds
   * (μ/4)‖g‖² with g = Σ w ∇L_part and its gradient (μ/2)Hg by one forward-over-reverse product per
   * part (`egrFromParts`). Consumes `p`; borrows the parts.
   */
  #valueAndGradOver(
    p: Params,
    parts: readonly { x: Array; y: Array; weight: number }[],
    compiled: boolean,
  ): [Array, Params] {
    let value: Array | null = null;
    let g: Params | null = null;
    try {
      for (const part of parts) {
        let [v, gi] =
          compiled && this.#compiled
            ? this.#compiled.vg(keep(p), part.x.ref, part.y.ref)
            : (valueAndGrad((q: Params) => this.lossOn(q, part.x.ref, part.y.ref))(keep(p)) as [Array, Params]);
        if (part.weight !== 1) {
          v = v.mul(scalar(part.weight, v));
          gi = treeScale(scalar(part.weight, v), gi);
        }
        value = value === null ? v : value.add(v);
        g = g === null ? gi : treeAdd(g, gi);
      }
      const reg = this.regularizer;
      if (reg?.kind === "l2" && reg.lambda > 0) {
        const [pv, pg] = l2Penalty(keep(p), reg.lambda);
        value = value!.add(pv);
        g = treeAdd(g!, pg);
      } else if (reg?.kind === "egr" && reg.mu > 0) {
        let hg: Params | null = null;
        for (const part of parts) {
          const f = (q: Params) => this.lossOn(q, part.x.ref, part.y.ref);
          const [g2, hv] = jvp(grad(f), [keep(p)], [keep(g!)]) as unknown as [Params, Params];
          release(g2);
          const hw = part.weight === 1 ? hv : treeScale(scalar(part.weight, value!), hv);
          hg = hg === null ? hw : treeAdd(hg, hw);
        }
        [value, g] = egrFromParts(value!, g!, hg!, reg.mu);
      }
    } catch (e) {
      release(value);
      release(g);
      throw e;
    } finally {
      release(p);
    }
    return [value!, g!];
  }

  /** [L(θ), ∇L(θ)] over all chunks on the device (dtype of θ). Consumes θ. */
  valueAndGrad(p: Params): [Array, Params] {
    return this.#valueAndGradOver(p, this.chunks, true);
  }

  /** ∇L(θ) over all chunks on the device. Consumes θ. */
  grad(p: Params): Params {
    const [v, g] = this.valueAndGrad(p);
    v.dispose();
    return g;
  }

  /**
   * The objective on one batch (x, y) outside its dataset — the optimizer's mini-batch, with fresh
   * label noise or not — as gradient closures for the step and for wrappers (SAM's ascent point,
   * m-sharpness chunks). Borrows x and y; usable inside `jit` (never calls the compiled chunk
   * functions, so a jitted step traces plain operations).
   */
  onBatch(x: Array, y: Array): BatchFunctions {
    const vg = (p: Params): [Array, Params] => this.#valueAndGradOver(p, [{ x, y, weight: 1 }], false);
    return {
      valueAndGrad: vg,
      grad: (p) => {
        const [v, g] = vg(p);
        v.dispose();
        return g;
      },
      chunkGrad: (p, j, m) => {
        const b = x.shape[0];
        if (!Number.isInteger(j) || j < 0 || j >= m || b % m !== 0) {
          release(p);
          throw new Error(`chunkGradFn: chunk ${j} of ${m} does not divide a batch of ${b}`);
        }
        const rows = (a: Array) => a.ref.slice([(j * b) / m, ((j + 1) * b) / m]);
        const xs = rows(x);
        const ys = rows(y);
        try {
          const [v, g] = this.#valueAndGradOver(p, [{ x: xs, y: ys, weight: 1 }], false);
          v.dispose();
          return g;
        } finally {
          release([xs, ys]);
        }
      },
    };
  }

  /**
   * L(θ) and ∇L(θ) accumulated over chunks on the host in float64 (curvature precision; the chunk
   * products run in θ's dtype). Unregularized objectives only. Consumes θ.
   */
  async hostValueAndGradient(p: Params): Promise<{ value: number; gradient: Float64Array }> {
    try {
      check(this.regularizer === undefined, "objective: host gradients are of unregularized objectives", 1);
      const gradient = new Float64Array(treeSpec(p).size);
      let value = 0;
      for (const c of this.chunks) {
        const [v, g] = valueAndGrad(this.chunkLoss(c))(keep(p)) as [Array, Params];
        const [vh, gh] = await Promise.all([toScalar(v), treeToHost(g)]);
        value += c.weight * vh;
        for (let i = 0; i < gh.length; i++) gradient[i] += c.weight * gh[i];
      }
      return { value, gradient };
    } finally {
      release(p);
    }
  }

  /** The unregularized L(θ), accumulated on the host in float64. Consumes θ. */
  async value(p: Params): Promise<number> {
    let total = 0;
    try {
      for (const c of this.chunks) total += c.weight * (await toScalar(this.chunkLoss(c)(keep(p))));
    } finally {
      release(p);
    }
    return total;
  }

  #evalChunk(p: Params, ms: ModelState, x: Array, y: Array): [Array, Array] {
    const out = this.forward(p, x, ms);
    release(ms);
    if (this.dataset.task !== "classification") return [this.loss(out, y), np.zeros([])];
    return [this.loss(out.ref, y.ref), accuracy(out, y)];
  }

  /**
   * The (unregularized) loss and the accuracy over the examples, chunk by chunk with the chunking
   * rule's weights (exact for per-example-mean losses); accuracy is a count, NaN for regression
   * data. Eval-mode BN models read `state`. Borrows θ and `state`.
   */
  async evaluate(p: Params, state: ModelState = []): Promise<{ loss: number; accuracy: number }> {
    let loss = 0;
    let correct = 0;
    for (const c of this.chunks) {
      const [l, a] = this.#compiled
        ? this.#compiled.ev(keep(p), keep(state), c.x.ref, c.y.ref)
        : this.#evalChunk(keep(p), keep(state), c.x.ref, c.y.ref);
      const [lv, av] = await Promise.all([toScalar(l), toScalar(a)]);
      loss += c.weight * lv;
      correct += Math.round(av * c.n); // a count: undo the float32 rounding of count/n
    }
    return { loss, accuracy: this.dataset.task === "classification" ? correct / this.dataset.n : NaN };
  }

  /** Releases the device chunks (unless shared from another objective) and compiled functions. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (!this.#shared) for (const c of this.#chunks ?? []) release([c.x, c.y]);
    this.#chunks = null;
    this.#compiled?.vg.dispose();
    this.#compiled?.ev.dispose();
  }
}

/**
 * The objective of `def` over the examples of `ds` selected by `spec` — the only place objectives are
 * built:
 *
 * - `full`: all of `ds`;
 * - `subset:N`: the fixed subset `subsetIndices(ds.n, N, opts.rootKey)`;
 * - `batch`: the rows `opts.indices` (the optimizer's mini-batch).
 *
 * Throws a UserError for a malformed spec, a missing key or indices, or an empty selection.
 */
export function createObjective(
  def: ObjectiveDefinition,
  ds: Dataset,
  spec: ObjectiveSpecInput = "full",
  opts: ObjectiveOptions = {},
): Objective {
  const s = parseObjectiveSpec(spec);
  const chunkSize = opts.chunkSize ?? 1000;
  let data = ds;
  if (s.kind === "subset") {
    check(Number.isInteger(s.n) && s.n > 0, `objective: subset size must be a positive integer, got ${s.n}`);
    check(opts.rootKey !== undefined, "objective: a subset objective needs the run's root key to draw its examples");
    data = takeRows(ds, subsetIndices(ds.n, s.n, opts.rootKey), `${ds.name}[subset ${s.n}]`);
  } else if (s.kind === "batch") {
    check(opts.indices !== undefined, "objective: a batch objective needs the batch rows (indices)");
    data = takeRows(ds, opts.indices, `${ds.name}[batch]`);
  }
  return new Objective(def, data, s.kind, chunkSize, { dtype: opts.dtype, compile: opts.compile });
}

/** The parameters' float dtype: float64 when every leaf is float64, else float32. */
export function paramsDtype(spec: TreeSpec): FloatDtype {
  return spec.dtypes.every((d) => d === np.float64) ? "float64" : "float32";
}

function rangeIndices(a: number, b: number): Int32Array {
  return Int32Array.from({ length: b - a }, (_, i) => a + i);
}

/** A 0-d constant w in the dtype of `like` (w = n_c/n is exact enough: one rounding). */
function scalar(w: number, like: Array): Array {
  return np.full([], w, { dtype: like.dtype });
}
