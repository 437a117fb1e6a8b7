import { check, keep, lit, np, treeAdd, type Array, type Params } from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves, treeDtype } from "./util.js";
import { forwardTheory } from "./theory.js";

/** The averaging rules of `averaging`. */
export type AveragingKind = "tail" | "ema" | "swa";

/** Options of `averaging`. */
export interface AveragingOptions {
  /** "tail" (uniform average from `start`), "ema" (exponential), "swa" (one iterate per cycle). */
  readonly kind: AveragingKind;
  /** Index of the first update whose result is averaged (0-based, as `extras.step`; default 0). */
  readonly start?: number;
  /** EMA decay d ∈ [0, 1) (only for "ema"; default 0.999). */
  readonly decay?: number;
  /** SWA cycle length c ≥ 1 in updates (only for "swa"; default 1). */
  readonly cycle?: number;
}

/**
 * State of `averaging`: the base optimizer's state, the averaged iterate `avg` (shaped like the
 * parameters) and `count` (0-d, parameter dtype): the number of iterates in the average (tail, swa)
 * or of EMA updates so far (ema).
 */
export interface AveragingState {
  base: OptState;
  avg: Params;
  count: Array;
}

/**
 * Iterate averaging kept in the optimizer state: wraps `base`, whose updates pass through unchanged,
 * and maintains an average of the parameters *after* each update, `w_{t+1} = params + updates`
 * (computed inside `update`; `t = extras.step`, the 0-based index of the update). `averaged(state)`
 * returns it (new references). Before `start` (and before any update), `avg` tracks the current
 * iterate, so `averaged` never returns null: with start > 0 it equals the raw iterate until then.
 *
 * - "tail" (Polyak–Ruppert tail averaging; Granziol et al. 2021, "Iterate Averaging in the Quest
 *   for Best Test Error"): for `t ≥ start`, `avg ← (n·avg + w_{t+1})/(n + 1)`, `n ← n + 1`, i.e. the
 *   uniform mean of `w_{start+1}, …, w_{t+1}` (the first included iterate is the result of update
 *   `start`).
 * - "ema": for `t ≥ start`, `avg ← d·avg + (1 − d)·w_{t+1}`, starting from `avg = w_start` (the
 *   parameters before update `start`; the initial parameters when start = 0), no debiasing.
 * - "swa" (Izmailov, Podoprikhin, Garipov, Vetrov & Wilson, "Averaging Weights Leads to Wider
 *   Optima and Better Generalization", UAI 2018, Algorithm 1): `ŵ = w_start` is the first model
 *   (n = 1); then at the end of each cycle of c updates, i.e. when `(t − start + 1) mod c = 0`,
 *   `avg ← (n·avg + w_{t+1})/(n + 1)`, `n ← n + 1`. With `cyclicSchedule(α₁, {minValue: α₂, cycle: c,
 *   start})` the averaged iterates are those taken at the minimal rate α₂; a constant rate works too.
 *
 * The phase test reads `extras.step` (exact for steps below 2^24 in float32). BN statistics of the
 * averaged weights are recomputed by the trainer, not here.
 *
 * @param base the optimizer whose iterates are averaged. @param opts kind; start 0; decay 0.999
 * (ema); cycle 1 (swa).
 */
export function averaging(base: GradientTransformation, opts: AveragingOptions): GradientTransformation {
  const { kind, start = 0 } = opts;
  check(["tail", "ema", "swa"].includes(kind), `averaging: kind must be "tail", "ema" or "swa", got ${kind}`);
  check(Number.isInteger(start) && start >= 0, `averaging: start must be an integer ≥ 0, got ${start}`);
  check(kind === "ema" || opts.decay === undefined, `averaging: decay applies to kind "ema" only`);
  check(kind === "swa" || opts.cycle === undefined, `averaging: cycle applies to kind "swa" only`);
  const decay = opts.decay ?? 0.999;
  const cycle = opts.cycle ?? 1;
  check(Number.isFinite(decay) && decay >= 0 && decay < 1, `averaging: decay must lie in [0, 1), got ${decay}`);
  check(Number.isInteger(cycle) && cycle >= 1, `averaging: cycle must be an integer ≥ 1, got ${cycle}`);
  // Models counted before the phase starts: SWA counts ŵ = w_start.
  const n0 = kind === "swa" ? 1 : 0;
  const out: GradientTransformation = {
    init(params: Params): OptState {
      const dtype = treeDtype(params);
      const avg = mapLeaves((w) => w.mul(lit(1, w)), keep(params));
      const state: AveragingState = { base: base.init(params), avg, count: np.full([], n0, { dtype }) };
      return state as unknown as OptState;
    },
    update(updates: Params, state: OptState, params: Params, extras: Extras): [Params, OptState] {
      const s = state as unknown as AveragingState;
      const [u, baseState] = base.update(updates, s.base, keep(params), extras);
      const w = treeAdd(params, keep(u));
      const t = extras.step.ref;
      const n = s.count;
      const inPhase = np.greaterEqual(t.ref, lit(start, t));
      let include: Array;
      if (kind === "swa") {
        // j = t − start + 1 updates into the phase; the n-th cycle ends when j = c·n (n counts ŵ).
        const j = t.sub(lit(start - 1, n));
        include = np.logicalAnd(inPhase.ref, np.equal(j, n.ref.mul(lit(cycle, n))));
      } else {
        t.dispose();
        include = inPhase.ref;
      }
      let avg: Params;
      if (kind === "ema") {
        avg = mapLeaves(
          (a, x) => np.where(inPhase.ref, a.mul(lit(decay, a)).add(x.ref.mul(lit(1 - decay, x))), x),
          s.avg,
          w,
        );
      } else {
        const n1 = n.ref.add(lit(1, n));
        avg = mapLeaves(
          (a, x) => {
            const mean = a.ref.mul(n.ref).add(x.ref).div(n1.ref);
            return np.where(include.ref, mean, np.where(inPhase.ref, a, x));
          },
          s.avg,
          w,
        );
        n1.dispose();
      }
      const count = np.where(include, n.ref.add(lit(1, n)), np.where(inPhase, n.ref, lit(n0, n)));
      n.dispose();
      const next: AveragingState = { base: baseState, avg, count };
      return [u, next as unknown as OptState];
    },
    averaged(state: OptState): Params {
      return keep((state as unknown as AveragingState).avg);
    },
  };
  // the trained iterate is the base's: its threshold and P carry over (the average is this wrapper's own)
  const inner = (state: OptState) => (state as unknown as AveragingState).base;
  return { ...forwardTheory(out, base, inner), averaged: out.averaged };
}
