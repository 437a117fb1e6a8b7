/**
 * A check of the memory a spec needs, made before anything is allocated: a spec that would need more
 * than the Wasm backend can address is refused with a `UserError` naming the parts that dominate,
 * instead of a RangeError (or an out-of-memory kill) minutes later.
 *
 * The estimate is a lower bound: parameters × dtype bytes × 4 (parameters, gradient, two optimizer
 * moments), plus the data (nTrain + nTest) × input size × (8 bytes on the host + dtype bytes on the
 * device), plus one evaluation chunk's activations (chunk × widest layer × dtype bytes × layers).
 * File-backed data sets are left out (their size is known only once read; the loaders bound it).
 */
import { UserError } from "../core/errors.js";
import { createModel } from "../models/index.js";
import type { ExperimentSpec } from "./schema.js";

/** What the Wasm backend can address: 4 GiB (32-bit memory). */
export const WASM_MEMORY_BYTES = 4 * 2 ** 30;

/** Input shape and output dimension of a synthetic or bundled data set, or null for file kinds. */
function dataShape(d: ExperimentSpec["data"]): { xShape: number[]; outputDim: number } | null {
  const image = d.layout === "image";
  switch (d.kind) {
    case "gaussianMixture":
      return image ? null : { xShape: [d.dim], outputDim: d.classes };
    case "spirals":
    case "moons":
    case "circles":
    case "xor":
      return image ? null : { xShape: [2], outputDim: 2 };
    case "teacherStudent":
      return image ? null : { xShape: [d.dim], outputDim: d.outDim };
    case "sparseLinear":
      return image ? null : { xShape: [d.dim], outputDim: 1 };
    case "linearlySeparable":
      return image ? null : { xShape: [d.dim], outputDim: 2 };
    case "mnist":
      return { xShape: image ? [1, 28, 28] : [784], outputDim: 10 };
    default:
      return null;
  }
}

const gib = (b: number) => `${(b / 2 ** 30).toPrecision(3)} GiB`;

/** The estimate's parts in bytes (see the module comment); `params` is the parameter count. */
export function estimateMemory(spec: ExperimentSpec): { params: number | null; parts: Record<string, number> } {
  const bytes = spec.dtype === "float64" ? 8 : 4;
  const parts: Record<string, number> = {};
  const shape = dataShape(spec.data);
  let params: number | null = null;
  if (shape) {
    const inputSize = shape.xShape.reduce((a, b) => a * b, 1);
    const n = (spec.data.nTrain ?? 0) + (spec.data.nTest ?? 0);
    parts.data = n * inputSize * (8 + bytes);
    try {
      // building a model allocates nothing: parameters exist only after init()
      params = createModel(spec.model, shape.xShape, shape.outputDim).paramCount();
      parts.parameters = params * bytes * 4;
    } catch {
      params = null; // the trainer reports an unusable model with its own message
    }
    const widths = "hidden" in spec.model ? spec.model.hidden : "width" in spec.model ? [spec.model.width] : [];
    const widest = Math.max(inputSize, shape.outputDim, ...widths);
    const chunk = Math.min(spec.chunkSize, spec.data.nTrain ?? spec.chunkSize);
    parts.activations = chunk * widest * bytes * (widths.length + 2);
  }
  return { params, parts };
}

/** Throws a `UserError` when the spec's estimated memory exceeds `limit` bytes (default 4 GiB). */
export function checkMemory(spec: ExperimentSpec, source: string, limit = WASM_MEMORY_BYTES): void {
  const { params, parts } = estimateMemory(spec);
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  if (!(total > limit)) return;
  const detail = Object.entries(parts)
    .filter(([, b]) => b > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, b]) => `${k} ${gib(b)}`)
    .join(", ");
  throw new UserError(
    `spec ${source} needs at least ${gib(total)} (${detail}${params !== null ? `; ${params} parameters` : ""}), ` +
      `more than the ${gib(limit)} the Wasm backend can address; reduce data.nTrain/nTest/dim or the model size`,
  );
}
