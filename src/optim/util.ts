/**
 * Internal helpers of optim/: leafwise maps over several trees and the dtype of a parameter tree.
 * Not part of the public surface.
 */
import { np, release, tree, type Array, type DType, type Params } from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import type { ArrayTree } from "../core/index.js";

/**
 * `f` applied leafwise to trees of one structure; consumes every tree (each leaf is handed to `f`,
 * which must consume it). Throws, releasing all inputs, if the structures differ.
 */
export function mapLeaves<T extends ArrayTree>(f: (...xs: Array[]) => Array, first: T, ...rest: ArrayTree[]): T {
  const def = String(tree.structure(first));
  for (const r of rest) {
    if (String(tree.structure(r)) !== def) {
      tree.dispose(first);
      for (const t of rest) tree.dispose(t);
      throw new Error(`optimizer trees differ in structure: ${def} vs ${String(tree.structure(r))}`);
    }
  }
  return tree.map(f, first, ...(rest as T[])) as T;
}

/** The dtype of the first leaf of `t` (float32 for an empty tree); does not consume `t`. */
export function treeDtype(t: ArrayTree): DType {
  const ls = tree.leaves(t);
  return ls.length > 0 ? ls[0].dtype : np.float32;
}

/**
 * A stateless transform that ignores the parameters: `update(u) = f(u, extras)` with an empty state
 * (`init` and `update` release the parameters and state they are handed, as the contract requires).
 */
export function stateless(f: (updates: Params, extras: Extras) => Params): GradientTransformation {
  return {
    init(params: Params): OptState {
      release(params);
      return {};
    },
    update(updates: Params, state: OptState, params: Params, extras: Extras): [Params, OptState] {
      release(state);
      release(params);
      return [f(updates, extras), {}];
    },
  };
}

/** Every leaf of `updates` times the 0-d `factor`; consumes both. */
export function scaleLeaves(updates: Params, factor: Array): Params {
  const out = mapLeaves((u) => u.mul(factor.ref), updates);
  factor.dispose();
  return out;
}
