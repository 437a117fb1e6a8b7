/**
 * Sharpness-aware minimization as a wrapper around a base optimizer: SAM, adaptive SAM (ASAM),
 * m-sharpness, multi-step ascent and an activity window; plus its config schema.
 */
import { z } from "zod";
import {
  check,
  keep,
  lit,
  np,
  release,
  tree,
  treeAdd,
  treeMul,
  treeNorm,
  treeScale,
  type Array,
  type Params,
} from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { forwardTheory } from "./theory.js";

/** Steps [start, end) during which SAM is active; `end` absent = until the run ends. */
export interface SamWindow {
  readonly start: number;
  readonly end?: number;
}

/** Options of `sam`. */
export interface SamOptions {
  /** Neighbourhood radius ρ ≥ 0 (default 0.05). */
  readonly rho?: number;
  /** ASAM's scale-invariant neighbourhood (default false). */
  readonly adaptive?: boolean;
  /** ASAM's offset η ≥ 0 in T_w = |w| + η (default 0.01). */
  readonly eta?: number;
  /** m-sharpness: number of chunks the batch is split into (default: none, one perturbation). */
  readonly m?: number;
  /** Normalized ascent steps k ≥ 1 of length ρ/k each (default 1: SAM proper). */
  readonly ascentSteps?: number;
  /** SAM only for steps in [start, end); the plain base update elsewhere (default: always). */
  readonly window?: SamWindow;
}

/** Added to the norm in ε's denominator so that a zero gradient gives ε = 0 (as Foret et al.'s code). */
const NORM_GUARD = 1e-12;

/**
 * One normalized ascent step `size · T² g / (‖T g‖ + δ)` (T = 1 when `t` is null); consumes `g`,
 * borrows `t`.
 */
function ascentStep(g: Params, t: Params | null, size: number): Params {
  const tg = t === null ? g : treeMul(keep(t), g);
  const norm = treeNorm(keep(tg));
  const num = lit(size, norm);
  const den = norm.add(lit(NORM_GUARD, norm));
  return treeScale(num.div(den), t === null ? tg : treeMul(keep(t), tg));
}

/**
 * ∇L(w + ε) for ε built by `k` normalized ascent steps from `w` starting with the gradient `g0`
 * (consumed); `w` and `t` are borrowed, `gradAt` consumes its argument.
 */
function perturbedGradient(
  w: Params,
  g0: Params,
  gradAt: (p: Params) => Params,
  t: Params | null,
  rho: number,
  k: number,
): Params {
  let eps = ascentStep(g0, t, rho / k);
  for (let i = 1; i < k; i++) {
    const gi = gradAt(treeAdd(keep(w), keep(eps)));
    eps = treeAdd(eps, ascentStep(gi, t, rho / k));
  }
  return gradAt(treeAdd(keep(w), eps));
}

/** Boolean 0-d array: start ≤ step < end (borrows `step`). */
function activeMask(step: Array, w: SamWindow): Array {
  let c = np.greaterEqual(step.ref, lit(w.start, step));
  if (w.end !== undefined) c = np.logicalAnd(c, np.less(step.ref, lit(w.end, step)));
  return c;
}

/**
 * Sharpness-aware minimization wrapped around a base optimizer.
 *
 * SAM (Foret, Kleiner, Mobahi & Neyshabur, ICLR 2021, eq. 2): with g = ∇L_B(w) the incoming gradient,
 * `ε = ρ g / ‖g‖₂`, then the base optimizer's update with the gradient `∇L_B(w + ε)` (evaluated by
 * `extras.gradFn`). ASAM (`adaptive`; Kwon, Kim, Park & Choi, ICML 2021, eq. 9): with the elementwise
 * `T_w = |w| + η`, `ε = ρ T_w² g / ‖T_w g‖₂`. A guard δ = 1e-12 is added to every norm in a
 * denominator (so g = 0 gives ε = 0).
 *
 * m-sharpness (`m` chunks; Andriushchenko & Flammarion, "Towards understanding sharpness-aware
 * minimization", ICML 2022): the batch is split into `m` equal contiguous chunks B_j
 * (`extras.chunkGradFn`; m must divide `extras.batchSize`); chunk j takes its own `ε_j` from
 * `∇L_{B_j}(w)` and the update uses `(1/m) Σ_j ∇L_{B_j}(w + ε_j)`. The incoming gradient is then
 * unused (except outside the window). Note: here `m` counts chunks; the paper's "m"
 * is the chunk *size*, which is `batchSize / m`.
 *
 * Multi-step SAM (`ascentSteps` = k > 1): the variant with k normalized gradient-ascent steps of
 * length ρ/k each and no projection, `ε_0 = 0`, `ε_{i+1} = ε_i + (ρ/k) d(∇L(w + ε_i))` with
 * `d(g) = g/‖g‖` (SAM) or `T_w² g/‖T_w g‖` (ASAM, T_w at the unperturbed w), then the gradient at
 * `w + ε_k`; by the triangle inequality `‖ε_k‖ ≤ ρ` (resp. `‖T_w⁻¹ε_k‖ ≤ ρ`). k = 1 is SAM. It costs
 * k extra gradients per step (per chunk with m-sharpness).
 *
 * `window` `{start, end}`: SAM's gradient is used for steps in [start, end) and the incoming gradient
 * elsewhere, chosen with `where` on `extras.step` so that one compiled step serves both (the
 * perturbed gradient is then computed, and discarded, at every step).
 *
 * Put SAM outermost: `updates` must be the raw ∇L_B(w), the gradient `gradFn` returns. The state is
 * the base optimizer's state. Jittable; `gradFn`/`chunkGradFn` run inside the caller's trace.
 *
 * @param base the optimizer that applies the perturbed gradient (e.g. `sgd()`).
 * @param opts.rho default 0.05. @param opts.adaptive default false. @param opts.eta default 0.01.
 * @param opts.m default none. @param opts.ascentSteps default 1. @param opts.window default none.
 */
