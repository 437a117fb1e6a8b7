import { keep, release, type Params } from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";

/**
 * Composes gradient transformations left to right (optax `chain`).
 *
 * Formula: `u ← T_k(… T_2(T_1(g)))`, each `T_i` reading the same `params` and `extras`; the state is
 * the array `[s_1, …, s_k]` of the members' states. `chain()` with no members is the identity.
 * A chain with exactly one preconditioning member (`scaleByAdam`, `scaleByRms`, `scaleByRss`) has
 * that member's `preconditioner.diagonal`, without a threshold (named optimizers add theirs).
 */
export function chain(...transforms: GradientTransformation[]): GradientTransformation {
  const n = transforms.length;
  const out: GradientTransformation = {
    init(params: Params): OptState {
      const states = transforms.map((t, i) => t.init(i < n - 1 ? keep(params) : params));
      if (n === 0) release(params);
      return states;
    },
    update(updates: Params, state: OptState, params: Params, extras: Extras): [Params, OptState] {
      if (!Array.isArray(state) || state.length !== n) {
        release(updates);
        release(state);
        release(params);
        throw new Error(`chain of ${n} transforms got a state that is not an array of ${n} states`);
      }
      const states: OptState[] = [];
      let u = updates;
      for (let i = 0; i < n; i++) {
        const [next, s] = transforms[i].update(u, state[i], i < n - 1 ? keep(params) : params, extras);
        u = next;
        states.push(s);
      }
      if (n === 0) release(params);
      return [u, states];
    },
  };
  // P of the one preconditioning member, read from its slot of the state; its threshold is not
  // forwarded, since momentum and weight decay elsewhere in the chain change it (`withTheory`).
  const pre = transforms.filter((t) => t.preconditioner !== undefined);
  if (pre.length === 1) {
    const i = transforms.indexOf(pre[0]);
    const { diagonal } = pre[0].preconditioner!;
    out.preconditioner = { diagonal: (state: OptState) => diagonal((state as OptState[])[i]) };
  }
  return out;
}
