import {
  check,
  keep,
  lit,
  np,
  release,
  toScalar,
  treeToHost,
  treeZerosLike,
  type Array,
  type Params,
} from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves, treeDtype } from "./util.js";

/** Options of `scaleByAdam`. */
export interface ScaleByAdamOptions {
  /** First-moment decay β₁ ∈ [0, 1) (default 0.9). */
  readonly b1?: number;
  /** Second-moment decay β₂ ∈ [0, 1) (default 0.999). */
  readonly b2?: number;
  /** ε added to √v̂ (default 1e-8). */
  readonly eps?: number;
  /** ε added to v̂ inside the square root (default 0; optax's `eps_root`). */
  readonly epsRoot?: number;
}

/**
 * State of `scaleByAdam`. `count` is the number of updates so far (int32, 0-d). `b1Power`,
 * `b2Power` carry β₁ᵗ and β₂ᵗ (0-d, parameter dtype), updated by one multiplication per step, rather
 * than computing `β^count` on the device: jax-js 0.1.25's Wasm `log` kernel is off by ~1.2e-5 just
 * below 1 (`jit(np.log)(0.999)`, either dtype; `np.power(0.999, 1)` gives 0.999 − 1.2e-5), and `exp`
 * has float32 precision in float64. That would put a 1% error on the bias correction `1 − β₂ᵗ` at
 * t = 1 for β₂ = 0.999. (Test: transforms.test.ts, "jax-js defect".)
 */
export interface ScaleByAdamState {
  count: Array;
  mu: Params;
  nu: Params;
  b1Power: Array;
  b2Power: Array;
}

/**
 * Adam's preconditioning (optax `scale_by_adam`), Kingma & Ba, "Adam: A Method for Stochastic
 * Optimization", ICLR 2015, Algorithm 1:
 *
 * `m ← β₁ m + (1−β₁) g`, `v ← β₂ v + (1−β₂) g²`, `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`,
 * `u = m̂ / (√(v̂ + ε_root) + ε)`, with `t` the 1-based update count kept in the state. Follow with
 * `scaleByLearningRate` for `w ← w − η u`. The first step is `u = g/(|g| + ε)` exactly up to rounding.
 * `preconditioner.diagonal(state)` gives `P = √(v̂ + ε_root) + ε`, so that `u = P⁻¹ m̂` (the P of
 * Cohen et al. 2022's preconditioned sharpness); no threshold here (the named optimizers' own).
 *
 * @param opts.b1 default 0.9. @param opts.b2 default 0.999. @param opts.eps default 1e-8.
 * @param opts.epsRoot default 0.
 */
export function scaleByAdam(opts: ScaleByAdamOptions = {}): GradientTransformation {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0 } = opts;
  for (const [name, b] of [
    ["b1", b1],
    ["b2", b2],
  ] as const)
    check(b >= 0 && b < 1, `scaleByAdam: ${name} must lie in [0, 1), got ${b}`);
  check(eps >= 0 && Number.isFinite(eps), `scaleByAdam: eps must be a finite number ≥ 0, got ${eps}`);
  check(epsRoot >= 0 && Number.isFinite(epsRoot), `scaleByAdam: epsRoot must be a finite number ≥ 0, got ${epsRoot}`);
  return {
    preconditioner: {
      // P = √(ν/(1 − β₂ᵗ) + ε_root) + ε with β₂ᵗ from the state, exactly as `update` divides
      async diagonal(state: OptState): Promise<Float64Array> {
        const s = state as unknown as ScaleByAdamState;
        const [t, b2t, nu] = await Promise.all([
          toScalar(keep(s.count)),
          toScalar(keep(s.b2Power)),
          treeToHost(keep(s.nu)),
        ]);
        check(t >= 1, `scaleByAdam: P = √v̂ + ε needs at least one update for its bias correction (step ${t})`);
        const bc = 1 - b2t;
        return nu.map((v) => Math.sqrt(v / bc + epsRoot) + eps);
      },
    },
    init(params: Params): OptState {
      const dtype = treeDtype(params);
      const mu = treeZerosLike(keep(params));
      const nu = treeZerosLike(params);
      const state: ScaleByAdamState = {
        count: np.zeros([], { dtype: np.int32 }),
        mu,
        nu,
        b1Power: np.ones([], { dtype }),
        b2Power: np.ones([], { dtype }),
      };
      return state as unknown as OptState;
    },
    update(updates: Params, state: OptState, params: Params, _extras: Extras): [Params, OptState] {
      release(params);
      const s = state as unknown as ScaleByAdamState;
      const mu = mapLeaves((g, m) => g.mul(lit(1 - b1, g)).add(m.mul(lit(b1, m))), keep(updates), s.mu);
      const nu = mapLeaves(
        (g, v) =>
          g.ref
            .mul(g)
            .mul(lit(1 - b2, v))
            .add(v.mul(lit(b2, v))),
        updates,
        s.nu,
      );
      const b1Power = s.b1Power.mul(lit(b1, s.b1Power));
      const b2Power = s.b2Power.mul(lit(b2, s.b2Power));
      const bc1 = lit(1, b1Power).sub(b1Power.ref);
      const bc2 = lit(1, b2Power).sub(b2Power.ref);
      const out = mapLeaves(
        (m, v) => {
          let vHat = v.div(bc2.ref);
          if (epsRoot !== 0) vHat = vHat.add(lit(epsRoot, vHat));
          const denom = np.sqrt(vHat);
          return m.div(bc1.ref).div(denom.add(lit(eps, denom)));
        },
        keep(mu),
        keep(nu),
      );
      bc1.dispose();
      bc2.dispose();
      const next: ScaleByAdamState = { count: s.count.add(1), mu, nu, b1Power, b2Power };
      return [out, next as unknown as OptState];
    },
  };
}
