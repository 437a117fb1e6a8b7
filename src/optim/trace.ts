import { check, keep, lit, release, treeZerosLike, type Params } from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves } from "./util.js";

/** Options of `trace`. */
export interface TraceOptions {
  /** Momentum coefficient β ≥ 0 (default 0.9). */
  readonly decay?: number;
  /** Nesterov's variant (default false). */
  readonly nesterov?: boolean;
}

/** State of `trace`: the velocity `v`, shaped like the parameters. */
export interface TraceState {
  trace: Params;
}

/**
 * Momentum (optax `trace`): accumulates a velocity and outputs it.
 *
 * Heavy ball (Polyak, "Some methods of speeding up the convergence of iteration methods", USSR Comput.
 * Math. Math. Phys., 1964, §3; PyTorch SGD with dampening 0): `v ← β v + g`, `u = v`; followed by `scaleByLearningRate` this is
 * `w ← w − η v`.
 * Nesterov (Sutskever, Martens, Dahl & Hinton, ICML 2013, eq. 3–4, in the reformulation used by optax
 * and PyTorch): `v ← β v + g`, `u = g + β v` (with the new `v`).
 * The velocity starts at zero.
 *
 * @param opts.decay β, default 0.9. @param opts.nesterov default false.
 */
export function trace(opts: TraceOptions = {}): GradientTransformation {
  const { decay = 0.9, nesterov = false } = opts;
  check(Number.isFinite(decay) && decay >= 0, `trace: decay must be a finite number ≥ 0, got ${decay}`);
  return {
    init(params: Params): OptState {
      return { trace: treeZerosLike(params) };
    },
    update(updates: Params, state: OptState, params: Params, _extras: Extras): [Params, OptState] {
      release(params);
      const v = mapLeaves((g, t) => g.add(t.mul(lit(decay, t))), keep(updates), (state as unknown as TraceState).trace);
      if (!nesterov) {
        release(updates);
        return [keep(v), { trace: v }];
      }
      return [mapLeaves((g, t) => g.add(t.mul(lit(decay, t))), updates, keep(v)), { trace: v }];
    },
  };
}
