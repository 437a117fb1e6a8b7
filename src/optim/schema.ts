/**
 * Config schemas of optimizers and learning-rate schedules (zod v4, unknown keys rejected, defaults
 * filled in so that a parsed config is complete and hashable; only `clipNorm`, `averaging`,
 * `warmupSteps`, cosine's `decaySteps` and sibert's `rest` stay optional, absence meaning "none" /
 * "the run's length" / "plain SGD at lr").
 */
import { z } from "zod";
import { samConfigSchema } from "./sam.js";
import { UserError } from "../core/index.js";

const lr = z.number().positive().finite().describe("base learning rate η > 0");
const clipNorm = z.number().positive().finite().optional().describe("clip the global gradient norm to this value");
const unit = z.number().min(0).lt(1);
const nonneg = z.number().min(0).finite();
const weightDecay = nonneg.default(0).describe("weight decay λ ≥ 0");
const decoupled = z.boolean().default(false).describe("decoupled (AdamW/SGDW) instead of L2 decay");

const startStep = z.number().int().min(0).default(0);

/**
 * Iterate averaging around an optimizer (see `averaging`): a discriminated union on `kind`:
 * `{kind: "tail", start = 0}`, `{kind: "ema", start = 0, decay = 0.999}`,
 * `{kind: "swa", start = 0, cycle = 1}`.
 */
export const AveragingConfigSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("tail"),
    start: startStep.describe("index of the first update whose result is averaged"),
  }),
  z.strictObject({
    kind: z.literal("ema"),
    start: startStep.describe("index of the first update whose result enters the EMA"),
    decay: unit.default(0.999).describe("EMA decay d: avg ← d·avg + (1 − d)·w"),
  }),
  z.strictObject({
    kind: z.literal("swa"),
    start: startStep.describe("step where the SWA phase starts (its iterate is the first model)"),
    cycle: z.number().int().min(1).default(1).describe("updates per cycle; one iterate averaged per cycle"),
  }),
]);
export type AveragingConfig = z.output<typeof AveragingConfigSchema>;
const averaging = AveragingConfigSchema.optional().describe("average the iterates (none when absent)");

const noNesterovWithoutMomentum = {
  check: (c: { momentum: number; nesterov: boolean }) => !c.nesterov || c.momentum > 0,
  message: { message: "nesterov needs momentum > 0", path: ["nesterov"] },
};

/** Config of `sgd`. */
export const SgdConfigSchema = z
  .strictObject({
    kind: z.literal("sgd"),
    lr,
    momentum: unit.default(0),
    nesterov: z.boolean().default(false),
    weightDecay,
    decoupled,
    clipNorm,
    averaging,
  })
  .refine(noNesterovWithoutMomentum.check, noNesterovWithoutMomentum.message);

const adamFields = {
  lr,
  b1: unit.default(0.9),
  b2: unit.default(0.999),
  eps: nonneg.default(1e-8),
  epsRoot: nonneg.default(0),
  clipNorm,
};

/** Config of `adam` (coupled L2 decay, as PyTorch's Adam). */
export const AdamConfigSchema = z.strictObject({ kind: z.literal("adam"), ...adamFields, weightDecay, averaging });

/** Config of `adamw` (decoupled decay, default λ = 1e-4). */
export const AdamwConfigSchema = z.strictObject({
  kind: z.literal("adamw"),
  ...adamFields,
  weightDecay: nonneg.default(1e-4).describe("decoupled weight decay λ ≥ 0"),
  averaging,
});

/** Config of `rmsprop`. */
export const RmspropConfigSchema = z
  .strictObject({
    kind: z.literal("rmsprop"),
    lr,
    decay: unit.default(0.9),
    eps: nonneg.default(1e-8),
    centered: z.boolean().default(false),
    momentum: unit.default(0),
    nesterov: z.boolean().default(false),
    weightDecay,
    decoupled,
    clipNorm,
    averaging,
  })
  .refine(noNesterovWithoutMomentum.check, noNesterovWithoutMomentum.message);

/** Config of `adagrad`. */
export const AdagradConfigSchema = z.strictObject({
  kind: z.literal("adagrad"),
  lr,
  initialAccumulatorValue: nonneg.default(0.1),
  eps: nonneg.default(1e-7),
  weightDecay,
  decoupled,
  clipNorm,
  averaging,
});

