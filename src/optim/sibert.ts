import { check, keep, lit, np, release, tree, treeNorm, treeNormSq, type Array, type Params } from "../core/index.js";
import { sgd } from "./sgd.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves } from "./util.js";

/** Options of `sibert`. */
export interface SibertOptions {
  /** Weight decay λ > 0 on the scale-invariant leaves (default 1e-4); it also sets the clip threshold. */
  readonly weightDecay?: number;
  /** The clipping factor C ≥ 1 of the threshold √(2Cλ/η)‖x‖ (default 4, the paper's √C = 2). */
  readonly C?: number;
  /**
   * The scale-invariant leaves, by path (`"layers/0/W"`, as `scaleInvariantGroups` names them; a path
   * also selects every leaf below it), or `"all"` (default: the whole network is scale-invariant, as
   * `scaleInvariantMlp` is).
   */
  readonly scaleInvariant?: readonly string[] | "all";
  /**
   * The optimizer of the other leaves; it sees their gradients, their parameters and `extras` without
   * the objective callbacks (which act on the whole tree). Default `sgd()`: plain SGD at `extras.lr`.
   */
  readonly rest?: GradientTransformation;
}

/** State of `sibert`: the rest optimizer's state (`{}` when every leaf is scale-invariant). */
export interface SibertState {
  rest: OptState;
}

/** The path of every leaf of `t` in `tree.leaves` order: keys and indices joined by "/". */
function leafPaths(t: Params): string[] {
  const label = (x: unknown, p: string): unknown => {
    if (globalThis.Array.isArray(x)) return x.map((c, i) => label(c, `${p}${i}/`));
    if (x !== null && typeof x === "object" && x.constructor === Object)
      return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, label(v, `${p}${k}/`)]));
    return p.slice(0, -1);
  };
  return tree.leaves(label(t, "") as Params) as unknown as string[];
}

/** Which leaves of `params` are scale-invariant (a mask in leaf order); throws on a name that selects none. */
function invariantMask(params: Params, names: readonly string[] | "all"): boolean[] {
  const paths = leafPaths(params);
  if (names === "all") return paths.map(() => true);
  for (const n of names)
    check(
      paths.some((p) => p === n || p.startsWith(`${n}/`)),
      `sibert: scaleInvariant names "${n}", which is no parameter leaf (leaves: ${paths.join(", ")})`,
    );
  return paths.map((p) => names.some((n) => p === n || p.startsWith(`${n}/`)));
}

/** The leaves of `t` split by `mask`: [selected, others] (consumes `t`). */
function split(t: Params, mask: boolean[]): [Array[], Array[]] {
  const ls = tree.leaves(t);
  return [ls.filter((_, i) => mask[i]), ls.filter((_, i) => !mask[i])];
}

/**
 * `t` with every leaf multiplied by `min(1, ‖x‖√(2Cλ/η)/‖t‖)`, norms over the leaves handed in
 * (`x` the parameters, `t` the gradients; consumes `t`, borrows `x`).
 */
function clipToWeightNorm<T extends Params>(t: T, x: Params, c2: number, eta: Array): T {
  const xSq = treeNormSq(keep(x));
  const limit = np.sqrt(xSq.mul(lit(c2, xSq)).div(eta.ref));
  const gNorm = treeNorm(keep(t));
  const factor = np.where(np.greater(gNorm.ref, limit.ref), limit.div(gNorm), lit(1, eta));
  const out = mapLeaves((u) => u.mul(factor.ref), t);
  factor.dispose();
  return out;
}

/**
 * Clips the global gradient norm to the scale-invariant equilibrium value times √C (Li,
 * Bhojanapalli, Zaheer, Reddi & Kumar, ICML 2022, Algorithm 1):
 *
 * `N = ‖x‖₂ √(2Cλ/η)`, `u ← u · N/‖u‖₂` if `‖u‖₂ > N`, else `u` unchanged (factor exactly 1); both
 * norms global over all leaves, `η = extras.lr` (the scheduled rate). For a scale-invariant loss under
 * SGD with weight decay, `‖∇L‖ = ‖x‖√(2λ/η)` is the norm at which ‖x‖ stays put, so C > 1 lets the
 * clip bite only on gradient spikes. Stateless; put it first (on the raw loss gradient).
 *
 * @param weightDecay λ > 0. @param C ≥ 1, default 4 (√C = 2, the paper's default).
 */
