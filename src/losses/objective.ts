/**
 * The objective contract (DESIGN.md): which loss a measurement differentiates, and full-dataset
 * evaluation and gradients computed in chunks of bounded size.
 */
import {
  keep,
  lit,
  release,
  toScalar,
  tree,
  treeAdd,
  valueAndGrad,
  type Array,
  type FloatDtype,
  type Key,
  type Params,
} from "../core/index.js";
import type { Dataset } from "../data/types.js";
import type { Model } from "../models/types.js";
import { accuracy } from "./accuracy.js";
import { makeBatch } from "./batch.js";
import type { Loss } from "./types.js";

/**
 * Which training loss a measurement (gradient norm, Hessian spectrum, ...) differentiates; stored
 * with every metric it produces.
 *
 * - `full`: the loss over the whole training set (computed in chunks, `fullBatchValueAndGrad`).
 * - `subset`: over a fixed subset of `n` training examples, the same at every step: the first n of
 *   a permutation drawn from the measurement's key (`subsetIndices`), so it derives from the run seed
 *   and never from the step.
 * - `batch`: over the current mini-batch (the one the optimizer step used).
 */
export type ObjectiveSpec = { kind: "full" } | { kind: "subset"; n: number } | { kind: "batch" };

/**
 * The indices of a `subset` objective of size n over `total` examples: the first min(n, total) of the
 * permutation `key.fold("subset").rng().permutation(total)` (deterministic per key).
 */
export function subsetIndices(total: number, n: number, key: Key): Int32Array {
  return key.fold("subset").rng().permutation(total).slice(0, Math.min(n, total));
}

/** Options of the chunked objectives. */
export interface ChunkOptions {
  /** Precision of the uploaded batches (should match the parameters). */
  dtype: FloatDtype;
  /** Examples per chunk (bounds device memory); default 1000. */
  chunkSize?: number;
}

/** The per-batch objective L(θ; x, y) = loss(model(θ, x), y) (consumes its arguments). */
export function batchObjective(model: Model, loss: Loss): (params: Params, x: Array, y: Array) => Array {
  return (params, x, y) => loss(model.apply(params, x), y);
}

/** The chunks [start, end) of n examples. */
function chunkRanges(n: number, chunkSize: number): [number, number][] {
  if (!(Number.isInteger(chunkSize) && chunkSize > 0))
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  const out: [number, number][] = [];
  for (let a = 0; a < n; a += chunkSize) out.push([a, Math.min(n, a + chunkSize)]);
  return out;
}

function rangeIndices([a, b]: [number, number], n: number): Int32Array | null {
  return a === 0 && b === n ? null : Int32Array.from({ length: b - a }, (_, i) => a + i);
}

/**
 * Loss and accuracy of `model` at `params` over all of `ds`, in chunks of `chunkSize` (default 1000)
 * examples whose scalars are read to the host before the next chunk starts (bounded memory).
 * Chunk values combine as L = Σ_c (n_c/n)·L_c for per-example-mean losses (exact) and L = Σ_c L_c
 * for sums ("half_sum", "sum"); accuracy = (Σ_c n_c·acc_c)/n, NaN for regression data. Consumes
 * `params`.
 */
export async function evaluate(
  model: Model,
  params: Params,
  ds: Dataset,
  loss: Loss,
  opts: ChunkOptions,
): Promise<{ loss: number; accuracy: number }> {
  const classification = ds.task === "classification";
  let total = 0;
  let correct = 0;
  try {
    for (const range of chunkRanges(ds.n, opts.chunkSize ?? 1000)) {
      const nc = range[1] - range[0];
      const { x, y } = makeBatch(ds, rangeIndices(range, ds.n), loss, opts.dtype);
      const out = model.apply(keep(params), x);
      const l = toScalar(loss(out.ref, y.ref));
      let acc: Promise<number> | number = NaN;
      if (classification) acc = toScalar(accuracy(out, y));
      else release([out, y]);
      const [lv, av] = await Promise.all([l, acc]);
      total += loss.perExampleMean ? lv * nc : lv;
      correct += Math.round(av * nc);
    }
  } finally {
    release(params);
  }
  return {
    loss: loss.perExampleMean ? total / ds.n : total,
    accuracy: classification ? correct / ds.n : NaN,
  };
}

/**
 * Value and gradient of the full-dataset objective L(θ) = loss(model(θ, X), Y) over all of `ds`,
 * summed over chunks of `chunkSize` (default 1000) examples with the weights of `evaluate`:
 * L = Σ_c (n_c/n)·L_c and ∇L = Σ_c (n_c/n)·∇L_c for per-example-mean losses, plain sums otherwise —
 * the value of the one-shot objective up to rounding (exactly it with one chunk). Consumes `params`;
 * returns a 0-d `value` and `grad` shaped like `params`.
 */
export function fullBatchValueAndGrad(
  model: Model,
  params: Params,
  ds: Dataset,
  loss: Loss,
  opts: ChunkOptions,
): { value: Array; grad: Params } {
  const f = batchObjective(model, loss);
  let value: Array | null = null;
  let grad: Params | null = null;
  try {
    const ranges = chunkRanges(ds.n, opts.chunkSize ?? 1000);
    for (const range of ranges) {
      const nc = range[1] - range[0];
      const { x, y } = makeBatch(ds, rangeIndices(range, ds.n), loss, opts.dtype);
      let [v, g] = valueAndGrad(f)(keep(params), x, y) as [Array, Params];
      if (loss.perExampleMean && ranges.length > 1) {
        // Weight n_c/n as (·n_c)/n: integer factors are exact in both precisions.
        v = v.mul(lit(nc, v)).div(lit(ds.n, v));
        g = scaleTree(g, nc, ds.n);
      }
      value = value === null ? v : value.add(v);
      grad = grad === null ? g : treeAdd(grad, g);
    }
  } catch (e) {
    release(value);
    release(grad);
    throw e;
  } finally {
    release(params);
  }
  if (value === null || grad === null) throw new RangeError(`fullBatchValueAndGrad: dataset "${ds.name}" is empty`);
  return { value, grad };
}

/** (num/den)·g leafwise, as (·num)/den with integer factors. */
function scaleTree(g: Params, num: number, den: number): Params {
  return tree.map((x: Array) => x.mul(lit(num, x)).div(lit(den, x)), g) as Params;
}
