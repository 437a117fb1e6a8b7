/**
 * Per-layer and per-example quantities of a trained network on the host, the inputs of Jiang et al.
 * 2020's complexity measures (`theory/measures.ts`): spectral and Frobenius norms of each weight
 * matrix and of its distance from the initialization, output margins, and the ℓ₂ path norm.
 * Pure functions of flat float64 parameter vectors; no tensors.
 */
import { check } from "../core/errors.js";
import { spectralNorm } from "../probes/weights.js";
import type { LayerNorms } from "../theory/measures.js";

/** Where one weight matrix lies in the flat parameter vector. */
export interface WeightLayer {
  /** Dotted leaf name, e.g. `layers.0.W`. */
  readonly name: string;
  /** Offset of its first value in the flat vector. */
  readonly offset: number;
  /** Row-major rows × cols (a kernel of shape [a, b, …] is read as a × (b·…)). */
  readonly rows: number;
  readonly cols: number;
}

/**
 * The weight matrices among a parameter tree's leaves: every leaf with ≥ 2 dimensions (dense W is
 * [d_in, d_out]; a convolution kernel is reshaped to its first dimension × the rest, as Jiang et al.
 * do). Biases and normalization parameters (1-D) are left out, as in their Appendix C.
 */
export function weightLayers(names: readonly string[], shapes: readonly (readonly number[])[]): WeightLayer[] {
  check(names.length === shapes.length, "weightLayers: names and shapes differ in length");
  const out: WeightLayer[] = [];
  let offset = 0;
  shapes.forEach((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (shape.length >= 2) out.push({ name: names[i], offset, rows: shape[0], cols: size / shape[0] });
    offset += size;
  });
  return out;
}

function slice(flat: ArrayLike<number>, l: WeightLayer): Float64Array {
  const n = l.rows * l.cols;
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = flat[l.offset + k];
  return out;
}

function frobenius(w: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < w.length; k++) s += w[k] * w[k];
  return Math.sqrt(s);
}

/**
 * ‖W_i‖₂ (power iteration, `spectralNorm`), ‖W_i‖_F and, given the initialization θ₀, ‖W_i − W_i⁰‖_F
 * and ‖W_i − W_i⁰‖₂ for every weight layer.
 */
export function layerNorms(
  layers: readonly WeightLayer[],
  flat: ArrayLike<number>,
  init?: ArrayLike<number>,
): (LayerNorms & { name: string })[] {
  if (init) check(init.length === flat.length, "layerNorms: θ and θ₀ differ in length");
  return layers.map((l) => {
    const w = slice(flat, l);
    const base = { name: l.name, spectral: spectralNorm(w, l.rows, l.cols), frobenius: frobenius(w) };
    if (!init) return base;
    const d = slice(init, l);
    for (let k = 0; k < d.length; k++) d[k] = w[k] - d[k];
    return { ...base, distFrobenius: frobenius(d), distSpectral: spectralNorm(d, l.rows, l.cols) };
  });
}

/**
 * The output margin of each example, f(x)[y] − max_{j≠y} f(x)[j], from row-major logits [n, k] and
 * labels (Jiang et al. 2020, App. C; negative for a misclassified example).
 */
export function outputMargins(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number): Float64Array {
  const n = labels.length;
  check(classes >= 2, `outputMargins: needs ≥ 2 classes, got ${classes}`);
  check(logits.length === n * classes, `outputMargins: ${logits.length} logits for ${n} examples × ${classes}`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    let other = -Infinity;
    for (let j = 0; j < classes; j++) if (j !== y) other = Math.max(other, logits[i * classes + j]);
    out[i] = logits[i * classes + y] - other;
  }
  return out;
}

/** One dense layer of a fully connected network: W [d_in, d_out] row-major, b [d_out] or none. */
export interface DenseLayer {
  readonly w: ArrayLike<number>;
  readonly b?: ArrayLike<number>;
  readonly dIn: number;
  readonly dOut: number;
}

/**
 * The ℓ₂ path norm of a fully connected ReLU network (Neyshabur, Tomioka & Srebro, COLT 2015, §4;
 * Jiang et al. 2020, eq. 44): Σ over input–output paths of Π w² along the path, computed as
 * Jiang et al.'s reference code does — the network with every parameter squared, evaluated on the
 * all-ones input, outputs summed. On non-negative inputs ReLU is the identity, so the pass is the
 * linear chain h ← (h·W²) + b² (squared biases count as paths that start at a bias unit).
 */
export function pathNorm(layers: readonly DenseLayer[]): number {
  check(layers.length >= 1, "pathNorm: no layers");
  let h = new Float64Array(layers[0].dIn).fill(1);
  layers.forEach((l, i) => {
    check(h.length === l.dIn, `pathNorm: layer ${i} takes ${l.dIn} inputs, the previous gives ${h.length}`);
    const next = new Float64Array(l.dOut);
    for (let o = 0; o < l.dOut; o++) next[o] = l.b ? l.b[o] ** 2 : 0;
    for (let k = 0; k < l.dIn; k++) {
      const hk = h[k];
      if (hk === 0) continue;
      for (let o = 0; o < l.dOut; o++) next[o] += hk * l.w[k * l.dOut + o] ** 2;
    }
    h = next;
  });
  return h.reduce((s, v) => s + v, 0);
}

/**
 * The dense layers of an sgdlab MLP (leaves `layers.<i>.W` [d_in, d_out] and `layers.<i>.b`) read
 * from the flat parameters, or undefined when the tree has other leaves (normalization layers,
 * convolutions), for which `pathNorm` does not apply as written.
 */
export function mlpDenseLayers(
  names: readonly string[],
  shapes: readonly (readonly number[])[],
  flat: ArrayLike<number>,
): DenseLayer[] | undefined {
  const ws: { w?: Float64Array; b?: Float64Array; dIn: number; dOut: number }[] = [];
  let offset = 0;
  for (const [i, name] of names.entries()) {
    const shape = shapes[i];
    const size = shape.reduce((a, b) => a * b, 1);
    const m = /^layers\.(\d+)\.(W|b)$/.exec(name);
    if (!m) return undefined;
    const k = Number(m[1]);
    const values = Float64Array.from({ length: size }, (_, j) => flat[offset + j]);
    ws[k] ??= { dIn: 0, dOut: 0 };
    if (m[2] === "W") Object.assign(ws[k], { w: values, dIn: shape[0], dOut: shape[1] });
    else ws[k].b = values;
    offset += size;
  }
  if (ws.length === 0 || ws.some((l) => l?.w === undefined)) return undefined;
  return ws.map((l) => ({ w: l.w!, b: l.b, dIn: l.dIn, dOut: l.dOut }));
}