const positive = z.number().positive().finite();
const guard = positive.default(1e-12).describe("floor ε > 0 of the normalising quantity");

/** Config of `normalizedGd`: `w ← w − η g/max(‖g‖, ε)`. */
export const NormalizedGdConfigSchema = z.strictObject({
  kind: z.literal("normalizedGd"),
  lr,
  eps: guard,
  clipNorm,
  averaging,
});

/** Config of `sqrtLossGd`: `w ← w − η ∇L/(2√max(L, ε))`. */
export const SqrtLossGdConfigSchema = z.strictObject({
  kind: z.literal("sqrtLossGd"),
  lr,
  eps: guard,
  clipNorm,
  averaging,
});

/** Config of `signSgd`: `w ← w − η sign(g)`. */
export const SignSgdConfigSchema = z.strictObject({ kind: z.literal("signSgd"), lr, clipNorm, averaging });

/** Config of `signum`: `m ← βm + (1−β)g`, `w ← w − η sign(m)`. */
export const SignumConfigSchema = z.strictObject({
  kind: z.literal("signum"),
  lr,
  momentum: unit.default(0.9),
  clipNorm,
  averaging,
});

/** Config of `normalizedSgdMomentum`: `m ← βm + (1−β)g`, `w ← w − η m/‖m‖`. */
export const NormalizedSgdMomentumConfigSchema = z.strictObject({
  kind: z.literal("normalizedSgdMomentum"),
  lr,
  momentum: unit.default(0.9),
  eps: guard,
  clipNorm,
  averaging,
});

/** Config of `generalizedSignSgd` (Crawshaw et al. 2022, the authors' code: no bias correction by default). */
export const GeneralizedSignSgdConfigSchema = z.strictObject({
  kind: z.literal("generalizedSignSgd"),
  lr,
  b1: unit.default(0.9),
  b2: unit.default(0.999).describe("second-moment decay β₂ (of m²); 0 gives signSGD with momentum"),
  eps: nonneg.default(1e-8),
  biasCorrection: z
    .boolean()
    .default(false)
    .describe("correct both moments, m/(1 − β₁ᵗ) and v/(1 − β₂ᵗ) (the authors' default: neither)"),
  weightDecay: weightDecay.describe("L2 weight decay λ ≥ 0 (g ← g + λw)"),
  clipNorm,
  averaging,
});

/** Config of `adagradNorm` (Ward, Wu & Bottou 2019). */
export const AdagradNormConfigSchema = z.strictObject({
  kind: z.literal("adagradNorm"),
  lr,
  initialAccumulatorValue: positive.default(0.1).describe("b₀² > 0"),
  clipNorm,
  averaging,
});

/** Config of `delayedAdagrad` (Li & Orabona 2019). */
export const DelayedAdagradConfigSchema = z.strictObject({
  kind: z.literal("delayedAdagrad"),
  lr,
  initialAccumulatorValue: positive.default(1).describe("β > 0 in α/(β + Σ_{i<t}‖g_i‖²)^{1/2+ε}"),
  epsExponent: z.number().min(0).lt(0.5).default(0).describe("ε ∈ [0, 1/2) in the exponent 1/2 + ε"),
  coordinatewise: z.boolean().default(false).describe("one accumulator per coordinate"),
  clipNorm,
  averaging,
});

