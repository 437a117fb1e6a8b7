/**
 * Model configurations: JSON objects (stored with the run and hashed), validated by zod, with every
 * default filled in. `kind` selects the architecture.
 */
import { z } from "zod";

/** Widths, channels, depths: a sane upper bound (`experiments/memory.ts` checks the real need). */
const positiveInt = z.number().int().positive().max(10_000_000);

/** Elementwise nonlinearity applied after every layer except the last. */
export const ActivationSchema = z.enum(["tanh", "relu", "gelu", "softplus", "elu", "identity"]);
export type Activation = z.output<typeof ActivationSchema>;

/**
 * Weight initialisation: W ~ N(0, σ²) with σ = initScale·s, s = 1/√fan_in ("lecun"), √2/√fan_in
 * ("he"), √(2/(fan_in + fan_out)) ("xavier"), 1 ("normal"). Biases start at zero.
 */
export const InitSchemeSchema = z.enum(["lecun", "he", "xavier", "normal"]);
export type InitScheme = z.output<typeof InitSchemeSchema>;

const initScale = z.number().positive().default(1);

/** Fully connected network: hidden widths, then a linear layer to `outputDim`. */
export const MlpConfigSchema = z.strictObject({
  kind: z.literal("mlp"),
  /** Widths of the hidden layers ([] = a linear model). */
  hidden: z.array(positiveInt).default([100]),
  activation: ActivationSchema.default("relu"),
  bias: z.boolean().default(true),
  init: InitSchemeSchema.default("he"),
  initScale,
  /**
   * "standard": h = xW + b with W drawn by `init`. "ntk": W ~ N(0, 1) and h = (initScale/√fan_in)·xW + b
   * (Jacot, Gabriel & Hongler 2018, §2); `init` is then unused.
   */
  parametrization: z.enum(["standard", "ntk"]).default("standard"),
  /**
   * Normalisation after each hidden linear layer, before the activation: "batch" (batch norm with
   * running statistics; the model is then stateful), "layer" (layer norm), "none".
   */
  norm: z.enum(["none", "batch", "layer"]).default("none"),
});
export type MlpConfig = z.output<typeof MlpConfigSchema>;

/** Convolutional network on [C, H, W] inputs: conv (stride 1) → activation → 2×2 pool, then a dense head. */
export const CnnConfigSchema = z.strictObject({
  kind: z.literal("cnn"),
  /** Output channels of each conv layer. */
  channels: z.array(positiveInt).min(1).default([16, 32]),
  kernelSize: positiveInt.default(3),
  padding: z.enum(["same", "valid"]).default("same"),
  activation: ActivationSchema.default("relu"),
  /** 2×2 pooling (stride 2, odd rows/columns dropped) after each conv layer. */
  pooling: z.enum(["max", "avg", "none"]).default("max"),
  /** Hidden widths of the dense head ([] = one linear layer to the output). */
  hidden: z.array(positiveInt).default([]),
  bias: z.boolean().default(true),
  init: InitSchemeSchema.default("he"),
  initScale,
});
export type CnnConfig = z.output<typeof CnnConfigSchema>;

/** Two-layer network f(x) = s_m·aᵀσ(Wx + b) + c with s_m = 1/√m ("standard") or 1/m ("meanField"). */
export const TwoLayerConfigSchema = z.strictObject({
  kind: z.literal("twoLayer"),
  /** Hidden width m. */
  width: positiveInt.default(100),
  activation: ActivationSchema.default("relu"),
  /** Include b and c. */
  bias: z.boolean().default(true),
  scaling: z.enum(["standard", "meanField"]).default("standard"),
  /** Freeze a to alternating signs a_j = (−1)^j (not a parameter). */
  fixedSecondLayer: z.boolean().default(false),
  initScale,
});
export type TwoLayerConfig = z.output<typeof TwoLayerConfigSchema>;

/** Diagonal linear network f(x) = ⟨u⊙u − v⊙v, x⟩ with u = v = α·1 at init. */
export const DiagonalLinearConfigSchema = z.strictObject({
  kind: z.literal("diagonalLinear"),
  /** Initialisation scale α (small α: rich regime, large α: kernel regime). */
  alpha: z.number().positive().default(1),
});
export type DiagonalLinearConfig = z.output<typeof DiagonalLinearConfigSchema>;

