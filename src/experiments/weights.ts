/**
 * A training checkpoint's weights as named tensors, for `sgdlab export --weights FILE.safetensors`:
 * one tensor per parameter leaf, named by its dotted path in the parameter tree (`layers.0.W` with
 * shape [d_in, d_out], `layers.0.b`, …) — the names `sgdlab hessian --model` reads (external.ts) —
 * and, for stateful models (batch norm), one tensor per model-state leaf under `state.` (running
 * means and variances). Tensors are F32 for float32 runs and F64 for float64 runs.
 */
import { UserError } from "../core/errors.js";
import { deriveKey, leafNames, release, treeSpec } from "../core/index.js";
import { initRuntime } from "../core/runtime.js";
import { loadData } from "../data/index.js";
import { encodeSafetensors } from "../data/safetensors.js";
import { createModel } from "../models/index.js";
import { resolveSpec } from "./resolve.js";

/** Named tensors (row-major float64 values) and safetensors metadata of a checkpoint. */
export interface CheckpointWeights {
  tensors: Record<string, { shape: number[]; data: Float64Array }>;
  dtype: "F32" | "F64";
  metadata: Record<string, string>;
}

/**
 * Splits a checkpoint's flat `params` (and `modelState`) into named tensors. `meta` is the checkpoint's
 * metadata (it carries the resolved spec); `source` names the checkpoint in errors. The data set is
 * loaded only for its shapes (input shape, number of classes), as the model needs them.
 */
export async function checkpointWeights(
  meta: unknown,
  arrays: Record<string, { data: ArrayLike<number> }>,
  source: string,
): Promise<CheckpointWeights> {
  const m = meta as { spec?: unknown; step?: unknown; runId?: unknown } | null;
  const params = arrays.params?.data;
  if (!m?.spec || !params) throw new UserError(`${source}: not an sgdlab training checkpoint (no spec or params)`);
  const { spec } = resolveSpec(m.spec, `spec stored in ${source}`);
  await initRuntime("wasm");
  const split = await loadData(spec.data, spec.seed);
  const data = split.train;
  const outputDim = data.task === "classification" ? data.numClasses : data.targetDim;
  const model = createModel(spec.model, data.xShape, outputDim);
  const tensors: CheckpointWeights["tensors"] = {};
  const split1 = (t: unknown, flat: ArrayLike<number>, prefix: string, what: string) => {
    const names = leafNames(t, prefix);
    const s = treeSpec(t as never);
    if (s.size !== flat.length) {
      throw new UserError(`${source}: ${flat.length} ${what} values stored, the model has ${s.size}`, 1);
    }
    let o = 0;
    names.forEach((name, i) => {
      const size = s.shapes[i].reduce((a, b) => a * b, 1);
      tensors[name] = { shape: s.shapes[i], data: Float64Array.from({ length: size }, (_, j) => flat[o + j]) };
      o += size;
    });
  };
  const template = model.init(deriveKey(0, "template"), spec.dtype);
  try {
    split1(template, params, "", "parameter");
  } finally {
    release(template);
  }
  if (model.initState) {
    const state = model.initState(spec.dtype);
    try {
      split1(state, arrays.modelState?.data ?? new Float64Array(0), "state", "model-state");
    } finally {
      release(state);
    }
  }
  const metadata: Record<string, string> = {
    format: "sgdlab-weights/1",
    spec: JSON.stringify(spec),
  };
  if (typeof m.runId === "string") metadata.run = m.runId;
  if (typeof m.step === "number") metadata.step = String(m.step);
  return { tensors, dtype: spec.dtype === "float64" ? "F64" : "F32", metadata };
}

/** {@link checkpointWeights} encoded as a safetensors file's bytes. */
export async function checkpointSafetensors(
  meta: unknown,
  arrays: Record<string, { data: ArrayLike<number> }>,
  source: string,
): Promise<Buffer> {
  const w = await checkpointWeights(meta, arrays, source);
  return encodeSafetensors(w.tensors, w.dtype, w.metadata);
}
