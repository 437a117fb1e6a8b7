/**
 * Probe configurations. A probe measures something every `every` steps and writes metric points
 * `probe/quantity`. The foundation ships the generic gradient-norm probe; the curvature issue adds
 * Hessian probes to this union.
 */
import { z } from "zod";

/** Which loss a measurement differentiates (the objective contract of DESIGN.md). */
export const ObjectiveConfigSchema = z.union([
  z.literal("full"),
  z.literal("batch"),
  z.string().regex(/^subset:[1-9][0-9]*$/, 'expected "full", "batch" or "subset:N"'),
]);

export const ProbeConfigSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("gradNorm"),
    every: z.number().int().positive().default(10),
    objective: ObjectiveConfigSchema.default("full"),
  }),
  z.strictObject({
    kind: z.literal("weightNorm"),
    every: z.number().int().positive().default(10),
  }),
  z.strictObject({
    kind: z.literal("weightDynamics"),
    every: z.number().int().positive().default(10),
    /** Lag k of updateNorm, updateCos and w1Drift (a multiple of every; default every). */
    lag: z.number().int().positive().optional(),
    /** Histogram bins on the fixed range [lo, hi]. */
    bins: z.number().int().positive().default(50),
    range: z.tuple([z.number(), z.number()]).default([-1, 1]),
    histograms: z.boolean().default(true),
  }),
  z.strictObject({
    kind: z.literal("hessian"),
    every: z.number().int().positive().default(20),
    /** Largest eigenvalues tracked (hessian/lambdaMax, hessian/lambda2, ...). */
    topK: z.number().int().positive().default(1),
    /** Smallest eigenvalues tracked (hessian/lambdaMin, ...); 0 = none. */
    bottomK: z.number().int().nonnegative().default(0),
    /** Relative Ritz residual tolerance of Lanczos. */
    tol: z.number().positive().lt(1).default(1e-4),
    maxIter: z.number().int().positive().default(200),
    objective: ObjectiveConfigSchema.default("full"),
    /** Start Lanczos from the previous measurement's eigenvectors. */
    warmStart: z.boolean().default(true),
    /** Hutchinson probes for hessian/trace (0 = no trace). */
    traceProbes: z.number().int().nonnegative().default(0),
    /** SLQ spectral density stored as the artifact "hessian/density". */
    density: z
      .strictObject({ probes: z.number().int().positive().default(1), steps: z.number().int().positive().default(60) })
      .optional(),
    chunkSize: z.number().int().positive().default(1000),
    /**
     * Also track the preconditioned sharpness λmax(P⁻¹H) of Adam/AdamW (P = diag(√v̂ + ε)) or RMSProp
     * against its threshold (Cohen et al. 2022): hessian/precondLambdaMax, precondThreshold, precondEosRatio.
     */
    preconditioned: z.boolean().default(false),
  }),
  z.strictObject({
    kind: z.literal("effectiveLr"),
    every: z.number().int().positive().default(10),
  }),
  z.strictObject({
    kind: z.literal("gradNoise"),
    every: z.number().int().positive().default(50),
    /** Per-example gradients are costly: a fixed subset by default. */
    objective: ObjectiveConfigSchema.default("subset:256"),
    groupSize: z.number().int().positive().default(16),
  }),
]);

export type ProbeConfig = z.output<typeof ProbeConfigSchema>;