/** Linear model f(x) = xW + b. */
export const LinearConfigSchema = z.strictObject({
  kind: z.literal("linear"),
  bias: z.boolean().default(true),
  /** As for the MLP, plus "zeros" (W = 0). */
  init: z.enum(["zeros", "lecun", "he", "xavier", "normal"]).default("zeros"),
  initScale,
});
export type LinearConfig = z.output<typeof LinearConfigSchema>;

const momentum = z.number().min(0).max(1).default(0.1);
/** Ghost batch size for batch norm (Hoffer, Hubara & Soudry 2017), null for whole-batch statistics. */
const ghostBatch = positiveInt.nullable().default(null);

/**
 * CIFAR-style ResNet (He, Zhang, Ren & Sun 2016, §4.2): a 3×3 conv to `width` channels, 3 stages of
 * `depth` basic blocks with widths w, 2w, 4w (stride 2 at the start of stages 2 and 3), global
 * average pooling and a linear layer; 6·depth + 2 layers (depth 3: ResNet-20).
 */
export const ResnetConfigSchema = z.strictObject({
  kind: z.literal("resnet"),
  /** Basic blocks per stage, n. */
  depth: positiveInt.default(1),
  /** Channels of the first stage, w. */
  width: positiveInt.default(16),
  /** Normalisation after every conv: batch norm (stateful), layer norm (group norm with one group), none. */
  norm: z.enum(["batch", "layer", "none"]).default("batch"),
  /** Batch norm only. */
  ghostBatch,
  /** Batch-norm momentum m in r ← (1 − m)·r + m·(batch statistic). */
  momentum,
  /** ε of batch and layer norm. */
  eps: z.number().nonnegative().default(1e-5),
  /**
   * Shortcut where a block changes shape: "identity" = option A (stride-2 subsampling and zero
   * channels appended, no parameters; He et al.'s CIFAR choice), "projection" = option B (1×1 conv
   * with stride 2, then the norm).
   */
  shortcut: z.enum(["identity", "projection"]).default("identity"),
  activation: ActivationSchema.default("relu"),
  init: InitSchemeSchema.default("he"),
  initScale,
});
export type ResnetConfig = z.output<typeof ResnetConfigSchema>;

/**
 * Scale-invariant MLP (Arora, Li & Lyu 2019; Li, Bhojanapalli, Zaheer, Reddi & Kumar 2022): every
 * hidden linear layer (no bias) is followed by a normalisation without affine parameters, so the
 * loss is invariant to scaling each hidden weight matrix; the output layer is fixed or normalised.
 */
export const ScaleInvariantMlpConfigSchema = z.strictObject({
  kind: z.literal("scaleInvariantMlp"),
  hidden: z.array(positiveInt).min(1).default([100]),
  activation: ActivationSchema.default("relu"),
  /**
   * "batch": batch norm (batch statistics in train mode, running statistics in eval mode; stateful),
   * "layer": layer norm, "standardize": batch statistics in every mode (stateless).
   */
  norm: z.enum(["batch", "layer", "standardize"]).default("batch"),
  /** Batch norm only. */
  ghostBatch,
  momentum,
  /** ε of the normalisation; 0 (the default) keeps the invariance exact. */
  eps: z.number().nonnegative().default(0),
  /**
   * Output layer: "fixed" = a constant orthonormal (DCT-II) matrix, not a parameter; "normalized" =
   * headScale·hW/‖W‖_F with W a parameter (then every parameter is in a scale-invariant group).
   */
  head: z.enum(["fixed", "normalized"]).default("fixed"),
  headScale: z.number().positive().default(1),
  init: InitSchemeSchema.default("he"),
  initScale,
});
export type ScaleInvariantMlpConfig = z.output<typeof ScaleInvariantMlpConfigSchema>;

/** Any model configuration, discriminated on `kind`. */
export const ModelConfigSchema = z.discriminatedUnion("kind", [
  MlpConfigSchema,
  CnnConfigSchema,
  TwoLayerConfigSchema,
  DiagonalLinearConfigSchema,
  LinearConfigSchema,
  ResnetConfigSchema,
  ScaleInvariantMlpConfigSchema,
]);
/** A validated model configuration with defaults filled in. */
export type ModelConfig = z.output<typeof ModelConfigSchema>;
/** A model configuration as written by a user (defaults optional). */
export type ModelConfigInput = z.input<typeof ModelConfigSchema>;
