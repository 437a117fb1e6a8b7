/**
 * The objective a curvature measurement differentiates (DESIGN.md, "objective contract"): the model,
 * the loss, an owned copy of the parameters and the examples, uploaded once in chunks of bounded
 * size. Hessian and GGN operators (hvp.ts, ggn.ts) and gradient statistics (gradients.ts) read it.
 */
import {
  check,
  keep,
  np,
  release,
  toScalar,
  treeSpec,
  treeToHost,
  valueAndGrad,
  type Array,
  type FloatDtype,
  type Key,
  type Params,
  type TreeSpec,
} from "../core/index.js";
import { takeRows } from "../data/dataset.js";
import type { Dataset } from "../data/types.js";
import { makeBatch, subsetIndices, type ObjectiveSpec } from "../losses/index.js";
import type { Loss } from "../losses/types.js";
import type { Model } from "../models/types.js";
import { ggnOperator, type GgnOperatorOptions } from "./ggn.js";
import { hessianOperator, type DisposableOperator, type HessianOperatorOptions } from "./hvp.js";

/**
 * Which examples a curvature objective covers: the losses' `ObjectiveSpec` or its string form
 * ("full", "batch", "subset:N") as probe configs write it.
 */
export type CurvatureObjectiveSpec = ObjectiveSpec | "full" | "batch" | `subset:${number}`;

/** Options of `curvatureObjective`. */
export interface CurvatureObjectiveOptions {
  /** Examples per chunk (bounds device memory per product); default 1000. */
  readonly chunkSize?: number;
  /** Key of the fixed subset (`subset` only; the subset is `subsetIndices(ds.n, N, key)`). */
  readonly key?: Key;
  /** Rows of the mini-batch (`batch` only; repeats allowed). */
  readonly indices?: Int32Array;
}

/** The JSON description of an objective, stored with every metric computed on it. */
export interface ObjectiveDescription {
  readonly kind: "full" | "subset" | "batch";
  /** Number of examples. */
  readonly n: number;
  readonly chunkSize: number;
  /** Normalisation-layer mode; no model of sgdlab has batch normalisation yet. */
  /**
   * Normalisation-layer mode of the differentiated loss: "train" (batch statistics of each chunk, no
   * running-statistics update) for batch-norm models, "n/a" for models without batch norm.
   */
  readonly bnMode: "n/a" | "train";
}

/** One device chunk: inputs, targets, its size and its weight in the objective. */
export interface ObjectiveChunk {
  readonly x: Array;
  readonly y: Array;
  readonly n: number;
  /** w_c = n_c/n for per-example-mean losses, 1 for summed losses. */
  readonly weight: number;
}

/**
 * L(θ) = Σ_c w_c L_c(θ) over chunks c of at most `chunkSize` examples, L_c = loss(model(θ, X_c), Y_c),
 * with w_c = n_c/n for per-example-mean losses (then L is the mean over all n examples exactly) and
 * w_c = 1 for summed losses. Holds the parameters (owned) and the chunks on the device; products and
 * gradients are summed over chunks on the host in float64. `dispose()` releases the arrays.
 */
export class CurvatureObjective {
  readonly description: ObjectiveDescription;
  /** Shapes and dtypes of the parameters (host vectors ↔ parameter trees). */
  readonly spec: TreeSpec;
  /** Number of parameters (the operators' dimension). */
  readonly dim: number;
  readonly dtype: FloatDtype;
  readonly bnMode: "n/a" | "train";
  #params: Params | null;
  #chunks: ObjectiveChunk[];

