import { check, keep, lit, np, release, treeToHost, treeZerosLike, type Params } from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves } from "./util.js";

/** Options of `scaleByRms`. */
export interface ScaleByRmsOptions {
  /** Decay ρ ∈ [0, 1) of the squared-gradient average (default 0.9). */
  readonly decay?: number;
  /** ε added to the root mean square (default 1e-8). */
  readonly eps?: number;
  /** Divide by the centred second moment (an estimate of the gradient's standard deviation); default false. */
  readonly centered?: boolean;
}

/** State of `scaleByRms`: `nu` (EMA of g²) and, when centred, `mu` (EMA of g). */
export interface ScaleByRmsState {
  nu: Params;
  mu?: Params;
}

/**
 * RMSProp's preconditioning (optax `scale_by_rms` / `scale_by_stddev`), Tieleman & Hinton, COURSERA
 * Neural Networks for Machine Learning, Lecture 6.5, 2012:
 *
 * `ν ← ρ ν + (1−ρ) g²`, `u = g / (√ν + ε)`; centred (Graves, "Generating Sequences with Recurrent
 * Neural Networks", 2013, eq. 38–41): also `μ ← ρ μ + (1−ρ) g` and `u = g / (√(ν − μ²) + ε)`.
 * ν and μ start at zero; ε sits outside the root (as in PyTorch). Follow with `scaleByLearningRate`.
 * `preconditioner.diagonal(state)` gives `P = √ν + ε` (centred: `√max(ν − μ², 0) + ε`), `u = P⁻¹g`;
 * no bias correction (there is none in the update).
 *
 * @param opts.decay ρ, default 0.9. @param opts.eps default 1e-8. @param opts.centered default false.
 */
export function scaleByRms(opts: ScaleByRmsOptions = {}): GradientTransformation {
  const { decay = 0.9, eps = 1e-8, centered = false } = opts;
  check(decay >= 0 && decay < 1, `scaleByRms: decay must lie in [0, 1), got ${decay}`);
  check(eps >= 0 && Number.isFinite(eps), `scaleByRms: eps must be a finite number ≥ 0, got ${eps}`);
  return {
    preconditioner: {
      async diagonal(state: OptState): Promise<Float64Array> {
        const s = state as unknown as ScaleByRmsState;
        const [nu, mu] = await Promise.all([
          treeToHost(keep(s.nu)),
          centered && s.mu !== undefined ? treeToHost(keep(s.mu)) : null,
        ]);
        return nu.map((v, i) => Math.sqrt(mu ? Math.max(v - mu[i] * mu[i], 0) : v) + eps);
      },
    },
    init(params: Params): OptState {
      if (!centered) return { nu: treeZerosLike(params) };
      return { nu: treeZerosLike(keep(params)), mu: treeZerosLike(params) };
    },
    update(updates: Params, state: OptState, params: Params, _extras: Extras): [Params, OptState] {
      release(params);
      const s = state as unknown as ScaleByRmsState;
      const nu = mapLeaves(
        (g, v) =>
          g.ref
            .mul(g)
            .mul(lit(1 - decay, v))
            .add(v.mul(lit(decay, v))),
        keep(updates),
        s.nu,
      );
      if (!centered || s.mu === undefined) {
        const out = mapLeaves(
          (g, v) => {
            const r = np.sqrt(v);
            return g.div(r.add(lit(eps, r)));
          },
          updates,
          keep(nu),
        );
        return [out, { nu }];
      }
      const mu = mapLeaves((g, m) => g.mul(lit(1 - decay, g)).add(m.mul(lit(decay, m))), keep(updates), s.mu);
      const out = mapLeaves(
        (g, v, m) => {
          // ν − μ² ≥ 0 in exact arithmetic (Jensen); clamp the rounding error.
          const r = np.sqrt(np.maximum(v.sub(m.ref.mul(m)), lit(0, g)));
          return g.div(r.add(lit(eps, r)));
        },
        updates,
        keep(nu),
        keep(mu),
      );
      return [out, { nu, mu }];
    },
  };
}
