import { check, lit } from "../core/index.js";
import { adagrad } from "./adagrad.js";
import { adagradNorm, delayedAdagrad } from "./adagradNorm.js";
import { adam, adamw } from "./adam.js";
import { averaging } from "./averaging.js";
import { chain } from "./chain.js";
import { clipByGlobalNorm } from "./clipByGlobalNorm.js";
import { gadam } from "./gadam.js";
import { normalizedGd, sqrtLossGd } from "./normalized.js";
import { rmsprop } from "./rmsprop.js";
import {
  constantSchedule,
  cosineDecay,
  cyclicSchedule,
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
import { sibert } from "./sibert.js";
import { generalizedSignSgd, normalizedSgdMomentum, signSgd, signum } from "./signFamily.js";
import { stepTunedSgd } from "./stepTuned.js";
import { sam } from "./sam.js";
import { forwardTheory } from "./theory.js";
import type { GradientTransformation, OptState, Schedule } from "./types.js";

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
  normalizedGd: (c) => normalizedGd(c),
  sqrtLossGd: (c) => sqrtLossGd(c),
  signSgd: () => signSgd(),
  signum: (c) => signum(c),
  normalizedSgdMomentum: (c) => normalizedSgdMomentum(c),
  generalizedSignSgd: (c) => generalizedSignSgd(c),
  adagradNorm: (c) => adagradNorm(c),
  delayedAdagrad: (c) => delayedAdagrad(c),
  stepTunedSgd: (c) => stepTunedSgd(c),
  sibert: (c) => {
    const r = c.rest;
    const lr = r?.lr ?? c.lr;
    const rest = r && withLrFactor(createOptimizer({ ...r, lr } as OptimizerConfigInput), lr / c.lr);
    return sibert({ ...c, rest });
  },
  gadam: (c) => gadam(c),
  // SAM goes outermost so that it sees the raw mini-batch gradient (clipping belongs to the base)
  sam: (c) => sam(createOptimizer(c.base), c),
};

/**
 * `t` with `extras.lr` multiplied by `factor` (factor 1: `t` itself): an optimizer inside another one
 * with its own base rate, following the outer schedule's shape (sibert's `rest`).
 */
function withLrFactor(t: GradientTransformation, factor: number): GradientTransformation {
  if (factor === 1) return t;
  return {
    init: (params) => t.init(params),
    update(updates, state, params, extras) {
      const lr = extras.lr.ref.mul(lit(factor, extras.lr));
      try {
        return t.update(updates, state, params, { ...extras, lr });
      } finally {
        lr.dispose();
      }
    },
  };
}

/** The base learning rate of an optimizer config (SAM's is its base optimizer's). */
export function optimizerLr(config: OptimizerConfig): number {
  return config.kind === "sam" ? config.base.lr : config.lr;
}

/** The heavy-ball momentum of an SGD config (through SAM), else 0: the m of the noise scale εN/(B(1−m)). */
export function optimizerMomentum(config: OptimizerConfig): number {
  const c = config.kind === "sam" ? config.base : config;
  return c.kind === "sgd" ? c.momentum : 0;
}

/**
 * `chain(first, base)`, keeping `base.averaged`, `stabilityThreshold` and `preconditioner` (read from
 * the chain's state `[s_first, s_base]`), so that clipping in front of an optimizer hides neither its
 * average (Gadam) nor its theory: a clip by a constant norm is inactive near a minimum, where the
 * linear stability is decided.
 */
function prepend(first: GradientTransformation, base: GradientTransformation): GradientTransformation {
  return forwardTheory(chain(first, base), base, (state) => (state as OptState[])[1]);
}

/**
 * The optimizer a config describes: `chain(clipByGlobalNorm(clipNorm), factory(config))` when
 * `clipNorm` is set (clipping the raw gradient, before any weight decay), else `factory(config)`;
 * wrapped in `averaging(…, config.averaging)` when `averaging` is set (its `averaged(state)` then
 * gives the averaged iterate; Gadam has its own). The learning rate is not baked in: it arrives each
 * step as `extras.lr` (see `createSchedule`). Invalid configs throw a `UserError` naming the field.
 */
export function createOptimizer(config: OptimizerConfigInput): GradientTransformation {
  const c = parseConfig(OptimizerConfigSchema, config, "optimizer");
  const factory = optimizerRegistry[c.kind] as OptimizerFactory;
  const base = factory(c);
  if (c.kind === "sam") return base;
  const clipped = c.clipNorm === undefined ? base : prepend(clipByGlobalNorm(c.clipNorm), base);
  const avg = "averaging" in c ? c.averaging : undefined;
  return avg === undefined ? clipped : averaging(clipped, avg);
}

/**
 * The learning-rate schedule a config describes, scaled to `baseLr` (the optimizer's `lr`):
 * constant `η`; step `η γ^{#milestones ≤ t}`; exponential `η γ^{t/T}` (or staircase); cosine from `η`
 * to `finalFraction · η` over `decaySteps` (default `totalSteps`); piecewise `values[k] · η`; cyclic
 * (SWA) from `η` down to `minFraction · η` within each `cycle` steps from `start` on; all
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
    case "cyclic":
      s = cyclicSchedule(baseLr, { minValue: c.minFraction * baseLr, cycle: c.cycle, start: c.start });
      break;
  }
  return linearWarmup(s, { warmupSteps: c.warmupSteps ?? 0 });
}