/** Config of `stepTunedSgd` (Castera et al. 2021); `lr` is α. */
export const StepTunedSgdConfigSchema = z
  .strictObject({
    kind: z.literal("stepTunedSgd"),
    lr,
    mu: positive.default(2).describe("multiplier where the curvature estimate is ≤ 0"),
    beta: unit.default(0.9).describe("averaging of gradient differences"),
    minGamma: positive.default(0.5).describe("lower bound m̃ of the tuned multiplier"),
    maxGamma: positive.default(2).describe("upper bound M̃ of the tuned multiplier"),
    delta: z.number().min(0).lt(0.5).default(0.001).describe('steps decay as (k+1)^-(1/2+δ) ("conference")'),
    variant: z
      .enum(["conference", "journal"])
      .default("conference")
      .describe('"conference": decay (k+1)^-(1/2+δ) in every step; "journal": its Algorithm 1, no decay'),
    clipNorm,
    averaging,
  })
  .refine((c) => c.maxGamma >= c.minGamma, { message: "maxGamma must be ≥ minGamma", path: ["maxGamma"] })
  // Its curvature estimate ⟨g′ − g, Δθ⟩ needs g and g′ treated alike; a clip applies to g only.
  .refine((c) => c.clipNorm === undefined, {
    message:
      "stepTunedSgd cannot take clipNorm: the clip would apply to g but not to the second half step's g′, " +
      "so the gradient difference g′ − g would mix a clipped and a raw gradient",
    path: ["clipNorm"],
  });

/**
 * The optimizer of the leaves `sibert` does not treat as scale-invariant: any optimizer that needs
 * neither the gradient callbacks on the whole tree (step-tuned SGD, SAM) nor an averaged iterate
 * (Gadam, `averaging`); `lr` defaults to SIBERT's (the schedule's shape applies to it too).
 */
/** The optimizers that need neither whole-tree gradient callbacks nor an averaged iterate. */
const sibertRestKinds = [
  SgdConfigSchema,
  AdamConfigSchema,
  AdamwConfigSchema,
  RmspropConfigSchema,
  AdagradConfigSchema,
  NormalizedGdConfigSchema,
  SqrtLossGdConfigSchema,
  SignSgdConfigSchema,
  SignumConfigSchema,
  NormalizedSgdMomentumConfigSchema,
  GeneralizedSignSgdConfigSchema,
  AdagradNormConfigSchema,
  DelayedAdagradConfigSchema,
] as const;
type SibertRestKind = z.output<(typeof sibertRestKinds)[number]>;
type SibertRestKindInput = z.input<(typeof sibertRestKinds)[number]>;
/** A rest optimizer config: one of `sibertRestKinds` with an optional `lr` and no `averaging`. */
export type SibertRestConfig = SibertRestKind extends infer K
  ? K extends SibertRestKind
    ? Omit<K, "lr" | "averaging"> & { lr?: number }
    : never
  : never;
type SibertRestConfigInput = SibertRestKindInput extends infer K
  ? K extends SibertRestKindInput
    ? Omit<K, "lr" | "averaging"> & { lr?: number }
    : never
  : never;
