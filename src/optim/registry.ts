import { check } from "../core/index.js";
import { adagrad } from "./adagrad.js";
import { adam, adamw } from "./adam.js";
import { chain } from "./chain.js";
import { clipByGlobalNorm } from "./clipByGlobalNorm.js";
import { rmsprop } from "./rmsprop.js";
import {
  constantSchedule,
  cosineDecay,
  exponentialDecay,
  linearWarmup,
  piecewiseConstant,
  stepDecay,
} from "./schedules.js";
import {
  OptimizerConfigSchema,
  ScheduleConfigSchema,
  parseConfig,
  type OptimizerConfig,
  type OptimizerConfigInput,
  type OptimizerKind,
  type ScheduleConfigInput,
} from "./schema.js";
import { sgd } from "./sgd.js";
import type { GradientTransformation, Schedule } from "./types.js";

/** Builds the transformation of one optimizer kind from its parsed config (`lr` and `clipNorm` aside). */
export type OptimizerFactory<K extends OptimizerKind = OptimizerKind> = (
  config: Extract<OptimizerConfig, { kind: K }>,
) => GradientTransformation;

/**
 * Every optimizer kind with its factory. A new optimizer (SAM, averaging, …) adds its schema to
 * `OptimizerConfigSchema` and its factory here; `createOptimizer` and the contract test pick it up.
 */
export const optimizerRegistry: { readonly [K in OptimizerKind]: OptimizerFactory<K> } = {
  sgd: (c) => sgd(c),
  adam: (c) => adam(c),
  adamw: (c) => adamw(c),
  rmsprop: (c) => rmsprop(c),
  adagrad: (c) => adagrad(c),
};

/**
 * The optimizer a config describes: `chain(clipByGlobalNorm(clipNorm), factory(config))` when
 * `clipNorm` is set (clipping the raw gradient, before any weight decay), else `factory(config)`.
 * The learning rate is not baked in: it arrives each step as `extras.lr` (see `createSchedule`).
 * Invalid configs throw a `UserError` naming the field.
 */
export function createOptimizer(config: OptimizerConfigInput): GradientTransformation {
  const c = parseConfig(OptimizerConfigSchema, config, "optimizer");
  const factory = optimizerRegistry[c.kind] as OptimizerFactory;
  const base = factory(c);
  return c.clipNorm === undefined ? base : chain(clipByGlobalNorm(c.clipNorm), base);
}

/**
 * The learning-rate schedule a config describes, scaled to `baseLr` (the optimizer's `lr`):
 * constant `η`; step `η γ^{#milestones ≤ t}`; exponential `η γ^{t/T}` (or staircase); cosine from `η`
 * to `finalFraction · η` over `decaySteps` (default `totalSteps`); piecewise `values[k] · η`; all
 * wrapped in `linearWarmup` when `warmupSteps > 0`. Step indices are 0-based and absolute.
 *
 * @param config a schedule config (default constant). @param baseLr η > 0. @param totalSteps the
 * run's number of steps (for cosine).
 */
export function createSchedule(config: ScheduleConfigInput, baseLr: number, totalSteps: number): Schedule {
  const c = parseConfig(ScheduleConfigSchema, config, "schedule");
  check(Number.isFinite(baseLr) && baseLr > 0, `createSchedule: baseLr must be a finite number > 0, got ${baseLr}`);
  check(
    Number.isInteger(totalSteps) && totalSteps > 0,
    `createSchedule: totalSteps must be an integer > 0, got ${totalSteps}`,
  );
  let s: Schedule;
  switch (c.kind) {
    case "constant":
      s = constantSchedule(baseLr);
      break;
    case "step":
      s = stepDecay(baseLr, { milestones: c.milestones, gamma: c.gamma });
      break;
    case "exponential":
      s = exponentialDecay(baseLr, { decaySteps: c.decaySteps, gamma: c.gamma, staircase: c.staircase });
      break;
    case "cosine":
      s = cosineDecay(baseLr, { decaySteps: c.decaySteps ?? totalSteps, finalFraction: c.finalFraction });
      break;
    case "piecewise":
      s = piecewiseConstant(
        c.boundaries,
        c.values.map((v) => v * baseLr),
      );
      break;
  }
  return linearWarmup(s, { warmupSteps: c.warmupSteps ?? 0 });
}
