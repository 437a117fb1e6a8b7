/**
 * Internal helpers of optim/ for the optimizers' own theory (`stabilityThreshold`, `preconditioner`,
 * see `GradientTransformation`): attaching it to a named optimizer and forwarding it through wrappers
 * whose state holds the base optimizer's state. Not part of the public surface.
 */
import type { GradientTransformation, OptState, Preconditioner } from "./types.js";

/** What a named optimizer knows about itself beyond its chain. */
export interface Theory {
  /** The raw-Hessian threshold (`momentumThreshold`), when it exists. */
  readonly stabilityThreshold?: (lr: number) => number;
  /** The threshold of λmax(P⁻¹H) for the chain's preconditioner, when it is a constant. */
  readonly preconditionerThreshold?: (lr: number) => number;
}

/**
 * `t` with its theory: `stabilityThreshold` set, and the chain's preconditioner (forwarded by `chain`
 * from its one preconditioning member, without a threshold: the threshold depends on the whole chain)
 * given `preconditionerThreshold`. Members left undefined are absent (no `undefined` keys).
 */
export function withTheory(t: GradientTransformation, theory: Theory): GradientTransformation {
  const out: GradientTransformation = { ...t };
  delete out.stabilityThreshold;
  delete out.preconditioner;
  if (theory.stabilityThreshold) out.stabilityThreshold = theory.stabilityThreshold;
  if (t.preconditioner) {
    const { diagonal } = t.preconditioner;
    out.preconditioner = theory.preconditionerThreshold
      ? { diagonal, threshold: theory.preconditionerThreshold }
      : { diagonal };
  }
  return out;
}

/**
 * Copies `base`'s `averaged`, `stabilityThreshold` and `preconditioner` onto the wrapper `out`, whose
 * state holds `base`'s at `inner(state)` (borrowed → borrowed). For wrappers that leave the linear
 * dynamics of `base` unchanged near a minimum: gradient clipping (inactive for small gradients) and
 * iterate averaging (the trained iterate is `base`'s). `keepThreshold: false` drops both thresholds
 * and keeps P's diagonal only (SAM, whose edge of stability depends on ‖∇L‖).
 */
export function forwardTheory(
  out: GradientTransformation,
  base: GradientTransformation,
  inner: (state: OptState) => OptState,
  keepThreshold = true,
): GradientTransformation {
  const r: GradientTransformation = { ...out };
  const { averaged, stabilityThreshold, preconditioner } = base;
  if (averaged) r.averaged = (state: OptState) => averaged(inner(state));
  if (stabilityThreshold && keepThreshold) r.stabilityThreshold = stabilityThreshold;
  if (preconditioner) {
    const p: Preconditioner = { diagonal: (state: OptState) => preconditioner.diagonal(inner(state)) };
    if (preconditioner.threshold && keepThreshold) p.threshold = preconditioner.threshold;
    r.preconditioner = p;
  }
  return r;
}