export function sam(base: GradientTransformation, opts: SamOptions = {}): GradientTransformation {
  const { rho = 0.05, adaptive = false, eta = 0.01, m, ascentSteps = 1, window } = opts;
  check(Number.isFinite(rho) && rho >= 0, `sam: rho must be a finite number ≥ 0, got ${rho}`);
  check(Number.isFinite(eta) && eta >= 0, `sam: eta must be a finite number ≥ 0, got ${eta}`);
  check(m === undefined || (Number.isInteger(m) && m >= 1), `sam: m (chunks) must be an integer ≥ 1, got ${m}`);
  check(
    Number.isInteger(ascentSteps) && ascentSteps >= 1,
    `sam: ascentSteps must be an integer ≥ 1, got ${ascentSteps}`,
  );
  if (window !== undefined) {
    check(
      Number.isInteger(window.start) && window.start >= 0,
      `sam: window.start must be an integer ≥ 0, got ${window.start}`,
    );
    check(
      window.end === undefined || (Number.isInteger(window.end) && window.end > window.start),
      `sam: window.end must be an integer > window.start (${window.start}), got ${window.end}`,
    );
  }
  const chunks = m ?? 1;
  const out: GradientTransformation = {
    init(params: Params): OptState {
      return base.init(params);
    },
    update(updates: Params, state: OptState, params: Params, extras: Extras): [Params, OptState] {
      const { gradFn, chunkGradFn, batchSize } = extras;
      const missing =
        chunks > 1 ? (chunkGradFn === undefined ? "chunkGradFn" : null) : gradFn === undefined ? "gradFn" : null;
      const badBatch = chunks > 1 && batchSize !== undefined && batchSize % chunks !== 0;
      if (missing !== null || badBatch) {
        release([updates, state, params]);
        if (missing !== null) throw new Error(`sam: extras.${missing} is required (the trainer passes it)`);
        check(false, `sam: m = ${chunks} chunks must divide the batch size ${batchSize}`);
      }
      const t = adaptive ? (tree.map((x: Array) => np.abs(x).add(lit(eta, x)), keep(params)) as Params) : null;
      let g: Params;
      if (chunks > 1) {
        let sum: Params | null = null;
        for (let j = 0; j < chunks; j++) {
          const at = (p: Params) => chunkGradFn!(p, j, chunks);
          const gj = perturbedGradient(params, at(keep(params)), at, t, rho, ascentSteps);
          sum = sum === null ? gj : treeAdd(sum, gj);
        }
        g = tree.map((x: Array) => x.div(lit(chunks, x)), sum!) as Params;
      } else {
        g = perturbedGradient(params, keep(updates), gradFn!, t, rho, ascentSteps);
      }
      release(t);
      if (window === undefined) release(updates);
      else {
        const mask = activeMask(extras.step, window);
        g = tree.map((s: Array, u: Array) => np.where(mask.ref, s, u), g, updates) as Params;
        mask.dispose();
      }
      return base.update(g, state, params, extras);
    },
  };
  // SAM's state is its base's; P is the base's, but no threshold: SAM's edge of stability depends on
  // ‖∇L‖ (Bartlett, Long & Bousquet 2023), and on a quadratic it settles into a cycle, not at x*.
  return forwardTheory(out, base, (state) => state, false);
}

const int = z.number().int();

/**
 * The config schema of `sam` over a given schema of base-optimizer configs (a function, so that the
 * optimizer union can include SAM without an import cycle):
 * `{kind: "sam", rho = 0.05, adaptive = false, eta = 0.01, m?, ascentSteps = 1, window?: {start = 0,
 * end?}, base}`. Unknown keys are rejected; `window.end` must exceed `window.start`. The base config
 * carries the learning rate (and any `clipNorm`, which then clips the perturbed gradient).
 */
export function samConfigSchema<B extends z.ZodType>(baseSchema: B) {
  return z.strictObject({
    kind: z.literal("sam"),
    rho: z.number().min(0).finite().default(0.05).describe("neighbourhood radius ρ ≥ 0"),
    adaptive: z.boolean().default(false).describe("ASAM: scale-invariant neighbourhood T_w = |w| + eta"),
    eta: z.number().min(0).finite().default(0.01).describe("ASAM's offset η in T_w = |w| + η"),
    m: int.min(1).optional().describe("m-sharpness: chunks the batch is split into (must divide batchSize)"),
    ascentSteps: int.min(1).default(1).describe("normalized ascent steps of length ρ/k each"),
    window: z
      .strictObject({
        start: int.min(0).default(0),
        end: int.positive().optional().describe("first step without SAM (absent: never)"),
      })
      .refine((w) => w.end === undefined || w.end > w.start, {
        message: "window.end must be greater than window.start",
        path: ["end"],
      })
      .optional()
      .describe("SAM only for steps in [start, end)"),
    base: baseSchema,
  });
}
