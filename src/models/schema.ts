/**
 * Model configurations: JSON objects (stored with the run and hashed), validated by zod, with every
 * default filled in. `kind` selects the architecture.
 */
import { z } from "zod";

const positiveInt = z.number().int().positive();

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

/** Any model configuration, discriminated on `kind`. */
export const ModelConfigSchema = z.discriminatedUnion("kind", [
  MlpConfigSchema,
  CnnConfigSchema,
  TwoLayerConfigSchema,
  DiagonalLinearConfigSchema,
  LinearConfigSchema,
]);
/** A validated model configuration with defaults filled in. */
export type ModelConfig = z.output<typeof ModelConfigSchema>;
/** A model configuration as written by a user (defaults optional). */
export type ModelConfigInput = z.input<typeof ModelConfigSchema>;
