/**
 * The experiment spec: one YAML/JSON document that says everything a run depends on. Parsed with zod
 * (unknown keys are errors), defaults filled in, then frozen and hashed (`resolve.ts`).
 */
import { z } from "zod";
import { DataConfigSchema } from "../data/schema.js";
import { LabelNoiseConfigSchema, LossConfigSchema } from "../losses/index.js";
import { ModelConfigSchema } from "../models/schema.js";
import { OptimizerConfigSchema, ScheduleConfigSchema } from "../optim/schema.js";
import { ProbeConfigSchema } from "../probes/schema.js";

const positiveInt = z.number().int().positive();

/** The experiment spec schema (see README, "Spec format"). */
export const ExperimentSpecSchema = z
  .strictObject({
    /** A human-readable name for the run. */
    name: z.string().min(1).default("run"),
    /** Root seed: data, initialisation, batch order and probes derive their keys from it. */
    seed: z.number().int().nonnegative().default(0),
    dtype: z.enum(["float32", "float64"]).default("float32"),
    /** `webgpu` (jax-js's WebGPU backend; Dawn's `webgpu` package under Node) is float32 only. */
    backend: z.enum(["wasm", "cpu", "webgpu"]).default("wasm"),
    /** Wasm worker threads (1 = none). `--threads` / SGDLAB_THREADS override it. */
    threads: z.number().int().min(1).max(64).default(1),
    data: DataConfigSchema,
    model: ModelConfigSchema,
    loss: LossConfigSchema,
    optimizer: OptimizerConfigSchema,
    schedule: ScheduleConfigSchema.default({ kind: "constant" }),
    /** Mini-batch size, or "full" for full-batch gradient descent. */
    batchSize: z.union([positiveInt, z.literal("full")]).default("full"),
    /** Mini-batches drawn with replacement (i.i.d. indices) instead of per-epoch permutations. */
    replacement: z.boolean().default(false),
    /** Number of optimizer steps. */
    steps: positiveInt,
    /** Evaluate loss/accuracy on the full train and test sets every this many steps (and at the end). */
    evalEvery: positiveInt.default(100),
    /** Write a checkpoint every this many steps (0 = only at the end). */
    checkpointEvery: z.number().int().nonnegative().default(0),
    /** Examples per chunk when a full-data objective or evaluation is computed (bounds memory). */
    chunkSize: positiveInt.default(2000),
    /** A run is `diverged` when the loss is non-finite or exceeds this multiple of the initial loss. */
    divergenceFactor: z.number().positive().default(1e4),
    /**
     * A regularizer added to the training objective: L2 penalty (λ/2)‖θ‖² (distinct from decoupled
     * weight decay), or explicit gradient regularization L + (μ/4)‖∇L‖² (Barrett & Dherin 2021; μ = η
     * recovers the implicit regularizer of GD with step η).
     */
    regularizer: z
      .discriminatedUnion("kind", [
        z.strictObject({ kind: z.literal("l2"), lambda: z.number().nonnegative() }),
        z.strictObject({ kind: z.literal("egr"), mu: z.number().nonnegative() }),
      ])
      .optional(),
    /**
     * Label-noise SGD (Blanc et al. 2020; Damian, Ma & Lee 2021): fresh noise on the batch targets every
     * step — Gaussian σ on regression targets, relabeling with probability p for classification. (Fixed
     * label corruption for memorization experiments is data.labelNoise.)
     */
    labelNoise: LabelNoiseConfigSchema.optional(),
    /** Multiply the batch size by `factor` at each milestone step (Smith, Kindermans, Ying & Le 2018). */
    batchSchedule: z
      .strictObject({ milestones: z.array(z.number().int().positive()).min(1), factor: z.number().min(1) })
      .optional(),
    /** Measurements during training (the curvature issue adds kinds). */
    probes: z.array(ProbeConfigSchema).default([]),
  })
  .superRefine((s, ctx) => {
    // WebGPU (WGSL) has no 64-bit floats: jax-js's WebGPU backend cannot hold a float64 array.
    if (s.backend === "webgpu" && s.dtype === "float64") {
      ctx.addIssue({
        code: "custom",
        path: ["dtype"],
        message:
          "float64 is not available with backend: webgpu (WebGPU has no 64-bit floats); use float32 or backend: wasm",
      });
    }
  });

/** A spec as written by a user (defaults optional). */
export type ExperimentSpecInput = z.input<typeof ExperimentSpecSchema>;
/** A spec with every default filled in. */
export type ExperimentSpec = z.output<typeof ExperimentSpecSchema>;