const SibertRestSchema = z.discriminatedUnion(
  "kind",
  sibertRestKinds.map((schema) =>
    (schema as unknown as z.ZodObject).safeExtend({
      lr: lr.optional().describe("learning rate of these leaves (default: sibert's lr)"),
      averaging: z.undefined({ error: "sibert's rest optimizer cannot average its iterates" }).optional(),
    }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<SibertRestConfig, SibertRestConfigInput>;

/**
 * Config of `sibert` (Li et al. 2022, Algorithm 1): SGD + weight decay on the scale-invariant leaves,
 * their gradient norm clipped to ‖x‖√(2Cλ/η); the other leaves by `rest` (absent: plain SGD at `lr`).
 */
export const SibertConfigSchema = z.strictObject({
  kind: z.literal("sibert"),
  lr,
  weightDecay: positive.default(1e-4).describe("weight decay λ > 0 (also sets the clipping threshold)"),
  C: z
    .number()
    .finite()
    .min(1, {
      error:
        "C must be ≥ 1: the clip threshold √(2Cλ/η)‖x‖ must not fall below the equilibrium gradient norm " +
        "‖x‖√(2λ/η) (C = 1 sits at it; the paper's default is √C = 2, i.e. C = 4)",
    })
    .default(4)
    .describe("clipping factor C ≥ 1 of the threshold √(2Cλ/η)‖x‖"),
  scaleInvariant: z
    .union([z.literal("all"), z.array(z.string().min(1)).min(1)])
    .default("all")
    .describe('the scale-invariant parameter leaves by path ("layers/0/W", a prefix selects its subtree), or "all"'),
  rest: SibertRestSchema.optional().describe("optimizer of the other leaves (default: plain SGD at lr)"),
  clipNorm,
  averaging,
});

/** Config of `gadam` (Granziol et al. 2021): AdamW with tail averaging from `start`. */
export const GadamConfigSchema = z.strictObject({
  kind: z.literal("gadam"),
  ...adamFields,
  weightDecay: nonneg.default(1e-4).describe("decoupled weight decay λ ≥ 0"),
  start: startStep.describe("index of the first update whose result is averaged"),
});

/** An optimizer config: a discriminated union on `kind`. `lr` is the base rate fed to the schedule. */
/** Every optimizer except the SAM wrapper (which takes one of these as its `base`). */
export const BaseOptimizerConfigSchema = z.discriminatedUnion("kind", [
  ...sibertRestKinds,
  StepTunedSgdConfigSchema,
  SibertConfigSchema,
  GadamConfigSchema,
]);

/** SAM / ASAM / m-sharpness around a base optimizer (see sam.ts); `lr` lives in `base`. */
export const SamConfigSchema = samConfigSchema(BaseOptimizerConfigSchema).refine(
  (c) => (c.base as { kind: string }).kind !== "stepTunedSgd",
  {
    message:
      "sam cannot wrap stepTunedSgd: its first half step would take SAM's perturbed gradient and its second " +
      "the raw g′, so the gradient difference g′ − g would mix two different gradients",
    path: ["base", "kind"],
  },
);

export const OptimizerConfigSchema = z.discriminatedUnion("kind", [
  ...BaseOptimizerConfigSchema.options,
  SamConfigSchema,
]);
export type OptimizerConfig = z.output<typeof OptimizerConfigSchema>;
export type OptimizerConfigInput = z.input<typeof OptimizerConfigSchema>;
export type OptimizerKind = OptimizerConfig["kind"];

const warmupSteps = z
  .number()
  .int()
  .min(0)
  .optional()
  .describe("linear warmup steps in front of the schedule (none when absent)");
const steps = z
  .array(z.number().int().min(0))
  .refine((s) => s.every((v, i) => i === 0 || v > s[i - 1]), { message: "must be strictly increasing" });

/** Config of a learning-rate schedule: a discriminated union on `kind` (default "constant"). */
export const ScheduleConfigSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("constant").default("constant"), warmupSteps }),
  z.strictObject({
    kind: z.literal("step"),
    milestones: steps.describe("steps at which the rate is multiplied by gamma"),
    gamma: z.number().positive().finite().default(0.1),
    warmupSteps,
  }),
  z.strictObject({
    kind: z.literal("exponential"),
    gamma: z.number().positive().finite().describe("factor per decaySteps steps"),
    decaySteps: z.number().positive().finite().default(1),
    staircase: z.boolean().default(false),
    warmupSteps,
  }),
  z.strictObject({
    kind: z.literal("cosine"),
    finalFraction: z.number().min(0).max(1).default(0).describe("final rate as a fraction of lr"),
    decaySteps: z.number().int().positive().optional().describe("defaults to the run's total steps"),
    warmupSteps,
  }),
  z
    .strictObject({
      kind: z.literal("piecewise"),
      boundaries: steps.describe("steps where the next value starts"),
      values: z.array(z.number().positive().finite()).describe("multiples of lr, one more than boundaries"),
      warmupSteps,
    })
    .refine((c) => c.values.length === c.boundaries.length + 1, {
      message: "values needs one more entry than boundaries",
      path: ["values"],
    }),
  z.strictObject({
    kind: z.literal("cyclic"),
    minFraction: z.number().positive().finite().describe("rate at the end of each cycle, as a multiple of lr"),
    cycle: z.number().int().min(1).describe("cycle length in steps"),
    start: startStep.describe("first step of the first cycle (lr before it)"),
    warmupSteps,
  }),
]);
export type ScheduleConfig = z.output<typeof ScheduleConfigSchema>;
export type ScheduleConfigInput = z.input<typeof ScheduleConfigSchema>;

/**
 * Parses `input` with `schema`, turning validation failures into a `UserError` that names each
 * offending field as `what.path: message`.
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${[what, ...i.path.map(String)].join(".")}: ${i.message}`);
  throw new UserError(`invalid ${what} config:\n  ${lines.join("\n  ")}`);
}