  constructor(
    readonly model: Model,
    readonly loss: Loss,
    params: Params,
    /** The examples the objective covers (the subset or batch rows, in order). */
    readonly dataset: Dataset,
    kind: ObjectiveDescription["kind"],
    chunkSize: number,
  ) {
    this.spec = treeSpec(params);
    this.dim = this.spec.size;
    this.dtype = this.spec.dtypes.every((d) => d === np.float64) ? "float64" : "float32";
    this.#params = params;
    this.#chunks = [];
    try {
      for (let a = 0; a < dataset.n; a += chunkSize) {
        const b = Math.min(dataset.n, a + chunkSize);
        const idx = a === 0 && b === dataset.n ? null : Int32Array.from({ length: b - a }, (_, i) => a + i);
        const { x, y } = makeBatch(dataset, idx, loss, this.dtype);
        this.#chunks.push({ x, y, n: b - a, weight: loss.perExampleMean ? (b - a) / dataset.n : 1 });
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
    this.bnMode = typeof model.applyTrain === "function" ? "train" : "n/a";
    this.description = Object.freeze({ kind, n: dataset.n, chunkSize, bnMode: this.bnMode });
  }

  /** The parameters (borrowed: `keep()` them to use them). */
  /** The model's forward pass in this objective's normalisation mode (consumes both). */
  forward(p: Params, x: Array): Array {
    return this.model.apply(p, x, { train: this.bnMode === "train" });
  }

  get params(): Params {
    if (this.#params === null) throw new Error("curvature objective used after dispose()");
    return this.#params;
  }

  /** The device chunks (borrowed). */
  get chunks(): readonly ObjectiveChunk[] {
    if (this.#params === null) throw new Error("curvature objective used after dispose()");
    return this.#chunks;
  }

  /** The chunk objective θ ↦ L_c(θ) (consumes θ; borrows the chunk). */
  chunkLoss(c: ObjectiveChunk): (p: Params) => Array {
    return (p) => this.loss(this.forward(p, c.x.ref), c.y.ref);
  }

  /** L(θ) = Σ_c w_c L_c(θ), accumulated on the host in float64. */
  async value(): Promise<number> {
    let total = 0;
    for (const c of this.chunks) total += c.weight * (await toScalar(this.chunkLoss(c)(keep(this.params))));
    return total;
  }

  /** ∇L(θ) = Σ_c w_c ∇L_c(θ) as a host float64 vector (leaf order of `spec`). */
  async gradient(): Promise<Float64Array> {
    return (await this.valueAndGradient()).gradient;
  }

  /** L(θ) and ∇L(θ) together (one forward and backward pass per chunk). */
  async valueAndGradient(): Promise<{ value: number; gradient: Float64Array }> {
    let value = 0;
    const gradient = new Float64Array(this.dim);
    for (const c of this.chunks) {
      const [v, g] = valueAndGrad(this.chunkLoss(c))(keep(this.params)) as [Array, Params];
      const [vh, gh] = await Promise.all([toScalar(v), treeToHost(g)]);
      value += c.weight * vh;
      for (let i = 0; i < gh.length; i++) gradient[i] += c.weight * gh[i];
    }
    return { value, gradient };
  }

  /** The exact Hessian operator of this objective (`hessianOperator`). */
  hessian(opts?: HessianOperatorOptions): DisposableOperator {
    return hessianOperator(this, opts);
  }

  /** The generalized Gauss–Newton operator of this objective (`ggnOperator`). */
  ggn(opts?: GgnOperatorOptions): DisposableOperator {
    return ggnOperator(this, opts);
  }

  /** Releases the parameters and chunks (idempotent). Operators built on it must not be used after. */
  dispose(): void {
    release(this.#params);
    this.#params = null;
    for (const c of this.#chunks) release([c.x, c.y]);
    this.#chunks = [];
  }
}

/** The spec in object form; throws a UserError for a malformed string. */
export function parseObjectiveSpec(spec: CurvatureObjectiveSpec): ObjectiveSpec {
  if (typeof spec !== "string") return spec;
  if (spec === "full" || spec === "batch") return { kind: spec };
  const m = /^subset:(\d+)$/.exec(spec);
  check(m !== null, `objective: expected "full", "batch" or "subset:N", got "${spec}"`);
  return { kind: "subset", n: Number(m[1]) };
}

/**
 * The curvature objective of `model` and `loss` at `params` (consumed: the objective owns them) over
 * the examples of `ds` selected by `spec`:
 *
 * - `full`: all of `ds`;
 * - `subset:N` / `{kind: "subset", n}`: the fixed subset `subsetIndices(ds.n, N, opts.key)` (the
 *   first min(N, n) of a permutation drawn from the key);
 * - `batch`: the rows `opts.indices` (the optimizer's mini-batch).
 *
 * Each is split into chunks of at most `opts.chunkSize` (default 1000) examples weighted as in
 * `CurvatureObjective`. The parameters' dtype (float32 or float64) sets the dtype of the chunks and of
 * every product. Throws a UserError for a missing key or indices, or an empty selection.
 */
export function curvatureObjective(
  model: Model,
  params: Params,
  ds: Dataset,
  loss: Loss,
  spec: CurvatureObjectiveSpec,
  opts: CurvatureObjectiveOptions = {},
): CurvatureObjective {
  const chunkSize = opts.chunkSize ?? 1000;
  let data = ds;
  let kind: ObjectiveDescription["kind"];
  try {
    check(
      Number.isInteger(chunkSize) && chunkSize > 0,
      `objective: chunkSize must be a positive integer, got ${chunkSize}`,
    );
    const s = parseObjectiveSpec(spec);
    kind = s.kind;
    if (s.kind === "subset") {
      check(Number.isInteger(s.n) && s.n > 0, `objective: subset size must be a positive integer, got ${s.n}`);
      check(opts.key !== undefined, "objective: a subset objective needs opts.key to draw its examples");
      data = takeRows(ds, subsetIndices(ds.n, s.n, opts.key), `${ds.name}[subset ${s.n}]`);
    } else if (s.kind === "batch") {
      check(opts.indices !== undefined, "objective: a batch objective needs opts.indices (the batch rows)");
      data = takeRows(ds, opts.indices, `${ds.name}[batch]`);
    }
    check(data.n > 0, `objective: no examples selected from "${ds.name}"`);
  } catch (e) {
    release(params);
    throw e;
  }
  return new CurvatureObjective(model, loss, params, data, kind, chunkSize);
}
