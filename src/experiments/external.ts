/**
 * Models that come from outside sgdlab, for `sgdlab hessian --from-json` / `--model`: the reference
 * MLP case format of test/fixtures/reference/README.md (PyTorch layout), and a model spec JSON naming a
 * safetensors weights file. Both give a model, its parameters, a loss and the data of the objective.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { UserError } from "../core/errors.js";
import { treeFromHost, treeSpec, release, leafNames, Key, type FloatDtype, type Params } from "../core/index.js";
import { loadData, makeDataset, readSafetensors, type Dataset } from "../data/index.js";
import { LossConfigSchema, type LossConfig } from "../losses/index.js";
import { createModel, ModelConfigSchema, type Model } from "../models/index.js";
import { DataConfigSchema } from "../data/schema.js";
import { loadCheckpoint, type RunStore } from "../store/index.js";
import { resolveSpec } from "./resolve.js";
import type { ExperimentSpec } from "./schema.js";

/** A model with fixed parameters and the data its objective uses. */
export interface ExternalModel {
  readonly model: Model;
  readonly loss: LossConfig;
  readonly data: Dataset;
  /** Flat parameters in the order of `model.init`'s tree leaves. */
  readonly flat: Float64Array;
  /** Builds the parameter tree in `dtype` (the caller owns it). */
  params(dtype: FloatDtype): Params;
  readonly source: string;
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${what} ${path}: ${code === "ENOENT" ? "no such file" : String(e)}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

const num = z.number();
const CaseSchema = z.object({
  format: z.literal("sgdlab-mlp-case/1"),
  W_layout: z.literal("out_in").default("out_in"),
  activation: z.enum(["tanh", "relu", "softplus", "identity"]),
  loss: z.enum(["mse", "ce"]),
  mse_reduction: z.enum(["mean", "half_mean", "half_sum", "sum"]).nullish(),
  layers: z.array(z.object({ W: z.array(z.array(num)).min(1), b: z.array(num) })).min(1),
  x: z.array(z.array(num)).min(1),
  y: z.union([z.array(z.array(num)), z.array(z.number().int().nonnegative())]),
});

function paramsFrom(model: Model, flat: Float64Array): (dtype: FloatDtype) => Params {
  return (dtype) => {
    const template = model.init(Key.fromSeed(0), dtype);
    const spec = treeSpec(template);
    release(template);
    return treeFromHost(spec, flat) as Params;
  };
}

/** Flattens `layers` (PyTorch out×in) into the order of our MLP's tree leaves. */
function flattenLike(model: Model, byName: Record<string, Float64Array>, source: string): Float64Array {
  const template = model.init(Key.fromSeed(0), "float64");
  const names = leafNames(template);
  const spec = treeSpec(template);
  release(template);
  const out = new Float64Array(spec.size);
  let o = 0;
  names.forEach((name, i) => {
    const src = byName[name];
    const size = spec.shapes[i].reduce((a, b) => a * b, 1);
    if (!src) throw new UserError(`${source}: no tensor "${name}" (expected: ${names.join(", ")})`);
    if (src.length !== size) {
      throw new UserError(`${source}: tensor "${name}" has ${src.length} values, the model needs [${spec.shapes[i]}]`);
    }
    out.set(src, o);
    o += size;
  });
  return out;
}

/** Loads a reference MLP case (`sgdlab-mlp-case/1`, see test/fixtures/reference/README.md). */
export function loadMlpCase(path: string): ExternalModel {
  const parsed = CaseSchema.safeParse(readJson(path, "model case"));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new UserError(`model case ${path}: ${i.path.join(".") || "(top level)"}: ${i.message}`);
  }
  const c = parsed.data;
  const dims = [c.layers[0].W[0].length, ...c.layers.map((l) => l.W.length)];
  c.layers.forEach((l, i) => {
    if (l.W.some((r) => r.length !== dims[i]) || l.b.length !== dims[i + 1]) {
      throw new UserError(`model case ${path}: layers.${i} has inconsistent shapes`);
    }
  });
  const dIn = dims[0];
  const dOut = dims[dims.length - 1];
  const n = c.x.length;
  if (c.x.some((r) => r.length !== dIn)) throw new UserError(`model case ${path}: x rows must have ${dIn} entries`);
  const x = Float64Array.from(c.x.flat());
  let data: Dataset;
  if (c.loss === "ce") {
    const labels = c.y as number[];
    if (labels.length !== n || !labels.every((v) => Number.isInteger(v) && v < dOut)) {
      throw new UserError(`model case ${path}: y must be ${n} integer labels below ${dOut}`);
    }
    data = makeDataset({ name: path, xShape: [dIn], x, labels: Int32Array.from(labels), numClasses: dOut });
  } else {
    const y = c.y as number[][];
    if (y.length !== n || y.some((r) => !Array.isArray(r) || r.length !== dOut)) {
      throw new UserError(`model case ${path}: y must be ${n} rows of ${dOut} targets`);
    }
    data = makeDataset({ name: path, xShape: [dIn], x, targets: Float64Array.from(y.flat()), targetDim: dOut });
  }
  const model = createModel(
    { kind: "mlp", hidden: dims.slice(1, -1), activation: c.activation, bias: true },
    [dIn],
    dOut,
  );
  const byName: Record<string, Float64Array> = {};
  c.layers.forEach((l, i) => {
    const [o, inn] = [l.W.length, l.W[0].length];
    const w = new Float64Array(inn * o); // ours is [d_in, d_out]
    for (let r = 0; r < o; r++) for (let k = 0; k < inn; k++) w[k * o + r] = l.W[r][k];
    byName[`layers.${i}.W`] = w;
    byName[`layers.${i}.b`] = Float64Array.from(l.b);
  });
  const flat = flattenLike(model, byName, `model case ${path}`);
  const loss: LossConfig = c.loss === "ce" ? { kind: "ce" } : { kind: "mse", reduction: c.mse_reduction ?? "mean" };
  return { model, loss, data, flat, params: paramsFrom(model, flat), source: path };
}

