/**
 * Models: configs (schema.ts), the registry `createModel`, and one file per architecture.
 */
import { check, UserError, type Params } from "../core/index.js";
import { treeSize } from "../core/index.js";
import { cnn } from "./cnn.js";
import { diagonalLinear } from "./diagonalLinear.js";
import { linear } from "./linear.js";
import { mlp } from "./mlp.js";
import { ModelConfigSchema, type ModelConfig, type ModelConfigInput } from "./schema.js";
import { resnet } from "./resnet.js";
import { scaleInvariantMlp } from "./scaleInvariant.js";
import { twoLayer } from "./twoLayer.js";
import type { Model } from "./types.js";

export * from "./schema.js";
export type { ApplyOptions, Model, ModelState } from "./types.js";
export { activate } from "./activations.js";
export { initStd } from "./layers.js";
export type { DenseParams } from "./layers.js";
export { mlp, type MlpParams } from "./mlp.js";
export { cnn, conv2dNhwc, pool2x2, type CnnParams } from "./cnn.js";
export { twoLayer, type TwoLayerParams } from "./twoLayer.js";
export { diagonalLinear, type DiagonalLinearParams } from "./diagonalLinear.js";
export { linear } from "./linear.js";
export {
  batchNormEval,
  batchNormTrain,
  initAffine,
  initBatchNormState,
  layerNorm,
  NormPass,
  type AffineParams,
  type BatchNormOptions,
  type BatchNormState,
} from "./norm.js";
export { resnet, type ResnetBlockParams, type ResnetParams } from "./resnet.js";
export {
  dctHead,
  effectiveLr,
  scaleInvariantGroups,
  scaleInvariantMlp,
  type ScaleInvariantMlpParams,
} from "./scaleInvariant.js";

/**
 * Builds the model described by `config` (validated and completed with defaults; the result's
 * `config` is that full JSON object, frozen) for inputs of `inputShape` and `outputDim` outputs.
 * Throws a UserError for an invalid config or one that cannot fit the data (a CNN or ResNet on flat
 * inputs, more 2×2 poolings than the image allows, ...). Models with batch norm (`mlp`/`resnet`/
 * `scaleInvariantMlp` with norm "batch") are stateful: they have `initState` and `applyTrain`.
 */
export function createModel(
  config: ModelConfigInput | ModelConfig,
  inputShape: readonly number[],
  outputDim: number,
): Model<ModelConfig> {
  const parsed = ModelConfigSchema.safeParse(config);
  if (!parsed.success) throw new UserError(`invalid model config:\n${prettify(parsed.error)}`);
  const c = deepFreeze(parsed.data);
  check(
    inputShape.length >= 1 && inputShape.every((d) => Number.isInteger(d) && d > 0),
    `model: the data's input shape [${inputShape.join(", ")}] must be non-empty positive integers`,
  );
  check(
    Number.isInteger(outputDim) && outputDim > 0,
    `model: output dimension must be a positive integer, got ${outputDim}`,
  );
  const shape = Object.freeze([...inputShape]);
  switch (c.kind) {
    case "mlp":
      return mlp(c, shape, outputDim);
    case "cnn":
      return cnn(c, shape, outputDim);
    case "twoLayer":
      return twoLayer(c, shape, outputDim);
    case "diagonalLinear":
      return diagonalLinear(c, shape, outputDim);
    case "linear":
      return linear(c, shape, outputDim);
    case "resnet":
      return resnet(c, shape, outputDim);
    case "scaleInvariantMlp":
      return scaleInvariantMlp(c, shape, outputDim);
  }
}

/** Number of scalar entries of a parameter tree (does not consume it); equals `model.paramCount()`. */
export function paramCount(params: Params): number {
  return treeSize(params);
}

function prettify(err: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return err.issues.map((i) => `  model.${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("\n");
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object") {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
