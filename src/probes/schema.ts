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
  z.strictObject({
    kind: z.literal("sharpness"),
    every: z.number().int().positive().default(50),
    /** Many loss evaluations per measurement: a fixed subset by default. */
    objective: ObjectiveConfigSchema.default("subset:256"),
    chunkSize: z.number().int().positive().default(1000),
    /** σ of sharpness/average/<σ> (E[L(θ+σε)] − L(θ)) and of the adaptive (|θ|+η)-scaled variant. */
    sigmas: z.array(z.number().positive()).default([0.01]),
    adaptiveSigmas: z.array(z.number().positive()).default([]),
    samples: z.number().int().min(2).default(8),
    /** ρ of sharpness/worst/<ρ> (max over ‖δ‖₂ ≤ ρ by projected ascent) and of the adaptive ball. */
    rhos: z.array(z.number().positive()).default([0.05]),
    adaptiveRhos: z.array(z.number().positive()).default([]),
    steps: z.number().int().nonnegative().default(10),
    /** Ascent step length in units of ρ. */
    stepSize: z.number().positive().default(1),
    restarts: z.number().int().positive().default(1),
    /** m-sharpness: the max per chunk of m examples, averaged over chunks. */
    m: z.number().int().positive().optional(),
    /** ASAM offset η of T = |θ| + η. */
    eta: z.number().nonnegative().default(0.01),
  }),
  z.strictObject({
    kind: z.literal("smoothness"),
    every: z.number().int().positive().default(20),
    objective: ObjectiveConfigSchema.default("subset:256"),
    chunkSize: z.number().int().positive().default(1000),
    /** Absolute step sizes η_i along −∇L; default: lrMultiples × the step's learning rate. */
    etas: z.array(z.number().nonnegative()).nonempty().optional(),
    lrMultiples: z.array(z.number().nonnegative()).nonempty().default([0.5, 1, 2, 4]),
  }),
  z.strictObject({
    kind: z.literal("adversarial"),
    every: z.number().int().positive().default(100),
    /** Attack radii ε (in input units). */
    epsilons: z.array(z.number().positive()).nonempty(),
    norms: z
      .array(z.enum(["linf", "l2"]))
      .nonempty()
      .default(["linf"]),
    attacks: z
      .array(z.enum(["fgsm", "pgd"]))
      .nonempty()
      .default(["fgsm", "pgd"]),
    /** Test examples attacked (the fixed subset:n of the test set). */
    n: z.number().int().positive().default(256),
    /** PGD steps, step size α = stepRatio·ε (default 2.5/steps) and random start in the ball. */
    steps: z.number().int().positive().default(10),
    stepRatio: z.number().positive().optional(),
    randomStart: z.boolean().default(true),
    /** Valid input range [lo, hi] that adversarial inputs are clipped to. */
    clip: z.tuple([z.number(), z.number()]).optional(),
  }),
  z.strictObject({
    kind: z.literal("lossStability"),
    every: z.number().int().positive().default(10),
    /** Measurements per window; stability/lossW1 compares the last two windows. */
    window: z.number().int().positive().default(20),
    objective: ObjectiveConfigSchema.default("batch"),
    /** Also track the loss on this many test examples (stability/testLossW1). */
    test: z.number().int().positive().optional(),
  }),
]);

export type ProbeConfig = z.output<typeof ProbeConfigSchema>;
