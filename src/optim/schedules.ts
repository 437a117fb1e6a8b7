/**
 * Learning-rate schedules: plain host functions of the 0-based step `t` (optax style). The trainer
 * evaluates them on the host and passes the value to the jitted step as a 0-d array.
 */
import { check } from "../core/index.js";
import type { Schedule } from "./types.js";

function checkPositive(value: number, what: string): void {
  check(Number.isFinite(value) && value > 0, `${what} must be a finite number > 0, got ${value}`);
}

function checkIncreasingSteps(steps: readonly number[], what: string): void {
  for (let i = 0; i < steps.length; i++) {
    check(Number.isInteger(steps[i]) && steps[i] >= 0, `${what}[${i}] must be an integer ≥ 0, got ${steps[i]}`);
    check(i === 0 || steps[i] > steps[i - 1], `${what} must be strictly increasing, got [${steps.join(", ")}]`);
  }
}

/** The number of entries of the sorted `steps` that are ≤ t. */
function countReached(steps: readonly number[], t: number): number {
  let k = 0;
  while (k < steps.length && steps[k] <= t) k++;
  return k;
}

/**
 * A constant learning rate: `η_t = η₀`.
 *
 * @param value η₀ > 0.
 */
export function constantSchedule(value: number): Schedule {
  checkPositive(value, "constantSchedule: value");
  return () => value;
}

/** Options of `stepDecay`. */
export interface StepDecayOptions {
  /** Strictly increasing steps at which the rate is multiplied by γ. */
  readonly milestones: readonly number[];
  /** Factor γ > 0 (default 0.1). */
  readonly gamma?: number;
}

/**
 * Step decay at milestones (PyTorch `MultiStepLR`): `η_t = η₀ · γ^{#{i : m_i ≤ t}}`, so the new rate
 * applies from step `m_i` on.
 *
 * @param init η₀ > 0. @param opts.milestones strictly increasing steps. @param opts.gamma default 0.1.
 */
export function stepDecay(init: number, opts: StepDecayOptions): Schedule {
  const { milestones, gamma = 0.1 } = opts;
  checkPositive(init, "stepDecay: init");
  checkPositive(gamma, "stepDecay: gamma");
  checkIncreasingSteps(milestones, "stepDecay: milestones");
  const ms = milestones.slice();
  return (t) => init * gamma ** countReached(ms, t);
}

/** Options of `exponentialDecay`. */
export interface ExponentialDecayOptions {
  /** Steps over which the rate is multiplied by γ once, > 0. */
  readonly decaySteps: number;
  /** Factor γ > 0 per `decaySteps` steps. */
  readonly gamma: number;
  /** Decay in whole steps of `decaySteps` (γ^⌊t/T⌋) instead of continuously (default false). */
  readonly staircase?: boolean;
}

/**
 * Exponential decay (optax `exponential_decay`): `η_t = η₀ · γ^{t/T}`, or `η₀ · γ^{⌊t/T⌋}` with
 * `staircase`.
 *
 * @param init η₀ > 0. @param opts.decaySteps T > 0. @param opts.gamma γ > 0. @param opts.staircase
 * default false.
 */
export function exponentialDecay(init: number, opts: ExponentialDecayOptions): Schedule {
  const { decaySteps, gamma, staircase = false } = opts;
  checkPositive(init, "exponentialDecay: init");
  checkPositive(decaySteps, "exponentialDecay: decaySteps");
  checkPositive(gamma, "exponentialDecay: gamma");
  return (t) => init * gamma ** (staircase ? Math.floor(t / decaySteps) : t / decaySteps);
}

/** Options of `cosineDecay`. */
export interface CosineDecayOptions {
  /** Steps T > 0 over which the rate falls to its final value (constant afterwards). */
  readonly decaySteps: number;
  /** Final rate as a fraction α ∈ [0, 1] of η₀ (default 0). */
  readonly finalFraction?: number;
}

/**
 * Cosine decay (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
 * ICLR 2017, eq. 5, a single cycle without restarts; optax `cosine_decay_schedule`):
 *
 * `η_t = η₀ · (α + (1 − α) · ½ (1 + cos(π · min(t, T)/T)))`.
 *
 * @param init η₀ > 0. @param opts.decaySteps T > 0. @param opts.finalFraction α, default 0.
 */
