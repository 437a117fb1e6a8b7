/**
 * Config schemas of optimizers and learning-rate schedules (zod v4, unknown keys rejected, defaults
 * filled in so that a parsed config is complete and hashable; only `clipNorm`, `warmupSteps` and
 * cosine's `decaySteps` stay optional, absence meaning "none" / "the run's length").
 */
import { z } from "zod";
import { UserError } from "../core/index.js";

const lr = z.number().positive().finite().describe("base learning rate η > 0");
const clipNorm = z.number().positive().finite().optional().describe("clip the global gradient norm to this value");
const unit = z.number().min(0).lt(1);
const nonneg = z.number().min(0).finite();
const weightDecay = nonneg.default(0).describe("weight decay λ ≥ 0");
const decoupled = z.boolean().default(false).describe("decoupled (AdamW/SGDW) instead of L2 decay");

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
export const AdamConfigSchema = z.strictObject({ kind: z.literal("adam"), ...adamFields, weightDecay });

/** Config of `adamw` (decoupled decay, default λ = 1e-4). */
export const AdamwConfigSchema = z.strictObject({
  kind: z.literal("adamw"),
  ...adamFields,
  weightDecay: nonneg.default(1e-4).describe("decoupled weight decay λ ≥ 0"),
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
});

/** An optimizer config: a discriminated union on `kind`. `lr` is the base rate fed to the schedule. */
export const OptimizerConfigSchema = z.discriminatedUnion("kind", [
  SgdConfigSchema,
  AdamConfigSchema,
  AdamwConfigSchema,
  RmspropConfigSchema,
  AdagradConfigSchema,
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
