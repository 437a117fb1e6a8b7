/**
 * Function-preserving reparametrizations of a network's parameters: the α-scale transformation of
 * Dinh, Pascanu, Bengio & Bengio, "Sharp minima can generalize for deep nets" (ICML 2017, §4,
 * Definition 4 / Theorem 3: T_α(θ₁, θ₂) = (αθ₁, α⁻¹θ₂) for a rectified network), and its
 * normalization-aware variant (§5: a layer followed by batch or layer norm is scale-invariant, so the
 * pre-normalization scale is free).
 */
import { UserError } from "../core/errors.js";
import type { ModelConfig } from "./schema.js";

/**
 * "relu": layer k's W and b times α, layer k+1's W times 1/α (σ(αz) = ασ(z) for α > 0: ReLU and
 * identity); with batch/layer norm after layer k, its γ and β take the α instead (the norm's output
 * is what the activation sees). "preNorm": for a layer followed by batch or layer norm, W and b of
 * layer k times α alone (norm(αz) = norm(z) up to the norm's ε).
 */
export type AlphaScaleVariant = "relu" | "preNorm";

/** Options of `alphaScale`. */
export interface AlphaScaleOptions {
  /** α > 0. */
  readonly alpha: number;
  /** The hidden layer k whose scale moves (default 0, the first). */
  readonly layer?: number;
  /** Default: "preNorm" when the model has batch or layer norm, else "relu". */
  readonly variant?: AlphaScaleVariant;
}

/** What `alphaScale` did: the new flat vector and the factor of each touched leaf. */
export interface AlphaScaled {
  readonly flat: Float64Array;
  readonly variant: AlphaScaleVariant;
  readonly factors: Record<string, number>;
}

const HOMOGENEOUS = new Set(["relu", "identity"]);

/** The factor per leaf name of T_α for an MLP config (`alphaScale`'s rule), checking that it applies. */
export function alphaScaleFactors(
  config: ModelConfig,
  opts: AlphaScaleOptions,
): {
  variant: AlphaScaleVariant;
  factors: Record<string, number>;
} {
  const { alpha, layer: k = 0 } = opts;
  if (!(Number.isFinite(alpha) && alpha > 0))
    throw new UserError(`reparam: α must be a finite number > 0, got ${alpha}`);
  if (config.kind !== "mlp") {
    throw new UserError(`reparam: the α-scale transformation is implemented for mlp models, not "${config.kind}"`);
  }
  const hidden = config.hidden.length;
  if (!(Number.isInteger(k) && k >= 0 && k < hidden)) {
    throw new UserError(`reparam: layer must be a hidden layer index in [0, ${hidden}), got ${k}`);
  }
  const normed = config.norm !== "none";
  const variant = opts.variant ?? (normed ? "preNorm" : "relu");
  const factors: Record<string, number> = {};
  if (variant === "preNorm") {
    if (!normed) throw new UserError(`reparam: the preNorm variant needs a model with batch or layer norm`);
    factors[`layers.${k}.W`] = alpha;
    if (config.bias) factors[`layers.${k}.b`] = alpha;
    return { variant, factors };
  }
  if (!HOMOGENEOUS.has(config.activation)) {
    throw new UserError(
      `reparam: the α-scale transformation needs a positively homogeneous activation (relu, identity), not ${config.activation}`,
    );
  }
  if (normed) {
    factors[`norms.${k}.gamma`] = alpha;
    factors[`norms.${k}.beta`] = alpha;
  } else {
    factors[`layers.${k}.W`] = alpha;
    if (config.bias) factors[`layers.${k}.b`] = alpha;
  }
  factors[`layers.${k + 1}.W`] = 1 / alpha;
  return { variant, factors };
}

/**
 * Dinh et al.'s α-scale transformation T_α applied to a flat parameter vector whose leaves are named
 * `names` (`leafNames` of the model's tree) with `sizes` entries each: every entry of a leaf in
 * `alphaScaleFactors` is multiplied by its factor. The network function is unchanged (exactly for
 * "relu", up to the norm's ε for "preNorm"), while the Hessian is not: for a two-layer linear net
 * f = W₂W₁x the block of W₁ scales by 1/α² and that of W₂ by α².
 */
export function alphaScale(
  config: ModelConfig,
  names: readonly string[],
  sizes: readonly number[],
  flat: Float64Array,
  opts: AlphaScaleOptions,
): AlphaScaled {
  const { variant, factors } = alphaScaleFactors(config, opts);
  const missing = Object.keys(factors).filter((n) => !names.includes(n));
  if (missing.length) throw new Error(`alphaScale: the parameters have no leaf ${missing.join(", ")}`);
  const out = Float64Array.from(flat);
  let o = 0;
  names.forEach((name, i) => {
    const f = factors[name] ?? 1;
    if (f !== 1) for (let j = o; j < o + sizes[i]; j++) out[j] *= f;
    o += sizes[i];
  });
  if (o !== flat.length) throw new Error(`alphaScale: leaves hold ${o} entries, the vector ${flat.length}`);
  return { flat: out, variant, factors };
}
