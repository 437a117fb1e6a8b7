/**
 * Explicit gradient regularization: the objective L + (μ/4)‖∇L‖² and its exact gradient.
 */
import {
  grad,
  jvp,
  keep,
  lit,
  release,
  treeAdd,
  treeNormSq,
  treeScale,
  valueAndGrad,
  type Array,
  type Params,
} from "../core/index.js";

/**
 * Value and gradient of the explicitly gradient-regularized objective (Barrett & Dherin, "Implicit
 * gradient regularization", ICLR 2021; their section "Explicit gradient regularization"):
 *
 *   L̃(θ) = L(θ) + (μ/4)‖∇L(θ)‖²,   ∇L̃(θ) = ∇L(θ) + (μ/2) H(θ)∇L(θ),
 *
 * using ∇‖∇L‖² = 2H∇L. The Hessian-vector product is exact and computed by ONE forward-over-reverse
 * product `jvp(grad(L), [θ], [∇L])` (Pearlmutter 1994) after one `valueAndGrad` — never
 * reverse-over-reverse, which jax-js 0.1.25 gets wrong on Wasm float32 (test/jaxjs-defects.test.ts).
 *
 * Backward error analysis (ibid., Theorem 3.1): gradient descent with step h follows the flow of
 * L + (h/4)‖∇L‖² to O(h²), so μ = η makes this the implicit regularizer of GD with step η; μ > η
 * strengthens it. (The paper's λ·R_IG with R_IG = (1/m)Σᵢ(∂L/∂θᵢ)² over m parameters is the same
 * term with λ = μm/4.) Which L (full batch, a fixed subset, the current mini-batch) is the caller's
 * choice: pass the corresponding `lossOfParams`.
 *
 * Usable inside a jitted step: `mu` may be a 0-d array argument (consumed), a number becomes a `lit`
 * constant. `lossOfParams` is called twice (so it must consume only its argument: `.ref` closed-over
 * batch arrays) and must avoid `.mul`/`.div` by JS numbers on its scalar (jax-js 0.1.25 miscompiles
 * float64 `jit(jvp(grad(f)))` then; the losses of losses/ use `lit`). Through a log, a division or a
 * reduce-max (cross-entropy) jax-js 0.1.25 leaks ≈ one activation-sized buffer per eager jvp(grad)
 * (see curvature/hvp.ts); a jitted step traces it once.
 *
 * @param lossOfParams θ ↦ L(θ), a 0-d array; consumes θ. @param params θ (consumed).
 * @param mu the strength μ ≥ 0 (a number or a 0-d array in the parameters' dtype, consumed).
 * @returns `[L̃(θ), ∇L̃(θ)]`.
 */
export function egrValueAndGrad(
  lossOfParams: (params: Params) => Array,
  params: Params,
  mu: number | Array,
): [Array, Params] {
  const [value, g] = valueAndGrad(lossOfParams)(keep(params)) as [Array, Params];
  const [g2, hg] = jvp(grad(lossOfParams), [params], [keep(g)]) as unknown as [Params, Params];
  release(g2);
  return egrFromParts(value, g, hg, mu);
}

/**
 * The EGR value and gradient from L, g = ∇L and Hg (all consumed): `[L + (μ/4)‖g‖², g + (μ/2)Hg]`
 * (Barrett & Dherin 2021, as in `egrValueAndGrad`). For objectives summed over chunks, where g and
 * Hg are the weighted sums of the chunks' gradients and products (the penalty is on the gradient of
 * the whole objective, not a sum of per-chunk penalties).
 */
export function egrFromParts(value: Array, g: Params, hg: Params, mu: number | Array): [Array, Params] {
  const m = typeof mu === "number" ? lit(mu, value) : mu.astype(value.dtype);
  const quarter = m.ref.mul(lit(0.25, value));
  const half = m.mul(lit(0.5, value));
  const total = value.add(quarter.mul(treeNormSq(keep(g))));
  return [total, treeAdd(g, treeScale(half, hg))];
}
