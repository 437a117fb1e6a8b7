/**
 * Building blocks shared by the models: host-side initialisation from a `Key`, dense layers, and
 * flattening a batch.
 */
import {
  dtypeOf,
  hostArray,
  lit,
  np,
  release,
  type Array,
  type FloatDtype,
  type Key,
  type Params,
} from "../core/index.js";
import { activate } from "./activations.js";
import type { Activation, InitScheme } from "./schema.js";

/** One dense layer's parameters: W [d_in, d_out], optional b [d_out]. */
export interface DenseParams {
  W: Array;
  b?: Array;
}

/**
 * The standard deviation of an initialisation scheme: initScale·s with s = 1/√fan_in (lecun),
 * √2/√fan_in (he; He, Zhang, Ren & Sun 2015), √(2/(fan_in + fan_out)) (xavier; Glorot & Bengio 2010,
 * normal form of their normalized initialization), 1 (normal).
 */
export function initStd(scheme: InitScheme, fanIn: number, fanOut: number, initScale: number): number {
  switch (scheme) {
    case "lecun":
      return initScale / Math.sqrt(fanIn);
    case "he":
      return initScale * Math.sqrt(2 / fanIn);
    case "xavier":
      return initScale * Math.sqrt(2 / (fanIn + fanOut));
    case "normal":
      return initScale;
  }
}

/** An array of `shape` with i.i.d. N(0, std²) entries drawn on the host from `key` (row-major). */
export function normalArray(key: Key, shape: number[], std: number, dtype: FloatDtype): Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(hostArray(dtype, key.rng().normals(n, std)), { dtype: dtypeOf(dtype) }).reshape(shape);
}

/** An array of `shape` filled with `value`. */
export function constArray(shape: number[], value: number, dtype: FloatDtype): Array {
  return np.full(shape, value, { dtype: dtypeOf(dtype) });
}

/** Reshapes a batch [B, ...] to [B, d] (consumes `x`). */
export function flattenBatch(x: Array): Array {
  const b = x.shape[0];
  return x.reshape([b, x.size / Math.max(b, 1)]);
}

/**
 * A dense layer h = m·(xW) + b (consumes `x` and the layer), with m a multiplier (NTK scaling) or
 * null for 1. The multiplier is a `lit` so it stays exact in float64 under `jit`.
 */
export function dense(x: Array, layer: DenseParams, multiplier: number | null = null): Array {
  let h = np.matmul(x, layer.W);
  if (multiplier !== null) h = h.mul(lit(multiplier, h));
  return layer.b ? h.add(layer.b) : h;
}

/** A stack of dense layers with `act` after all but the last (consumes `x` and `layers`). */
export function denseStack(
  x: Array,
  layers: readonly DenseParams[],
  act: Activation,
  multipliers: readonly (number | null)[] | null = null,
): Array {
  let h = x;
  layers.forEach((layer, i) => {
    h = dense(h, layer, multipliers ? multipliers[i] : null);
    if (i < layers.length - 1) h = activate(act, h);
  });
  return h;
}

/** Host-initialised dense layers d_0 → d_1 → … (W by `scheme`, b = 0); keys fold "layers/i/W". */
export function initDenseLayers(
  key: Key,
  dims: readonly number[],
  opts: { scheme: InitScheme | "unit"; initScale: number; bias: boolean; dtype: FloatDtype },
): DenseParams[] {
  const layers: DenseParams[] = [];
  for (let i = 0; i + 1 < dims.length; i++) {
    const [fi, fo] = [dims[i], dims[i + 1]];
    const std = opts.scheme === "unit" ? 1 : initStd(opts.scheme, fi, fo, opts.initScale);
    const layer: DenseParams = { W: normalArray(key.fold(`layers/${i}/W`), [fi, fo], std, opts.dtype) };
    if (opts.bias) layer.b = constArray([fo], 0, opts.dtype);
    layers.push(layer);
  }
  return layers;
}

/** Number of parameters of dense layers d_0 → d_1 → …. */
export function denseParamCount(dims: readonly number[], bias: boolean): number {
  let n = 0;
  for (let i = 0; i + 1 < dims.length; i++) n += dims[i] * dims[i + 1] + (bias ? dims[i + 1] : 0);
  return n;
}

/**
 * Throws unless `x` is a batch of `inputShape` inputs (a bug in the caller, not a user mistake),
 * releasing `params` and `x` first; otherwise consumes nothing.
 */
export function checkBatch(params: Params, x: Array, inputShape: readonly number[], model: string): void {
  const d = inputShape.reduce((a, b) => a * b, 1);
  if (x.ndim >= 1 && x.shape.slice(1).reduce((a, b) => a * b, 1) === d) return;
  const shape = x.shape;
  release(params);
  x.dispose();
  throw new Error(`${model}: expected inputs [B, ${inputShape.join(", ")}], got [${shape.join(", ")}]`);
}