export function cosineDecay(init: number, opts: CosineDecayOptions): Schedule {
  const { decaySteps, finalFraction = 0 } = opts;
  checkPositive(init, "cosineDecay: init");
  checkPositive(decaySteps, "cosineDecay: decaySteps");
  check(
    finalFraction >= 0 && finalFraction <= 1,
    `cosineDecay: finalFraction must lie in [0, 1], got ${finalFraction}`,
  );
  return (t) => {
    const cos = 0.5 * (1 + Math.cos((Math.PI * Math.min(t, decaySteps)) / decaySteps));
    return init * (finalFraction + (1 - finalFraction) * cos);
  };
}

/** Options of `linearWarmup`. */
export interface LinearWarmupOptions {
  /** Number W ≥ 0 of warmup steps (0: no warmup). */
  readonly warmupSteps: number;
}

/**
 * Linear warmup in front of another schedule (Goyal et al., "Accurate, Large Minibatch SGD", 2017,
 * §2.2, gradual warmup): `η_t = min(1, (t + 1)/W) · s(t)`. The ramp multiplies the wrapped schedule
 * `s`, which keeps counting steps from 0 (milestones stay absolute); step 0 gets `s(0)/W` rather than 0
 * and the ramp reaches `s` at step W − 1.
 *
 * @param schedule s. @param opts.warmupSteps W ≥ 0.
 */
export function linearWarmup(schedule: Schedule, opts: LinearWarmupOptions): Schedule {
  const { warmupSteps } = opts;
  check(
    Number.isInteger(warmupSteps) && warmupSteps >= 0,
    `linearWarmup: warmupSteps must be an integer ≥ 0, got ${warmupSteps}`,
  );
  if (warmupSteps === 0) return schedule;
  return (t) => Math.min(1, (t + 1) / warmupSteps) * schedule(t);
}

/**
 * Piecewise-constant rate: `η_t = v_k` with `k = #{i : b_i ≤ t}`, i.e. `v_0` before `b_1`, `v_1` on
 * `[b_1, b_2)`, …, `v_n` from `b_n` on.
 *
 * @param boundaries strictly increasing steps b_1 < … < b_n. @param values n + 1 rates > 0.
 */
export function piecewiseConstant(boundaries: readonly number[], values: readonly number[]): Schedule {
  checkIncreasingSteps(boundaries, "piecewiseConstant: boundaries");
  check(
    values.length === boundaries.length + 1,
    `piecewiseConstant: values needs ${boundaries.length + 1} entries (one more than boundaries), got ${values.length}`,
  );
  values.forEach((v, i) => checkPositive(v, `piecewiseConstant: values[${i}]`));
  const bs = boundaries.slice();
  const vs = values.slice();
  return (t) => vs[countReached(bs, t)];
}

/** Options of `cyclicSchedule`. */
export interface CyclicScheduleOptions {
  /** The rate α₂ > 0 at the end of each cycle. */
  readonly minValue: number;
  /** Cycle length c ≥ 1 in steps. */
  readonly cycle: number;
  /** First step of the first cycle (default 0); the rate is α₁ before it. */
  readonly start?: number;
}

/**
 * The cyclic learning rate of SWA (Izmailov, Podoprikhin, Garipov, Vetrov & Wilson, "Averaging
 * Weights Leads to Wider Optima and Better Generalization", UAI 2018): within each cycle of c
 * steps the rate falls linearly from α₁ to α₂,
 *
 * `τ(t) = ((t − start) mod c + 1)/c`, `η_t = (1 − τ) α₁ + τ α₂` for `t ≥ start`, `η_t = α₁` before.
 * (The paper's 1-based iteration i is our t − start + 1.) The last step of each cycle has rate α₂, and
 * that is the step whose result `averaging(…, {kind: "swa", cycle: c, start})` averages. c = 1 gives
 * the constant rate α₂ from `start` on.
 *
 * @param init α₁ > 0. @param opts.minValue α₂ > 0. @param opts.cycle c ≥ 1. @param opts.start default 0.
 */
export function cyclicSchedule(init: number, opts: CyclicScheduleOptions): Schedule {
  const { minValue, cycle, start = 0 } = opts;
  checkPositive(init, "cyclicSchedule: init");
  checkPositive(minValue, "cyclicSchedule: minValue");
  check(Number.isInteger(cycle) && cycle >= 1, `cyclicSchedule: cycle must be an integer ≥ 1, got ${cycle}`);
  check(Number.isInteger(start) && start >= 0, `cyclicSchedule: start must be an integer ≥ 0, got ${start}`);
  return (t) => {
    if (t < start) return init;
    const tau = (((t - start) % cycle) + 1) / cycle;
    return (1 - tau) * init + tau * minValue;
  };
}