const ModelFileSchema = z.strictObject({
  format: z.literal("sgdlab-model/1"),
  model: ModelConfigSchema,
  loss: LossConfigSchema,
  data: DataConfigSchema,
  /** Seed for loading/generating the data (the training split is the objective's data). */
  seed: z.number().int().nonnegative().default(0),
  /** The safetensors file, relative to this JSON file; tensor names are dotted parameter paths. */
  weights: z.string().min(1),
});

/**
 * Loads a model spec JSON (`{format: "sgdlab-model/1", model, loss, data, seed, weights}`) whose
 * `weights` safetensors file holds one tensor per parameter leaf, named by its dotted path in the
 * parameter tree (e.g. `layers.0.W` with shape [d_in, d_out], `layers.0.b`).
 */
export async function loadSafetensorsModel(path: string): Promise<ExternalModel> {
  const parsed = ModelFileSchema.safeParse(readJson(path, "model file"));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new UserError(`model file ${path}: ${i.path.join(".") || "(top level)"}: ${i.message}`);
  }
  const m = parsed.data;
  const split = await loadData(m.data, m.seed);
  const data = split.train;
  const outputDim = data.task === "classification" ? data.numClasses : data.targetDim;
  const model = createModel(m.model, data.xShape, outputDim);
  const weights = resolve(dirname(path), m.weights);
  const { tensors } = readSafetensors(weights);
  const byName = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.data]));
  const flat = flattenLike(model, byName, `weights ${weights}`);
  return { model, loss: m.loss, data, flat, params: paramsFrom(model, flat), source: path };
}

/** A trained model of sgdlab: an `ExternalModel` with the seed and dtype of its run. */
export interface TrainedModel extends ExternalModel {
  readonly seed: number;
  readonly dtype: FloatDtype;
  /** The run's resolved spec. */
  readonly spec: ExperimentSpec;
}

/**
 * The model, loss, training data and parameters of an sgdlab training checkpoint (`meta` holds the
 * run's resolved spec, `params` the flat parameters). Throws a UserError naming `source` when the
 * checkpoint is not one.
 */
export async function loadTrainedModel(
  meta: unknown,
  params: Float64Array | undefined,
  source: string,
): Promise<TrainedModel> {
  const m = meta as { spec?: unknown } | null;
  if (!m?.spec || !params) throw new UserError(`${source}: not an sgdlab training checkpoint (no spec or params)`);
  const { spec } = resolveSpec(m.spec, `spec stored in ${source}`);
  const split = await loadData(spec.data, spec.seed);
  const data = split.train;
  const outputDim = data.task === "classification" ? data.numClasses : data.targetDim;
  const model = createModel(spec.model, data.xShape, outputDim);
  return {
    model,
    loss: spec.loss,
    data,
    flat: params,
    params: paramsFrom(model, params),
    source,
    seed: spec.seed,
    dtype: spec.dtype,
    spec,
  };
}

/** `loadTrainedModel` of run `runRef`'s checkpoint at `step` (default: its latest) in `store`. */
export async function loadRunModel(store: RunStore, runRef: string, step?: number): Promise<TrainedModel> {
  const run = store.getRun(runRef);
  const c = loadCheckpoint(store, run.id, step);
  return loadTrainedModel(
    c.meta,
    c.arrays.params?.data as Float64Array | undefined,
    `run ${run.id} checkpoint at step ${c.record.step}`,
  );
}