export function clipByWeightNorm(weightDecay: number, C = 4): GradientTransformation {
  checkSibert(weightDecay, C, "clipByWeightNorm");
  return {
    init(params: Params): OptState {
      release(params);
      return {};
    },
    update(updates: Params, state: OptState, params: Params, extras: Extras): [Params, OptState] {
      release(state);
      const out = clipToWeightNorm(updates, params, 2 * C * weightDecay, extras.lr);
      release(params);
      return [out, {}];
    },
  };
}

function checkSibert(weightDecay: number, C: number, what: string): void {
  check(
    Number.isFinite(weightDecay) && weightDecay > 0,
    `${what}: weightDecay must be a finite number > 0, got ${weightDecay}`,
  );
  check(Number.isFinite(C) && C >= 1, `${what}: C must be a finite number ≥ 1, got ${C}`);
}

/**
 * The scale-invariant training recipe of Li, Bhojanapalli, Zaheer, Reddi & Kumar ("Robust Training
 * of Neural Networks Using Scale Invariant Architectures", ICML 2022, §3.3 and Algorithm 1, the
 * optimizer of SIBERT). On the scale-invariant leaves x (by `scaleInvariant`), per step:
 *
 * `N_t = √(2Cλ/η)·‖x_t‖`, `ĝ = g · min(1, N_t/‖g‖)`, `x_{t+1} = (1 − ηλ) x_t − η ĝ`,
 *
 * with ‖x‖ and ‖g‖ taken over the scale-invariant leaves only, `η = extras.lr` (the scheduled rate)
 * and C ≥ 1 (Algorithm 1's clipping factor; default C = 4, the paper's √C = 2. C = 1 puts the
 * threshold at the equilibrium gradient norm ‖x‖√(2λ/η) and clips most noisy steps). Every other leaf
 * is updated by `rest` (default plain SGD at `extras.lr`, no weight decay), on its own gradient, as
 * the paper trains the parts of SIBERT that are not scale-invariant with their own optimizer; the
 * paper's choice of that optimizer was not re-verified here, hence the option. `rest` sees `lr`,
 * `step`, `key`, `value` and `batchSize` of `extras`, not the gradient callbacks. With
 * `scaleInvariant: "all"` (default) and a model that is not scale-invariant this is still the recipe's
 * update, but without its guarantees. Throws (`UserError`) at `init` if a name selects no leaf.
 *
 * @param opts.weightDecay λ > 0, default 1e-4. @param opts.C ≥ 1, default 4. @param
 * opts.scaleInvariant default "all". @param opts.rest default `sgd()`.
 */
export function sibert(opts: SibertOptions = {}): GradientTransformation {
  const { weightDecay = 1e-4, C = 4, scaleInvariant = "all", rest = sgd() } = opts;
  checkSibert(weightDecay, C, "sibert");
  check(scaleInvariant === "all" || scaleInvariant.length > 0, "sibert: scaleInvariant names no leaf");
  const restExtras = (e: Extras): Extras => ({
    lr: e.lr,
    step: e.step,
    ...(e.key ? { key: e.key } : {}),
    ...(e.value ? { value: e.value } : {}),
    ...(e.batchSize !== undefined ? { batchSize: e.batchSize } : {}),
  });
  return {
    init(params: Params): OptState {
      let mask: boolean[];
      try {
        mask = invariantMask(params, scaleInvariant);
      } catch (e) {
        release(params);
        throw e;
      }
      const [si, others] = split(params, mask);
      release(si);
      const state: SibertState = { rest: others.length > 0 ? rest.init(others) : {} };
      return state as unknown as OptState;
    },
    update(updates: Params, state: OptState, params: Params, extras: Extras): [Params, OptState] {
      const s = state as unknown as SibertState;
      const mask = invariantMask(params, scaleInvariant);
      const def = tree.structure(updates);
      const [g, gRest] = split(updates, mask);
      const [x, xRest] = split(params, mask);
      const gHat = clipToWeightNorm(g, x, 2 * C * weightDecay, extras.lr);
      const decayed = mapLeaves((gi, xi) => gi.add(xi.mul(lit(weightDecay, xi))), gHat, x);
      const u = mapLeaves((v) => np.negative(v.mul(extras.lr.ref)), decayed);
      let uRest: Array[] = [];
      let sRest: OptState = {};
      if (gRest.length > 0)
        [uRest, sRest] = rest.update(gRest, s.rest, xRest, restExtras(extras)) as [Array[], OptState];
      else release(s.rest);
      let [i, j] = [0, 0];
      const out = tree.unflatten(
        def,
        mask.map((m) => (m ? u[i++] : uRest[j++])),
      ) as Params;
      const next: SibertState = { rest: sRest };
      return [out, next as unknown as OptState];
    },
  };
}
