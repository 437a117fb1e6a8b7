import { adamw, type AdamOptions } from "./adam.js";
import { averaging } from "./averaging.js";
import type { GradientTransformation } from "./types.js";

/** Options of `gadam`: AdamW's, plus where the tail average starts. */
export interface GadamOptions extends AdamOptions {
  /** Index of the first update whose result enters the average (0-based; default 0). */
  readonly start?: number;
}

/**
 * Gadam (Granziol, Wan, Albanie & Roberts, "Iterate Averaging in the Quest for Best Test Error",
 * 2021): AdamW (decoupled weight decay, Loshchilov & Hutter 2019) with tail iterate averaging,
 * `averaging(adamw(opts), {kind: "tail", start})`. The raw AdamW iterate is trained; the uniform
 * average of the iterates after update `start` is read with `averaged(state)`. The paper pairs it
 * with a large learning rate and decoupled decay; it averages from a chosen epoch on, here from a
 * step (every step; for once-per-epoch averaging use `averaging(adamw(…), {kind: "swa", cycle})`).
 *
 * @param opts b1 0.9, b2 0.999, eps 1e-8, epsRoot 0, weightDecay 1e-4 (decoupled), start 0.
 */
export function gadam(opts: GadamOptions = {}): GradientTransformation {
  const { start = 0, ...rest } = opts;
  return averaging(adamw(rest), { kind: "tail", start });
}
